//! Socket tables from the kernel's sock_diag netlink interface (`NETLINK_SOCK_DIAG`): every
//! record carries the socket's inode as a field, so no socket name (which another user
//! chooses, newlines included) can forge or shift a record, as it can in `/proc/net/unix`.
//! Answers for the network namespace procscope itself is in.

use std::io;
use std::time::Duration;

use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_packet_sock_diag::constants::{AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP};
use netlink_packet_sock_diag::inet::nlas::Nla;
use netlink_packet_sock_diag::inet::{
    ExtensionFlags, InetRequest, InetResponse, SocketId, StateFlags, Timer,
};
use netlink_packet_sock_diag::unix::nlas::UnixDiagName;
use netlink_packet_sock_diag::unix::{self, ShowFlags, UnixRequest};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_SOCK_DIAG};

use crate::parse::net::{InetSocket, UnixSocket};
use crate::parse::tcp_info::{InetDetails, TcpTimer, parse_tcp_info};

/// Every unix socket of our network namespace, with its bound name and peer.
pub fn unix_sockets() -> io::Result<Vec<UnixSocket>> {
    let request = SockDiagMessage::UnixRequest(UnixRequest {
        state_flags: unix::StateFlags::from_bits_retain(u32::MAX),
        inode: 0,
        show_flags: ShowFlags::NAME | ShowFlags::VFS | ShowFlags::PEER,
        cookie: [0; 8],
    });
    let mut sockets = Vec::new();
    dump(request, |message| {
        if let SockDiagMessage::UnixResponse(response) = message {
            sockets.push(unix_socket(&response));
        }
    })?;
    Ok(sockets)
}

fn unix_socket(response: &unix::UnixResponse) -> UnixSocket {
    let header = &response.header;
    let listening = u32::from(header.state) == TCP_LISTEN;
    let path = match response.name() {
        // The kernel's own notation (as in /proc/net/unix): `@` for every NUL.
        Some(UnixDiagName::Abstract(name)) => std::iter::once(b'@')
            .chain(name.iter().map(|&b| if b == 0 { b'@' } else { b }))
            .collect(),
        Some(UnixDiagName::Pathname(path)) => {
            use std::os::unix::ffi::OsStrExt;
            path.as_bytes().to_vec()
        }
        None => Vec::new(),
    };
    UnixSocket {
        inode: u64::from(header.inode),
        kind: match header.kind {
            1 => "stream",
            2 => "dgram",
            5 => "seqpacket",
            _ => "other",
        },
        listening,
        state: match u32::from(header.state) {
            TCP_LISTEN => "LISTEN",
            TCP_ESTABLISHED => "CONNECTED",
            TCP_SYN_SENT => "CONNECTING",
            TCP_CLOSE => "UNCONNECTED",
            _ => "UNKNOWN",
        },
        path,
        peer: response.peer().filter(|&peer| peer != 0).map(u64::from),
    }
}

const TCP_ESTABLISHED: u32 = 1;
const TCP_SYN_SENT: u32 = 2;
const TCP_CLOSE: u32 = 7;
const TCP_LISTEN: u32 = 10;

/// Every TCP (`udp = false`) or UDP socket of one address family (`v6`) of our network
/// namespace, as `/proc/net/{tcp,udp}{,6}` would list them.
pub fn inet_sockets(udp: bool, v6: bool) -> io::Result<Vec<InetSocket>> {
    inet_sockets_in(udp, v6, false)
}

/// As [`inet_sockets`]; with `listening_only`, of TCP only the listening sockets: the kernel
/// then walks its table of listeners alone, not every connection (UDP: every socket still).
pub fn inet_sockets_in(udp: bool, v6: bool, listening_only: bool) -> io::Result<Vec<InetSocket>> {
    let states = if listening_only && !udp {
        1 << TCP_LISTEN
    } else {
        u32::MAX
    };
    let request = SockDiagMessage::InetRequest(InetRequest {
        family: if v6 { AF_INET6 } else { AF_INET },
        protocol: if udp { IPPROTO_UDP } else { IPPROTO_TCP },
        // tcp_info (queues, retransmits, byte counters) for TCP; nothing extra for UDP.
        extensions: if udp {
            ExtensionFlags::empty()
        } else {
            ExtensionFlags::INFO
        },
        states: StateFlags::from_bits_retain(states),
        socket_id: if v6 {
            SocketId::new_v6()
        } else {
            SocketId::new_v4()
        },
    });
    let mut sockets = Vec::new();
    dump(request, |message| {
        if let SockDiagMessage::InetResponse(response) = message {
            let header = &response.header;
            let id = &header.socket_id;
            sockets.push(InetSocket {
                local: (id.source_address, id.source_port),
                remote: (id.destination_address, id.destination_port),
                state: header.state,
                uid: header.uid,
                inode: u64::from(header.inode),
                details: details(&response),
            });
        }
    })?;
    Ok(sockets)
}

/// The queues, timer and tcp_info of one answer.
fn details(response: &InetResponse) -> InetDetails {
    let header = &response.header;
    let timer = header.timer.as_ref().map(|timer| {
        let (kind, expires, retransmits) = match timer {
            Timer::Retransmit(expires, count) => ("on", *expires, *count),
            Timer::KeepAlive(expires) => ("keepalive", *expires, 0),
            Timer::TimeWait => ("timewait", Duration::ZERO, 0),
            Timer::Probe(expires) => ("persist", *expires, 0),
        };
        TcpTimer {
            kind,
            expires_ms: expires.as_millis() as u64,
            retransmits,
        }
    });
    let tcp = response.nlas.iter().find_map(|nla| match nla {
        Nla::TcpInfo(raw) => parse_tcp_info(raw),
        _ => None,
    });
    InetDetails {
        recv_queue: header.recv_queue,
        send_queue: header.send_queue,
        timer,
        tcp,
    }
}

/// Sends one dump request and hands every answer to `each`, until the kernel says done.
/// A kernel without this sock_diag family answers with an error, returned as such.
fn dump(request: SockDiagMessage, mut each: impl FnMut(SockDiagMessage)) -> io::Result<()> {
    let mut socket = Socket::new(NETLINK_SOCK_DIAG)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    let mut packet = NetlinkMessage::new(header, request.into());
    packet.finalize();
    let mut out = vec![0; packet.buffer_len()];
    packet.serialize(&mut out);
    socket.send(&out, 0)?;
    let mut buffer = vec![0u8; 64 << 10];
    loop {
        let size = socket.recv(&mut &mut buffer[..], 0)?;
        let mut offset = 0;
        while offset < size {
            let message = NetlinkMessage::<SockDiagMessage>::deserialize(&buffer[offset..size])
                .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err.to_string()))?;
            let length = message.header.length as usize;
            match message.payload {
                NetlinkPayload::InnerMessage(inner) => each(inner),
                NetlinkPayload::Done(_) => return Ok(()),
                NetlinkPayload::Error(error) => {
                    let code = error.code.map_or(0, |code| -code.get());
                    return Err(io::Error::from_raw_os_error(code));
                }
                _ => {}
            }
            if length == 0 {
                break;
            }
            offset += length;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::net::tcp_state_name;

    #[test]
    fn sees_our_own_listening_unix_socket() {
        let name = format!("procscope-diag-{}", std::process::id());
        let listener = std::os::unix::net::UnixListener::bind_addr(
            &<std::os::unix::net::SocketAddr as std::os::linux::net::SocketAddrExt>::from_abstract_name(
                name.as_bytes(),
            )
            .unwrap(),
        )
        .unwrap();
        let inode = {
            use std::os::fd::AsRawFd;
            let link =
                std::fs::read_link(format!("/proc/self/fd/{}", listener.as_raw_fd())).unwrap();
            let text = link.to_string_lossy().into_owned();
            text.trim_start_matches("socket:[")
                .trim_end_matches(']')
                .parse::<u64>()
                .unwrap()
        };
        let Ok(sockets) = unix_sockets() else {
            eprintln!("skipped: no unix sock_diag on this kernel");
            return;
        };
        let ours = sockets.iter().find(|s| s.inode == inode).unwrap();
        assert_eq!(ours.path, format!("@{name}").into_bytes());
        assert!(ours.listening);
        assert_eq!((ours.kind, ours.state), ("stream", "LISTEN"));
    }

    fn inode_of_fd(fd: i32) -> u64 {
        let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap();
        crate::parse::link::inode_of(link.to_string_lossy().as_bytes(), b"socket").unwrap()
    }

    #[test]
    fn a_socket_pair_names_its_peers() {
        use std::os::fd::AsRawFd;
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let (a, b) = (inode_of_fd(a.as_raw_fd()), inode_of_fd(b.as_raw_fd()));
        let Ok(sockets) = unix_sockets() else {
            eprintln!("skipped: no unix sock_diag on this kernel");
            return;
        };
        let peer = |inode| sockets.iter().find(|s| s.inode == inode).unwrap().peer;
        assert_eq!((peer(a), peer(b)), (Some(b), Some(a)));
        let end = sockets.iter().find(|s| s.inode == a).unwrap();
        assert_eq!((end.kind, end.state), ("stream", "CONNECTED"));
        assert!(end.path.is_empty());
    }

    #[test]
    fn sees_our_own_tcp_listener() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let Ok(sockets) = inet_sockets(false, false) else {
            eprintln!("skipped: no inet sock_diag on this kernel");
            return;
        };
        let ours = sockets.iter().find(|s| s.local.1 == port).unwrap();
        assert_eq!(ours.local.0, std::net::IpAddr::from([127, 0, 0, 1]));
        assert_eq!(tcp_state_name(ours.state), "LISTEN");
        assert_ne!(ours.inode, 0);
    }

    #[test]
    fn a_listening_only_dump_has_our_listener_and_no_connection() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (server, _) = listener.accept().unwrap();
        let Ok(sockets) = inet_sockets_in(false, false, true) else {
            eprintln!("skipped: no inet sock_diag on this kernel");
            return;
        };
        let on_port: Vec<_> = sockets
            .iter()
            .filter(|s| s.local.1 == port || s.remote.1 == port)
            .collect();
        assert_eq!(on_port.len(), 1, "{on_port:?}");
        assert_eq!(tcp_state_name(on_port[0].state), "LISTEN");
        assert!(sockets.iter().all(|s| tcp_state_name(s.state) == "LISTEN"));
        drop((client, server));
    }
}
