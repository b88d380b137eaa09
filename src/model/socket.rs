//! The `ports` payload: sockets with the processes that hold them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use super::Unavailable;
use super::fd::SocketInfo;

/// A process holding a socket, with the descriptors it holds it by.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SocketHolder {
    pub pid: u32,
    pub name: Option<String>,
    pub user: Option<String>,
    pub fds: Vec<u32>,
    /// The holder's role in its runtime (a Node.js cluster primary or worker), when known.
    pub role: Option<String>,
}

/// The timer a TCP socket has armed, like `ss -o` (`timer:(keepalive,119min,0)`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SocketTimer {
    /// `on` (retransmit), `keepalive`, `timewait` or `persist` (zero-window probe).
    pub kind: String,
    pub expires_ms: u64,
    /// Retransmissions (or probes) the timer has done.
    pub retransmits: u8,
}

/// What `ss -i` shows about a TCP connection (INET_DIAG_INFO's `tcp_info`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TcpStats {
    /// Retransmissions of the current unacknowledged segment.
    pub retransmits: u8,
    /// Retransmitted segments over the connection's life.
    pub total_retransmits: u32,
    pub rtt_us: u32,
    pub rttvar_us: u32,
    /// Bytes sent by this end and acknowledged by the peer (Linux ≥ 4.1).
    pub bytes_acked: Option<u64>,
    /// Bytes received by this end (Linux ≥ 4.1).
    pub bytes_received: Option<u64>,
}

/// A connection's throughput between two samples (`ports --interval`), from the change of
/// `bytes_acked` and `bytes_received`. TCP only; a connection opened or closed between the
/// samples has none.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub struct Throughput {
    pub interval_seconds: f64,
    pub tx_bytes: u64,
    pub rx_bytes: u64,
    pub tx_bytes_per_second: f64,
    pub rx_bytes_per_second: f64,
}

/// One socket and everyone who holds it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PortRow {
    #[serde(flatten)]
    pub socket: SocketInfo,
    /// The uid that created the socket (from the socket table).
    pub uid: Option<u32>,
    pub user: Option<String>,
    /// The network namespace inode (`net:[N]`) the socket lives in.
    pub netns: Option<u64>,
    /// Every process holding the socket; empty when none could be found.
    pub holders: Vec<SocketHolder>,
    /// More than one process holds the socket (inherited across fork): its traffic is
    /// attributed to each of them.
    pub shared: bool,
    /// A connected unix socket: the processes holding the other end (`peer_inode`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_holders: Option<Vec<SocketHolder>>,
    /// Bytes received and not yet read (a listener: connections waiting to be accepted),
    /// like ss's Recv-Q.
    pub recv_queue: Option<u32>,
    /// Bytes sent and not yet acknowledged (a listener: its backlog), like ss's Send-Q.
    pub send_queue: Option<u32>,
    /// TCP: the armed timer, like `ss -o`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timer: Option<SocketTimer>,
    /// TCP: retransmits, round-trip time and byte counters, like `ss -i`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_info: Option<TcpStats>,
    /// With `--interval`: the connection's throughput between the two samples.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throughput: Option<Throughput>,
    /// Why a null field (or an empty holder list) has no value: `holders` is
    /// `permission_denied` when some fd tables could not be read.
    pub unavailable: BTreeMap<super::fields::SocketField, Unavailable>,
}

/// The `ports` payload.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PortList {
    pub sockets: Vec<PortRow>,
    /// Our own network namespace inode.
    pub netns: Option<u64>,
    /// How many network namespaces were read.
    pub namespaces: usize,
    /// Processes whose fd tables could not be read (their sockets have no known holder).
    pub denied_processes: usize,
    /// With `--interval`: what the throughput figures cannot see (TCP only; connections
    /// opened and closed between samples are missed; a shared socket counts for every
    /// holder; other network namespaces need privileges).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throughput_limits: Option<Vec<String>>,
}

/// A process's TCP throughput between two samples (`ps -o net_tx,net_rx --interval`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, JsonSchema)]
pub struct ProcessNet {
    pub tx_bytes_per_second: f64,
    pub rx_bytes_per_second: f64,
    /// Some socket counted here is held by other processes too.
    pub shared: bool,
}

/// `127.0.0.1:3000`, `[::1]:3000`, `*:3000` for the unspecified address.
pub fn endpoint(address: &str, port: u16) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(ip) if ip.is_unspecified() => format!("*:{port}"),
        Ok(std::net::IpAddr::V6(v6)) => format!("[{v6}]:{port}"),
        _ => format!("{address}:{port}"),
    }
}

/// One line: `tcp 127.0.0.1:41234 -> 127.0.0.1:3000 ESTABLISHED`, `unix /run/x.sock LISTEN`.
pub fn describe(info: &SocketInfo) -> String {
    match info.proto.as_str() {
        "tcp" | "tcp6" | "udp" | "udp6" => {
            let local = endpoint(
                info.local_address.as_deref().unwrap_or("?"),
                info.local_port.unwrap_or(0),
            );
            let state = info.state.as_deref().unwrap_or("");
            match (info.remote_address.as_deref(), info.remote_port) {
                (Some(remote), Some(port)) if port != 0 => {
                    format!(
                        "{} {local} -> {} {state}",
                        info.proto,
                        endpoint(remote, port)
                    )
                }
                _ => format!("{} {local} {state}", info.proto),
            }
        }
        "unix" => match &info.path {
            Some(path) => format!("unix {path} {}", info.state.as_deref().unwrap_or("")),
            None => format!("unix {}", info.state.as_deref().unwrap_or("")),
        },
        "netlink" => match info.netlink_protocol {
            Some(protocol) => format!("netlink protocol {protocol}"),
            None => "netlink (unbound)".to_owned(),
        },
        _ => format!("socket:[{}]", info.inode),
    }
    .trim_end()
    .to_owned()
}
