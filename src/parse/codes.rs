//! Names for kernel codes: task states and scheduling policies.

/// The long name of a task state letter, as in proc_pid_stat(5).
pub fn state_name(state: u8) -> &'static str {
    match state {
        b'R' => "running",
        b'S' => "sleeping",
        b'D' => "disk sleep",
        b'T' => "stopped",
        b't' => "tracing stop",
        b'Z' => "zombie",
        b'X' => "dead",
        b'I' => "idle",
        b'P' => "parked",
        b'K' => "wakekill",
        b'W' => "waking",
        _ => "unknown",
    }
}

/// The name of a scheduling policy number (stat field 41).
pub fn policy_name(policy: u32) -> String {
    match policy {
        0 => "SCHED_OTHER".into(),
        1 => "SCHED_FIFO".into(),
        2 => "SCHED_RR".into(),
        3 => "SCHED_BATCH".into(),
        5 => "SCHED_IDLE".into(),
        6 => "SCHED_DEADLINE".into(),
        7 => "SCHED_EXT".into(),
        other => format!("policy {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(state_name(b'S'), "sleeping");
        assert_eq!(state_name(b'?'), "unknown");
        assert_eq!(policy_name(0), "SCHED_OTHER");
        assert_eq!(policy_name(42), "policy 42");
    }
}
