//! Program-counter symbolization: which function of which module an address is in, from the
//! process's mappings and the module's ELF symbol tables (parsed once per module and run).

use std::collections::HashMap;

use crate::model::code::{CodeLocation, CodeRegion};
use crate::parse::elf_symbols::Loaded;
use crate::parse::maps::{self, Mapping};

/// Symbolizes addresses of one process; modules are loaded through `load` and cached by
/// (device, inode), never by path.
pub struct Symbolizer<'a> {
    maps: &'a [Mapping],
    load: &'a dyn Fn(&Mapping) -> Loaded,
    cache: HashMap<((u32, u32), u64), Loaded>,
}

impl<'a> Symbolizer<'a> {
    pub fn new(maps: &'a [Mapping], load: &'a dyn Fn(&Mapping) -> Loaded) -> Self {
        Self {
            maps,
            load,
            cache: HashMap::new(),
        }
    }

    /// Where `pc` points.
    pub fn locate(&mut self, pc: u64) -> CodeLocation {
        let Some(index) = maps::find(self.maps, pc) else {
            return CodeLocation {
                region: CodeRegion::Unmapped,
                module: None,
                symbol: None,
                offset: 0,
                unverified: false,
            };
        };
        let mapping = &self.maps[index];
        if !mapping.is_file() {
            let region = match mapping.path.as_slice() {
                b"[vdso]" => CodeRegion::Vdso,
                b"[stack]" => CodeRegion::Stack,
                b"[heap]" => CodeRegion::Heap,
                b"" if mapping.exec => CodeRegion::Jit,
                b"" => CodeRegion::Anon,
                _ => CodeRegion::Other,
            };
            return CodeLocation {
                region,
                module: None,
                symbol: None,
                offset: pc - mapping.start,
                unverified: false,
            };
        }
        let file_offset = pc - mapping.start + mapping.offset;
        let module = basename(&mapping.path);
        let load = self.load;
        let loaded = self
            .cache
            .entry((mapping.device, mapping.inode))
            .or_insert_with(|| load(mapping))
            .clone();
        let found = match &loaded {
            Loaded::Symbols(symbols) => symbols.lookup(file_offset),
            Loaded::NoSymbols | Loaded::Unverified => None,
        };
        match found {
            Some((name, offset)) => CodeLocation {
                region: CodeRegion::File,
                module: Some(module),
                symbol: Some(demangle(name)),
                offset,
                unverified: false,
            },
            None => CodeLocation {
                region: CodeRegion::File,
                module: Some(module),
                symbol: None,
                offset: module_offset(self.maps, index, pc),
                unverified: matches!(loaded, Loaded::Unverified),
            },
        }
    }
}

/// The offset of `pc` from the lowest mapping of the same file (the load base).
fn module_offset(maps: &[Mapping], index: usize, pc: u64) -> u64 {
    let path = &maps[index].path;
    let base = maps[..=index]
        .iter()
        .rev()
        .take_while(|m| &m.path == path)
        .last()
        .map_or(maps[index].start, |m| m.start - m.offset);
    pc - base
}

fn basename(path: &[u8]) -> String {
    let path = path.strip_suffix(b" (deleted)").unwrap_or(path);
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    String::from_utf8_lossy(name).into_owned()
}

/// Demangles Rust and C++ (Itanium) names; others are returned as they are.
pub fn demangle(name: &str) -> String {
    if let Ok(rust) = rustc_demangle::try_demangle(name) {
        return format!("{rust:#}");
    }
    if name.starts_with("_Z")
        && let Ok(text) = cpp_demangle::Symbol::new(name).map(|symbol| symbol.demangle())
        && let Ok(text) = text
    {
        return text;
    }
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::elf_symbols::ModuleSymbols;
    use crate::parse::maps::parse_maps;

    #[test]
    fn anonymous_and_special_regions() {
        let maps = parse_maps(b"1000-2000 rwxp 00000000 00:00 0 \n3000-4000 r-xp 00000000 00:00 0 [vdso]\n5000-6000 rw-p 00000000 00:00 0 \n");
        let none = |_: &Mapping| Loaded::NoSymbols;
        let mut symbolizer = Symbolizer::new(&maps, &none);
        let jit = symbolizer.locate(0x1010);
        assert_eq!((jit.region, jit.offset), (CodeRegion::Jit, 0x10));
        assert_eq!(jit.display(0x1010), "[jit] 0x1010");
        assert_eq!(symbolizer.locate(0x3004).region, CodeRegion::Vdso);
        assert_eq!(symbolizer.locate(0x5000).region, CodeRegion::Anon);
        assert_eq!(symbolizer.locate(0x9000).region, CodeRegion::Unmapped);
    }

    #[test]
    fn module_without_symbols_gives_offset_from_base() {
        let maps = parse_maps(b"10000-11000 r--p 00000000 fe:01 5 /lib/libx.so\n11000-13000 r-xp 00001000 fe:01 5 /lib/libx.so\n");
        let none = |_: &Mapping| Loaded::NoSymbols;
        let mut symbolizer = Symbolizer::new(&maps, &none);
        let location = symbolizer.locate(0x11234);
        assert_eq!(location.display(0x11234), "libx.so+0x1234");
        let unverified = |_: &Mapping| Loaded::Unverified;
        let mut symbolizer = Symbolizer::new(&maps, &unverified);
        let location = symbolizer.locate(0x11234);
        assert!(location.unverified && location.symbol.is_none());
        assert_eq!(location.display(0x11234), "libx.so+0x1234 unverified");
    }

    #[test]
    fn symbolizes_our_own_function() {
        // This test binary is an ELF file with a symbol table: find a function of it.
        let exe = std::fs::read("/proc/self/exe").unwrap();
        let symbols = ModuleSymbols::parse(exe.as_slice()).unwrap();
        let maps = parse_maps(&std::fs::read("/proc/self/maps").unwrap());
        let here = symbolizes_our_own_function as fn() as usize as u64;
        let index = maps::find(&maps, here).unwrap();
        let file_offset = here - maps[index].start + maps[index].offset;
        let (name, offset) = symbols.lookup(file_offset).unwrap();
        assert!(
            demangle(name).contains("symbolizes_our_own_function"),
            "{name}"
        );
        assert_eq!(offset, 0);
    }

    #[test]
    fn demangles() {
        assert_eq!(demangle("_ZN4node5StartEiPPc"), "node::Start(int, char**)");
        assert_eq!(demangle("epoll_pwait"), "epoll_pwait");
        assert_eq!(
            demangle("_ZN4core3fmt5write17h0123456789abcdefE"),
            "core::fmt::write"
        );
    }
}
