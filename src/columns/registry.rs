//! The one list of `ps` columns. Adding a column is one entry here: its name, header, JSON
//! key, kind, the /proc files it needs, and how to extract its value.

use crate::analyze::waits;
use crate::collect::{Field, Needs, ProcessSample, TaskKind};
use crate::model::Unavailable;
use crate::parse::tty::tty_name;

use super::Context;
use super::extended;
use super::security;
use super::value::{Kind, Value};

/// One column of the process listing.
pub struct Column {
    /// The name used with `-o` and `--sort`.
    pub name: &'static str,
    pub header: &'static str,
    /// The key in JSON output (snake_case, with its unit).
    pub json_key: &'static str,
    pub kind: Kind,
    /// What the column needs read for each process.
    pub needs: Needs,
    /// One line for `--help` and the README.
    pub about: &'static str,
    pub extract: fn(&ProcessSample, &Context) -> Field<Value>,
}

/// Every column, in the order `-o help` lists them.
pub static COLUMNS: &[Column] = &[
    Column {
        name: "pid",
        header: "PID",
        json_key: "pid",
        kind: Kind::Integer,
        needs: Needs::NONE,
        about: "process ID",
        extract: |p, _| Ok(Value::Integer(p.pid.into())),
    },
    Column {
        name: "tid",
        header: "TID",
        json_key: "tid",
        kind: Kind::Integer,
        needs: Needs::NONE,
        about: "thread ID (equal to the PID for a process and its main thread)",
        extract: |p, _| Ok(Value::Integer(p.tid.into())),
    },
    Column {
        name: "tgid",
        header: "TGID",
        json_key: "tgid",
        kind: Kind::Integer,
        needs: Needs::NONE,
        about: "thread group ID: the PID of the process a thread belongs to",
        extract: |p, _| Ok(Value::Integer(p.pid.into())),
    },
    Column {
        name: "ppid",
        header: "PPID",
        json_key: "ppid",
        kind: Kind::Integer,
        needs: Needs::STAT,
        about: "parent process ID",
        extract: |p, _| Ok(Value::Integer(p.stat()?.ppid.into())),
    },
    Column {
        name: "user",
        header: "USER",
        json_key: "user",
        kind: Kind::Label,
        needs: Needs::OWNER.union(Needs::USER_NAMES),
        about: "effective user name",
        extract: |p, ctx| Ok(Value::Label(ctx.users.name(p.euid()?))),
    },
    Column {
        name: "uid",
        header: "UID",
        json_key: "uid",
        kind: Kind::Integer,
        needs: Needs::OWNER,
        about: "effective user ID",
        extract: |p, _| Ok(Value::Integer(p.euid()?.into())),
    },
    Column {
        name: "state",
        header: "S",
        json_key: "state",
        kind: Kind::Label,
        needs: Needs::STAT,
        about: "state letter: R running, S sleeping, D disk wait, Z zombie, T stopped, I idle",
        extract: |p, _| Ok(Value::Label(char::from(p.stat()?.state).to_string())),
    },
    extended::STAT,
    Column {
        name: "cpu",
        header: "%CPU",
        json_key: "cpu_percent",
        kind: Kind::Percent,
        needs: Needs::STAT,
        about: "CPU use in % of one core: lifetime average, or over --interval",
        extract: |p, ctx| {
            let stat = p.stat()?;
            match ctx.sampled_cpu {
                Some(sampled) => sampled
                    .get(&(p.pid, p.tid))
                    .copied()
                    .map(Value::Percent)
                    .ok_or(Unavailable::Gone),
                None => Ok(Value::Percent(ctx.system.lifetime_cpu_percent(
                    p.cpu_ticks(ctx.system.ticks_per_second)?,
                    stat.starttime_ticks,
                ))),
            }
        },
    },
    Column {
        name: "mem",
        header: "%MEM",
        json_key: "mem_percent",
        kind: Kind::Percent,
        needs: Needs::RSS,
        about: "resident memory in % of total memory",
        extract: |p, ctx| {
            let total = ctx.system.mem_total_bytes.ok_or(Unavailable::Unsupported)?;
            let rss = p.rss_bytes(ctx.system.page_size)?;
            Ok(Value::Percent(rss as f64 / total as f64 * 100.0))
        },
    },
    Column {
        name: "rss",
        header: "RSS",
        json_key: "rss_bytes",
        kind: Kind::Bytes,
        needs: Needs::RSS,
        about: "resident set size (VmRSS or statm, exact like ps; not stat's lagging field)",
        extract: |p, ctx| Ok(Value::Bytes(p.rss_bytes(ctx.system.page_size)?)),
    },
    Column {
        name: "vsz",
        header: "VSZ",
        json_key: "vsz_bytes",
        kind: Kind::Bytes,
        needs: Needs::STAT,
        about: "virtual memory size",
        extract: |p, _| Ok(Value::Bytes(p.stat()?.vsize_bytes)),
    },
    Column {
        name: "threads",
        header: "THR",
        json_key: "threads",
        kind: Kind::Integer,
        needs: Needs::STAT,
        about: "number of threads",
        extract: |p, _| Ok(Value::Integer(p.stat()?.num_threads as i64)),
    },
    Column {
        name: "fds",
        header: "FDS",
        json_key: "fds",
        kind: Kind::Integer,
        needs: Needs::STAT.union(Needs::FD_COUNT),
        about: "number of open file descriptors",
        extract: |p, _| {
            // A zombie's empty fd directory means no files, not 0 open files.
            if p.kind() == TaskKind::Zombie {
                return Err(Unavailable::Zombie);
            }
            Ok(Value::Integer(p.fd_count()? as i64))
        },
    },
    Column {
        name: "core",
        header: "CPU",
        json_key: "last_cpu",
        kind: Kind::Integer,
        needs: Needs::STAT,
        about: "the CPU core it last ran on",
        extract: |p, _| {
            Ok(Value::Integer(
                p.stat()?.processor.ok_or(Unavailable::Unsupported)?.into(),
            ))
        },
    },
    Column {
        name: "wait",
        header: "WAIT",
        json_key: "wait",
        kind: Kind::Label,
        needs: Needs::STAT.union(Needs::SYSCALL),
        about: "the system call it is blocked in, with its key argument (read(fd 3)), or running",
        extract: |p, _| {
            // An exited thread's syscall file reads "-1 0 0": no wait, no registers.
            if p.kind() == TaskKind::Zombie {
                return Err(Unavailable::Zombie);
            }
            Ok(Value::Label(waits::describe(&p.syscall()?, None).text))
        },
    },
    Column {
        name: "wchan",
        header: "WCHAN",
        json_key: "wchan",
        kind: Kind::Label,
        needs: Needs::STAT.union(Needs::WCHAN),
        about: "the kernel function it sleeps in",
        extract: |p, _| {
            Ok(p.wchan()?.as_ref().map_or(Value::Absent, |w| {
                Value::Label(String::from_utf8_lossy(w).into_owned())
            }))
        },
    },
    Column {
        name: "rchar",
        header: "RCHAR",
        json_key: "rchar_bytes",
        kind: Kind::Bytes,
        needs: Needs::STAT.union(Needs::IO),
        about: "bytes read through read(2) and friends, page-cache hits included (/proc/PID/io)",
        extract: |p, _| Ok(Value::Bytes(p.io()?.rchar)),
    },
    Column {
        name: "wchar",
        header: "WCHAR",
        json_key: "wchar_bytes",
        kind: Kind::Bytes,
        needs: Needs::STAT.union(Needs::IO),
        about: "bytes written through write(2) and friends (/proc/PID/io)",
        extract: |p, _| Ok(Value::Bytes(p.io()?.wchar)),
    },
    Column {
        name: "read_bytes",
        header: "READ",
        json_key: "read_bytes",
        kind: Kind::Bytes,
        needs: Needs::STAT.union(Needs::IO),
        about: "bytes this process caused to be read from storage (/proc/PID/io)",
        extract: |p, _| Ok(Value::Bytes(p.io()?.read_bytes)),
    },
    Column {
        name: "write_bytes",
        header: "WRITE",
        json_key: "write_bytes",
        kind: Kind::Bytes,
        needs: Needs::STAT.union(Needs::IO),
        about: "bytes this process caused to be written to storage (/proc/PID/io)",
        extract: |p, _| Ok(Value::Bytes(p.io()?.write_bytes)),
    },
    Column {
        name: "nice",
        header: "NI",
        json_key: "nice",
        kind: Kind::Integer,
        needs: Needs::STAT,
        about: "nice value (-20 highest priority, 19 lowest)",
        extract: |p, _| Ok(Value::Integer(p.stat()?.nice)),
    },
    Column {
        name: "priority",
        header: "PRI",
        json_key: "priority",
        kind: Kind::Integer,
        needs: Needs::STAT,
        about: "kernel scheduling priority (stat field 18)",
        extract: |p, _| Ok(Value::Integer(p.stat()?.priority)),
    },
    Column {
        name: "start",
        header: "START",
        json_key: "start_time_unix",
        kind: Kind::Timestamp,
        needs: Needs::STAT,
        about: "start time (seconds since the epoch in JSON)",
        extract: |p, ctx| {
            Ok(Value::Timestamp(
                ctx.system.start_time_unix(p.stat()?.starttime_ticks),
            ))
        },
    },
    Column {
        name: "age",
        header: "AGE",
        json_key: "age_seconds",
        kind: Kind::Duration,
        needs: Needs::STAT,
        about: "time since the process started",
        extract: |p, ctx| {
            Ok(Value::Duration(
                ctx.system.age_seconds(p.stat()?.starttime_ticks),
            ))
        },
    },
    Column {
        name: "time",
        header: "TIME",
        json_key: "cpu_time_seconds",
        kind: Kind::CpuSeconds,
        needs: Needs::STAT,
        about: "CPU time used, user + system",
        extract: |p, ctx| {
            Ok(Value::CpuSeconds(ctx.system.ticks_to_seconds(
                p.cpu_ticks(ctx.system.ticks_per_second)?,
            )))
        },
    },
    Column {
        name: "tty",
        header: "TTY",
        json_key: "tty",
        kind: Kind::Label,
        needs: Needs::STAT,
        about: "controlling terminal (? for none)",
        extract: |p, _| Ok(tty_name(p.stat()?.tty_nr).map_or(Value::Absent, Value::Label)),
    },
    Column {
        name: "pgid",
        header: "PGID",
        json_key: "pgid",
        kind: Kind::Integer,
        needs: Needs::STAT,
        about: "process group ID",
        extract: |p, _| Ok(Value::Integer(p.stat()?.pgrp.into())),
    },
    Column {
        name: "sid",
        header: "SID",
        json_key: "sid",
        kind: Kind::Integer,
        needs: Needs::STAT,
        about: "session ID",
        extract: |p, _| Ok(Value::Integer(p.stat()?.session.into())),
    },
    Column {
        name: "name",
        header: "NAME",
        json_key: "name",
        kind: Kind::RawText,
        needs: Needs::COMM,
        about: "process name (comm, at most 15 bytes for user processes)",
        extract: |p, _| Ok(Value::Text(p.name()?)),
    },
    Column {
        name: "exe",
        header: "EXE",
        json_key: "exe",
        kind: Kind::RawText,
        needs: Needs::STAT.union(Needs::EXE),
        about: "path of the executable",
        extract: |p, _| Ok(Value::Text(p.exe()?.clone())),
    },
    Column {
        name: "runtime",
        header: "RUNTIME",
        json_key: "runtime",
        kind: Kind::Runtime,
        needs: Needs::STAT.union(Needs::EXE).union(Needs::RUNTIME),
        about: "the runtime recognised from the executable, with version and cluster role (node 20.20.2 cluster primary); JSON: the object show and threads give",
        extract: |p, _| {
            if let Some(Err(why)) = &p.exe
                && p.kind() == TaskKind::Normal
            {
                return Err(*why);
            }
            Ok(crate::analyze::runtime::detect(&p.runtime_facts())
                .map_or(Value::Empty, |(_, info)| Value::Runtime(Box::new(info))))
        },
    },
    Column {
        name: "cmd",
        header: "COMMAND",
        json_key: "argv",
        kind: Kind::Argv,
        needs: Needs::STAT.union(Needs::CMDLINE),
        about: "full command line ([name] for kernel threads)",
        extract: |p, _| {
            let argv = p.cmdline()?.clone();
            let fallback = match p.kind() {
                TaskKind::KernelThread => {
                    Some(format!("[{}]", String::from_utf8_lossy(&p.name()?)))
                }
                TaskKind::Zombie => Some(format!(
                    "[{}] <defunct>",
                    String::from_utf8_lossy(&p.name()?)
                )),
                // Like ps: a process whose argument area is empty (zeroed by itself)
                // shows its name in brackets.
                TaskKind::Normal if argv.is_empty() => {
                    Some(format!("[{}]", String::from_utf8_lossy(&p.name()?)))
                }
                TaskKind::Normal => None,
            };
            Ok(Value::Argv {
                argv,
                fallback,
                truncated: p.argv_truncated,
                raw: p.cmdline_raw.clone(),
            })
        },
    },
    // Per-process TCP throughput over --interval (tcp_info byte counters of the sockets a
    // process holds, summed): see README "ports" for what it cannot see.
    Column {
        name: "net_tx",
        header: "NET_TX",
        json_key: "net_tx_bytes_per_second",
        kind: Kind::Bytes,
        needs: Needs::NONE,
        about: "TCP bytes/s sent (acked by the peer) over --interval, summed over the process's sockets",
        extract: |p, ctx| {
            net_of(p, ctx).map(|net| Value::Bytes(net.tx_bytes_per_second.round() as u64))
        },
    },
    Column {
        name: "net_rx",
        header: "NET_RX",
        json_key: "net_rx_bytes_per_second",
        kind: Kind::Bytes,
        needs: Needs::NONE,
        about: "TCP bytes/s received over --interval, summed over the process's sockets",
        extract: |p, ctx| {
            net_of(p, ctx).map(|net| Value::Bytes(net.rx_bytes_per_second.round() as u64))
        },
    },
    Column {
        name: "net_shared",
        header: "NET_SHARED",
        json_key: "net_shared",
        kind: Kind::Label,
        needs: Needs::NONE,
        about: "yes when a socket counted in net_tx/net_rx is held by other processes too (its traffic counts for each)",
        extract: |p, ctx| {
            net_of(p, ctx).map(|net| Value::Label(if net.shared { "yes" } else { "no" }.into()))
        },
    },
    extended::ETIME,
    extended::LSTART,
    extended::MINFLT,
    extended::MAJFLT,
    extended::GID,
    extended::GROUP,
    extended::RUID,
    extended::SUID,
    extended::PSS,
    extended::UNIT,
    extended::CONTAINER,
    extended::CGROUP,
    security::CAPS,
    security::SECCOMP,
    security::NNP,
    security::NETNS,
    security::PIDNS,
    security::MNTNS,
    security::USERNS,
    security::UTSNS,
    security::IPCNS,
    security::CGROUPNS,
    security::OOM,
    security::OOMADJ,
    security::LABEL,
];

/// Names of the columns that need per-process TCP throughput sampled over `--interval`.
pub const NET_COLUMNS: &[&str] = &["net_tx", "net_rx", "net_shared"];

/// A process's TCP throughput: zero for a process that held no TCP socket in both samples.
fn net_of(p: &ProcessSample, ctx: &Context) -> Field<crate::model::socket::ProcessNet> {
    let sampled = ctx.sampled_net.ok_or(Unavailable::Unsupported)?;
    Ok(sampled.get(&p.pid).copied().unwrap_or_default())
}
