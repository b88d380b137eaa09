//! `procscope mem PID`: where a process's memory goes — the main stack and every thread's
//! stack, the heap and malloc arenas, anonymous memory, code, libraries, files, shared
//! memory — with virtual size, RSS, PSS, private and swap, adding up to the kernel's totals.

use std::collections::{BTreeMap, HashMap};

use crate::analyze::memory::{Category, ThreadSp, classify};
use crate::collect::memory::read_memory;
use crate::collect::target::open_process;
use crate::collect::{Needs, ProcFs, SystemInfo, TaskKind};
use crate::commands::not_a_process;
use crate::exit;
use crate::model::Unavailable;
use crate::model::memory::{CategoryRow, MappingRow, MemoryReport, RollupTotals, Sizes};
use crate::model::report::MemReport;
use crate::model::text::lossless;
use crate::parse::smaps::SmapsEntry;
use crate::query::mem::MemQuery;

/// Reads and classifies the memory of `pid`.
pub fn run(
    pid: u32,
    query: MemQuery,
    procfs: &ProcFs,
    system: &SystemInfo,
) -> anyhow::Result<MemReport> {
    crate::query::pid::check_pid_max(pid, system.pid_max).map_err(crate::exit::usage)?;
    let (dir, process) =
        open_process(procfs, pid, Needs::STAT).map_err(|why| not_a_process("mem", pid, why))?;
    match process.kind() {
        TaskKind::KernelThread => {
            return Err(exit::target_pid(
                pid,
                Unavailable::KernelThread,
                format!("PID {pid} is a kernel thread: it has no user-space memory"),
            ));
        }
        TaskKind::Zombie => {
            return Err(exit::target_pid(
                pid,
                Unavailable::Zombie,
                format!("PID {pid} is a zombie: its memory is already freed"),
            ));
        }
        TaskKind::Normal => {}
    }
    let files = read_memory(&dir, !query.maps);
    let entries = files.smaps.map_err(|why| {
        exit::target_pid(
            pid,
            why,
            format!("cannot read the memory map of PID {pid}: {why}"),
        )
    })?;
    let names: HashMap<u32, String> = files
        .threads
        .iter()
        .map(|(tid, name, _)| (*tid, lossless(name).0))
        .collect();
    let sps = ThreadSp::of_threads(&files.threads);
    let maps: Vec<_> = entries.iter().map(|e| e.mapping.clone()).collect();
    let categories = classify(&maps, files.exe.as_deref(), &sps);
    let report = MemoryReport {
        pid,
        process_name: process.name().ok().map(|n| lossless(&n).0),
        categories: summarize(&entries, &categories, &names, query.libs),
        total: entries.iter().fold(Sizes::default(), |mut total, e| {
            total.add(&sizes_of(e));
            total
        }),
        rollup: files.rollup.ok().map(|r| RollupTotals {
            rss_bytes: r.rss,
            pss_bytes: r.pss,
            private_bytes: r.private,
            swap_bytes: r.swap,
        }),
        unsampled_threads: (files.threads.len() - sps.len()) as u64,
        mappings: query.maps.then(|| mapping_rows(&entries, &categories)),
    };
    Ok(MemReport {
        report,
        maps: query.maps,
    })
}

fn sizes_of(entry: &SmapsEntry) -> Sizes {
    Sizes {
        virtual_bytes: entry.mapping.size(),
        rss_bytes: entry.rss,
        pss_bytes: entry.pss,
        private_bytes: entry.private,
        swap_bytes: entry.swap,
        mappings: 1,
    }
}

/// Groups mappings into summary lines, in a fixed order: stacks, heap, anonymous, code,
/// libraries, files, shared memory, special.
fn summarize(
    entries: &[SmapsEntry],
    categories: &[Category],
    names: &HashMap<u32, String>,
    libs: bool,
) -> Vec<CategoryRow> {
    let mut groups: BTreeMap<Category, Sizes> = BTreeMap::new();
    let mut exe_name = None;
    for (entry, category) in entries.iter().zip(categories) {
        let key = match category {
            Category::Library(_) if !libs => Category::Library(String::new()),
            Category::Executable => {
                exe_name.get_or_insert_with(|| basename(&entry.mapping.path));
                Category::Executable
            }
            other => other.clone(),
        };
        groups.entry(key).or_default().add(&sizes_of(entry));
    }
    groups
        .into_iter()
        .map(|(category, sizes)| {
            let (tid, thread_name, file) = match &category {
                Category::ThreadStack(Some(tid)) => (Some(*tid), names.get(tid).cloned(), None),
                Category::MainStack => (None, None, None),
                Category::Library(name) if !name.is_empty() => (None, None, Some(name.clone())),
                Category::Library(_) => (None, None, None),
                Category::Executable => (None, None, exe_name.clone()),
                _ => (None, None, None),
            };
            let label = match &category {
                Category::Library(name) if name.is_empty() => "shared libraries".to_owned(),
                other => other.label().to_owned(),
            };
            CategoryRow {
                category: category.key().to_owned(),
                label,
                tid,
                thread_name,
                file,
                sizes,
            }
        })
        .collect()
}

fn mapping_rows(entries: &[SmapsEntry], categories: &[Category]) -> Vec<MappingRow> {
    entries
        .iter()
        .zip(categories)
        .map(|(entry, category)| {
            let (path, path_b64) = lossless(&entry.mapping.path);
            MappingRow {
                start: entry.mapping.start,
                end: entry.mapping.end,
                perms: entry.mapping.perms(),
                offset: entry.mapping.offset,
                category: category.key().to_owned(),
                tid: match category {
                    Category::ThreadStack(tid) => *tid,
                    _ => None,
                },
                path,
                path_b64,
                sizes: sizes_of(entry),
                device: format!(
                    "{:02x}:{:02x}",
                    entry.mapping.device.0, entry.mapping.device.1
                ),
                inode: entry.mapping.inode,
                referenced_bytes: entry.extra.referenced,
                anonymous_bytes: entry.extra.anonymous,
                lazy_free_bytes: entry.extra.lazy_free,
                shmem_pmd_mapped_bytes: entry.extra.shmem_pmd_mapped,
                locked_bytes: entry.extra.locked,
                thp_eligible: entry.extra.thp_eligible,
                vm_flags: entry.extra.vm_flags.clone(),
            }
        })
        .collect()
}

fn basename(path: &[u8]) -> String {
    let live = path.strip_suffix(b" (deleted)").unwrap_or(path);
    String::from_utf8_lossy(live.rsplit(|&b| b == b'/').next().unwrap_or(live)).into_owned()
}
