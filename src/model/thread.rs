//! The `threads` payload: one entry per thread, each field fallible with its reason.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use super::Unavailable;
use super::code::{CodeLocation, StackMapping};
use crate::model::runtime::{RoleEvidence, RuntimeInfo, ThreadRole};

/// One thread of a process.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ThreadRow {
    pub tid: u32,
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_b64: Option<String>,
    /// The thread's role in its runtime (Node.js: js_main, libuv_pool, v8_worker,
    /// delayed_task_scheduler, signal_inspector, inspector_io, worker_thread; JVM: launcher,
    /// java_main, vm, gc, jit_compiler, signal_dispatcher, finalizer, reference_handler,
    /// common_cleaner, vm_service, app; or unknown); null when no runtime was recognised.
    pub role: Option<ThreadRole>,
    /// A worker_thread's name, when the runtime set one.
    pub role_name: Option<String>,
    /// Why the thread got its role.
    pub role_evidence: Option<RoleEvidence>,
    /// The state letter (R, S, D, T...).
    pub state: Option<String>,
    pub state_name: Option<String>,
    /// Lifetime CPU use in % of one core.
    pub cpu_percent: Option<f64>,
    pub user_seconds: Option<f64>,
    pub system_seconds: Option<f64>,
    /// The CPU core it last ran on.
    pub last_cpu: Option<u32>,
    pub voluntary_ctxt_switches: Option<u64>,
    pub nonvoluntary_ctxt_switches: Option<u64>,
    /// What it waits on: `read(fd 3)`, `futex`, `running`...
    pub wait: Option<String>,
    /// The system call it is blocked in, by name.
    pub syscall: Option<String>,
    pub syscall_nr: Option<u64>,
    /// The six raw system call arguments.
    pub syscall_args: Option<Vec<u64>>,
    /// The file descriptor the system call waits on, for fd-based calls.
    pub wait_fd: Option<i64>,
    /// The kernel function it sleeps in (`do_signal_stop`), read only when the thread is not
    /// blocked in a system call (the system call says more, and wchan is a costly read).
    pub wchan: Option<String>,
    /// The user-space stack pointer, sampled while blocked.
    pub sp: Option<u64>,
    /// The user-space program counter, sampled while blocked.
    pub pc: Option<u64>,
    /// Where the program counter points.
    pub pc_location: Option<CodeLocation>,
    /// The same as text: `epoll_pwait+0x4e in libc.so.6`.
    pub pc_text: Option<String>,
    /// The mapping that holds the stack pointer.
    pub stack: Option<StackMapping>,
    /// Why each null field has no value.
    pub unavailable: BTreeMap<super::fields::ThreadField, Unavailable>,
}

/// The threads of one process.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ThreadList {
    pub pid: u32,
    pub process_name: Option<String>,
    pub threads: Vec<ThreadRow>,
    /// How many threads are in each state (`S`: 12).
    pub by_state: BTreeMap<String, u64>,
    /// The runtime recognised from the executable.
    pub runtime: Option<RuntimeInfo>,
    /// `Node.js v20.20.2 — 1 JavaScript main thread, 4 libuv pool threads...`.
    pub runtime_summary: Option<String>,
}
