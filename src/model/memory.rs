//! The `mem` payload: memory by category (stacks, heap, arenas, code, libraries...) and,
//! with `--maps`, by mapping.

use schemars::JsonSchema;
use serde::Serialize;

/// Sizes of a group of mappings, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Sizes {
    pub virtual_bytes: u64,
    pub rss_bytes: u64,
    pub pss_bytes: u64,
    /// Private_Clean + Private_Dirty: memory only this process uses (USS).
    pub private_bytes: u64,
    pub swap_bytes: u64,
    pub mappings: u64,
}

impl Sizes {
    pub fn add(&mut self, other: &Sizes) {
        self.virtual_bytes += other.virtual_bytes;
        self.rss_bytes += other.rss_bytes;
        self.pss_bytes += other.pss_bytes;
        self.private_bytes += other.private_bytes;
        self.swap_bytes += other.swap_bytes;
        self.mappings += other.mappings;
    }
}

/// One line of the summary.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CategoryRow {
    /// main_stack, thread_stack, thread_stack_unknown_owner, heap, malloc_arena,
    /// anonymous_data, anonymous_executable, reservation, executable, library, file,
    /// shared_memory or special.
    pub category: String,
    /// Words for people: `thread stack`, `shared library`...
    pub label: String,
    /// The thread whose stack this is.
    pub tid: Option<u32>,
    pub thread_name: Option<String>,
    /// The library (with `--libs`) or executable file name.
    pub file: Option<String>,
    #[serde(flatten)]
    pub sizes: Sizes,
}

/// One mapping (with `--maps`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MappingRow {
    pub start: u64,
    pub end: u64,
    /// `r-xp` as the kernel prints it.
    pub perms: String,
    pub offset: u64,
    pub category: String,
    pub tid: Option<u32>,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_b64: Option<String>,
    #[serde(flatten)]
    pub sizes: Sizes,
    /// The file's device as the kernel prints it (`fe:01`; `00:00` for anonymous memory).
    pub device: String,
    pub inode: u64,
    /// The figures `pmap -X` adds, from smaps.
    pub referenced_bytes: u64,
    pub anonymous_bytes: u64,
    pub lazy_free_bytes: u64,
    pub shmem_pmd_mapped_bytes: u64,
    pub locked_bytes: u64,
    /// May use transparent huge pages; null on kernels that do not say.
    pub thp_eligible: Option<bool>,
    /// The two-letter VmFlags (`rd wr mr mw me ac`; see proc(5)).
    pub vm_flags: Vec<String>,
}

/// The kernel's own totals (`smaps_rollup`).
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub struct RollupTotals {
    pub rss_bytes: u64,
    pub pss_bytes: u64,
    pub private_bytes: u64,
    pub swap_bytes: u64,
}

/// Memory of one process.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MemoryReport {
    pub pid: u32,
    pub process_name: Option<String>,
    pub categories: Vec<CategoryRow>,
    /// The sum of the categories.
    pub total: Sizes,
    /// The kernel's totals from smaps_rollup. RSS, private and swap equal `total` exactly;
    /// PSS can differ by up to 1 KiB per mapping (the kernel truncates each mapping's PSS to
    /// whole KiB in smaps but sums the exact values for smaps_rollup).
    pub rollup: Option<RollupTotals>,
    /// Threads whose stack pointer could not be sampled (running, or denied).
    pub unsampled_threads: u64,
    /// Every mapping, with `--maps`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mappings: Option<Vec<MappingRow>>,
}
