//! What runtime detection reads: the facts of a process's executable (and of the runtime
//! library it loads, such as libnode), cached per executable for the whole run, and the
//! process's starting environment.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::analyze::runtime::PROBE;
use crate::collect::ProcessDir;
use crate::collect::binary::{BinaryFacts, read_facts};
use crate::collect::modules::{file_identity, is_file_of, open_module};
use crate::collect::process::{Environ, Field};
use crate::parse::maps::{Mapping, parse_maps};

/// Facts by executable file (device, inode); `None`: not an ELF file we could read.
type FactsByFile = HashMap<(u64, u64), Option<Arc<BinaryFacts>>>;

/// Facts by executable file, shared by the reader threads of one run.
fn cache() -> &'static Mutex<FactsByFile> {
    static CACHE: OnceLock<Mutex<FactsByFile>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The facts of the process's executable, read once per executable file (device and
/// inode, not path: two files may have one name in two mount namespaces). `exe` (a link
/// `/proc/PID/exe` may point anywhere the process could open) is opened, and its first
/// reading is trusted only when a mapping of the process has its device and inode. When the
/// executable only names a runtime library (a distribution's `node` linking libnode), the
/// library's facts are merged in, found through the process's maps.
pub fn binary_facts(dir: &ProcessDir, _exe: &[u8]) -> Option<Arc<BinaryFacts>> {
    let exe = dir.open(b"exe").ok()?;
    let identity = file_identity(&exe)?;
    if let Some(known) = cache().lock().ok()?.get(&identity) {
        return known.clone();
    }
    let maps = parse_maps(&dir.read("maps").ok()?);
    if !maps
        .iter()
        .any(|m| m.is_file() && is_file_of(&exe, m.device, m.inode))
    {
        return None;
    }
    let facts = read_binary(dir, exe, &maps).map(Arc::new);
    if let Ok(mut cache) = cache().lock() {
        cache.insert(identity, facts.clone());
    }
    facts
}

fn read_binary(dir: &ProcessDir, exe: std::fs::File, maps: &[Mapping]) -> Option<BinaryFacts> {
    let mut facts = read_facts(
        exe,
        PROBE.symbols,
        PROBE.libraries,
        Some(PROBE.version_marker),
    )?;
    if facts.exports.is_empty() && !facts.needs.is_empty() {
        let library = maps.iter().find(|m| {
            let name = m.path.rsplit(|&b| b == b'/').next().unwrap_or(&m.path);
            facts
                .needs
                .iter()
                .any(|lib| name.starts_with(lib.as_bytes()))
        })?;
        let file = open_module(dir, library).verified()?;
        let library_facts = read_facts(file, PROBE.symbols, &[], Some(PROBE.version_marker))?;
        facts.exports = library_facts.exports;
        facts.version = facts.version.or(library_facts.version);
    }
    Some(facts)
}

/// The starting environment as (name, value) pairs.
pub fn read_environ(dir: &ProcessDir) -> Field<Environ> {
    let raw = dir.read_whole("environ", 1 << 20)?;
    Ok(raw
        .split(|&b| b == 0)
        .filter(|entry| !entry.is_empty())
        .filter_map(|entry| {
            let eq = entry.iter().position(|&b| b == b'=')?;
            Some((entry[..eq].to_vec(), entry[eq + 1..].to_vec()))
        })
        .collect())
}
