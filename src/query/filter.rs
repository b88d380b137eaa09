//! Which processes a listing keeps: name/command-line pattern, PIDs, parents, users, states.

use regex::bytes::Regex;

use crate::collect::{Needs, ProcessSample};

/// How a PATTERN is matched.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Substring of the name or command line; case-insensitive unless the pattern has an
    /// uppercase letter (smart case, as in ripgrep and fd).
    Substring { needle: Vec<u8>, ignore_case: bool },
    /// The process name, exactly.
    ExactName(Vec<u8>),
    /// A regular expression over the name and the command line.
    Regex(Regex),
}

impl Matcher {
    /// Builds a matcher; an invalid regex is a usage error naming the pattern.
    pub fn new(pattern: &str, exact: bool, regex: bool) -> Result<Self, String> {
        if exact {
            return Ok(Self::ExactName(pattern.as_bytes().to_vec()));
        }
        if regex {
            return Regex::new(pattern).map(Self::Regex).map_err(|err| {
                format!(
                    "invalid regex '{pattern}': {}",
                    first_line(&err.to_string())
                )
            });
        }
        let ignore_case = !pattern.chars().any(char::is_uppercase);
        let needle = if ignore_case {
            pattern.to_lowercase()
        } else {
            pattern.to_owned()
        };
        Ok(Self::Substring {
            needle: needle.into_bytes(),
            ignore_case,
        })
    }

    /// The files a match needs.
    pub fn needs(&self) -> Needs {
        match self {
            Self::ExactName(_) => Needs::STAT,
            _ => Needs::STAT | Needs::CMDLINE,
        }
    }

    /// True when the name or (unless exact) the command line matches.
    pub fn matches(&self, name: &[u8], argv: &[Vec<u8>]) -> bool {
        match self {
            Self::ExactName(wanted) => name == wanted.as_slice(),
            Self::Regex(regex) => regex.is_match(name) || regex.is_match(&argv.join(&b' ')),
            Self::Substring {
                needle,
                ignore_case,
            } => {
                let contains = |hay: &[u8]| {
                    if *ignore_case {
                        contains(&hay.to_ascii_lowercase(), needle)
                    } else {
                        contains(hay, needle)
                    }
                };
                contains(name) || contains(&argv.join(&b' '))
            }
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|window| window == needle)
}

fn first_line(text: &str) -> &str {
    text.lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or(text)
}

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

/// Validates `--state` letters (`R`, `SD`, `Z`).
pub fn parse_states(text: &str) -> Result<String, String> {
    const VALID: &str = "RSDZTtXIPKW";
    if text.is_empty() || !text.chars().all(|c| VALID.contains(c)) {
        return Err(format!(
            "'{text}' is not a list of state letters: expected letters from {VALID} (e.g. R, SD, Z)"
        ));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn substring_is_smart_case() {
        let lower = Matcher::new("node", false, false).unwrap();
        assert!(lower.matches(b"NODE", &[]));
        assert!(lower.matches(b"x", &argv(&["/usr/bin/Node", "app.js"])));
        let upper = Matcher::new("Node", false, false).unwrap();
        assert!(!upper.matches(b"node", &[]));
        assert!(upper.matches(b"Node", &[]));
    }

    #[test]
    fn exact_name_ignores_command_line() {
        let exact = Matcher::new("sleep", true, false).unwrap();
        assert!(exact.matches(b"sleep", &[]));
        assert!(!exact.matches(b"sleepy", &argv(&["sleep"])));
    }

    #[test]
    fn regex_over_name_and_args() {
        let regex = Matcher::new(r"^sl(e)+p$", false, true).unwrap();
        assert!(regex.matches(b"sleep", &[]));
        assert!(
            Matcher::new(r"app\.js", false, true)
                .unwrap()
                .matches(b"node", &argv(&["node", "app.js"]))
        );
        let err = Matcher::new("(", false, true).unwrap_err();
        assert!(err.starts_with("invalid regex '('"));
        assert!(!err.contains('\n'));
    }

    #[test]
    fn states() {
        assert_eq!(parse_states("SD"), Ok("SD".to_owned()));
        assert!(parse_states("Q").is_err());
        assert!(parse_states("").is_err());
    }
}
