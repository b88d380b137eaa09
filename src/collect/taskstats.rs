//! Threads' context-switch counters from the kernel's taskstats generic-netlink family: a
//! question and an answer per thread, 32 questions to a system call, about three times
//! cheaper than opening, rendering and closing its `status` (some 55 lines for the two
//! numbers `threads` keeps). The kernel answers only callers with CAP_NET_ADMIN; without
//! it, and on any failure, callers read `status` as before. IDs are those of procscope's
//! own PID namespace.

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
/// Questions sent at once: their answers (about 1.3 KB each in the kernel's accounting)
/// wait in the socket's receive buffer (208 KB by default) until read.
const BATCH: usize = 32;

/// The context-switch counters of each thread of `tids` (of process `tgid`) as the kernel
/// counts them, in the order of `tids`; `None` where taskstats cannot say: no CAP_NET_ADMIN,
/// no taskstats in the kernel, the thread is gone, or the answer is about a task that is not
/// that thread of `tgid` (its ID was reused). The questions go in batches, one system call
/// each; each calling thread keeps a connection of its own.
pub fn threads_switches(tgid: u32, tids: &[u32]) -> Vec<Option<TaskSwitches>> {
    thread_local! {
        static CONNECTION: RefCell<Option<Connection>> = const { RefCell::new(None) };
    }
    let mut answers = Vec::with_capacity(tids.len());
    if let Some(family) = *usable_family() {
        CONNECTION.with_borrow_mut(|connection| {
            if connection.is_none() {
                *connection = Connection::open(family).ok();
            }
            if let Some(connection) = connection {
                for batch in tids.chunks(BATCH) {
                    connection.ask(tgid, batch, &mut answers);
                }
            }
        });
    }
    answers.resize(tids.len(), None);
    answers
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
        let mut answer = Vec::new();
        probe.ask(pid, &[tid.get() as u32], &mut answer);
        answer.pop().flatten().map(|_| family)
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

    /// Asks about every thread of `tids` in one system call and appends the answers in
    /// their order, each checked to be about that thread of `tgid`.
    fn ask(&mut self, tgid: u32, tids: &[u32], answers: &mut Vec<Option<TaskSwitches>>) {
        let first = self.sequence.wrapping_add(1);
        self.request.clear();
        for &tid in tids {
            self.sequence = self.sequence.wrapping_add(1);
            let mut question = GenlMessage::from_payload(PidRequest(tid));
            question.set_resolved_family_id(self.family);
            append(&mut self.request, question, self.sequence);
        }
        let start = answers.len();
        answers.resize(start + tids.len(), None);
        if self.socket.send(&self.request, 0).is_err() {
            return;
        }
        // The kernel answers each question while handling the send, so every answer is
        // queued when it returns: nothing here waits.
        while let Ok(size) = self
            .socket
            .recv(&mut &mut self.answer[..], libc::MSG_DONTWAIT)
        {
            let Ok(message) =
                NetlinkMessage::<GenlMessage<Answer>>::deserialize(&self.answer[..size])
            else {
                continue;
            };
            let index = message.header.sequence_number.wrapping_sub(first) as usize;
            let (Some(&tid), NetlinkPayload::InnerMessage(inner)) =
                (tids.get(index), message.payload)
            else {
                continue;
            };
            answers[start + index] = inner
                .payload
                .0
                .filter(|answer| answer.tgid == tgid && answer.tid == tid);
            if index + 1 == tids.len() {
                break;
            }
        }
    }
}

/// Serializes `payload` as request `sequence` at the end of `buffer`.
fn append<F>(buffer: &mut Vec<u8>, payload: F, sequence: u32)
where
    F: NetlinkSerializable + std::fmt::Debug,
{
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST;
    header.sequence_number = sequence;
    let mut message = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(payload));
    message.finalize();
    let start = buffer.len();
    buffer.resize(start + message.buffer_len(), 0);
    message.serialize(&mut buffer[start..]);
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
    let mut request = Vec::new();
    append(&mut request, question, 1);
    socket.send(&request, 0)?;
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
        let Some(answer) = threads_switches(pid, &[tid])[0] else {
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
        // Another process's ID for the same thread is refused; answers keep their order.
        assert_eq!(threads_switches(pid + 1, &[tid]), [None]);
        let me = rustix::thread::gettid().as_raw_nonzero().get() as u32;
        let both = threads_switches(pid, &[me, tid]);
        assert_eq!(both[1].map(|a| a.voluntary), Some(answer.voluntary));
        assert_eq!(both[0].map(|a| a.tid), Some(me));
        done_sender.send(()).unwrap();
        worker.join().unwrap();
    }
}
