//! Which processes a listing keeps: name/command-line pattern, PIDs, parents, users, states,
//! systemd units, containers and cgroups. The request only: evaluating it over a read process
//! is `analyze::filter`'s job.

use crate::query::matcher::Matcher;
use crate::query::needs::Needs;

/// All the conditions of one listing; empty lists mean "any".
#[derive(Debug, Clone, Default)]
pub struct ProcessFilter {
    pub matcher: Option<Matcher>,
    pub pids: Vec<u32>,
    pub ppids: Vec<u32>,
    pub uids: Vec<u32>,
    /// State letters to keep (`R`, `S`, `D`, `Z`...).
    pub states: Vec<u8>,
    /// Our own PID, left out of pattern matches (like pgrep) since our argv holds the pattern.
    pub exclude: Option<u32>,
    /// Keep only processes of this runtime (`node`).
    pub runtime: Option<String>,
    /// Keep processes in one of these systemd units (`nginx` matches `nginx.service`).
    pub units: Vec<String>,
    /// Keep processes in one of these containers (ID prefix, LXC name, engine, `k8s`).
    pub containers: Vec<String>,
    /// Keep processes in (or below) one of these cgroup paths, v2 or v1.
    pub cgroups: Vec<String>,
}

impl ProcessFilter {
    /// The files the filter needs for each process.
    pub fn needs(&self) -> Needs {
        let mut needs = Needs::NONE;
        if let Some(matcher) = &self.matcher {
            needs |= matcher.needs();
        }
        if !self.ppids.is_empty() || !self.states.is_empty() {
            needs |= Needs::STAT;
        }
        // A PID named on the command line may be a thread's ID: status's Tgid tells.
        if !self.uids.is_empty() || !self.pids.is_empty() {
            needs |= Needs::STATUS;
        }
        if self.runtime.is_some() {
            needs |= Needs::STAT | Needs::EXE | Needs::RUNTIME;
        }
        if self.selects_by_cgroup() {
            needs |= Needs::CGROUP;
        }
        needs
    }

    /// True when a unit, container or cgroup condition is set.
    pub fn selects_by_cgroup(&self) -> bool {
        !self.units.is_empty() || !self.containers.is_empty() || !self.cgroups.is_empty()
    }

    /// True when the filter can decide on the PID alone and rejects it (saves all reads).
    pub fn rejects_pid(&self, pid: u32) -> bool {
        (!self.pids.is_empty() && !self.pids.contains(&pid))
            || (self.matcher.is_some() && self.exclude == Some(pid))
    }
}

/// True when `unit` is `wanted`, or `wanted` without its `.service` suffix.
pub fn unit_matches(unit: &str, wanted: &str) -> bool {
    unit == wanted || unit.strip_suffix(".service") == Some(wanted)
}

/// True when `path` is `wanted` or below it (whole components: `/a` holds `/a/b`, not `/ab`).
pub fn path_within(path: &str, wanted: &str) -> bool {
    let wanted = wanted.trim_end_matches('/');
    if wanted.is_empty() {
        return true;
    }
    path.strip_prefix(wanted)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Validates a `--cgroup` path: absolute, as `/proc/PID/cgroup` writes it.
pub fn parse_cgroup_path(text: &str) -> Result<String, String> {
    if text.starts_with('/') && !text.contains('\0') {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "'{text}' is not a cgroup path: expected an absolute path as /proc/PID/cgroup shows it (e.g. /system.slice/nginx.service)"
        ))
    }
}

/// Validates `--state` letters, as one word or a comma list (`R`, `SD`, `Z,T`), and returns
/// the letters.
pub fn parse_states(text: &str) -> Result<String, String> {
    const VALID: &str = "RSDZTtXIPKW";
    let items: Vec<&str> = text.split(',').collect();
    if items
        .iter()
        .any(|item| item.is_empty() || !item.chars().all(|c| VALID.contains(c)))
    {
        return Err(format!(
            "'{text}' is not a list of state letters: expected letters from {VALID}, alone or comma-separated (e.g. R, SD, Z,T)"
        ));
    }
    Ok(items.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_cgroup_paths() {
        assert!(unit_matches("nginx.service", "nginx"));
        assert!(unit_matches("nginx.service", "nginx.service"));
        assert!(unit_matches("session-2.scope", "session-2.scope"));
        assert!(!unit_matches("session-2.scope", "session-2"));
        assert!(!unit_matches("nginx-debug.service", "nginx"));
        assert!(path_within("/system.slice/a.service", "/system.slice"));
        assert!(path_within("/system.slice", "/system.slice/"));
        assert!(!path_within("/system.slicex/a", "/system.slice"));
        assert!(path_within("/anything", "/"));
        assert!(parse_cgroup_path("relative").is_err());
        assert!(parse_cgroup_path("/user.slice").is_ok());
    }

    #[test]
    fn states() {
        assert_eq!(parse_states("SD"), Ok("SD".to_owned()));
        assert!(parse_states("Q").is_err());
        assert!(parse_states("").is_err());
        assert_eq!(parse_states("Z,T"), Ok("ZT".to_owned()));
        assert_eq!(parse_states("R,SD"), Ok("RSD".to_owned()));
        for bad in [",", "Z,", ",T", "Z,,T", "Z, T", "Z;T"] {
            let err = parse_states(bad).unwrap_err();
            assert!(err.contains(&format!("'{bad}'")), "{err}");
        }
    }
}
