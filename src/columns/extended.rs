//! Columns for the ps habits (STAT with modifiers, etime, lstart, faults, group and real/saved
//! ids), the placement columns (systemd unit, container, cgroup) and the parameterized
//! `env:NAME` columns. Each is a `Column` constant listed once in the registry.

use std::sync::{Mutex, OnceLock};

use crate::analyze::placement::{Placement, placement};
use crate::analyze::ps_state::ps_stat;
use crate::collect::{Field, Needs, ProcessSample, TaskKind};
use crate::model::Unavailable;
use crate::parse::cgroup::{parse_cgroup, summary};
use crate::query::secrets::{REDACTED, SecretPolicy};
use crate::text::units;

use super::Context;
use super::registry::Column;
use super::value::{Kind, Value};

pub const STAT: Column = Column {
    name: "stat",
    header: "STAT",
    json_key: "stat",
    kind: Kind::Label,
    needs: Needs::STAT.union(Needs::STATUS),
    about: "state with ps's modifiers: < high priority, N low, L locked pages, s session leader, l multi-threaded, + foreground",
    extract: |p, _| {
        let locked = p.status().ok().and_then(|s| s.number("VmLck"));
        Ok(Value::Label(ps_stat(p.stat()?, p.pid, locked.unwrap_or(0))))
    },
};

pub const ETIME: Column = Column {
    name: "etime",
    header: "ELAPSED",
    json_key: "etime_seconds",
    kind: Kind::Duration,
    needs: Needs::STAT,
    about: "time since the process started, like ps etime ([[DD-]hh:]mm:ss)",
    extract: |p, ctx| {
        let seconds = ctx.system.age_seconds(p.stat()?.starttime_ticks).floor();
        Ok(Value::Number {
            value: seconds,
            text: units::elapsed(seconds),
        })
    },
};

pub const LSTART: Column = Column {
    name: "lstart",
    header: "STARTED",
    json_key: "lstart_unix",
    kind: Kind::Timestamp,
    needs: Needs::STAT,
    about: "full start date and time, like ps lstart (seconds since the epoch in JSON)",
    extract: |p, ctx| {
        let start = ctx.system.start_time_unix(p.stat()?.starttime_ticks);
        Ok(Value::Number {
            value: start,
            text: units::long_date(start),
        })
    },
};

pub const MINFLT: Column = Column {
    name: "minflt",
    header: "MINFL",
    json_key: "minor_faults",
    kind: Kind::Integer,
    needs: Needs::STAT.union(Needs::FAULTS),
    about: "minor page faults (served without I/O)",
    extract: |p, _| Ok(Value::Integer(p.stat()?.minflt as i64)),
};

pub const MAJFLT: Column = Column {
    name: "majflt",
    header: "MAJFL",
    json_key: "major_faults",
    kind: Kind::Integer,
    needs: Needs::STAT.union(Needs::FAULTS),
    about: "major page faults (needed I/O)",
    extract: |p, _| Ok(Value::Integer(p.stat()?.majflt as i64)),
};

/// The `index`th id of a `Uid:`/`Gid:` line (real, effective, saved, filesystem).
fn id_at(ids: Field<Vec<u64>>, index: usize) -> Field<u32> {
    ids?.get(index)
        .and_then(|&id| u32::try_from(id).ok())
        .ok_or(Unavailable::ReadError)
}

pub const GID: Column = Column {
    name: "gid",
    header: "GID",
    json_key: "gid",
    kind: Kind::Integer,
    needs: Needs::STATUS,
    about: "effective group ID",
    extract: |p, _| Ok(Value::Integer(id_at(p.gids(), 1)?.into())),
};

pub const GROUP: Column = Column {
    name: "group",
    header: "GROUP",
    json_key: "group",
    kind: Kind::Label,
    needs: Needs::STATUS.union(Needs::USER_NAMES),
    about: "effective group name",
    extract: |p, ctx| Ok(Value::Label(ctx.users.group_name(id_at(p.gids(), 1)?))),
};

pub const RUID: Column = Column {
    name: "ruid",
    header: "RUID",
    json_key: "ruid",
    kind: Kind::Integer,
    needs: Needs::STATUS,
    about: "real user ID",
    extract: |p, _| Ok(Value::Integer(id_at(p.uids(), 0)?.into())),
};

pub const SUID: Column = Column {
    name: "suid",
    header: "SUID",
    json_key: "suid",
    kind: Kind::Integer,
    needs: Needs::STATUS,
    about: "saved user ID",
    extract: |p, _| Ok(Value::Integer(id_at(p.uids(), 2)?.into())),
};

pub const PSS: Column = Column {
    name: "pss",
    header: "PSS",
    json_key: "pss_bytes",
    kind: Kind::Bytes,
    needs: Needs::STAT.union(Needs::PSS),
    about: "proportional set size: shared pages divided among their users (smaps_rollup; costs a page-table walk)",
    extract: |p, _| match p.kind() {
        TaskKind::KernelThread => Ok(Value::Bytes(0)),
        _ => Ok(Value::Bytes(p.pss_bytes()?)),
    },
};

/// The unit and container of a sample (with `Needs::CGROUP`).
pub fn placement_of(p: &ProcessSample) -> Field<Placement> {
    Ok(placement(&parse_cgroup(p.cgroup()?)))
}

pub const UNIT: Column = Column {
    name: "unit",
    header: "UNIT",
    json_key: "unit",
    kind: Kind::Label,
    needs: Needs::CGROUP,
    about: "the systemd service or scope it runs in (from /proc/PID/cgroup)",
    extract: |p, _| Ok(placement_of(p)?.unit.map_or(Value::Empty, Value::Label)),
};

pub const CONTAINER: Column = Column {
    name: "container",
    header: "CONTAINER",
    json_key: "container",
    kind: Kind::Container,
    needs: Needs::CGROUP,
    about: "the container: engine and short ID (docker 3f4e5a6b7c8d, k8s/containerd ...); JSON: engine, full id, pod_uid, qos_class",
    extract: |p, _| {
        Ok(placement_of(p)?
            .container
            .map_or(Value::Empty, |c| Value::Container(Box::new(c))))
    },
};

pub const CGROUP: Column = Column {
    name: "cgroup",
    header: "CGROUP",
    json_key: "cgroup",
    kind: Kind::RawText,
    needs: Needs::CGROUP,
    about: "the cgroup v2 path (or the v1 lines that say more than /)",
    extract: |p, _| Ok(Value::Text(summary(p.cgroup()?))),
};

/// What `-o env:NAME` starts with.
pub const ENV_PREFIX: &str = "env:";

/// The shape of every `env:NAME` column; [`env_column`] gives each its name.
const ENV_TEMPLATE: Column = Column {
    name: "env:NAME",
    header: "NAME",
    json_key: "env_NAME",
    kind: Kind::RawText,
    needs: Needs::STAT.union(Needs::ENVIRON),
    about: "the value of environment variable NAME at start (secret-looking names redacted unless --show-secrets)",
    // The variable name is the column's header: see [`Column::value`].
    extract: |_, _| Err(Unavailable::Unsupported),
};

/// The policy env columns follow, set once per run by the command ([`set_secret_policy`]).
static SECRET_POLICY: OnceLock<SecretPolicy> = OnceLock::new();

/// Sets the run's secret policy for `env:NAME` columns (the first setting holds).
pub fn set_secret_policy(policy: SecretPolicy) {
    let _ = SECRET_POLICY.set(policy);
}

/// The `env:NAME` column for `name` (built once per name and kept for the run), or `None`
/// when `name` is not `env:` followed by a variable name without `=` or NUL.
pub fn env_column(name: &str) -> Option<&'static Column> {
    static BUILT: Mutex<Vec<&'static Column>> = Mutex::new(Vec::new());
    let var = name.strip_prefix(ENV_PREFIX)?;
    if var.is_empty() || var.contains(['=', '\0', ',']) {
        return None;
    }
    let mut built = BUILT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(column) = built.iter().find(|c| c.name == name) {
        return Some(column);
    }
    let leak = |text: String| -> &'static str { Box::leak(text.into_boxed_str()) };
    let column: &'static Column = Box::leak(Box::new(Column {
        name: leak(name.to_owned()),
        header: leak(var.to_owned()),
        json_key: leak(format!("env_{var}")),
        ..ENV_TEMPLATE
    }));
    built.push(column);
    Some(column)
}

/// The value of an `env:NAME` column: the variable's starting value, redacted when its name
/// looks secret; empty when the process does not have it.
fn env_value(p: &ProcessSample, var: &str) -> Field<Value> {
    if p.kind() == TaskKind::KernelThread {
        return Err(Unavailable::KernelThread);
    }
    let environ = p.environ()?;
    let Some((_, value)) = environ.iter().find(|(n, _)| n == var.as_bytes()) else {
        return Ok(Value::Empty);
    };
    let policy = SECRET_POLICY.get_or_init(SecretPolicy::default);
    Ok(if policy.redacts(var.as_bytes()) {
        Value::Label(REDACTED.to_owned())
    } else {
        Value::Text(value.clone())
    })
}

impl Column {
    /// The cell of this column for one process: `env:NAME` columns look their variable up,
    /// every other column runs its `extract`.
    pub fn value(&self, p: &ProcessSample, ctx: &Context) -> Field<Value> {
        if self.name.starts_with(ENV_PREFIX) {
            return env_value(p, self.header);
        }
        (self.extract)(p, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_columns_are_built_once_and_validated() {
        let home = env_column("env:HOME").unwrap();
        assert_eq!(home.header, "HOME");
        assert_eq!(home.json_key, "env_HOME");
        assert!(std::ptr::eq(home, env_column("env:HOME").unwrap()));
        for bad in ["env:", "env:A=B", "HOME", "env:A,B"] {
            assert!(env_column(bad).is_none(), "{bad}");
        }
    }
}
