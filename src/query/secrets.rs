//! Which environment variables look secret (their values are redacted unless asked for).
//! Pure: a name in, a yes or no out.

/// The name fragments that mark a variable secret by default (case-insensitive).
pub const DEFAULT_PATTERNS: &[&str] =
    &["TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL"];

/// The environment variable that replaces the default patterns (comma-separated).
pub const PATTERNS_VAR: &str = "PROCSCOPE_SECRET_PATTERNS";

/// What a redacted value shows.
pub const REDACTED: &str = "<redacted>";

/// The rule for one run: name fragments, and whether to show secret values anyway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretPolicy {
    /// Upper-case fragments; a name containing one (in any case) is secret.
    pub patterns: Vec<String>,
    /// `--show-secrets`: show every value.
    pub reveal: bool,
}

impl Default for SecretPolicy {
    fn default() -> Self {
        Self::new(DEFAULT_PATTERNS.iter().copied(), false)
    }
}

impl SecretPolicy {
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a str>, reveal: bool) -> Self {
        Self {
            patterns: patterns
                .into_iter()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_ascii_uppercase)
                .collect(),
            reveal,
        }
    }

    /// The policy from `--secret-pattern` (wins), else [`PATTERNS_VAR`], else the defaults.
    pub fn from_sources(flag: Option<&str>, var: Option<&str>, reveal: bool) -> Self {
        match flag.or(var) {
            Some(list) => Self::new(list.split(','), reveal),
            None => Self::new(DEFAULT_PATTERNS.iter().copied(), reveal),
        }
    }

    /// True when the variable's name contains a secret fragment.
    pub fn is_secret(&self, name: &[u8]) -> bool {
        let upper = name.to_ascii_uppercase();
        self.patterns
            .iter()
            .any(|p| memchr::memmem::find(&upper, p.as_bytes()).is_some())
    }

    /// True when the value of `name` must be hidden.
    pub fn redacts(&self, name: &[u8]) -> bool {
        !self.reveal && self.is_secret(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_patterns_in_any_case() {
        let policy = SecretPolicy::default();
        for secret in [
            "GITHUB_TOKEN",
            "aws_secret_access_key",
            "DB_Password",
            "SSH_AUTH_KEY",
        ] {
            assert!(policy.redacts(secret.as_bytes()), "{secret}");
        }
        for plain in ["HOME", "PATH", "LANG", "TERM"] {
            assert!(!policy.redacts(plain.as_bytes()), "{plain}");
        }
        assert!(!SecretPolicy::from_sources(None, None, true).redacts(b"GITHUB_TOKEN"));
    }

    #[test]
    fn flag_wins_over_variable() {
        let policy = SecretPolicy::from_sources(Some("home, pin"), Some("PATH"), false);
        assert!(policy.redacts(b"HOME") && policy.redacts(b"SIM_PIN"));
        assert!(!policy.redacts(b"PATH") && !policy.redacts(b"GITHUB_TOKEN"));
        let from_var = SecretPolicy::from_sources(None, Some("PATH"), false);
        assert!(from_var.redacts(b"PATH") && !from_var.redacts(b"TOKEN"));
    }
}
