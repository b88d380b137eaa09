//! Which processes a listing keeps: name/command-line pattern, PIDs, parents, users, states.

use crate::collect::{Needs, ProcessSample};
use crate::query::matcher::Matcher;

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
        if !self.uids.is_empty() {
            needs |= Needs::STATUS;
        }
        if self.runtime.is_some() {
            needs |= Needs::STAT | Needs::EXE | Needs::RUNTIME;
        }
        needs
    }

    /// True when the filter can decide on the PID alone and rejects it (saves all reads).
    pub fn rejects_pid(&self, pid: u32) -> bool {
        (!self.pids.is_empty() && !self.pids.contains(&pid))
            || (self.matcher.is_some() && self.exclude == Some(pid))
    }

    /// True when the process passes every condition. Unreadable fields fail a condition.
    pub fn keeps(&self, process: &ProcessSample) -> bool {
        if self.rejects_pid(process.pid) {
            return false;
        }
        let stat = process.stat().ok();
        if !self.ppids.is_empty() && !stat.is_some_and(|s| self.ppids.contains(&s.ppid)) {
            return false;
        }
        if !self.states.is_empty() && !stat.is_some_and(|s| self.states.contains(&s.state)) {
            return false;
        }
        if !self.uids.is_empty() && !process.euid().is_ok_and(|uid| self.uids.contains(&uid)) {
            return false;
        }
        if let Some(wanted) = &self.runtime {
            let detected = crate::analyze::runtime::detect(&process.runtime_facts());
            if detected.is_none_or(|(_, info)| &info.runtime != wanted) {
                return false;
            }
        }
        if let Some(matcher) = &self.matcher {
            let name = process.name().unwrap_or_default();
            let argv = process.cmdline().map(Vec::as_slice).unwrap_or_default();
            return matcher.matches(&name, argv);
        }
        true
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
