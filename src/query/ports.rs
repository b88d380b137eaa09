//! The validated `ports` request: which sockets to list and what to measure.

/// What `ports` lists.
#[derive(Debug, Clone, Default)]
pub struct PortsQuery {
    pub port: Option<u16>,
    /// Every state, not only listening TCP and bound UDP.
    pub all: bool,
    pub tcp: bool,
    pub udp: bool,
    pub unix: bool,
    /// Keep only sockets held by this process.
    pub pid: Option<u32>,
    /// Keep only sockets in these states (names as shown, `CLOSE_WAIT`); implies every state.
    pub states: Vec<String>,
    /// Measure each TCP connection's throughput over this interval.
    pub interval: Option<std::time::Duration>,
    /// Show timers, retransmits and round-trip times in the table.
    pub info: bool,
}
