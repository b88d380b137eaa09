//! Security and isolation columns for listings: effective capabilities, seccomp, NoNewPrivs,
//! namespace inodes (procps's `netns`, `pidns`...), OOM score and adjustment, LSM label.

use crate::collect::{Needs, TaskKind};
use crate::model::Unavailable;
use crate::parse::caps::{cap_names, parse_mask};

use super::registry::Column;
use super::value::{Kind, Value};

/// How many capabilities the name table knows: a mask with all of them reads `all`.
const KNOWN_CAPS: usize = 41;

pub const CAPS: Column = Column {
    name: "caps",
    header: "CAPS",
    json_key: "cap_effective",
    kind: Kind::Label,
    needs: Needs::STATUS,
    about: "effective capabilities by name (cap_kill,cap_net_raw), `all` when every known one, `none`",
    extract: |p, _| {
        let mask = p
            .status()?
            .get("CapEff")
            .and_then(parse_mask)
            .ok_or(Unavailable::Unsupported)?;
        let names = cap_names(mask);
        Ok(Value::Label(match names.len() {
            0 => "none".to_owned(),
            n if n >= KNOWN_CAPS => "all".to_owned(),
            _ => names.join(","),
        }))
    },
};

pub const SECCOMP: Column = Column {
    name: "seccomp",
    header: "SECCOMP",
    json_key: "seccomp",
    kind: Kind::Label,
    needs: Needs::STATUS,
    about: "seccomp mode: disabled, strict or filter",
    extract: |p, _| {
        let mode = p
            .status()?
            .number("Seccomp")
            .ok_or(Unavailable::Unsupported)?;
        Ok(Value::Label(
            match mode {
                0 => "disabled",
                1 => "strict",
                _ => "filter",
            }
            .to_owned(),
        ))
    },
};

pub const NNP: Column = Column {
    name: "nnp",
    header: "NNP",
    json_key: "no_new_privs",
    kind: Kind::Integer,
    needs: Needs::STATUS,
    about: "NoNewPrivs: 1 when execve cannot gain privileges",
    extract: |p, _| {
        let flag = p.status()?.number("NoNewPrivs");
        Ok(Value::Integer(flag.ok_or(Unavailable::Unsupported)? as i64))
    },
};

/// A namespace inode column (`netns`), as procps names them.
macro_rules! namespace_column {
    ($constant:ident, $kind:literal, $header:literal) => {
        pub const $constant: Column = Column {
            name: concat!($kind, "ns"),
            header: $header,
            json_key: concat!($kind, "ns_inode"),
            kind: Kind::Integer,
            needs: Needs::STAT.union(Needs::NAMESPACES),
            about: concat!(
                "inode of the ",
                $kind,
                " namespace (compare with show's init marks)"
            ),
            extract: |p, _| Ok(Value::Integer(p.namespace($kind)? as i64)),
        };
    };
}

namespace_column!(NETNS, "net", "NETNS");
namespace_column!(PIDNS, "pid", "PIDNS");
namespace_column!(MNTNS, "mnt", "MNTNS");
namespace_column!(USERNS, "user", "USERNS");
namespace_column!(UTSNS, "uts", "UTSNS");
namespace_column!(IPCNS, "ipc", "IPCNS");
namespace_column!(CGROUPNS, "cgroup", "CGROUPNS");

pub const OOM: Column = Column {
    name: "oom",
    header: "OOM",
    json_key: "oom_score",
    kind: Kind::Integer,
    needs: Needs::STAT.union(Needs::SECURITY),
    about: "OOM killer score (oom_score)",
    extract: |p, _| Ok(Value::Integer(p.security()?.oom_score?)),
};

pub const OOMADJ: Column = Column {
    name: "oomadj",
    header: "OOMADJ",
    json_key: "oom_score_adj",
    kind: Kind::Integer,
    needs: Needs::STAT.union(Needs::SECURITY),
    about: "OOM score adjustment (oom_score_adj, -1000 to 1000)",
    extract: |p, _| Ok(Value::Integer(p.security()?.oom_score_adj?)),
};

pub const LABEL: Column = Column {
    name: "label",
    header: "LABEL",
    json_key: "lsm_label",
    kind: Kind::RawText,
    needs: Needs::STAT.union(Needs::SECURITY),
    about: "LSM label (AppArmor profile, SELinux context) from attr/current",
    extract: |p, _| {
        if p.kind() == TaskKind::KernelThread {
            return Err(Unavailable::KernelThread);
        }
        Ok(Value::Text(p.security()?.label.clone()?))
    },
};
