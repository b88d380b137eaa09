//! The validated `show` request beyond its default sections: environment, limits, secrets.

use crate::query::secrets::SecretPolicy;

/// What `show` was asked for beyond its default sections.
#[derive(Debug, Clone, Default)]
pub struct ShowExtras {
    /// `--env`: the starting environment.
    pub env: bool,
    /// `--limits`: all 16 limits instead of three.
    pub all_limits: bool,
    pub secrets: SecretPolicy,
}
