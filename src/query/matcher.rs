//! The one process matcher: `ps PATTERN` / `--regex` / `--exact` and `kill --pattern` /
//! `--name` select through it, with the same semantics. Pure: it sees names and argv only.

use regex::bytes::Regex;

use crate::query::needs::Needs;

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
    /// Builds a matcher; an empty pattern or an invalid regex is a usage error naming it.
    pub fn new(pattern: &str, exact: bool, regex: bool) -> Result<Self, String> {
        if pattern.is_empty() {
            return Err(
                "empty pattern: it would match every process; give a name, text or regex".into(),
            );
        }
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
    fn an_empty_pattern_is_refused_in_every_form() {
        for (exact, regex) in [(false, false), (true, false), (false, true)] {
            let err = Matcher::new("", exact, regex).unwrap_err();
            assert!(err.starts_with("empty pattern"), "{err}");
        }
    }
}
