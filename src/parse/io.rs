//! Parser for `/proc/PID/io`: the I/O counters of a process (pure).

use super::keyed::Keyed;

/// Cumulative I/O of a process, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoCounters {
    /// Bytes passed to read(2) and friends (including page-cache hits).
    pub rchar: u64,
    /// Bytes passed to write(2) and friends.
    pub wchar: u64,
    /// Bytes this process caused to be fetched from storage.
    pub read_bytes: u64,
    /// Bytes this process caused to be sent to storage.
    pub write_bytes: u64,
}

/// Parses the `key: value` lines of `/proc/PID/io`; `None` when a counter is missing.
pub fn parse_io(raw: Vec<u8>) -> Option<IoCounters> {
    let keyed = Keyed::new(raw);
    Some(IoCounters {
        rchar: keyed.number("rchar")?,
        wchar: keyed.number("wchar")?,
        read_bytes: keyed.number("read_bytes")?,
        write_bytes: keyed.number("write_bytes")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_io_file() {
        let raw = b"rchar: 4292\nwchar: 117\nsyscr: 12\nsyscw: 3\nread_bytes: 8192\nwrite_bytes: 4096\ncancelled_write_bytes: 0\n";
        let io = parse_io(raw.to_vec()).unwrap();
        assert_eq!(io.rchar, 4292);
        assert_eq!(io.wchar, 117);
        assert_eq!(io.read_bytes, 8192);
        assert_eq!(io.write_bytes, 4096);
        assert_eq!(parse_io(b"rchar: 1\n".to_vec()), None);
    }
}
