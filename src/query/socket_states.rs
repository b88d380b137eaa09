//! `ports --state established,close-wait`: socket state names as people type them
//! (any case, `-` or `_`), validated against the states ss and the kernel know.

/// The state names `ports --state` accepts: the TCP states, and `bound`/`connected` for UDP
/// and unix sockets, `unconnected` and `listen` for unix sockets.
const KNOWN: &[&str] = &[
    "ESTABLISHED",
    "SYN_SENT",
    "SYN_RECV",
    "FIN_WAIT1",
    "FIN_WAIT2",
    "TIME_WAIT",
    "CLOSE",
    "CLOSE_WAIT",
    "LAST_ACK",
    "LISTEN",
    "CLOSING",
    "NEW_SYN_RECV",
    "BOUND",
    "CONNECTED",
    "UNCONNECTED",
];

/// Parses one state name into the name procscope shows (`close-wait` → `CLOSE_WAIT`).
pub fn parse_socket_state(part: &str) -> Result<String, String> {
    let name = part.trim().to_ascii_uppercase().replace('-', "_");
    let name = match name.as_str() {
        "FIN_WAIT_1" => "FIN_WAIT1".to_owned(),
        "FIN_WAIT_2" => "FIN_WAIT2".to_owned(),
        "SYN_RECEIVED" => "SYN_RECV".to_owned(),
        _ => name,
    };
    if KNOWN.contains(&name.as_str()) {
        return Ok(name);
    }
    Err(format!(
        "unknown socket state {part:?}: expected one of {}",
        KNOWN
            .iter()
            .map(|k| k.to_ascii_lowercase().replace('_', "-"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_people_type_them() {
        assert_eq!(parse_socket_state("established").unwrap(), "ESTABLISHED");
        assert_eq!(parse_socket_state("close-wait").unwrap(), "CLOSE_WAIT");
        assert_eq!(parse_socket_state("Time_Wait").unwrap(), "TIME_WAIT");
        assert_eq!(parse_socket_state("fin-wait-1").unwrap(), "FIN_WAIT1");
    }

    #[test]
    fn an_unknown_state_is_an_error_naming_the_value() {
        let err = parse_socket_state("opened").unwrap_err();
        assert!(
            err.contains("\"opened\"") && err.contains("close-wait"),
            "{err}"
        );
        assert!(parse_socket_state("").is_err());
    }
}
