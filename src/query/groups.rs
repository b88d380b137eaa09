//! Grouping rules of `export` and `serve`, like process-exporter's: from a TOML file or from
//! `--group-by`, validated here (pure: no /proc reads). A process joins the group of the
//! first rule that matches it; a rule's name is a template over the process's facts.

use std::collections::HashMap;

use regex::bytes::Regex;
use serde::Deserialize;

/// What a process is grouped by when no config file is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum GroupBy {
    /// One group per executable name (comm), like process-exporter's `{{.Comm}}`.
    #[default]
    Name,
    /// One group per executable file name (the basename of /proc/PID/exe).
    Exe,
    /// One group per effective user.
    User,
    /// One group per systemd unit or container scope (from /proc/PID/cgroup).
    Unit,
    /// One group per recognised runtime (`node`); other processes in `other`.
    Runtime,
}

impl GroupBy {
    fn template(self) -> &'static str {
        match self {
            GroupBy::Name => "{comm}",
            GroupBy::Exe => "{exe}",
            GroupBy::User => "{user}",
            GroupBy::Unit => "{unit}",
            GroupBy::Runtime => "{runtime}",
        }
    }
}

/// The grouping rules, in order.
#[derive(Debug, Clone)]
pub struct Grouping {
    pub rules: Vec<Rule>,
    /// Processes selected by PID for per-process series.
    pub pids: Vec<u32>,
}

/// One validated rule: every matcher given must match; the name is a template.
#[derive(Debug, Clone)]
pub struct Rule {
    name: String,
    comm: Vec<Vec<u8>>,
    exe: Vec<Vec<u8>>,
    cmdline: Option<Regex>,
    uids: Vec<u32>,
    cgroup: Option<Regex>,
    unit: Vec<String>,
    runtime: Option<String>,
    /// Emit per-PID series for the processes this rule matches.
    pub pids: bool,
}

/// The facts of one process that rules match and names use.
#[derive(Debug, Clone, Default)]
pub struct Candidate<'a> {
    pub comm: &'a [u8],
    /// The executable path (`/proc/PID/exe`).
    pub exe: Option<&'a [u8]>,
    /// The command line joined with spaces.
    pub cmdline: Option<&'a [u8]>,
    pub uid: Option<u32>,
    pub user: Option<&'a str>,
    /// The cgroup v2 path (`/system.slice/nginx.service`).
    pub cgroup: Option<&'a [u8]>,
    pub runtime: Option<&'a str>,
}

/// Which facts the rules need read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RuleNeeds {
    pub exe: bool,
    pub cmdline: bool,
    pub user: bool,
    pub cgroup: bool,
    pub runtime: bool,
}

/// The TOML file: `[[group]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    group: Vec<RuleSpec>,
    #[serde(default)]
    pids: Vec<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    name: Option<String>,
    #[serde(default)]
    comm: Vec<String>,
    #[serde(default)]
    exe: Vec<String>,
    cmdline: Option<String>,
    #[serde(default)]
    user: Vec<String>,
    cgroup: Option<String>,
    #[serde(default)]
    unit: Vec<String>,
    runtime: Option<String>,
    #[serde(default)]
    pids: bool,
}

const VARIABLES: &[&str] = &["comm", "exe", "user", "unit", "cgroup", "runtime"];

impl Grouping {
    /// One catch-all rule for `--group-by`.
    pub fn by(group_by: GroupBy, pids: Vec<u32>) -> Self {
        let rule = Rule {
            name: group_by.template().to_owned(),
            comm: Vec::new(),
            exe: Vec::new(),
            cmdline: None,
            uids: Vec::new(),
            cgroup: None,
            unit: Vec::new(),
            runtime: None,
            pids: false,
        };
        Self {
            rules: vec![rule],
            pids,
        }
    }

    /// Parses and validates a config file's text; `resolve` maps a user name to its uid.
    pub fn from_toml(
        text: &str,
        resolve: impl Fn(&str) -> Option<u32>,
        pids: Vec<u32>,
    ) -> Result<Self, String> {
        let file: ConfigFile = toml::from_str(text)
            .map_err(|err| err.message().trim_end().to_owned() + &location(text, err.span()))?;
        if file.group.is_empty() {
            return Err(
                "no [[group]] rule: add at least one (see `procscope export --help`)".into(),
            );
        }
        let rules = file
            .group
            .into_iter()
            .enumerate()
            .map(|(index, spec)| {
                Rule::from_spec(spec, &resolve).map_err(|e| format!("group {}: {e}", index + 1))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut all_pids = file.pids;
        all_pids.extend(pids);
        Ok(Self {
            rules,
            pids: all_pids,
        })
    }

    /// Which facts the rules need.
    pub fn needs(&self) -> RuleNeeds {
        let mut needs = RuleNeeds::default();
        for rule in &self.rules {
            let uses = |var: &str| rule.name.contains(&format!("{{{var}}}"));
            needs.exe |= !rule.exe.is_empty() || uses("exe");
            needs.cmdline |= rule.cmdline.is_some();
            needs.user |= !rule.uids.is_empty() || uses("user");
            needs.cgroup |=
                rule.cgroup.is_some() || !rule.unit.is_empty() || uses("unit") || uses("cgroup");
            needs.runtime |= rule.runtime.is_some() || uses("runtime");
        }
        needs
    }

    /// The group of a process and whether it gets per-PID series, or `None` when no rule
    /// matches (the process is not exported).
    pub fn assign(&self, process: &Candidate, pid: u32) -> Option<(String, bool)> {
        let selected = self.pids.contains(&pid);
        self.rules.iter().find_map(|rule| {
            let captures = rule.matches(process)?;
            Some((rule.render_name(process, &captures), rule.pids || selected))
        })
    }
}

impl Rule {
    fn from_spec(spec: RuleSpec, resolve: &impl Fn(&str) -> Option<u32>) -> Result<Self, String> {
        let compile = |text: &Option<String>, what: &str| {
            text.as_deref()
                .map(|t| Regex::new(t).map_err(|e| format!("{what} regex '{t}': {e}")))
                .transpose()
        };
        let cmdline = compile(&spec.cmdline, "cmdline")?;
        let cgroup = compile(&spec.cgroup, "cgroup")?;
        let uids = spec
            .user
            .iter()
            .map(|user| {
                resolve(user).ok_or_else(|| {
                    format!("unknown user '{user}': expected a user name or a numeric uid")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(runtime) = &spec.runtime
            && !crate::model::runtime::RUNTIME_NAMES.contains(&runtime.as_str())
        {
            let names = crate::model::runtime::RUNTIME_NAMES.join(" or ");
            return Err(format!("unknown runtime '{runtime}': expected {names}"));
        }
        let captures: Vec<&str> = [&cmdline, &cgroup]
            .into_iter()
            .flatten()
            .flat_map(|re| re.capture_names().flatten())
            .collect();
        let name = spec.name.unwrap_or_else(|| default_name(&captures));
        check_template(&name, &captures)?;
        Ok(Self {
            name,
            comm: spec.comm.into_iter().map(String::into_bytes).collect(),
            exe: spec.exe.into_iter().map(String::into_bytes).collect(),
            cmdline,
            uids,
            cgroup,
            unit: spec.unit,
            runtime: spec.runtime,
            pids: spec.pids,
        })
    }

    /// The named captures when every matcher of the rule accepts the process.
    fn matches(&self, process: &Candidate) -> Option<HashMap<String, String>> {
        if !self.comm.is_empty() && !self.comm.iter().any(|c| c.as_slice() == process.comm) {
            return None;
        }
        if !self.exe.is_empty() {
            let exe = process.exe?;
            if !self
                .exe
                .iter()
                .any(|e| e.as_slice() == exe || e.as_slice() == basename(exe))
            {
                return None;
            }
        }
        if !self.uids.is_empty() && !self.uids.contains(&process.uid?) {
            return None;
        }
        if !self.unit.is_empty() {
            let unit = unit_of(process.cgroup?);
            if !self.unit.iter().any(|u| u.as_bytes() == unit) {
                return None;
            }
        }
        if let Some(runtime) = &self.runtime
            && process.runtime != Some(runtime.as_str())
        {
            return None;
        }
        let mut captures = HashMap::new();
        for (regex, text) in [
            (&self.cmdline, process.cmdline),
            (&self.cgroup, process.cgroup),
        ] {
            let Some(regex) = regex else { continue };
            let found = regex.captures(text?)?;
            for name in regex.capture_names().flatten() {
                if let Some(value) = found.name(name) {
                    captures.insert(
                        name.to_owned(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    );
                }
            }
        }
        Some(captures)
    }

    fn render_name(&self, process: &Candidate, captures: &HashMap<String, String>) -> String {
        let lossy = |bytes: Option<&[u8]>| bytes.map(|b| String::from_utf8_lossy(b).into_owned());
        let value = |var: &str| -> Option<String> {
            match var {
                "comm" => lossy(Some(process.comm)),
                "exe" => lossy(process.exe.map(basename)),
                "user" => process.user.map(str::to_owned),
                "unit" => lossy(process.cgroup.map(unit_of)),
                "cgroup" => lossy(process.cgroup),
                "runtime" => Some(process.runtime.unwrap_or("other").to_owned()),
                capture => captures.get(capture).cloned(),
            }
        };
        let mut name = String::new();
        let mut rest = self.name.as_str();
        while let Some(open) = rest.find('{') {
            name.push_str(&rest[..open]);
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
            let var = &rest[open + 1..close];
            name.push_str(&value(var).unwrap_or_else(|| "unknown".into()));
            rest = rest.get(close + 1..).unwrap_or("");
        }
        name.push_str(rest);
        name
    }
}

/// The default name of a rule: its named captures joined with `:`, else the comm.
fn default_name(captures: &[&str]) -> String {
    if captures.is_empty() {
        "{comm}".into()
    } else {
        captures
            .iter()
            .map(|c| format!("{{{c}}}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}

/// Every `{var}` in a name must be a known variable or a named capture of the rule.
fn check_template(name: &str, captures: &[&str]) -> Result<(), String> {
    let mut rest = name;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            return Err(format!("name '{name}': '{{' without '}}'"));
        };
        let var = &rest[open + 1..open + close];
        if !VARIABLES.contains(&var) && !captures.contains(&var) {
            return Err(format!(
                "name '{name}': unknown variable '{{{var}}}': expected one of {} or a named capture",
                VARIABLES.join(", ")
            ));
        }
        rest = &rest[open + close + 1..];
    }
    Ok(())
}

fn basename(path: &[u8]) -> &[u8] {
    let path = path.strip_suffix(b" (deleted)").unwrap_or(path);
    path.rsplit(|&b| b == b'/').next().unwrap_or(path)
}

/// The systemd unit or container scope of a cgroup path: its last `.service` or `.scope`
/// component, else its last component (`/` for the root cgroup).
pub fn unit_of(cgroup: &[u8]) -> &[u8] {
    let parts: Vec<&[u8]> = cgroup
        .split(|&b| b == b'/')
        .filter(|p| !p.is_empty())
        .collect();
    parts
        .iter()
        .rev()
        .find(|p| p.ends_with(b".service") || p.ends_with(b".scope"))
        .or(parts.last())
        .copied()
        .unwrap_or(b"/")
}

fn location(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    span.map(|span| {
        let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
        format!(" (line {line})")
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate<'a>(comm: &'a [u8], cmdline: &'a [u8]) -> Candidate<'a> {
        Candidate {
            comm,
            cmdline: Some(cmdline),
            ..Candidate::default()
        }
    }

    #[test]
    fn first_matching_rule_wins_and_captures_name_the_group() {
        let config = r#"
            [[group]]
            comm = ["postgres"]
            name = "db"
            [[group]]
            cmdline = 'node .*/(?P<app>[a-z]+)\.js'
            name = "node:{app}"
        "#;
        let grouping = Grouping::from_toml(config, |_| None, vec![]).unwrap();
        let db = candidate(b"postgres", b"postgres -D /data");
        assert_eq!(grouping.assign(&db, 5), Some(("db".into(), false)));
        let app = candidate(b"node", b"node /srv/api.js");
        assert_eq!(grouping.assign(&app, 6), Some(("node:api".into(), false)));
        assert_eq!(grouping.assign(&candidate(b"bash", b"bash"), 7), None);
        assert!(grouping.needs().cmdline && !grouping.needs().exe);
    }

    #[test]
    fn default_groups_by_comm_and_selects_pids() {
        let grouping = Grouping::by(GroupBy::Name, vec![9]);
        let sleep = candidate(b"sleep", b"sleep 5");
        assert_eq!(grouping.assign(&sleep, 9), Some(("sleep".into(), true)));
        assert_eq!(grouping.assign(&sleep, 8), Some(("sleep".into(), false)));
    }

    #[test]
    fn users_units_and_runtimes() {
        let config = r#"
            [[group]]
            user = ["www"]
            unit = ["nginx.service"]
            name = "{user}@{unit}"
            [[group]]
            runtime = "node"
            pids = true
        "#;
        let grouping = Grouping::from_toml(config, |u| (u == "www").then_some(33), vec![]).unwrap();
        let web = Candidate {
            comm: b"nginx",
            uid: Some(33),
            user: Some("www"),
            cgroup: Some(b"/system.slice/nginx.service"),
            ..Candidate::default()
        };
        assert_eq!(
            grouping.assign(&web, 1),
            Some(("www@nginx.service".into(), false))
        );
        let node = Candidate {
            comm: b"node",
            runtime: Some("node"),
            ..Candidate::default()
        };
        assert_eq!(grouping.assign(&node, 2), Some(("node".into(), true)));
        assert!(grouping.needs().cgroup && grouping.needs().user && grouping.needs().runtime);
    }

    #[test]
    fn bad_configs_name_the_problem() {
        let err = |text| Grouping::from_toml(text, |_| None, vec![]).unwrap_err();
        assert!(err("[[group]]\ncmdline = '('").contains("cmdline regex '('"));
        assert!(err("[[group]]\nname = '{nope}'").contains("unknown variable '{nope}'"));
        assert!(err("[[group]]\nuser = ['ghost']").contains("unknown user 'ghost'"));
        assert!(err("[[group]]\ncolour = 1").contains("line 2"));
        assert!(err("[[group]]\nruntime = 'python'").contains("unknown runtime 'python'"));
        assert!(err("").contains("no [[group]]"));
    }

    #[test]
    fn unit_of_cgroup_paths() {
        assert_eq!(unit_of(b"/system.slice/nginx.service"), b"nginx.service");
        assert_eq!(
            unit_of(b"/system.slice/docker-ab12.scope/init"),
            b"docker-ab12.scope"
        );
        assert_eq!(unit_of(b"/user.slice"), b"user.slice");
        assert_eq!(unit_of(b"/"), b"/");
    }
}
