//! Facts about an executable or library file that identify a runtime: exported symbols,
//! needed libraries, and a version string in its read-only data. The file is read on demand
//! (headers, symbol tables, a few MiB of `.rodata`), never loaded whole.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use object::{Object, ObjectSection, ObjectSymbol};

/// How much of `.rodata` to scan for a version string before giving up.
const MAX_RODATA_SCAN: u64 = 64 << 20;
const SCAN_CHUNK: usize = 1 << 20;

/// What a binary says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BinaryFacts {
    /// Names from `symbols` that it exports in `.dynsym`.
    pub exports: Vec<String>,
    /// Its `.dynstr` names a library starting with each of `needed` prefixes (DT_NEEDED).
    pub needs: Vec<String>,
    /// The text after `marker` in `.rodata`, up to the first byte that is not a version
    /// character (`20.20.2` after `node.js/v`).
    pub version: Option<String>,
}

/// Reads the facts of an ELF file: which of `symbols` it exports, which of `libraries` it
/// names in `.dynstr`, and the version after `marker` in `.rodata` (if `marker` is given).
pub fn read_facts(
    file: File,
    symbols: &[&str],
    libraries: &[&str],
    marker: Option<&[u8]>,
) -> Option<BinaryFacts> {
    let cache = object::ReadCache::new(file);
    let elf = object::File::parse(&cache).ok()?;
    let exports = elf
        .dynamic_symbols()
        .filter_map(|s| s.name().ok().map(str::to_owned))
        .filter(|name| symbols.contains(&name.as_str()))
        .collect();
    let dynstr = elf
        .section_by_name(".dynstr")
        .and_then(|s| s.data().ok())
        .unwrap_or_default();
    let needs = libraries
        .iter()
        .filter(|lib| memchr::memmem::find(dynstr, lib.as_bytes()).is_some())
        .map(|lib| (*lib).to_owned())
        .collect();
    let rodata = elf.section_by_name(".rodata").and_then(|s| s.file_range());
    drop(elf);
    let version = match (marker, rodata) {
        (Some(marker), Some((offset, size))) => scan_version(
            cache.into_inner(),
            offset,
            size.min(MAX_RODATA_SCAN),
            marker,
        ),
        _ => None,
    };
    Some(BinaryFacts {
        exports,
        needs,
        version,
    })
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
fn version_prefix(bytes: &[u8]) -> Option<String> {
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
        let facts = read_facts(
            file,
            &["napi_module_register"],
            &["libc.so"],
            Some(b"no such marker here"),
        )
        .unwrap();
        assert!(facts.exports.is_empty());
        assert_eq!(facts.needs, vec!["libc.so".to_owned()]);
        assert_eq!(facts.version, None);
    }
}
