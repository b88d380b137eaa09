//! Parsers for the socket tables in `/proc/net` (`tcp`, `tcp6`, `udp`, `udp6`, `unix`,
//! `netlink`): pure, one line at a time.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An internet socket from `tcp`, `tcp6`, `udp` or `udp6`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InetSocket {
    pub local: (IpAddr, u16),
    pub remote: (IpAddr, u16),
    /// The kernel's state number (`0A` LISTEN, `01` ESTABLISHED...).
    pub state: u8,
    /// The uid that created the socket.
    pub uid: u32,
    /// The socket inode (`socket:[N]` in a process's fd table); 0 for sockets no file
    /// refers to (a connection not yet accepted, TIME_WAIT).
    pub inode: u64,
    /// Queues, timer and tcp_info, where the table gave them.
    pub details: super::tcp_info::InetDetails,
}

/// Parses one line of `tcp`/`udp` (`v6 = false`) or `tcp6`/`udp6` (`v6 = true`).
pub fn parse_inet(line: &[u8], v6: bool) -> Option<InetSocket> {
    let text = std::str::from_utf8(line).ok()?;
    let fields: Vec<&str> = text.split_ascii_whitespace().collect();
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    if fields.len() < 10 || !fields[0].ends_with(':') {
        return None;
    }
    Some(InetSocket {
        local: endpoint(fields[1], v6)?,
        remote: endpoint(fields[2], v6)?,
        state: u8::from_str_radix(fields[3], 16).ok()?,
        uid: fields[7].parse().ok()?,
        inode: fields[9].parse().ok()?,
        details: super::tcp_info::parse_queues(fields[4])
            .map(|(recv_queue, send_queue)| super::tcp_info::InetDetails {
                recv_queue,
                send_queue,
                ..Default::default()
            })
            .unwrap_or_default(),
    })
}

/// `0100007F:0BB8` → 127.0.0.1:3000. Addresses are 32-bit words printed in host byte order.
fn endpoint(text: &str, v6: bool) -> Option<(IpAddr, u16)> {
    let (address, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| -> Option<[u8; 4]> {
        let hex = address.get(i * 8..i * 8 + 8)?;
        Some(u32::from_str_radix(hex, 16).ok()?.to_ne_bytes())
    };
    let ip = if v6 {
        if address.len() != 32 {
            return None;
        }
        let mut bytes = [0u8; 16];
        for i in 0..4 {
            bytes[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
        }
        IpAddr::V6(Ipv6Addr::from(bytes))
    } else {
        if address.len() != 8 {
            return None;
        }
        IpAddr::V4(Ipv4Addr::from(word(0)?))
    };
    Some((ip, port))
}

/// The name of a TCP state number (include/net/tcp_states.h).
pub fn tcp_state_name(state: u8) -> &'static str {
    match state {
        0x01 => "ESTABLISHED",
        0x02 => "SYN_SENT",
        0x03 => "SYN_RECV",
        0x04 => "FIN_WAIT1",
        0x05 => "FIN_WAIT2",
        0x06 => "TIME_WAIT",
        0x07 => "CLOSE",
        0x08 => "CLOSE_WAIT",
        0x09 => "LAST_ACK",
        0x0A => "LISTEN",
        0x0B => "CLOSING",
        0x0C => "NEW_SYN_RECV",
        _ => "UNKNOWN",
    }
}

/// A unix-domain socket from `/proc/net/unix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixSocket {
    pub inode: u64,
    /// `stream`, `dgram` or `seqpacket`.
    pub kind: &'static str,
    /// True for a listening socket (`__SO_ACCEPTCON`).
    pub listening: bool,
    /// `CONNECTED`, `UNCONNECTED`, `LISTEN`...
    pub state: &'static str,
    /// The bound path, `@name` for an abstract name; empty when unbound.
    pub path: Vec<u8>,
    /// The inode of the connected peer socket (sock_diag only; `/proc/net/unix` lacks it).
    pub peer: Option<u64>,
}

/// Parses one line of `/proc/net/unix`.
pub fn parse_unix(line: &[u8]) -> Option<UnixSocket> {
    let mut fields = super::Fields::new(line);
    let num = fields.next()?;
    if !num.ends_with(b":") {
        return None;
    }
    let _refcount = fields.next()?;
    let _protocol = fields.next()?;
    let flags = hex32(fields.next()?)?;
    let kind = match hex32(fields.next()?)? {
        1 => "stream",
        2 => "dgram",
        5 => "seqpacket",
        _ => "other",
    };
    let st = hex32(fields.next()?)?;
    let inode = std::str::from_utf8(fields.next()?).ok()?.parse().ok()?;
    let path = fields.rest().trim_ascii_end().to_vec();
    let listening = flags & 0x0001_0000 != 0;
    let state = match (listening, st) {
        (true, _) => "LISTEN",
        (false, 1) => "UNCONNECTED",
        (false, 2) => "CONNECTING",
        (false, 3) => "CONNECTED",
        (false, 4) => "DISCONNECTING",
        _ => "UNKNOWN",
    };
    Some(UnixSocket {
        inode,
        kind,
        listening,
        state,
        path,
        peer: None,
    })
}

/// A netlink socket from `/proc/net/netlink`: its inode and protocol number.
pub fn parse_netlink(line: &[u8]) -> Option<(u64, u32)> {
    let text = std::str::from_utf8(line).ok()?;
    let fields: Vec<&str> = text.split_ascii_whitespace().collect();
    if fields.len() < 10 || fields[0] == "sk" {
        return None;
    }
    Some((fields[9].parse().ok()?, fields[1].parse().ok()?))
}

fn hex32(word: &[u8]) -> Option<u32> {
    u32::from_str_radix(std::str::from_utf8(word).ok()?, 16).ok()
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;

    #[test]
    fn tcp_listener_and_connection() {
        // Captured from /proc/net/tcp on Linux 6.18.
        let listen = parse_inet(b"   0: 0100007F:93D1 00000000:0000 0A 00000000:00000001 00:00000000 00000000     0        0 327179 2 00000000e867a419 100 0 0 10 0", false).unwrap();
        assert_eq!(listen.local, ("127.0.0.1".parse().unwrap(), 37841));
        assert_eq!(listen.remote, ("0.0.0.0".parse().unwrap(), 0));
        assert_eq!(tcp_state_name(listen.state), "LISTEN");
        assert_eq!((listen.uid, listen.inode), (0, 327179));
        let conn = parse_inet(b"   3: 0100007F:D37A 0100007F:93D1 01 00000000:00000000 00:00000000 00000000  1000        0 327183 2 00000000a5ab426c 20 0 0 10 -1", false).unwrap();
        assert_eq!(conn.remote.1, 37841);
        assert_eq!(conn.uid, 1000);
        assert_eq!(tcp_state_name(conn.state), "ESTABLISHED");
    }

    #[test]
    fn tcp6_any_loopback_and_v4_mapped() {
        let any = parse_inet(b"   0: 00000000000000000000000000000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20680 1 0000000000000000 100 0 0 10 0", true).unwrap();
        assert_eq!(any.local, ("::".parse().unwrap(), 3000));
        let loopback = parse_inet(b"   1: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20681 1 0000000000000000 100 0 0 10 0", true).unwrap();
        assert_eq!(loopback.local, ("::1".parse().unwrap(), 8080));
        let mapped = parse_inet(b"   2: 0000000000000000FFFF00000100007F:0050 0000000000000000FFFF00000100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 20682 1 0000000000000000 20 0 0 10 -1", true).unwrap();
        assert_eq!(mapped.local, ("::ffff:127.0.0.1".parse().unwrap(), 80));
        assert_eq!(mapped.remote.1, 50000);
    }

    #[test]
    fn udp_bound() {
        let udp = parse_inet(b" 1187: 0100007F:D06D 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 327181 2 000000007b7c44d8 0", false).unwrap();
        assert_eq!(udp.local.1, 53357);
        assert_eq!(udp.state, 7);
    }

    #[test]
    fn unix_sockets() {
        let abstract_listener = parse_unix(
            b"000000002d4a0ae2: 00000002 00000000 00010000 0001 01 327182 @procscope-abstract",
        )
        .unwrap();
        assert_eq!(abstract_listener.inode, 327182);
        assert_eq!(abstract_listener.path, b"@procscope-abstract");
        assert!(abstract_listener.listening);
        assert_eq!(
            (abstract_listener.kind, abstract_listener.state),
            ("stream", "LISTEN")
        );
        let connected =
            parse_unix(b"0000000095254921: 00000003 00000000 00000000 0001 03  1501").unwrap();
        assert_eq!((connected.inode, connected.state), (1501, "CONNECTED"));
        assert!(connected.path.is_empty());
        let path =
            parse_unix(b"0000000095254921: 00000002 00000000 00010000 0001 01 20635 /run/a b.sock")
                .unwrap();
        assert_eq!(path.path, b"/run/a b.sock");
        assert_eq!(
            parse_unix(b"Num       RefCount Protocol Flags    Type St Inode Path"),
            None
        );
    }

    #[test]
    fn netlink() {
        assert_eq!(parse_netlink(b"00000000077dc048 4   0          00000000 0        0        0     2        0        1438    "), Some((1438, 4)));
        assert_eq!(parse_netlink(b"sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode"), None);
    }

    #[test]
    fn garbage_is_none() {
        assert_eq!(parse_inet(b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode", false), None);
        assert_eq!(
            parse_inet(b"0: zz:1 00000000:0000 0A 0 0 0 0 0 1", false),
            None
        );
        assert_eq!(
            parse_inet(b"0: 0100007F:0050 00000000:0000 0A 0 0 0 0 0 1", true),
            None
        );
        assert_eq!(parse_unix(b"\xff"), None);
    }
}
