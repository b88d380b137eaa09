//! Threads' context-switch counters from the kernel's taskstats generic-netlink family: one
//! request and answer per thread, about three times cheaper than opening, rendering and
//! closing its `status` (some 55 lines for the two numbers `threads` keeps). The kernel
//! answers only callers with CAP_NET_ADMIN; without it, and on any failure, callers read
//! `status` as before. IDs are those of procscope's own PID namespace.

use std::cell::RefCell;
use std::io;
use std::sync::OnceLock;

use netlink_packet_core::{
    DecodeError, Emitable, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    NetlinkSerializable, ParseableParametrized,
};
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlFamily, GenlHeader, GenlMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_GENERIC};

use crate::parse::taskstats::{TaskSwitches, parse_taskstats};

/// `TASKSTATS_CMD_GET`, `TASKSTATS_GENL_VERSION` and `TASKSTATS_CMD_ATTR_PID`.
const CMD_GET: u8 = 1;
const GENL_VERSION: u8 = 1;
const ATTR_PID: u16 = 1;
/// An answer is about 450 bytes; a little room for a larger struct of a newer kernel.
const ANSWER_BYTES: usize = 2048;

/// The context-switch counters of thread `tid` of process `tgid` as the kernel counts them,
/// or `None` when taskstats cannot say: no CAP_NET_ADMIN, no taskstats in the kernel, the
/// thread is gone, or the answer is about a task that is not thread `tid` of `tgid` (its ID
/// was reused). Each calling thread keeps a connection of its own.
pub fn thread_switches(tgid: u32, tid: u32) -> Option<TaskSwitches> {
    thread_local! {
        static CONNECTION: RefCell<Option<Connection>> = const { RefCell::new(None) };
    }
    let family = (*usable_family())?;
    CONNECTION.with_borrow_mut(|connection| {
        if connection.is_none() {
            *connection = Connection::open(family).ok();
        }
        connection.as_mut()?.switches(tgid, tid)
    })
}

/// The taskstats family's ID, when the kernel answered a question about procscope's own
/// thread (asked once per run).
fn usable_family() -> &'static Option<u16> {
    static FAMILY: OnceLock<Option<u16>> = OnceLock::new();
    FAMILY.get_or_init(|| {
        let family = resolve_family().ok()??;
        let mut probe = Connection::open(family).ok()?;
        let (pid, tid) = (
            std::process::id(),
            rustix::thread::gettid().as_raw_nonzero(),
        );
        probe.switches(pid, tid.get() as u32).map(|_| family)
    })
}

/// A generic-netlink socket connected to the kernel, with its reused buffers.
struct Connection {
    socket: Socket,
    family: u16,
    request: Vec<u8>,
    answer: Vec<u8>,
    sequence: u32,
}

impl Connection {
    fn open(family: u16) -> io::Result<Self> {
        let mut socket = Socket::new(NETLINK_GENERIC)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        Ok(Self {
            socket,
            family,
            request: Vec::with_capacity(64),
            answer: vec![0; ANSWER_BYTES],
            sequence: 0,
        })
    }

    /// Asks for thread `tid` and checks that the answer is about thread `tid` of `tgid`.
    fn switches(&mut self, tgid: u32, tid: u32) -> Option<TaskSwitches> {
        self.sequence = self.sequence.wrapping_add(1);
        let mut message = GenlMessage::from_payload(PidRequest(tid));
        message.set_resolved_family_id(self.family);
        let sequence = self.sequence;
        send(&self.socket, &mut self.request, message, sequence).ok()?;
        let answer = self.receive(sequence)?;
        (answer.tgid == tgid && answer.tid == tid).then_some(answer)
    }

    /// The answer to request `sequence`. The kernel answers while handling the request, so
    /// it is queued when `send` returns: nothing here waits.
    fn receive(&mut self, sequence: u32) -> Option<TaskSwitches> {
        loop {
            let size = self
                .socket
                .recv(&mut &mut self.answer[..], libc::MSG_DONTWAIT)
                .ok()?;
            let message =
                NetlinkMessage::<GenlMessage<Answer>>::deserialize(&self.answer[..size]).ok()?;
            // An answer to an earlier request that was given up on is skipped.
            if message.header.sequence_number != sequence {
                continue;
            }
            return match message.payload {
                NetlinkPayload::InnerMessage(inner) => inner.payload.0,
                _ => None,
            };
        }
    }
}

/// Serializes `payload` as request `sequence` into `buffer` and sends it.
fn send<F>(socket: &Socket, buffer: &mut Vec<u8>, payload: F, sequence: u32) -> io::Result<()>
where
    F: NetlinkSerializable + std::fmt::Debug,
{
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST;
    header.sequence_number = sequence;
    let mut message = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(payload));
    message.finalize();
    buffer.resize(message.buffer_len(), 0);
    message.serialize(buffer);
    socket.send(buffer, 0).map(|_| ())
}

/// Asks the generic-netlink controller for the taskstats family's ID (`None`: the kernel has
/// no taskstats).
fn resolve_family() -> io::Result<Option<u16>> {
    let mut socket = Socket::new(NETLINK_GENERIC)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    let question = GenlMessage::from_payload(GenlCtrl {
        cmd: GenlCtrlCmd::GetFamily,
        nlas: vec![GenlCtrlAttrs::FamilyName("TASKSTATS".to_owned())],
    });
    send(&socket, &mut Vec::new(), question, 1)?;
    let mut answer = vec![0u8; 8192];
    let size = socket.recv(&mut &mut answer[..], libc::MSG_DONTWAIT)?;
    let message = NetlinkMessage::<GenlMessage<GenlCtrl>>::deserialize(&answer[..size])
        .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err.to_string()))?;
    let NetlinkPayload::InnerMessage(inner) = message.payload else {
        return Ok(None);
    };
    Ok(inner
        .payload
        .nlas
        .iter()
        .find_map(|attribute| match attribute {
            GenlCtrlAttrs::FamilyId(id) => Some(*id),
            _ => None,
        }))
}

/// `TASKSTATS_CMD_GET` for one thread ID.
#[derive(Debug)]
struct PidRequest(u32);

impl GenlFamily for PidRequest {
    fn family_name() -> &'static str {
        "TASKSTATS"
    }

    fn command(&self) -> u8 {
        CMD_GET
    }

    fn version(&self) -> u8 {
        GENL_VERSION
    }
}

impl Emitable for PidRequest {
    fn buffer_len(&self) -> usize {
        8
    }

    /// One attribute: its length (8), its type, the thread ID.
    fn emit(&self, buffer: &mut [u8]) {
        buffer[0..2].copy_from_slice(&8u16.to_ne_bytes());
        buffer[2..4].copy_from_slice(&ATTR_PID.to_ne_bytes());
        buffer[4..8].copy_from_slice(&self.0.to_ne_bytes());
    }
}

/// The kernel's answer, reduced to the counters (`None`: not a usable answer).
#[derive(Debug)]
struct Answer(Option<TaskSwitches>);

impl ParseableParametrized<[u8], GenlHeader> for Answer {
    fn parse_with_param(buffer: &[u8], _header: GenlHeader) -> Result<Self, DecodeError> {
        Ok(Self(parse_taskstats(buffer)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel's counters of a thread this test made switch, against its `status`.
    #[test]
    fn counts_the_switches_of_our_own_thread_as_status_does() {
        let pid = std::process::id();
        let (tid_sender, tid) = std::sync::mpsc::channel();
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let (done_sender, done) = std::sync::mpsc::channel::<()>();
        let worker = std::thread::spawn(move || {
            tid_sender
                .send(rustix::thread::gettid().as_raw_nonzero().get() as u32)
                .unwrap();
            // Each blocking receive is a voluntary switch.
            for _ in 0..50 {
                if wait.recv().is_err() {
                    break;
                }
            }
            done.recv().ok();
        });
        let tid = tid.recv().unwrap();
        for _ in 0..50 {
            go.send(()).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        // The worker is parked in `done.recv()`: its counters stay still while both are read.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let Some(answer) = thread_switches(pid, tid) else {
            eprintln!("skipped: taskstats does not answer here (needs CAP_NET_ADMIN)");
            done_sender.send(()).unwrap();
            worker.join().unwrap();
            return;
        };
        let status = std::fs::read(format!("/proc/{pid}/task/{tid}/status")).unwrap();
        let status = crate::parse::keyed::Keyed::new(status);
        assert!(answer.voluntary >= 50, "{answer:?}");
        assert_eq!(
            Some(answer.voluntary),
            status.number("voluntary_ctxt_switches")
        );
        assert_eq!((answer.tid, answer.tgid), (tid, pid));
        // Another process's ID for the same thread is refused.
        assert_eq!(thread_switches(pid + 1, tid), None);
        done_sender.send(()).unwrap();
        worker.join().unwrap();
    }
}
