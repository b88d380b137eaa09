//! Facts about an executable or library file that identify a runtime: exported symbols,
//! needed libraries, and a version string in its read-only data. The file is read on demand
//! (the section headers, a few entries of the GNU hash table, `.dynsym` and `.dynstr`, or
//! the whole `.dynstr` of a file without that table, and up to 64 MiB of `.rodata`), never
//! loaded whole.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use object::Endian;
use object::read::elf::{FileHeader, SectionHeader};

/// How much of `.rodata` to scan for a version string before giving up.
const MAX_RODATA_SCAN: u64 = 64 << 20;
const SCAN_CHUNK: usize = 1 << 20;

/// What a process's executable (and the runtime libraries it needs or has mapped) says
/// about each runtime probed for: only runtimes with some match are listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BinaryFacts {
    pub runtimes: Vec<RuntimeMatch>,
}

impl BinaryFacts {
    /// What was found for `runtime` (`node`, `jvm`), if anything.
    pub fn of(&self, runtime: &str) -> Option<&RuntimeMatch> {
        self.runtimes.iter().find(|m| m.runtime == runtime)
    }
}

/// What one runtime's probe found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeMatch {
    /// The probe's runtime (`node`, `jvm`).
    pub runtime: &'static str,
    /// The probe's symbols the executable (or a runtime library it needs) defines.
    pub exports: Vec<String>,
    /// The probe's libraries the executable names in DT_NEEDED.
    pub needs: Vec<String>,
    /// The path of a mapped library the probe looks for (`…/lib/server/libjvm.so`), as the
    /// process sees it, when the process has one mapped.
    pub mapped: Option<Vec<u8>>,
    /// The runtime's version, from where the probe says it is written.
    pub version: Option<String>,
}

/// What an ELF file says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ElfFacts {
    /// Names from `symbols` the file defines in its dynamic symbol table.
    pub exports: Vec<String>,
    /// Its `.dynstr` names a library starting with each of `needed` prefixes (DT_NEEDED).
    pub needs: Vec<String>,
    /// The text after the marker in `.rodata`, up to the first byte that is not a version
    /// character (`20.20.2` after `node.js/v`).
    pub version: Option<String>,
}

/// Reads the facts of an ELF file: which of `symbols` it exports, which of `libraries` it
/// names in `.dynstr`, and the version after the marker `marker` picks for the exports
/// found (none: no scan) in `.rodata`.
pub fn read_facts<'m>(
    file: File,
    symbols: &[&str],
    libraries: &[&str],
    marker: impl Fn(&[String]) -> Option<&'m [u8]>,
) -> Option<ElfFacts> {
    let cache = object::ReadCache::new(file);
    let layout = Layout::read(&cache)?;
    let hash_lookup = match (layout.gnu_hash, layout.dynsym, layout.dynstr, layout.is_64) {
        (Some(hash), Some(dynsym), Some(dynstr), true) if layout.little_endian => Some(GnuHash {
            hash,
            dynsym,
            dynstr,
        }),
        _ => None,
    };
    let dynstr_names = || layout.dynstr.and_then(|range| bytes_at(&cache, range));
    let exports: Vec<String> = symbols
        .iter()
        .filter(|name| match &hash_lookup {
            Some(table) => table.defines(&cache, name),
            None => dynstr_names().is_some_and(|names| contains_name(names, name)),
        })
        .map(|name| (*name).to_owned())
        .collect();
    // A launcher that only links the runtime library names it in DT_NEEDED; look only when
    // the binary itself is not the runtime, and read only those names.
    let needed = match (&hash_lookup, exports.is_empty(), layout.dynamic) {
        (_, false, _) => Vec::new(),
        (Some(table), true, Some(dynamic)) => table.needed(&cache, dynamic),
        (None, true, _) => vec![dynstr_names().unwrap_or_default().to_vec()],
        (Some(_), true, None) => Vec::new(),
    };
    let needs = libraries
        .iter()
        .filter(|lib| {
            needed
                .iter()
                .any(|name| memchr::memmem::find(name, lib.as_bytes()).is_some())
        })
        .map(|lib| (*lib).to_owned())
        .collect();
    // Only a runtime's own binary carries its version; other programs are not scanned.
    let version = match (
        marker(&exports).filter(|_| !exports.is_empty()),
        layout.rodata,
    ) {
        (Some(marker), Some((offset, size))) => scan_version(
            cache.into_inner(),
            offset,
            size.min(MAX_RODATA_SCAN),
            marker,
        ),
        _ => None,
    };
    Some(ElfFacts {
        exports,
        needs,
        version,
    })
}

/// Where an ELF file keeps the sections [`read_facts`] looks at: file ranges (offset, size)
/// from its section headers alone. The symbol tables are not loaded (a generic ELF parse
/// reads `.symtab` and `.dynsym` whole: 4.4 MB for Node.js's unstripped binary).
struct Layout {
    is_64: bool,
    little_endian: bool,
    gnu_hash: Option<(u64, u64)>,
    dynsym: Option<(u64, u64)>,
    dynstr: Option<(u64, u64)>,
    dynamic: Option<(u64, u64)>,
    rodata: Option<(u64, u64)>,
}

impl Layout {
    /// `None` for a file that is not ELF or whose headers are damaged.
    fn read(data: &object::ReadCache<File>) -> Option<Self> {
        use object::elf::{FileHeader32, FileHeader64};
        match object::FileKind::parse(data).ok()? {
            object::FileKind::Elf32 => Self::of::<FileHeader32<object::Endianness>>(data),
            object::FileKind::Elf64 => Self::of::<FileHeader64<object::Endianness>>(data),
            _ => None,
        }
    }

    fn of<Elf: FileHeader<Endian = object::Endianness>>(
        data: &object::ReadCache<File>,
    ) -> Option<Self> {
        let header = Elf::parse(data).ok()?;
        let endian = header.endian().ok()?;
        let sections = header.sections(endian, data).ok()?;
        let range = |name: &str| {
            let (_, section) = sections.section_by_name(endian, name.as_bytes())?;
            section.file_range(endian)
        };
        Some(Self {
            is_64: header.is_type_64(),
            little_endian: endian.is_little_endian(),
            gnu_hash: range(".gnu.hash"),
            dynsym: range(".dynsym"),
            dynstr: range(".dynstr"),
            dynamic: range(".dynamic"),
            rodata: range(".rodata"),
        })
    }
}

/// The bytes of a file range.
fn bytes_at(data: &object::ReadCache<File>, (offset, size): (u64, u64)) -> Option<&[u8]> {
    object::ReadRef::read_bytes_at(data, offset, size).ok()
}

fn contains_name(names: &[u8], name: &str) -> bool {
    let mut whole = Vec::with_capacity(name.len() + 2);
    whole.push(0);
    whole.extend_from_slice(name.as_bytes());
    whole.push(0);
    memchr::memmem::find(names, &whole).is_some()
}

/// The GNU hash table of a 64-bit little-endian ELF file: looking a symbol up reads a few
/// hundred bytes, where scanning Node.js's dynamic names would read megabytes.
struct GnuHash {
    /// File ranges (offset, size) of `.gnu.hash`, `.dynsym` and `.dynstr`.
    hash: (u64, u64),
    dynsym: (u64, u64),
    dynstr: (u64, u64),
}

impl GnuHash {
    /// The names of the libraries the file needs (DT_NEEDED entries of `.dynamic`), read one
    /// by one from `.dynstr`.
    fn needed(&self, file: &object::ReadCache<File>, dynamic: (u64, u64)) -> Vec<Vec<u8>> {
        use object::ReadRef;
        const DT_NULL: u64 = 0;
        const DT_NEEDED: u64 = 1;
        let mut names = Vec::new();
        for entry in 0..(dynamic.1 / 16).min(4096) {
            let Some(Ok(bytes)) =
                (dynamic.0.checked_add(entry * 16)).map(|offset| file.read_bytes_at(offset, 16))
            else {
                break;
            };
            let tag = u64::from_le_bytes(bytes[..8].try_into().unwrap_or_default());
            let value = u64::from_le_bytes(bytes[8..].try_into().unwrap_or_default());
            match tag {
                DT_NULL => break,
                DT_NEEDED => {
                    let Some(start) = self.dynstr.0.checked_add(value) else {
                        continue;
                    };
                    if let Ok(name) = file
                        .read_bytes_at_until(start..self.dynstr.0.saturating_add(self.dynstr.1), 0)
                    {
                        names.push(name.to_vec());
                    }
                }
                _ => {}
            }
        }
        names
    }

    /// True when the file defines (not merely imports) the dynamic symbol `name`.
    fn defines(&self, file: &object::ReadCache<File>, name: &str) -> bool {
        self.find(file, name.as_bytes()).unwrap_or(false)
    }

    fn find(&self, file: &object::ReadCache<File>, name: &[u8]) -> Option<bool> {
        use object::ReadRef;
        let u32_at = |offset: u64| -> Option<u32> {
            let bytes = file.read_bytes_at(offset, 4).ok()?;
            Some(u32::from_le_bytes(bytes.try_into().ok()?))
        };
        let u64_at = |offset: u64| -> Option<u64> {
            let bytes = file.read_bytes_at(offset, 8).ok()?;
            Some(u64::from_le_bytes(bytes.try_into().ok()?))
        };
        // Offsets come from the file: a damaged one ends the lookup rather than overflow.
        let at = |offset: u64, add: u64| offset.checked_add(add);
        let base = self.hash.0;
        let (buckets, symoffset, bloom_size, bloom_shift) = (
            u32_at(base)?,
            u32_at(at(base, 4)?)?,
            u32_at(at(base, 8)?)?,
            u32_at(at(base, 12)?)?,
        );
        if buckets == 0 || bloom_size == 0 {
            return Some(false);
        }
        let hash = name.iter().fold(5381u32, |h, &c| {
            h.wrapping_mul(33).wrapping_add(u32::from(c))
        });
        let word = u64_at(at(base, 16 + u64::from((hash / 64) % bloom_size) * 8)?)?;
        let shifted = hash.checked_shr(bloom_shift).unwrap_or(0);
        let mask = (1u64 << (hash % 64)) | (1u64 << (shifted % 64));
        if word & mask != mask {
            return Some(false);
        }
        let buckets_at = at(base, 16 + u64::from(bloom_size) * 8)?;
        let chains_at = at(buckets_at, u64::from(buckets) * 4)?;
        let first = u32_at(at(buckets_at, u64::from(hash % buckets) * 4)?)?;
        if first < symoffset {
            return Some(false);
        }
        // Every chain ends with an odd value; the bound guards a corrupt file.
        for index in (first..=u32::MAX).take(1_000_000) {
            let chain = u32_at(at(chains_at, u64::from(index - symoffset) * 4)?)?;
            if (chain | 1) == (hash | 1) {
                let symbol = at(self.dynsym.0, u64::from(index) * 24)?;
                if at(symbol, 24)? > self.dynsym.0.saturating_add(self.dynsym.1) {
                    return None;
                }
                let name_offset = u32_at(symbol)?;
                let section_index = u16::from_le_bytes(
                    file.read_bytes_at(at(symbol, 6)?, 2)
                        .ok()?
                        .try_into()
                        .ok()?,
                );
                let stored = file
                    .read_bytes_at(
                        at(self.dynstr.0, u64::from(name_offset))?,
                        name.len() as u64 + 1,
                    )
                    .ok()?;
                if stored.get(..name.len()) == Some(name) && stored.get(name.len()) == Some(&0) {
                    return Some(section_index != 0);
                }
            }
            if chain & 1 == 1 {
                return Some(false);
            }
        }
        None
    }
}

/// Finds `marker` in `size` bytes from `offset` (chunk by chunk, with overlap) and returns
/// the version characters after it.
fn scan_version(mut file: File, offset: u64, size: u64, marker: &[u8]) -> Option<String> {
    file.seek(SeekFrom::Start(offset)).ok()?;
    let finder = memchr::memmem::Finder::new(marker);
    let overlap = marker.len() + 32;
    let mut window: Vec<u8> = Vec::with_capacity(SCAN_CHUNK + overlap);
    let mut remaining = size;
    let mut chunk = vec![0u8; SCAN_CHUNK];
    while remaining > 0 {
        let want = chunk
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let read = file.read(&mut chunk[..want]).ok()?;
        if read == 0 {
            break;
        }
        remaining -= read as u64;
        window.extend_from_slice(&chunk[..read]);
        if let Some(at) = finder.find(&window) {
            let tail = &window[at + marker.len()..];
            if tail.len() >= 16 || remaining == 0 {
                return version_prefix(tail);
            }
        }
        let keep = window.len().saturating_sub(overlap);
        window.drain(..keep);
    }
    None
}

/// `20.20.2` from `20.20.2\0...`: digits and dots, at least `X.Y`.
pub fn version_prefix(bytes: &[u8]) -> Option<String> {
    let end = bytes
        .iter()
        .position(|b| !(b.is_ascii_digit() || *b == b'.'))
        .unwrap_or(bytes.len());
    let version = std::str::from_utf8(&bytes[..end])
        .ok()?
        .trim_end_matches('.');
    (version.contains('.') && version.starts_with(|c: char| c.is_ascii_digit()))
        .then(|| version.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_prefixes() {
        assert_eq!(version_prefix(b"20.20.2\0rest"), Some("20.20.2".into()));
        assert_eq!(version_prefix(b"24.21.0/"), Some("24.21.0".into()));
        assert_eq!(version_prefix(b"x1.2"), None);
        assert_eq!(version_prefix(b"7"), None);
    }

    #[test]
    fn reads_our_own_binary() {
        // This test binary is an ELF file; it exports no node symbols and names libc.
        let file = File::open("/proc/self/exe").unwrap();
        let facts = read_facts(file, &["napi_module_register"], &["libc.so"], |_| {
            Some(b"no such marker here")
        })
        .unwrap();
        assert!(facts.exports.is_empty());
        assert_eq!(facts.needs, vec!["libc.so".to_owned()]);
        assert_eq!(facts.version, None);
    }
}
