//! Parser for `/proc/PID/maps` lines: address range, permissions, offset, inode and path.

/// One mapping of a process's address space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub start: u64,
    pub end: u64,
    pub read: bool,
    pub write: bool,
    pub exec: bool,
    /// `s`: shared; `p`: private (copy-on-write).
    pub shared: bool,
    pub offset: u64,
    /// The device of the file (major, minor), as the kernel prints it (`fe:01`).
    pub device: (u32, u32),
    pub inode: u64,
    /// The path or pseudo-name (`[heap]`, `[stack]`, `[vdso]`), raw bytes; empty for anonymous.
    /// Newlines in file names appear as `\012` (the kernel's escape).
    pub path: Vec<u8>,
}

impl Mapping {
    pub fn size(&self) -> u64 {
        self.end - self.start
    }

    pub fn contains(&self, address: u64) -> bool {
        (self.start..self.end).contains(&address)
    }

    /// No access at all (`---p`): a guard page or a reservation.
    pub fn is_inaccessible(&self) -> bool {
        !self.read && !self.write && !self.exec
    }

    /// Anonymous memory: no file and no pseudo-name.
    pub fn is_anonymous(&self) -> bool {
        self.path.is_empty()
    }

    /// A real file (the path starts with `/`), with a ` (deleted)` suffix if unlinked.
    pub fn is_file(&self) -> bool {
        self.path.first() == Some(&b'/')
    }

    /// The permissions as the kernel prints them (`r-xp`).
    pub fn perms(&self) -> String {
        let flag = |on: bool, c: char| if on { c } else { '-' };
        [
            flag(self.read, 'r'),
            flag(self.write, 'w'),
            flag(self.exec, 'x'),
            if self.shared { 's' } else { 'p' },
        ]
        .iter()
        .collect()
    }
}

/// Parses one maps line (also the header line of each smaps entry).
pub fn parse_mapping(line: &[u8]) -> Option<Mapping> {
    let mut fields = super::Fields::new(line);
    let range = fields.next()?;
    let perms = fields.next()?;
    let offset = fields.next()?;
    let device = fields.next()?;
    let inode = fields.next()?;
    let dash = range.iter().position(|&b| b == b'-')?;
    let start = hex(&range[..dash])?;
    let end = hex(&range[dash + 1..])?;
    if end < start || perms.len() != 4 {
        return None;
    }
    let path = fields.rest();
    let path = path.strip_suffix(b"\n").unwrap_or(path).to_vec();
    Some(Mapping {
        start,
        end,
        read: perms[0] == b'r',
        write: perms[1] == b'w',
        exec: perms[2] == b'x',
        shared: perms[3] == b's',
        offset: hex(offset)?,
        device: parse_device(device)?,
        inode: std::str::from_utf8(inode).ok()?.parse().ok()?,
        path,
    })
}

/// `fe:01` → (0xfe, 0x01).
fn parse_device(text: &[u8]) -> Option<(u32, u32)> {
    let colon = text.iter().position(|&b| b == b':')?;
    let number = |part: &[u8]| u32::from_str_radix(std::str::from_utf8(part).ok()?, 16).ok();
    Some((number(&text[..colon])?, number(&text[colon + 1..])?))
}

/// Parses a whole maps file, skipping lines that do not parse.
pub fn parse_maps(raw: &[u8]) -> Vec<Mapping> {
    raw.split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .filter_map(parse_mapping)
        .collect()
}

/// The mapping that contains `address` (maps are sorted by address).
pub fn find(maps: &[Mapping], address: u64) -> Option<usize> {
    let index = maps.partition_point(|m| m.end <= address);
    maps.get(index)
        .filter(|m| m.contains(address))
        .map(|_| index)
}

fn hex(word: &[u8]) -> Option<u64> {
    u64::from_str_radix(std::str::from_utf8(word).ok()?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from /proc/PID/maps of a `sleep` on Linux 6.18.
    const MAPS: &[u8] = b"55d0c4a00000-55d0c4a02000 r--p 00000000 fe:01 1442 /usr/bin/sleep
55d0c4a02000-55d0c4a06000 r-xp 00002000 fe:01 1442 /usr/bin/sleep
55d0c5e2f000-55d0c5e50000 rw-p 00000000 00:00 0                          [heap]
7f3b2a400000-7f3b2a401000 ---p 00000000 00:00 0 
7f3b2a401000-7f3b2ac01000 rw-p 00000000 00:00 0 
7f3b2ac28000-7f3b2ad7d000 r-xp 00028000 fe:01 2049 /usr/lib/x86_64-linux-gnu/libc.so.6
7ffd3a1a9000-7ffd3a1ca000 rw-p 00000000 00:00 0                          [stack]
7ffd3a1f8000-7ffd3a1fa000 r-xp 00000000 00:00 0                          [vdso]
";

    #[test]
    fn parses_real_lines() {
        let maps = parse_maps(MAPS);
        assert_eq!(maps.len(), 8);
        assert_eq!(maps[1].path, b"/usr/bin/sleep");
        assert!(maps[1].exec && !maps[1].write && !maps[1].shared);
        assert_eq!(maps[1].offset, 0x2000);
        assert_eq!(maps[1].inode, 1442);
        assert_eq!(maps[1].device, (0xfe, 0x01));
        assert_eq!(maps[2].path, b"[heap]");
        assert!(maps[3].is_inaccessible() && maps[3].is_anonymous());
        assert_eq!(maps[4].size(), 8 << 20);
        assert_eq!(maps[5].perms(), "r-xp");
        assert!(maps[5].is_file());
    }

    #[test]
    fn finds_the_mapping_of_an_address() {
        let maps = parse_maps(MAPS);
        assert_eq!(find(&maps, 0x7ffd3a1c8e00), Some(6));
        assert_eq!(find(&maps, 0x55d0c4a00000), Some(0));
        assert_eq!(find(&maps, 0x55d0c4a06000), None);
        assert_eq!(find(&maps, 0), None);
    }

    #[test]
    fn paths_keep_spaces_and_bytes() {
        let m = parse_mapping(b"1000-2000 r--s 00000000 00:05 77 /tmp/a b\\012c\xff (deleted)")
            .unwrap();
        assert_eq!(m.path, b"/tmp/a b\\012c\xff (deleted)");
        assert!(m.shared);
    }

    #[test]
    fn garbage_is_none() {
        for bad in [
            &b""[..],
            b"zz-10 r--p 0 0 0",
            b"2000-1000 r--p 0 00:00 0",
            b"1000-2000 rw 0 00:00 0",
            b"1000-2000 r--p 0 00:00",
        ] {
            assert_eq!(parse_mapping(bad), None, "{bad:?}");
        }
    }
}
