//! The `security` and `environment` sections of `show`: isolation, privileges, OOM and I/O
//! priority, groups, and the starting environment. Null fields name their reason in the
//! payload's `unavailable` (keyed `security.FIELD`).

use schemars::JsonSchema;
use serde::Serialize;

/// Isolation and privileges of one process.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Security {
    /// pid, net, mnt, user, uts, ipc and cgroup namespaces (plus time where the kernel has it).
    pub namespaces: Option<Vec<Namespace>>,
    pub capabilities: Option<Capabilities>,
    /// The NoNewPrivs flag: execve cannot gain privileges.
    pub no_new_privs: Option<bool>,
    /// `disabled`, `strict` or `filter`.
    pub seccomp: Option<String>,
    /// The LSM label from /proc/PID/attr/current (AppArmor profile, SELinux context).
    pub lsm_label: Option<String>,
    pub oom_score: Option<i64>,
    pub oom_score_adj: Option<i64>,
    pub io_priority: Option<IoPriority>,
    /// The effective group and the supplementary groups, with names (NSS).
    pub groups: Option<Vec<GroupEntry>>,
}

/// One namespace a process is in.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Namespace {
    /// `pid`, `net`, `mnt`, `user`, `uts`, `ipc`, `cgroup`, `time`.
    pub kind: String,
    pub inode: u64,
    /// True when it is the namespace of PID 1 (or, where PID 1's cannot be read, of
    /// procscope itself: see `reference`); null when neither could be read.
    pub same_as_init: Option<bool>,
}

/// Capability sets, each as names (`cap_net_raw`) and the kernel's mask.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Capabilities {
    pub effective: CapSet,
    pub permitted: CapSet,
    pub inheritable: CapSet,
    pub bounding: CapSet,
    pub ambient: Option<CapSet>,
}

/// One capability set.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CapSet {
    /// The mask as /proc/PID/status writes it (16 hex digits).
    pub mask: String,
    pub names: Vec<String>,
}

/// The I/O scheduling class and level, as `ionice -p` shows them.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct IoPriority {
    /// `none` (follows the CPU nice value), `realtime`, `best-effort` or `idle`.
    pub class: String,
    /// 0 (highest) to 7; for `none`, the level the nice value gives ((nice + 20) / 5).
    pub level: Option<u8>,
}

/// A group with its name.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GroupEntry {
    pub gid: u32,
    pub name: String,
    /// True for the effective group, false for a supplementary one.
    pub effective: bool,
}

/// One environment variable.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EnvEntry {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_b64: Option<String>,
    /// The value, or `<redacted>` for a secret-looking name without --show-secrets.
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_b64: Option<String>,
    pub redacted: bool,
}
