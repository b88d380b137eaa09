//! The function symbols of an ELF module: parsed from an image in memory or read on demand,
//! looked up by file offset. Pure: the caller opens the file.

use std::sync::Arc;

use object::{Object, ObjectSegment, ObjectSymbol, SymbolKind};

/// The function symbols of one ELF module, sorted by address.
#[derive(Debug, Default)]
pub struct ModuleSymbols {
    /// The GNU build ID, which names the module's separate debug file.
    pub build_id: Option<Vec<u8>>,
    /// Loadable segments: (file offset, file size, virtual address).
    segments: Vec<(u64, u64, u64)>,
    /// (start, size, name), sorted by start.
    functions: Vec<(u64, u64, String)>,
}

impl ModuleSymbols {
    /// Parses an ELF image, in memory or read on demand (`object::ReadCache`); `None` if it
    /// is not one.
    pub fn parse<'data, R: object::ReadRef<'data>>(image: R) -> Option<Self> {
        let file = object::File::parse(image).ok()?;
        let build_id = file.build_id().ok().flatten().map(<[u8]>::to_vec);
        let segments = file
            .segments()
            .map(|segment| {
                let (offset, size) = segment.file_range();
                (offset, size, segment.address())
            })
            .collect();
        let mut functions: Vec<(u64, u64, String)> = file
            .symbols()
            .chain(file.dynamic_symbols())
            .filter(|symbol| symbol.kind() == SymbolKind::Text && symbol.address() != 0)
            .filter_map(|symbol| {
                Some((
                    symbol.address(),
                    symbol.size(),
                    symbol.name().ok()?.to_owned(),
                ))
            })
            .filter(|(_, _, name)| !name.is_empty())
            .collect();
        functions.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        functions.dedup_by_key(|entry| entry.0);
        Some(Self {
            build_id,
            segments,
            functions,
        })
    }

    /// Adds the functions of the module's separate debug file (same addresses; a stripped
    /// library keeps only exported names, its debug file has the internal ones too).
    pub fn merge_debug(&mut self, debug: ModuleSymbols) {
        self.functions.extend(debug.functions);
        self.functions
            .sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        self.functions.dedup_by_key(|entry| entry.0);
    }

    /// Where a distribution keeps the debug file of this module:
    /// `usr/lib/debug/.build-id/ab/cdef….debug`.
    pub fn debug_path(&self) -> Option<String> {
        let id = self.build_id.as_ref().filter(|id| id.len() > 1)?;
        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
        Some(format!(
            "usr/lib/debug/.build-id/{}/{}.debug",
            &hex[..2],
            &hex[2..]
        ))
    }

    /// The function containing a file offset of this module, with the offset into it.
    pub fn lookup(&self, file_offset: u64) -> Option<(&str, u64)> {
        let address = self
            .segments
            .iter()
            .find(|(offset, size, _)| (*offset..offset + size).contains(&file_offset))
            .map(|(offset, _, vaddr)| file_offset - offset + vaddr)?;
        let index = self
            .functions
            .partition_point(|(start, _, _)| *start <= address);
        let (start, size, name) = self.functions.get(index.checked_sub(1)?)?;
        let within = address - start;
        (*size == 0 || within < *size).then_some((name.as_str(), within))
    }
}

/// What loading a module's symbols gave.
#[derive(Debug, Clone)]
pub enum Loaded {
    Symbols(Arc<ModuleSymbols>),
    /// The file is the mapped one but holds no ELF symbols we can read.
    NoSymbols,
    /// The file could not be opened, or not proven to be the mapped one.
    Unverified,
}
