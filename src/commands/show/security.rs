//! The parts of `show` added for isolation and privileges (namespaces, capabilities,
//! NoNewPrivs, seccomp, LSM label, OOM, I/O priority, groups), the environment (`--env`)
//! and every limit (`--limits`): payload assembly (the sheet rows are `render/show_security.rs`).
//! Reads nothing itself.

use std::collections::BTreeMap;

use crate::collect::process::Environ;
use crate::collect::security::SecurityFiles;
use crate::collect::{ProcessSample, UserNames};
use crate::model::Unavailable;
use crate::model::fields::DetailField;
use crate::model::security::{
    CapSet, Capabilities, EnvEntry, GroupEntry, IoPriority, Namespace, Security,
};
use crate::model::text::lossless;
use crate::parse::caps::{cap_names, parse_mask};
use crate::parse::keyed::Keyed;
use crate::query::secrets::{REDACTED, SecretPolicy};

/// The security section; reasons for null fields go to `unavailable` as `security.FIELD`.
pub fn security(
    sample: &ProcessSample,
    files: &SecurityFiles,
    users: &UserNames,
    unavailable: &mut BTreeMap<DetailField, Unavailable>,
) -> Security {
    let mut why = Reasons(unavailable);
    let status = sample.status().ok();
    let status_reason = sample.status().err().unwrap_or(Unavailable::Unsupported);
    let namespaces = why.field(
        DetailField::SecurityNamespaces,
        files
            .namespaces
            .as_ref()
            .map(|links| namespace_entries(links, files.reference.as_deref()))
            .map_err(|r| *r),
    );
    let capabilities = why.option(
        DetailField::SecurityCapabilities,
        status.and_then(capabilities),
        status_reason,
    );
    let no_new_privs = why.option(
        DetailField::SecurityNoNewPrivs,
        status.and_then(|s| s.number("NoNewPrivs")).map(|n| n == 1),
        status_reason,
    );
    let seccomp = why.option(
        DetailField::SecuritySeccomp,
        status.and_then(|s| s.number("Seccomp")).map(seccomp_mode),
        status_reason,
    );
    let groups = why.option(
        DetailField::SecurityGroups,
        status.and_then(|s| groups(s, users)),
        status_reason,
    );
    let lsm_label = why.field(
        DetailField::SecurityLsmLabel,
        files
            .lsm_label
            .as_ref()
            .map(|label| String::from_utf8_lossy(label).into_owned())
            .map_err(|r| *r),
    );
    let oom_score = why.field(DetailField::SecurityOomScore, files.oom_score);
    let oom_score_adj = why.field(DetailField::SecurityOomScoreAdj, files.oom_score_adj);
    let nice = sample.stat().ok().map(|s| s.nice);
    let io_priority = why.field(
        DetailField::SecurityIoPriority,
        files.io_priority.map(|v| io_class(v, nice)),
    );
    Security {
        namespaces,
        capabilities,
        no_new_privs,
        seccomp,
        lsm_label,
        oom_score,
        oom_score_adj,
        io_priority,
        groups,
    }
}

/// Records why a security field is null.
struct Reasons<'a>(&'a mut BTreeMap<DetailField, Unavailable>);

impl Reasons<'_> {
    fn field<T>(&mut self, name: DetailField, value: Result<T, Unavailable>) -> Option<T> {
        value.map_err(|reason| self.0.insert(name, reason)).ok()
    }

    fn option<T>(&mut self, name: DetailField, value: Option<T>, reason: Unavailable) -> Option<T> {
        self.field(name, value.ok_or(reason))
    }
}

fn namespace_entries(
    links: &[(&'static str, u64)],
    reference: Option<&[(&'static str, u64)]>,
) -> Vec<Namespace> {
    links
        .iter()
        .map(|&(kind, inode)| Namespace {
            kind: kind.to_owned(),
            inode,
            same_as_init: reference.and_then(|r| {
                r.iter()
                    .find(|(k, _)| *k == kind)
                    .map(|&(_, init)| init == inode)
            }),
        })
        .collect()
}

fn capabilities(status: &Keyed) -> Option<Capabilities> {
    let set = |key: &str| {
        let mask = parse_mask(status.get(key)?)?;
        Some(CapSet {
            mask: format!("{mask:016x}"),
            names: cap_names(mask),
        })
    };
    Some(Capabilities {
        effective: set("CapEff")?,
        permitted: set("CapPrm")?,
        inheritable: set("CapInh")?,
        bounding: set("CapBnd")?,
        ambient: set("CapAmb"),
    })
}

fn seccomp_mode(mode: u64) -> String {
    match mode {
        0 => "disabled".into(),
        1 => "strict".into(),
        2 => "filter".into(),
        other => other.to_string(),
    }
}

/// The effective group first, then the supplementary groups not equal to it.
fn groups(status: &Keyed, users: &UserNames) -> Option<Vec<GroupEntry>> {
    let effective = *status.numbers("Gid")?.get(1)? as u32;
    let supplementary = status.numbers("Groups").unwrap_or_default();
    let entry = |gid: u32, effective: bool| GroupEntry {
        gid,
        name: users.group_name(gid),
        effective,
    };
    let mut all = vec![entry(effective, true)];
    all.extend(
        supplementary
            .into_iter()
            .map(|gid| gid as u32)
            .filter(|&gid| gid != effective)
            .map(|gid| entry(gid, false)),
    );
    Some(all)
}

/// Decodes an `ioprio_get` value as ionice does.
pub fn io_class(value: i32, nice: Option<i64>) -> IoPriority {
    let (class, level) = (value >> 13, (value & 0x1fff) as u8);
    let (name, level) = match class {
        1 => ("realtime", Some(level)),
        2 => ("best-effort", Some(level)),
        3 => ("idle", None),
        _ => ("none", nice.map(|n| ((n + 20) / 5).clamp(0, 7) as u8)),
    };
    IoPriority {
        class: name.into(),
        level,
    }
}

/// The environment entries, secret-looking values redacted by the policy.
pub fn environment(environ: &Environ, policy: &SecretPolicy) -> Vec<EnvEntry> {
    environ
        .iter()
        .map(|(name, value)| {
            let redacted = policy.redacts(name);
            let (name, name_b64) = lossless(name);
            let (value, value_b64) = if redacted {
                (REDACTED.to_owned(), None)
            } else {
                lossless(value)
            };
            EnvEntry {
                name,
                name_b64,
                value,
                value_b64,
                redacted,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_priority_like_ionice() {
        let be = io_class(2 << 13 | 4, Some(0));
        assert_eq!((be.class.as_str(), be.level), ("best-effort", Some(4)));
        let none = io_class(0, Some(10));
        assert_eq!((none.class.as_str(), none.level), ("none", Some(6)));
        assert_eq!(io_class(3 << 13, None).class, "idle");
    }

    #[test]
    fn environment_redacts_by_policy() {
        let environ = vec![
            (b"HOME".to_vec(), b"/root".to_vec()),
            (b"API_TOKEN".to_vec(), b"s3cret".to_vec()),
        ];
        let entries = environment(&environ, &SecretPolicy::default());
        assert_eq!(entries[0].value, "/root");
        assert!(entries[1].redacted && entries[1].value == REDACTED);
        let shown = environment(&environ, &SecretPolicy::new(["TOKEN"], true));
        assert_eq!(shown[1].value, "s3cret");
    }
}
