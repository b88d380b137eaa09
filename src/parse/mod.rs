//! Pure parsers for /proc file formats: bytes in, values out, never I/O and never a panic.

pub mod caps;
pub mod cgroup;
pub mod cmdline;
pub mod codes;
pub mod cpustat;
pub mod elf_symbols;
pub mod fdinfo;
pub mod io;
pub mod keyed;
pub mod limits;
pub mod link;
pub mod maps;
pub mod net;
pub mod perfmap;
pub mod smaps;
pub mod stat;
pub mod syscall;
pub mod taskstats;
pub mod tcp_info;
pub mod tty;

/// Whitespace-separated fields of a line, with what is left after them (a path that may
/// hold spaces comes last in `maps` and `net/unix`).
pub struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    pub fn new(line: &'a [u8]) -> Self {
        Self { rest: line }
    }

    /// The remainder after the fields taken so far, without leading whitespace.
    pub fn rest(&self) -> &'a [u8] {
        self.rest.trim_ascii_start()
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let trimmed = self.rest.trim_ascii_start();
        let end = trimmed
            .iter()
            .position(u8::is_ascii_whitespace)
            .unwrap_or(trimmed.len());
        let (word, tail) = trimmed.split_at(end);
        self.rest = tail;
        (!word.is_empty()).then_some(word)
    }
}

/// The native-endian integer at `offset` of a kernel struct, `None` past its end (an older
/// kernel's shorter struct).
pub(crate) fn u16_at(raw: &[u8], offset: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(
        raw.get(offset..offset + 2)?.try_into().ok()?,
    ))
}

/// See [`u16_at`].
pub(crate) fn u32_at(raw: &[u8], offset: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(
        raw.get(offset..offset + 4)?.try_into().ok()?,
    ))
}

/// See [`u16_at`].
pub(crate) fn u64_at(raw: &[u8], offset: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(
        raw.get(offset..offset + 8)?.try_into().ok()?,
    ))
}
