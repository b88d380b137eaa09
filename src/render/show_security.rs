//! The security, limits and environment parts of the `show` sheet.

use std::collections::BTreeMap;

use crate::model::Unavailable;
use crate::model::fields::DetailField;
use crate::model::security::{CapSet, Capabilities, EnvEntry, Namespace, Security};
use crate::render::table::{Text, Tone};
use crate::text::escape::{Escaped, exact_text};

/// The kernel's limit names with their labels in the sheet, in /proc/PID/limits order.
pub const LIMIT_LABELS: &[(&str, &str)] = &[
    ("Max cpu time", "cpu time"),
    ("Max file size", "file size"),
    ("Max data size", "data size"),
    ("Max stack size", "stack size"),
    ("Max core file size", "core file size"),
    ("Max resident set", "resident set"),
    ("Max processes", "processes"),
    ("Max open files", "open files"),
    ("Max locked memory", "locked memory"),
    ("Max address space", "address space"),
    ("Max file locks", "file locks"),
    ("Max pending signals", "pending signals"),
    ("Max msgqueue size", "msgqueue size"),
    ("Max nice priority", "nice priority"),
    ("Max realtime priority", "realtime priority"),
    ("Max realtime timeout", "realtime timeout"),
];

/// Sheet rows of the security section; a null field shows `-` with its reason.
pub fn security_rows(
    s: &Security,
    unavailable: &BTreeMap<DetailField, Unavailable>,
) -> Vec<(&'static str, Text)> {
    let shown = |field: DetailField, value: Option<String>| match value {
        Some(text) => Text::plain(Escaped::text(&text)),
        None => match unavailable.get(&field) {
            Some(why) => Text::toned(format!("- ({why})"), Tone::Dim),
            None => Text::toned("-", Tone::Dim),
        },
    };
    let caps = |pick: fn(&Capabilities) -> &CapSet| {
        shown(
            DetailField::SecurityCapabilities,
            s.capabilities.as_ref().map(|c| {
                let set = pick(c);
                if set.names.is_empty() {
                    "none".to_owned()
                } else if set.names.len() >= 41 {
                    format!("all ({})", set.mask)
                } else {
                    set.names.join(",")
                }
            }),
        )
    };
    let namespaces = s.namespaces.as_deref().map(namespaces_text);
    let groups = s.groups.as_ref().map(|list| {
        list.iter()
            .map(|g| format!("{}({})", g.name, g.gid))
            .collect::<Vec<_>>()
            .join(" ")
    });
    vec![
        (
            "namespaces",
            shown(DetailField::SecurityNamespaces, namespaces),
        ),
        ("cap effective", caps(|c| &c.effective)),
        ("cap permitted", caps(|c| &c.permitted)),
        ("cap bounding", caps(|c| &c.bounding)),
        (
            "no new privs",
            shown(
                DetailField::SecurityNoNewPrivs,
                s.no_new_privs.map(|b| b.to_string()),
            ),
        ),
        (
            "seccomp",
            shown(DetailField::SecuritySeccomp, s.seccomp.clone()),
        ),
        (
            "lsm label",
            shown(DetailField::SecurityLsmLabel, s.lsm_label.clone()),
        ),
        (
            "oom score",
            shown(
                DetailField::SecurityOomScore,
                s.oom_score.map(|score| {
                    let adj = s.oom_score_adj.map_or("-".into(), |a| a.to_string());
                    format!("{score} (adj {adj})")
                }),
            ),
        ),
        (
            "io priority",
            shown(
                DetailField::SecurityIoPriority,
                s.io_priority.as_ref().map(|io| match io.level {
                    Some(level) => format!("{}: prio {level}", io.class),
                    None => io.class.clone(),
                }),
            ),
        ),
        ("groups", shown(DetailField::SecurityGroups, groups)),
    ]
}

/// `mnt 4026531841 (init's), net 4026532008 (own)`.
fn namespaces_text(list: &[Namespace]) -> String {
    list.iter()
        .map(|ns| match ns.same_as_init {
            Some(true) => format!("{} {} (init's)", ns.kind, ns.inode),
            Some(false) => format!("{} {} (own)", ns.kind, ns.inode),
            None => format!("{} {}", ns.kind, ns.inode),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sheet rows of the environment: one `NAME=value` per row, escaped.
pub fn environment_rows(entries: &[EnvEntry]) -> Vec<(&'static str, Text)> {
    entries
        .iter()
        .map(|e| {
            let mut line = exact_text(&e.name, e.name_b64.as_deref());
            line.push_text("=");
            line.push(&exact_text(&e.value, e.value_b64.as_deref()));
            ("", Text::plain(line))
        })
        .collect()
}
