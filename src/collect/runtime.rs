//! What runtime detection reads: for each runtime probe (passed in: collect knows no
//! runtime), what the process's executable and the runtime libraries it needs say about it
//! (cached per executable file: device and inode, the newest 256), which probed libraries
//! the process has mapped (a `dlopen`ed libjvm is in no DT_NEEDED), the version written
//! next to them, and the process's starting environment. Judging is `analyze::runtime`'s.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use crate::collect::ProcessDir;
use crate::collect::binary::{BinaryFacts, RuntimeMatch, read_facts, version_prefix};
use crate::collect::modules::{file_identity, is_file_of, open_in_root, open_module};
use crate::collect::procfs::Files;
use crate::model::Unavailable;
use crate::model::runtime::{RuntimeProbe, VersionSource};
use crate::parse::maps::{Mapping, parse_maps};

/// A starting environment: (name, value) pairs.
pub type Environ = Vec<(Vec<u8>, Vec<u8>)>;

/// The identity of an executable file (device and inode: a path can be replaced, and two
/// paths, in two containers, can name two files) and of the probe list it was read with.
type FileKey = (u64, u64, usize);

/// At most this many executables' facts are kept; the oldest go first. A long-running view
/// sees processes come and go without the cache growing.
const CACHE_LIMIT: usize = 256;

/// A version file (the JDK's `release`) is read up to this size.
const MAX_VERSION_FILE: u64 = 64 << 10;

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

/// True when the cache knows the executable file (device, inode) holds no runtime any of
/// `probes` looks for (not an ELF file we could read, or nothing matched).
pub fn known_without_runtime(device: u64, inode: u64, probes: &[RuntimeProbe]) -> bool {
    let key = (device, inode, probes.as_ptr() as usize);
    let known = cache().lock().ok().and_then(|cache| cache.get(&key));
    matches!(known, Some(None)) || known.flatten().is_some_and(|f| f.runtimes.is_empty())
}

/// The facts cache, shared by the reader threads of one run (and every refresh of `top`).
fn cache() -> &'static Mutex<FactsCache> {
    static CACHE: OnceLock<Mutex<FactsCache>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(FactsCache::default()))
}

/// What the process's executable says about each of `probes`, read once per executable
/// file (device and inode, not path). `exe` (a link `/proc/PID/exe` may point anywhere the
/// process could open) is opened, and its first reading is trusted only when a mapping of
/// the process has its device and inode. When the executable only names a runtime library
/// (a distribution's `node` linking libnode), the library's facts are merged in, found
/// through the process's maps. For a candidate of a probe with `mapped` libraries (the
/// `java` launcher, which `dlopen`s libjvm), this process's maps are searched for them every
/// time: a library loaded at run time is a fact of the process, not of its executable.
pub fn binary_facts(dir: &ProcessDir, probes: &[RuntimeProbe]) -> Option<Arc<BinaryFacts>> {
    if probes.is_empty() {
        return None;
    }
    let exe = dir.open(b"exe").ok()?;
    let (device, inode) = file_identity(&exe)?;
    let key = (device, inode, probes.as_ptr() as usize);
    let known = cache().lock().ok()?.get(&key);
    let (facts, maps) = match known {
        Some(facts) => (facts?, None),
        None => {
            let maps = parse_maps(&dir.read("maps").ok()?);
            if !maps
                .iter()
                .any(|m| m.is_file() && is_file_of(&exe, m.device, m.inode))
            {
                return None;
            }
            let facts = read_executable(dir, exe, &maps, probes).map(Arc::new);
            if let Ok(mut cache) = cache().lock() {
                cache.insert(key, facts.clone());
            }
            (facts?, Some(maps))
        }
    };
    let wants_maps = probes
        .iter()
        .any(|p| !p.mapped.is_empty() && facts.of(p.runtime).is_some());
    if !wants_maps {
        return Some(facts);
    }
    let maps = match maps {
        Some(maps) => maps,
        None => parse_maps(&dir.read("maps").ok()?),
    };
    Some(Arc::new(with_mapped(dir, &facts, &maps, probes)))
}

/// [`binary_facts`] for the probes the process's directory was opened with.
pub fn probed_facts(dir: &ProcessDir) -> Option<Arc<BinaryFacts>> {
    binary_facts(dir, dir.runtimes())
}

/// The file name of a mapping's path (`libjvm.so` of `/usr/lib/jvm/…/libjvm.so`).
fn file_name(path: &[u8]) -> &[u8] {
    path.rsplit(|&b| b == b'/').next().unwrap_or(path)
}

fn marker_of(probe: &RuntimeProbe) -> Option<&'static [u8]> {
    match probe.version {
        VersionSource::Marker(marker) => Some(marker),
        VersionSource::FileAbove { .. } => None,
    }
}

/// Reads the executable once for every probe's symbols and libraries, then tells apart what
/// each probe found. A probe that is only named in DT_NEEDED has its library read from the
/// process's maps for its symbols and version.
fn read_executable(
    dir: &ProcessDir,
    exe: std::fs::File,
    maps: &[Mapping],
    probes: &[RuntimeProbe],
) -> Option<BinaryFacts> {
    let symbols: Vec<&str> = probes
        .iter()
        .flat_map(|p| p.symbols.iter().copied())
        .collect();
    let libraries: Vec<&str> = probes
        .iter()
        .flat_map(|p| p.libraries.iter().copied())
        .collect();
    // The version is scanned for the first probe whose symbols the file defines.
    let owner = |exports: &[String]| {
        probes
            .iter()
            .find(|p| p.symbols.iter().any(|s| exports.iter().any(|e| e == s)))
    };
    let elf = read_facts(exe, &symbols, &libraries, |exports| {
        owner(exports).and_then(marker_of)
    })?;
    let versioned = owner(&elf.exports).map(|p| p.runtime);
    let mut runtimes = Vec::new();
    for probe in probes {
        let pick = |found: &[String], wanted: &[&str]| -> Vec<String> {
            found
                .iter()
                .filter(|f| wanted.contains(&f.as_str()))
                .cloned()
                .collect()
        };
        let mut found = RuntimeMatch {
            runtime: probe.runtime,
            exports: pick(&elf.exports, probe.symbols),
            needs: pick(&elf.needs, probe.libraries),
            mapped: None,
            version: (versioned == Some(probe.runtime))
                .then(|| elf.version.clone())
                .flatten(),
        };
        if found.exports.is_empty() && found.needs.is_empty() {
            continue;
        }
        if found.exports.is_empty() {
            merge_needed_library(dir, maps, probe, &mut found);
        }
        runtimes.push(found);
    }
    Some(BinaryFacts { runtimes })
}

/// The symbols and version of the runtime library the executable needs (libnode), read from
/// the file the process has mapped under that name.
fn merge_needed_library(
    dir: &ProcessDir,
    maps: &[Mapping],
    probe: &RuntimeProbe,
    found: &mut RuntimeMatch,
) {
    let Some(library) = maps.iter().find(|m| {
        let name = file_name(&m.path);
        found
            .needs
            .iter()
            .any(|lib| name.starts_with(lib.as_bytes()))
    }) else {
        return;
    };
    let Some(file) = open_module(dir, library).verified() else {
        return;
    };
    if let Some(facts) = read_facts(file, probe.symbols, &[], |_| marker_of(probe)) {
        found.exports = facts.exports;
        found.version = found.version.take().or(facts.version);
    }
}

/// `facts` with, for each probe that has `mapped` libraries, the one this process maps and
/// the version written next to it.
fn with_mapped(
    dir: &ProcessDir,
    facts: &BinaryFacts,
    maps: &[Mapping],
    probes: &[RuntimeProbe],
) -> BinaryFacts {
    let mut facts = facts.clone();
    for found in &mut facts.runtimes {
        let Some(probe) = probes.iter().find(|p| p.runtime == found.runtime) else {
            continue;
        };
        let mapping = maps.iter().find(|m| {
            m.is_file() && {
                let name = file_name(&m.path);
                probe
                    .mapped
                    .iter()
                    .any(|lib| name.starts_with(lib.as_bytes()))
            }
        });
        let Some(mapping) = mapping else {
            continue;
        };
        found.mapped = Some(mapping.path.clone());
        if let VersionSource::FileAbove { file, key, levels } = probe.version {
            found.version = found
                .version
                .take()
                .or_else(|| version_above(dir, &mapping.path, file, key, levels));
        }
    }
    facts
}

/// The version in a `KEY="1.2.3"` line of the file `file` in a directory above `library`
/// (at most `levels` up), read below the process's root without following links.
fn version_above(
    dir: &ProcessDir,
    library: &[u8],
    file: &str,
    key: &str,
    levels: usize,
) -> Option<String> {
    let mut folder = library;
    for _ in 0..=levels {
        let cut = folder.iter().rposition(|&b| b == b'/')?;
        folder = &folder[..cut];
        let mut path = folder.to_vec();
        path.push(b'/');
        path.extend_from_slice(file.as_bytes());
        let Ok(fd) = open_in_root(dir, &path) else {
            continue;
        };
        if file_identity(&fd).is_none() {
            continue;
        }
        let mut text = Vec::new();
        use std::io::Read;
        std::fs::File::from(fd)
            .take(MAX_VERSION_FILE)
            .read_to_end(&mut text)
            .ok()?;
        return keyed_version(&text, key);
    }
    None
}

/// The version of `KEY="17.0.15"` (quotes optional) in a `release` file.
fn keyed_version(text: &[u8], key: &str) -> Option<String> {
    text.split(|&b| b == b'\n').find_map(|line| {
        let value = line.strip_prefix(key.as_bytes())?.strip_prefix(b"=")?;
        let value = value.strip_prefix(b"\"").unwrap_or(value);
        version_prefix(value)
    })
}

/// The starting environment of a process (a thread's or a lone file's is not read).
pub fn environ_of(dir: &impl Files) -> Result<Environ, Unavailable> {
    dir.process_dir()
        .map_or(Err(Unavailable::Unsupported), read_environ)
}

/// The starting environment as (name, value) pairs.
pub fn read_environ(dir: &ProcessDir) -> Result<Environ, Unavailable> {
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
            cache.insert((1, inode, 0), None);
        }
        assert_eq!(cache.facts.len(), CACHE_LIMIT);
        assert_eq!(cache.order.len(), CACHE_LIMIT);
        assert!(cache.get(&(1, 0, 0)).is_none());
        assert!(cache.get(&(1, CACHE_LIMIT as u64 + 9, 0)).is_some());
        cache.insert((1, CACHE_LIMIT as u64 + 9, 0), None);
        assert_eq!(cache.order.len(), CACHE_LIMIT);
    }

    /// A probe for what every test binary has: libc, named in DT_NEEDED and mapped.
    static LIBC_PROBE: &[RuntimeProbe] = &[RuntimeProbe {
        runtime: "libc-user",
        symbols: &[],
        libraries: &["libc.so"],
        mapped: &["libc.so"],
        version: VersionSource::FileAbove {
            file: "no-such-release-file",
            key: "VERSION",
            levels: 1,
        },
    }];

    #[test]
    fn a_candidates_mapped_library_is_found_in_its_maps() {
        let procfs = crate::collect::ProcFs::open(std::path::Path::new("/proc"))
            .unwrap()
            .with_runtimes(LIBC_PROBE);
        let dir = procfs.process(std::process::id()).unwrap();
        let facts = binary_facts(&dir, dir.runtimes()).expect("our own executable is read");
        let found = facts.of("libc-user").expect("libc is needed");
        assert_eq!(found.needs, ["libc.so"]);
        assert!(
            found
                .mapped
                .as_deref()
                .is_some_and(|path| file_name(path).starts_with(b"libc.so")),
            "{found:?}"
        );
        assert_eq!(found.version, None);
        // Nothing probed for, nothing read.
        assert!(binary_facts(&dir, &[]).is_none());
    }

    #[test]
    fn release_file_versions() {
        let release = b"IMPLEMENTOR=\"Debian\"\nJAVA_RUNTIME_VERSION=\"17.0.15+6\"\nJAVA_VERSION=\"17.0.15\"\n";
        assert_eq!(
            keyed_version(release, "JAVA_VERSION"),
            Some("17.0.15".into())
        );
        assert_eq!(
            keyed_version(b"JAVA_VERSION=21.0.2\n", "JAVA_VERSION"),
            Some("21.0.2".into())
        );
        assert_eq!(keyed_version(b"OTHER=\"1.2\"\n", "JAVA_VERSION"), None);
    }
}
