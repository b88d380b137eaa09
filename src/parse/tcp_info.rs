//! Parser for the kernel's `struct tcp_info` (the INET_DIAG_INFO attribute of a sock_diag
//! answer, include/uapi/linux/tcp.h), and the queue and timer facts of a TCP socket. Older
//! kernels send a shorter struct: fields past its end are absent, never garbage.

use super::{u32_at, u64_at};

/// What `ss -o -i` shows about one TCP socket that procscope reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpInfo {
    /// Retransmissions of the current unacknowledged segment (`tcpi_retransmits`).
    pub retransmits: u8,
    /// Every retransmitted segment of the connection (`tcpi_total_retrans`).
    pub total_retrans: u32,
    /// Smoothed round-trip time and its variance, in microseconds.
    pub rtt_us: u32,
    pub rttvar_us: u32,
    /// Bytes the peer acknowledged (sent by us), and bytes we received (Linux ≥ 4.1).
    pub bytes_acked: Option<u64>,
    pub bytes_received: Option<u64>,
}

/// Parses a `tcp_info` in the kernel's byte order; `None` when it is shorter than the
/// fields every kernel since 2.6 sends.
pub fn parse_tcp_info(raw: &[u8]) -> Option<TcpInfo> {
    Some(TcpInfo {
        retransmits: *raw.get(2)?,
        total_retrans: u32_at(raw, 100)?,
        rtt_us: u32_at(raw, 68)?,
        rttvar_us: u32_at(raw, 72)?,
        bytes_acked: u64_at(raw, 120),
        bytes_received: u64_at(raw, 128),
    })
}

/// The timer a TCP socket has armed (`ss -o`): its kind, when it fires, and how many
/// retransmissions or probes it has done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpTimer {
    /// `on` (retransmit), `keepalive`, `timewait` or `persist` (zero-window probe), as ss
    /// names them.
    pub kind: &'static str,
    pub expires_ms: u64,
    pub retransmits: u8,
}

/// The queues, timer and tcp_info of an internet socket, where the table gave them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InetDetails {
    /// Bytes received and not read by the application (a listener: connections waiting to
    /// be accepted), and bytes not yet acknowledged by the peer (a listener: its backlog).
    pub recv_queue: u32,
    pub send_queue: u32,
    pub timer: Option<TcpTimer>,
    pub tcp: Option<TcpInfo>,
}

/// The `tx_queue:rx_queue` field of `/proc/net/tcp` (hex) as (recv, send).
pub fn parse_queues(field: &str) -> Option<(u32, u32)> {
    let (tx, rx) = field.split_once(':')?;
    Some((
        u32::from_str_radix(rx, 16).ok()?,
        u32::from_str_radix(tx, 16).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_info_fields_at_their_offsets() {
        let mut raw = vec![0u8; 232];
        raw[2] = 3;
        raw[68..72].copy_from_slice(&1500u32.to_ne_bytes());
        raw[72..76].copy_from_slice(&250u32.to_ne_bytes());
        raw[100..104].copy_from_slice(&9u32.to_ne_bytes());
        raw[120..128].copy_from_slice(&52u64.to_ne_bytes());
        raw[128..136].copy_from_slice(&4096u64.to_ne_bytes());
        let info = parse_tcp_info(&raw).unwrap();
        assert_eq!(
            info,
            TcpInfo {
                retransmits: 3,
                total_retrans: 9,
                rtt_us: 1500,
                rttvar_us: 250,
                bytes_acked: Some(52),
                bytes_received: Some(4096),
            }
        );
    }

    #[test]
    fn an_old_short_tcp_info_has_no_byte_counters() {
        let info = parse_tcp_info(&[0u8; 104]).unwrap();
        assert_eq!((info.bytes_acked, info.bytes_received), (None, None));
        assert_eq!(parse_tcp_info(&[0u8; 40]), None);
    }

    #[test]
    fn queues_from_proc_net_tcp() {
        assert_eq!(parse_queues("00000000:00000034"), Some((52, 0)));
        assert_eq!(parse_queues("0000000A:00000000"), Some((0, 10)));
        assert_eq!(parse_queues("zz"), None);
    }
}
