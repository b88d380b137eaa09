//! The column registry for process listings and the values columns produce.

pub mod extended;
pub mod lookup;
pub mod packed;
pub mod registry;
pub mod security;
pub mod value;

use std::collections::HashMap;

use crate::collect::{SystemInfo, UserNames};

pub use registry::{COLUMNS, Column};
pub use value::{Kind, Value};

/// What columns may consult besides the process itself.
pub struct Context<'a> {
    pub system: &'a SystemInfo,
    pub users: &'a UserNames,
    /// CPU% measured over an interval, by (PID, TID), when `--interval` was given.
    pub sampled_cpu: Option<&'a HashMap<(u32, u32), f64>>,
    /// TCP throughput by PID over `--interval`, when a net column was asked for.
    pub sampled_net: Option<&'a HashMap<u32, crate::model::socket::ProcessNet>>,
}
