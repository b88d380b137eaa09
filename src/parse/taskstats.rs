//! Parser for the kernel's taskstats answer (include/uapi/linux/taskstats.h): the attributes
//! of a `TASKSTATS_CMD_NEW` reply, holding the thread's ID and its `struct taskstats`. Only
//! the fields procscope uses are read, at their fixed offsets, and only from a struct of
//! version 12 or later (the first with the thread group ID to check the answer against).

use netlink_packet_core::NlasIterator;

use super::{u16_at, u32_at, u64_at};

/// `TASKSTATS_TYPE_PID`, `TASKSTATS_TYPE_STATS` and `TASKSTATS_TYPE_AGGR_PID`.
const TYPE_PID: u16 = 1;
const TYPE_STATS: u16 = 3;
const TYPE_AGGR_PID: u16 = 4;

/// The struct's version that added `ac_tgid`.
const FIRST_VERSION_WITH_TGID: u16 = 12;
/// Offsets in `struct taskstats` (x86-64 and every 64-bit Linux ABI: the struct is laid out
/// with explicit 8-byte alignment).
const VERSION_AT: usize = 0;
const PID_AT: usize = 128;
const NVCSW_AT: usize = 272;
const NIVCSW_AT: usize = 280;
const TGID_AT: usize = 368;

/// Who an answer is about and its context-switch counters: the same kernel counters as the
/// `voluntary_ctxt_switches` and `nonvoluntary_ctxt_switches` lines of the thread's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskSwitches {
    pub tid: u32,
    pub tgid: u32,
    pub voluntary: u64,
    pub involuntary: u64,
}

/// The counters in the attributes of a taskstats reply (the bytes after its generic netlink
/// header), or `None` when they are missing, short, or of a version before 12.
pub fn parse_taskstats(attributes: &[u8]) -> Option<TaskSwitches> {
    let (_, aggregate) = attributes_of(attributes).find(|(kind, _)| *kind == TYPE_AGGR_PID)?;
    let mut tid = None;
    let mut stats = None;
    for (kind, value) in attributes_of(aggregate) {
        match kind {
            TYPE_PID => tid = u32_at(value, 0),
            TYPE_STATS => stats = Some(value),
            _ => {}
        }
    }
    let stats = stats?;
    if u16_at(stats, VERSION_AT)? < FIRST_VERSION_WITH_TGID {
        return None;
    }
    let tid = tid?;
    (u32_at(stats, PID_AT)? == tid).then_some(())?;
    Some(TaskSwitches {
        tid,
        tgid: u32_at(stats, TGID_AT)?,
        voluntary: u64_at(stats, NVCSW_AT)?,
        involuntary: u64_at(stats, NIVCSW_AT)?,
    })
}

/// An attribute's type without its nested and byte-order flags.
const KIND_MASK: u16 = 0x3fff;

/// Each well-formed attribute of `raw` as (type, value), up to the first malformed one.
fn attributes_of(raw: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    NlasIterator::new(raw).map_while(Result::ok).map(|nla| {
        let (kind, length) = (nla.kind() & KIND_MASK, nla.value_length());
        (kind, &nla.into_inner()[NLA_HEADER..NLA_HEADER + length])
    })
}

/// The bytes of an attribute's length and type.
const NLA_HEADER: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;

    /// One attribute: length, type, value, padded to 4 bytes.
    fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(4 + value.len() as u16).to_ne_bytes());
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(value);
        out.resize(out.len().next_multiple_of(4), 0);
        out
    }

    /// A reply as the kernel builds it: AGGR_PID { PID, STATS }.
    fn reply(tid: u32, version: u16, tgid: u32, size: usize) -> Vec<u8> {
        let mut stats = vec![0u8; size];
        let mut put = |at: usize, bytes: &[u8]| {
            if at + bytes.len() <= size {
                stats[at..at + bytes.len()].copy_from_slice(bytes);
            }
        };
        put(VERSION_AT, &version.to_ne_bytes());
        put(PID_AT, &tid.to_ne_bytes());
        put(NVCSW_AT, &11u64.to_ne_bytes());
        put(NIVCSW_AT, &7u64.to_ne_bytes());
        put(TGID_AT, &tgid.to_ne_bytes());
        let inner = [nla(TYPE_PID, &tid.to_ne_bytes()), nla(TYPE_STATS, &stats)].concat();
        nla(TYPE_AGGR_PID | 0x8000, &inner)
    }

    #[test]
    fn reads_the_counters_and_the_ids() {
        assert_eq!(
            parse_taskstats(&reply(42, 16, 40, 432)),
            Some(TaskSwitches {
                tid: 42,
                tgid: 40,
                voluntary: 11,
                involuntary: 7
            })
        );
    }

    #[test]
    fn an_old_or_short_struct_gives_nothing() {
        assert_eq!(parse_taskstats(&reply(42, 11, 40, 432)), None);
        assert_eq!(parse_taskstats(&reply(42, 16, 40, 300)), None);
        assert_eq!(parse_taskstats(&[]), None);
        assert_eq!(parse_taskstats(&[1, 2, 3]), None);
    }

    #[test]
    fn a_struct_about_another_task_gives_nothing() {
        let mut raw = reply(42, 16, 40, 432);
        // The PID attribute says 42; make the struct's own ac_pid say 43.
        let at = raw.len() - 432 + PID_AT;
        raw[at..at + 4].copy_from_slice(&43u32.to_ne_bytes());
        assert_eq!(parse_taskstats(&raw), None);
    }
}
