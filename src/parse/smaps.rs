//! Parser for `/proc/PID/smaps`: each mapping's header line and its memory figures.

use super::keyed::Keyed;
use super::maps::{Mapping, parse_mapping};

/// One mapping with its figures from smaps, in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmapsEntry {
    pub mapping: Mapping,
    pub rss: u64,
    pub pss: u64,
    /// Private_Clean + Private_Dirty: the unique set (USS).
    pub private: u64,
    pub swap: u64,
    /// The figures `pmap -X` adds.
    pub extra: SmapsExtra,
}

/// The further figures of one mapping that `pmap -X` shows, in bytes, and its flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmapsExtra {
    pub referenced: u64,
    pub anonymous: u64,
    pub lazy_free: u64,
    pub shmem_pmd_mapped: u64,
    pub locked: u64,
    /// Whether the mapping may use transparent huge pages (`None` on kernels without it).
    pub thp_eligible: Option<bool>,
    /// The two-letter VmFlags (`rd`, `mr`, `mw`, `me`, `ac`, `sd`...).
    pub vm_flags: Vec<String>,
}

/// Parses a whole smaps file. A header line starts with a lowercase hex digit (the address);
/// figure lines start with an uppercase key.
pub fn parse_smaps(raw: &[u8]) -> Vec<SmapsEntry> {
    let mut entries = Vec::new();
    let mut current: Option<(Mapping, Vec<u8>)> = None;
    for line in raw.split(|&b| b == b'\n') {
        let is_header = matches!(line.first(), Some(b'0'..=b'9' | b'a'..=b'f'));
        if is_header && let Some(mapping) = parse_mapping(line) {
            entries.extend(current.take().map(finish));
            current = Some((mapping, Vec::new()));
        } else if let Some((_, figures)) = current.as_mut() {
            figures.extend_from_slice(line);
            figures.push(b'\n');
        }
    }
    entries.extend(current.map(finish));
    entries
}

fn finish((mapping, figures): (Mapping, Vec<u8>)) -> SmapsEntry {
    let keyed = Keyed::new(figures);
    let kib = |key: &str| keyed.kib_as_bytes(key).unwrap_or(0);
    SmapsEntry {
        rss: kib("Rss"),
        pss: kib("Pss"),
        private: kib("Private_Clean") + kib("Private_Dirty"),
        swap: kib("Swap"),
        extra: SmapsExtra {
            referenced: kib("Referenced"),
            anonymous: kib("Anonymous"),
            lazy_free: kib("LazyFree"),
            shmem_pmd_mapped: kib("ShmemPmdMapped"),
            locked: kib("Locked"),
            thp_eligible: keyed.number("THPeligible").map(|n| n == 1),
            vm_flags: keyed
                .get("VmFlags")
                .map(|flags| {
                    String::from_utf8_lossy(flags)
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        },
        mapping,
    }
}

/// The totals of `smaps_rollup`, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rollup {
    pub rss: u64,
    pub pss: u64,
    pub private: u64,
    pub swap: u64,
}

/// Parses `smaps_rollup`.
pub fn parse_rollup(raw: &[u8]) -> Option<Rollup> {
    let keyed = Keyed::new(raw.to_vec());
    let kib = |key: &str| keyed.kib_as_bytes(key);
    Some(Rollup {
        rss: kib("Rss")?,
        pss: kib("Pss")?,
        private: kib("Private_Clean")? + kib("Private_Dirty")?,
        swap: kib("Swap")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from /proc/PID/smaps of node 20 on Linux 6.18 (two entries, trimmed keys kept).
    const SMAPS: &[u8] =
        b"00400000-00b6f000 r--p 00000000 fe:00 247584                             /usr/bin/node
Size:               7612 kB
KernelPageSize:        4 kB
Rss:                5900 kB
Pss:                5900 kB
Pss_Dirty:             0 kB
Shared_Clean:          0 kB
Private_Clean:      5900 kB
Private_Dirty:         0 kB
Swap:                  0 kB
VmFlags: rd mr mw me 
7ffd3a1a9000-7ffd3a1ca000 rw-p 00000000 00:00 0                          [stack]
Size:                132 kB
Rss:                  48 kB
Pss:                  40 kB
Private_Clean:         0 kB
Private_Dirty:        40 kB
Referenced:           44 kB
Anonymous:            40 kB
LazyFree:              4 kB
ShmemPmdMapped:        0 kB
Swap:                  8 kB
Locked:               12 kB
THPeligible:           1
VmFlags: rd wr mr mw me gd ac 
";

    #[test]
    fn pmap_x_figures_and_flags() {
        let entries = parse_smaps(SMAPS);
        let stack = &entries[1].extra;
        assert_eq!(
            (
                stack.referenced,
                stack.anonymous,
                stack.lazy_free,
                stack.locked
            ),
            (44 << 10, 40 << 10, 4 << 10, 12 << 10)
        );
        assert_eq!(stack.thp_eligible, Some(true));
        assert_eq!(stack.vm_flags, ["rd", "wr", "mr", "mw", "me", "gd", "ac"]);
        assert_eq!(entries[0].extra.thp_eligible, None);
        assert_eq!(entries[0].extra.vm_flags, ["rd", "mr", "mw", "me"]);
    }

    #[test]
    fn entries_with_figures() {
        let entries = parse_smaps(SMAPS);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].mapping.path, b"/usr/bin/node");
        assert_eq!(
            (entries[0].rss, entries[0].pss, entries[0].private),
            (5900 << 10, 5900 << 10, 5900 << 10)
        );
        assert_eq!(entries[1].mapping.path, b"[stack]");
        assert_eq!(
            (
                entries[1].rss,
                entries[1].pss,
                entries[1].private,
                entries[1].swap
            ),
            (48 << 10, 40 << 10, 40 << 10, 8 << 10)
        );
    }

    #[test]
    fn rollup_totals() {
        let rollup = parse_rollup(b"55fd218a5000-7fff7b989000 ---p 00000000 00:00 0 [rollup]\nRss:                1812 kB\nPss:                 405 kB\nPrivate_Clean:        56 kB\nPrivate_Dirty:       108 kB\nSwap:                  0 kB\n").unwrap();
        assert_eq!(
            rollup,
            Rollup {
                rss: 1812 << 10,
                pss: 405 << 10,
                private: 164 << 10,
                swap: 0
            }
        );
        assert_eq!(parse_rollup(b""), None);
    }

    #[test]
    fn garbage_gives_nothing() {
        assert!(parse_smaps(b"Rss: 4 kB\n\xff\nzz").is_empty());
    }
}
