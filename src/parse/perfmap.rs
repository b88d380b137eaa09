//! Parser for `/tmp/perf-PID.map`, the JIT symbol file V8 writes with `--perf-basic-prof`:
//! one `START SIZE NAME` line per code object, addresses in hex. Pure.

/// JIT code objects: (start, size, name), sorted by start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PerfMap {
    entries: Vec<(u64, u64, String)>,
}

impl PerfMap {
    /// Parses the file; malformed lines are skipped. A later entry for the same start
    /// (code moved or replaced) wins.
    pub fn parse(raw: &[u8]) -> Self {
        let mut entries: Vec<(u64, u64, String)> = raw
            .split(|&b| b == b'\n')
            .filter_map(|line| {
                let line = std::str::from_utf8(line).ok()?;
                let mut parts = line.splitn(3, ' ');
                let start = u64::from_str_radix(parts.next()?.trim_start_matches("0x"), 16).ok()?;
                let size = u64::from_str_radix(parts.next()?.trim_start_matches("0x"), 16).ok()?;
                let name = parts.next()?.trim_end();
                (size > 0 && !name.is_empty()).then(|| (start, size, name.to_owned()))
            })
            .collect();
        entries.reverse();
        entries.sort_by_key(|e| e.0);
        entries.dedup_by_key(|e| e.0);
        Self { entries }
    }

    /// The name of the code object that holds `pc`.
    pub fn lookup(&self, pc: u64) -> Option<&str> {
        let index = self.entries.partition_point(|(start, _, _)| *start <= pc);
        let (start, size, name) = self.entries.get(index.checked_sub(1)?)?;
        (pc - start < *size).then_some(name.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_code_objects() {
        let map = PerfMap::parse(
            b"3a0c1a2c0 3c LazyCompile:~loop /app/x.js:3\n3a0c1a400 80 Builtin:ArgumentsAdaptorTrampoline\nbad line\n3a0c1a2c0 40 LazyCompile:*loop /app/x.js:3\n",
        );
        assert_eq!(
            map.lookup(0x3a0c1a2c4),
            Some("LazyCompile:*loop /app/x.js:3")
        );
        assert_eq!(
            map.lookup(0x3a0c1a420),
            Some("Builtin:ArgumentsAdaptorTrampoline")
        );
        assert_eq!(map.lookup(0x3a0c1a300), None);
        assert_eq!(map.lookup(0x10), None);
        assert!(PerfMap::parse(b"").is_empty());
    }
}
