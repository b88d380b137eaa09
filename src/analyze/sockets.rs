//! Sockets for people: endpoints, state and a one-line description (`tcp 127.0.0.1:3000
//! LISTEN`), from the socket tables.

use std::collections::HashMap;

use crate::collect::holders::Holder;
use crate::collect::net::{KnownSocket, Proto, SocketIndex};
use crate::model::fd::SocketInfo;
use crate::model::socket::{ProcessNet, TcpStats, Throughput};
use crate::parse::net::tcp_state_name;
use crate::parse::net::{InetSocket, UnixSocket};
use crate::parse::tcp_info::TcpInfo;

/// An internet socket from its table entry.
pub fn inet_info(proto: Proto, socket: &InetSocket) -> SocketInfo {
    let mut info = unknown(socket.inode);
    info.proto = proto.name().into();
    info.local_address = Some(socket.local.0.to_string());
    info.local_port = Some(socket.local.1);
    info.remote_address = Some(socket.remote.0.to_string());
    info.remote_port = Some(socket.remote.1);
    info.state = Some(inet_state(proto, socket.state, socket.remote.1).into());
    info
}

/// A unix socket from its table entry.
pub fn unix_info(socket: &UnixSocket) -> SocketInfo {
    let mut info = unknown(socket.inode);
    info.proto = "unix".into();
    info.state = Some(socket.state.into());
    info.path =
        (!socket.path.is_empty()).then(|| String::from_utf8_lossy(&socket.path).into_owned());
    info.peer_inode = socket.peer;
    info.socket_type = Some(socket.kind.into());
    info
}

fn unknown(inode: u64) -> SocketInfo {
    SocketInfo {
        proto: "socket".into(),
        local_address: None,
        local_port: None,
        remote_address: None,
        remote_port: None,
        state: None,
        path: None,
        netlink_protocol: None,
        peer_inode: None,
        socket_type: None,
        inode,
    }
}

/// The socket with this inode, as far as the tables know it.
pub fn socket_info(index: &SocketIndex, inode: u64) -> SocketInfo {
    match index.by_inode.get(&inode) {
        Some(KnownSocket::Inet(proto, socket)) => inet_info(*proto, socket),
        Some(KnownSocket::Unix(socket)) => unix_info(socket),
        Some(KnownSocket::Netlink(protocol)) => {
            let mut info = unknown(inode);
            info.proto = "netlink".into();
            info.netlink_protocol = *protocol;
            info
        }
        None => unknown(inode),
    }
}

/// TCP states by name; UDP sockets are `BOUND` (state 7, no peer) or `CONNECTED`.
pub fn inet_state(proto: Proto, state: u8, remote_port: u16) -> &'static str {
    if proto.is_tcp() {
        tcp_state_name(state)
    } else if remote_port == 0 {
        "BOUND"
    } else {
        "CONNECTED"
    }
}

/// The `ss -i` facts of a TCP socket for the payload.
pub fn tcp_stats(info: TcpInfo) -> TcpStats {
    TcpStats {
        retransmits: info.retransmits,
        total_retransmits: info.total_retrans,
        rtt_us: info.rtt_us,
        rttvar_us: info.rttvar_us,
        bytes_acked: info.bytes_acked,
        bytes_received: info.bytes_received,
    }
}

/// The throughput between two samples of (bytes acked, bytes received) `seconds` apart.
/// A counter that went down (the inode was reused by a new connection) counts from zero.
pub fn throughput(before: (u64, u64), after: (u64, u64), seconds: f64) -> Throughput {
    let delta = |b: u64, a: u64| if a >= b { a - b } else { a };
    let (tx, rx) = (delta(before.0, after.0), delta(before.1, after.1));
    let rate = |bytes: u64| {
        if seconds > 0.0 {
            bytes as f64 / seconds
        } else {
            0.0
        }
    };
    Throughput {
        interval_seconds: seconds,
        tx_bytes: tx,
        rx_bytes: rx,
        tx_bytes_per_second: rate(tx),
        rx_bytes_per_second: rate(rx),
    }
}

/// Each process's TCP throughput: the change of every socket's counters between the two
/// samples `seconds` apart, added to every process that holds the socket (a socket with
/// several holders marks each of them `shared`). Sockets not in both samples are missed.
pub fn per_process_throughput(
    before: &HashMap<u64, (u64, u64)>,
    after: &HashMap<u64, (u64, u64)>,
    holders: &HashMap<u64, Vec<Holder>>,
    seconds: f64,
) -> HashMap<u32, ProcessNet> {
    let mut by_pid: HashMap<u32, ProcessNet> = HashMap::new();
    for (inode, now) in after {
        let (Some(then), Some(held)) = (before.get(inode), holders.get(inode)) else {
            continue;
        };
        let rate = throughput(*then, *now, seconds);
        let mut pids: Vec<u32> = held.iter().map(|h| h.pid).collect();
        pids.sort_unstable();
        pids.dedup();
        for &pid in &pids {
            let net = by_pid.entry(pid).or_default();
            net.tx_bytes_per_second += rate.tx_bytes_per_second;
            net.rx_bytes_per_second += rate.rx_bytes_per_second;
            net.shared |= pids.len() > 1;
        }
    }
    by_pid
}

#[cfg(test)]
mod throughput_tests {
    use super::*;

    #[test]
    fn a_socket_shared_by_two_processes_counts_for_both_and_is_marked() {
        let before = HashMap::from([(10, (100, 0)), (11, (0, 0))]);
        let after = HashMap::from([(10, (300, 50)), (11, (40, 0)), (12, (999, 999))]);
        let holders = HashMap::from([
            (10, vec![Holder { pid: 1, fd: 3 }, Holder { pid: 2, fd: 3 }]),
            (11, vec![Holder { pid: 2, fd: 4 }, Holder { pid: 2, fd: 5 }]),
            (12, vec![Holder { pid: 3, fd: 3 }]),
        ]);
        let by_pid = per_process_throughput(&before, &after, &holders, 2.0);
        assert_eq!(by_pid[&1].tx_bytes_per_second, 100.0);
        assert_eq!(by_pid[&1].rx_bytes_per_second, 25.0);
        assert!(by_pid[&1].shared);
        assert_eq!(by_pid[&2].tx_bytes_per_second, 120.0);
        assert!(by_pid[&2].shared);
        assert!(
            !by_pid.contains_key(&3),
            "opened between the samples: missed"
        );
    }

    #[test]
    fn a_reused_inode_counts_from_zero() {
        let rate = throughput((5000, 5000), (70, 30), 1.0);
        assert_eq!((rate.tx_bytes, rate.rx_bytes), (70, 30));
    }
}

/// What per-connection and per-process throughput cannot see, for README, JSON and notes.
pub fn throughput_limits() -> Vec<String> {
    [
        "TCP only (UDP and unix sockets keep no byte counters)",
        "connections opened and closed between the two samples are missed",
        "a socket shared across fork counts for every holder (marked shared)",
        "other network namespaces need privileges (sock_diag answers for our own)",
    ]
    .map(String::from)
    .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::socket::describe;

    fn inet(proto: &str, local: (&str, u16), remote: (&str, u16), state: &str) -> SocketInfo {
        SocketInfo {
            proto: proto.into(),
            local_address: Some(local.0.into()),
            local_port: Some(local.1),
            remote_address: Some(remote.0.into()),
            remote_port: Some(remote.1),
            state: Some(state.into()),
            path: None,
            netlink_protocol: None,
            peer_inode: None,
            socket_type: None,
            inode: 1,
        }
    }

    #[test]
    fn descriptions() {
        assert_eq!(
            describe(&inet("tcp", ("127.0.0.1", 3000), ("0.0.0.0", 0), "LISTEN")),
            "tcp 127.0.0.1:3000 LISTEN"
        );
        assert_eq!(
            describe(&inet(
                "tcp",
                ("127.0.0.1", 41234),
                ("127.0.0.1", 3000),
                "ESTABLISHED"
            )),
            "tcp 127.0.0.1:41234 -> 127.0.0.1:3000 ESTABLISHED"
        );
        assert_eq!(
            describe(&inet("tcp6", ("::", 3000), ("::", 0), "LISTEN")),
            "tcp6 *:3000 LISTEN"
        );
        assert_eq!(
            describe(&inet("udp6", ("::1", 53), ("::", 0), "BOUND")),
            "udp6 [::1]:53 BOUND"
        );
        let mut unix = inet("unix", ("", 0), ("", 0), "LISTEN");
        unix.path = Some("@abstract".into());
        assert_eq!(describe(&unix), "unix @abstract LISTEN");
        let mut unknown = inet("socket", ("", 0), ("", 0), "");
        unknown.inode = 77;
        assert_eq!(describe(&unknown), "socket:[77]");
    }

    #[test]
    fn udp_states() {
        assert_eq!(inet_state(Proto::Udp, 7, 0), "BOUND");
        assert_eq!(inet_state(Proto::Udp6, 1, 53), "CONNECTED");
        assert_eq!(inet_state(Proto::Tcp, 0x0A, 0), "LISTEN");
    }
}
