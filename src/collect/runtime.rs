//! What runtime detection reads: the facts of a process's executable (and of the runtime
//! library it loads, such as libnode), cached per executable file (device and inode, the newest 256), and the
//! process's starting environment.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use crate::analyze::runtime::PROBE;
use crate::collect::ProcessDir;
use crate::collect::binary::{BinaryFacts, read_facts};
use crate::collect::modules::{file_identity, is_file_of, open_module};
use crate::collect::process::{Environ, Field};
use crate::parse::maps::{Mapping, parse_maps};

/// The identity of an executable file: device and inode (a path can be replaced, and two
/// paths can name one file).
type FileKey = (u64, u64);

/// At most this many executables' facts are kept; the oldest go first. A long-running view
/// sees processes come and go without the cache growing.
const CACHE_LIMIT: usize = 256;

/// Facts by executable file (`None`: not an ELF file we could read), oldest first.
#[derive(Default)]
struct FactsCache {
    facts: HashMap<FileKey, Option<Arc<BinaryFacts>>>,
    order: VecDeque<FileKey>,
}

impl FactsCache {
    fn get(&self, key: &FileKey) -> Option<Option<Arc<BinaryFacts>>> {
        self.facts.get(key).cloned()
    }

    fn insert(&mut self, key: FileKey, facts: Option<Arc<BinaryFacts>>) {
        if self.facts.insert(key, facts).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > CACHE_LIMIT {
            if let Some(oldest) = self.order.pop_front() {
                self.facts.remove(&oldest);
            }
        }
    }
}

/// The facts cache, shared by the reader threads of one run (and every refresh of `top`).
fn cache() -> &'static Mutex<FactsCache> {
    static CACHE: OnceLock<Mutex<FactsCache>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(FactsCache::default()))
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
        return known;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_keeps_the_newest_executables_only() {
        let mut cache = FactsCache::default();
        for inode in 0..(CACHE_LIMIT as u64 + 10) {
            cache.insert((1, inode), None);
        }
        assert_eq!(cache.facts.len(), CACHE_LIMIT);
        assert_eq!(cache.order.len(), CACHE_LIMIT);
        assert!(cache.get(&(1, 0)).is_none());
        assert!(cache.get(&(1, CACHE_LIMIT as u64 + 9)).is_some());
        cache.insert((1, CACHE_LIMIT as u64 + 9), None);
        assert_eq!(cache.order.len(), CACHE_LIMIT);
    }
}
