//! Parser for `Key:  value` files (`status`, `meminfo`, `smaps_rollup`): pure lookups by key,
//! never by line position.

use super::stat::parse_num;

/// A `Key: value` file kept as raw bytes; lookups scan it by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keyed {
    raw: Vec<u8>,
}

impl Keyed {
    pub fn new(raw: Vec<u8>) -> Self {
        Self { raw }
    }

    /// Only the lines of `keys` from `raw` (in their order there), for a caller that keeps
    /// thousands of files but needs a few values of each. The search runs from the end and
    /// stops when every key was found: the context-switch counters close `status`.
    pub fn only(raw: &[u8], keys: &[&str]) -> Self {
        let mut found: Vec<&[u8]> = Vec::with_capacity(keys.len());
        for line in raw.rsplit(|&b| b == b'\n') {
            let key = line.split(|&b| b == b':').next().unwrap_or_default();
            if line.len() > key.len() && keys.iter().any(|k| k.as_bytes() == key) {
                found.push(line);
                if found.len() == keys.len() {
                    break;
                }
            }
        }
        let mut kept = Vec::with_capacity(found.iter().map(|line| line.len() + 1).sum());
        for line in found.iter().rev() {
            kept.extend_from_slice(line);
            kept.push(b'\n');
        }
        Self { raw: kept }
    }

    /// `key:\tvalue` lines of numbers the kernel gave in another form (taskstats), read back
    /// as the `status` lines they stand for.
    pub fn from_numbers(pairs: &[(&str, u64)]) -> Self {
        let mut raw = Vec::with_capacity(pairs.len() * 32);
        for (key, value) in pairs {
            use std::io::Write as _;
            let _ = writeln!(raw, "{key}:\t{value}");
        }
        Self { raw }
    }

    /// The value after `key:` with surrounding whitespace removed, if the key is present.
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        let key = key.as_bytes();
        self.raw.split(|&b| b == b'\n').find_map(|line| {
            let rest = line.strip_prefix(key)?.strip_prefix(b":")?;
            Some(rest.trim_ascii())
        })
    }

    /// The value as an unsigned number (the first word, so `Threads:\t3` gives 3).
    pub fn number(&self, key: &str) -> Option<u64> {
        first_word(self.get(key)?).and_then(parse_num)
    }

    /// A `kB` value converted to bytes (`VmRSS:\t1812 kB` gives 1855488).
    pub fn kib_as_bytes(&self, key: &str) -> Option<u64> {
        self.number(key)?.checked_mul(1024)
    }

    /// A whitespace-separated list of numbers (`Uid:\t0\t0\t0\t0`).
    pub fn numbers(&self, key: &str) -> Option<Vec<u64>> {
        self.get(key)?
            .split(|b| b.is_ascii_whitespace())
            .filter(|word| !word.is_empty())
            .map(parse_num)
            .collect()
    }

    /// The value as text (lossy for non-UTF-8 bytes).
    pub fn text(&self, key: &str) -> Option<String> {
        self.get(key)
            .map(|value| String::from_utf8_lossy(value).into_owned())
    }
}

fn first_word(value: &[u8]) -> Option<&[u8]> {
    value
        .split(|b| b.is_ascii_whitespace())
        .find(|word| !word.is_empty())
}

/// Undoes the escaping of the `Name:` line in `status`, which escapes only `\n` and `\\`.
pub fn unescape_status_name(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut bytes = value.iter();
    while let Some(&b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some(b'n') => out.push(b'\n'),
            Some(b'\\') => out.push(b'\\'),
            Some(&other) => out.extend([b'\\', other]),
            None => out.push(b'\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lines captured from /proc/PID/status of a `sleep` on Linux 6.18.
    const STATUS: &[u8] = b"Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4754\nNgid:\t0\nPid:\t4754\nPPid:\t4752\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t256\nGroups:\t \nNStgid:\t4754\nNSpid:\t4754\nKthread:\t0\nVmPeak:\t    2920 kB\nVmRSS:\t    1812 kB\nVmData:\t     224 kB\nVmStk:\t     132 kB\nVmSwap:\t       0 kB\nThreads:\t1\nCpus_allowed_list:\t0-1\nvoluntary_ctxt_switches:\t1\nnonvoluntary_ctxt_switches:\t1\n";

    #[test]
    fn numbers_given_elsewhere_read_back_as_their_status_lines() {
        let keyed = Keyed::from_numbers(&[
            ("voluntary_ctxt_switches", 12),
            ("nonvoluntary_ctxt_switches", 3),
        ]);
        assert_eq!(keyed.number("voluntary_ctxt_switches"), Some(12));
        assert_eq!(keyed.number("nonvoluntary_ctxt_switches"), Some(3));
        assert_eq!(keyed.number("Threads"), None);
    }

    #[test]
    fn looks_up_by_key() {
        let status = Keyed::new(STATUS.to_vec());
        assert_eq!(status.get("Name"), Some(&b"sleep"[..]));
        assert_eq!(status.number("Tgid"), Some(4754));
        assert_eq!(status.number("PPid"), Some(4752));
        assert_eq!(status.numbers("Uid"), Some(vec![0, 0, 0, 0]));
        assert_eq!(status.kib_as_bytes("VmRSS"), Some(1812 * 1024));
        assert_eq!(status.kib_as_bytes("VmStk"), Some(132 * 1024));
        assert_eq!(status.text("Cpus_allowed_list").as_deref(), Some("0-1"));
        assert_eq!(status.number("nonvoluntary_ctxt_switches"), Some(1));
        assert_eq!(status.text("Groups").as_deref(), Some(""));
    }

    #[test]
    fn key_must_match_whole() {
        let status = Keyed::new(STATUS.to_vec());
        // "Pid" must not match "PPid" or "TracerPid".
        assert_eq!(status.number("Pid"), Some(4754));
        assert_eq!(status.get("Nope"), None);
        assert_eq!(status.number("State"), None);
    }

    #[test]
    fn only_keeps_the_named_lines() {
        let keys = ["voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"];
        let kept = Keyed::only(STATUS, &keys);
        assert_eq!(
            kept.raw,
            b"voluntary_ctxt_switches:\t1\nnonvoluntary_ctxt_switches:\t1\n"
        );
        assert_eq!(kept.number("voluntary_ctxt_switches"), Some(1));
        assert_eq!(kept.number("Pid"), None);
        // A key must match a whole key ("Pid" is not "PPid"), wherever its line is, and a
        // missing key keeps nothing.
        let some = Keyed::only(STATUS, &["Pid", "Nope"]);
        assert_eq!(some.raw, b"Pid:\t4754\n");
        assert_eq!(Keyed::only(b"", &["Pid"]).raw, b"");
        assert_eq!(Keyed::only(b"Pid\nPid", &["Pid"]).raw, b"");
    }

    #[test]
    fn meminfo_total() {
        let meminfo =
            Keyed::new(b"MemTotal:       24684092 kB\nMemFree:        22997440 kB\n".to_vec());
        assert_eq!(meminfo.kib_as_bytes("MemTotal"), Some(24684092 * 1024));
    }

    #[test]
    fn status_name_unescapes_newline_and_backslash_only() {
        assert_eq!(
            unescape_status_name(b"a\\nb\\\\c\x1b\xff"),
            b"a\nb\\c\x1b\xff"
        );
        assert_eq!(unescape_status_name(b"end\\"), b"end\\");
    }
}
