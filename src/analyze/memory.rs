//! Where a process's memory goes: each mapping classified as a stack (whose thread), the
//! heap, a malloc arena, anonymous data, JIT code, a reservation, the executable, a library,
//! another file, shared memory, or a kernel-provided page.

use crate::analyze::stacks::stack_of;
use crate::parse::maps::{self, Mapping};

/// glibc's per-thread malloc arenas are 64 MiB-aligned reservations of this size on 64-bit.
pub const ARENA_SIZE: u64 = 64 << 20;
/// A `---p` mapping at most this big directly below a stack is its guard.
const MAX_GUARD: u64 = 1 << 20;

/// What a mapping is used for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    MainStack,
    /// A thread's stack (with its guard page); `None` when no thread's stack pointer was
    /// found in it, recognised by the guard page alone.
    ThreadStack(Option<u32>),
    Heap,
    MallocArena,
    AnonData,
    AnonExec,
    Reservation,
    Executable,
    /// A shared library, by file name.
    Library(String),
    FileMapping,
    SharedMemory,
    Special,
}

impl Category {
    /// The snake_case name in JSON.
    pub fn key(&self) -> &'static str {
        match self {
            Category::MainStack => "main_stack",
            Category::ThreadStack(Some(_)) => "thread_stack",
            Category::ThreadStack(None) => "thread_stack_unknown_owner",
            Category::Heap => "heap",
            Category::MallocArena => "malloc_arena",
            Category::AnonData => "anonymous_data",
            Category::AnonExec => "anonymous_executable",
            Category::Reservation => "reservation",
            Category::Executable => "executable",
            Category::Library(_) => "library",
            Category::FileMapping => "file",
            Category::SharedMemory => "shared_memory",
            Category::Special => "special",
        }
    }

    /// Words for tables.
    pub fn label(&self) -> &'static str {
        match self {
            Category::MainStack => "main stack",
            Category::ThreadStack(Some(_)) => "thread stack",
            Category::ThreadStack(None) => "thread stack (owner unknown)",
            Category::Heap => "heap [heap]",
            Category::MallocArena => "heap (malloc arenas)",
            Category::AnonData => "anonymous data",
            Category::AnonExec => "anonymous executable (JIT)",
            Category::Reservation => "reservations (PROT_NONE)",
            Category::Executable => "executable",
            Category::Library(_) => "shared library",
            Category::FileMapping => "other files",
            Category::SharedMemory => "shared memory",
            Category::Special => "special",
        }
    }
}

/// What kind of memory an address is in: `heap` (`[heap]`), `static` (a module's data or
/// the .bss right after it: an anonymous mapping that continues a private writable file
/// mapping, the data segment), `file` (read-only file data), `anonymous`, or `other`. An
/// anonymous mapping placed right after a read-only, executable or shared file mapping
/// (where mmap put a SharedArrayBuffer or a malloc arena) is no module's .bss.
pub fn address_region(maps: &[Mapping], address: u64) -> Option<&'static str> {
    let index = maps::find(maps, address)?;
    let mapping = &maps[index];
    Some(if mapping.path == b"[heap]" {
        "heap"
    } else if mapping.is_file() {
        if mapping.write { "static" } else { "file" }
    } else if mapping.is_anonymous() {
        let after_data_segment = index > 0 && {
            let before = &maps[index - 1];
            before.is_file() && before.write && !before.shared && before.end == mapping.start
        };
        if after_data_segment {
            "static"
        } else {
            "anonymous"
        }
    } else {
        "other"
    })
}

/// A thread's sampled stack pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadSp {
    pub tid: u32,
    pub sp: u64,
}

impl ThreadSp {
    /// The stack pointers of the threads whose pointer was read (from `(tid, name, sp)`).
    pub fn of_threads(threads: &[(u32, Vec<u8>, Option<u64>)]) -> Vec<ThreadSp> {
        threads
            .iter()
            .filter_map(|(tid, _, sp)| {
                Some(ThreadSp {
                    tid: *tid,
                    sp: (*sp)?,
                })
            })
            .collect()
    }
}

/// Classifies every mapping. `exe` is the executable's path; `threads` the sampled stack
/// pointers.
pub fn classify(maps: &[Mapping], exe: Option<&[u8]>, threads: &[ThreadSp]) -> Vec<Category> {
    let mut categories: Vec<Option<Category>> = vec![None; maps.len()];
    for thread in threads {
        let Some(index) = maps::find(maps, thread.sp) else {
            continue;
        };
        let Some(stack) = stack_of(maps, thread.sp) else {
            continue;
        };
        if stack.main {
            categories[index] = Some(Category::MainStack);
            continue;
        }
        categories[index] = Some(Category::ThreadStack(Some(thread.tid)));
        if stack.guard_bytes > 0 {
            categories[index - 1] = Some(Category::ThreadStack(Some(thread.tid)));
        }
    }
    for index in 0..maps.len() {
        if categories[index].is_some() {
            continue;
        }
        if let Some(tail) = arena_at(maps, index) {
            for slot in &mut categories[index..=tail] {
                *slot = Some(Category::MallocArena);
            }
        }
    }
    for index in 1..maps.len() {
        let (below, above) = (&maps[index - 1], &maps[index]);
        let guarded_stack = categories[index].is_none()
            && categories[index - 1].is_none()
            && is_private_anon(above)
            && above.read
            && above.write
            && !above.exec
            && is_private_anon(below)
            && below.is_inaccessible()
            && below.end == above.start
            && below.size() <= MAX_GUARD;
        if guarded_stack {
            categories[index] = Some(Category::ThreadStack(None));
            categories[index - 1] = Some(Category::ThreadStack(None));
        }
    }
    maps.iter()
        .zip(categories)
        .map(|(mapping, category)| category.unwrap_or_else(|| by_itself(mapping, exe)))
        .collect()
}

/// A glibc arena starting at `index`: a 64 MiB-aligned private anonymous head, either
/// 64 MiB itself or followed by a `---p` tail that ends 64 MiB after its start. Returns the
/// index of its last mapping.
fn arena_at(maps: &[Mapping], index: usize) -> Option<usize> {
    let head = &maps[index];
    if !is_private_anon(head) || !head.start.is_multiple_of(ARENA_SIZE) || !head.read || !head.write
    {
        return None;
    }
    if head.size() == ARENA_SIZE {
        return Some(index);
    }
    let tail = maps.get(index + 1)?;
    (is_private_anon(tail)
        && tail.is_inaccessible()
        && tail.start == head.end
        && tail.end == head.start + ARENA_SIZE)
        .then_some(index + 1)
}

fn is_private_anon(mapping: &Mapping) -> bool {
    !mapping.shared && (mapping.is_anonymous() || mapping.path.starts_with(b"[anon:"))
}

/// The category of a mapping that is not part of a stack or an arena.
fn by_itself(mapping: &Mapping, exe: Option<&[u8]>) -> Category {
    let path = mapping.path.as_slice();
    match path {
        b"[heap]" => return Category::Heap,
        b"[stack]" => return Category::MainStack,
        _ => {}
    }
    if path.starts_with(b"[anon_shmem:")
        || path.starts_with(b"/memfd:")
        || path.starts_with(b"/dev/shm/")
        || path.starts_with(b"/SYSV")
        || (mapping.shared && mapping.is_anonymous())
        || path.starts_with(b"/dev/zero")
    {
        return Category::SharedMemory;
    }
    if path.starts_with(b"[anon:") || path.is_empty() {
        return if mapping.is_inaccessible() {
            Category::Reservation
        } else if mapping.exec {
            Category::AnonExec
        } else {
            Category::AnonData
        };
    }
    if path.starts_with(b"[") {
        return Category::Special;
    }
    let live = path.strip_suffix(b" (deleted)").unwrap_or(path);
    if exe.is_some_and(|exe| exe.strip_suffix(b" (deleted)").unwrap_or(exe) == live) {
        return Category::Executable;
    }
    let name = live.rsplit(|&b| b == b'/').next().unwrap_or(live);
    if name.windows(3).any(|w| w == b".so") {
        return Category::Library(String::from_utf8_lossy(name).into_owned());
    }
    Category::FileMapping
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::maps::parse_maps;

    // Shaped after node 20's maps (addresses shortened): exe, heap, an arena, a thread
    // stack with guard, a 32 KiB stack, JIT code, a library, vdso and the main stack.
    const MAPS: &[u8] = b"00400000-00b6f000 r--p 00000000 fe:00 247584 /usr/bin/node
00b6f000-00b71000 r-xp 0076f000 fe:00 247584 /usr/bin/node
05000000-05300000 rw-p 00000000 00:00 0 [heap]
7f0c00000000-7f0c00021000 rw-p 00000000 00:00 0 
7f0c00021000-7f0c04000000 ---p 00000000 00:00 0 
7f0c10000000-7f0c10001000 ---p 00000000 00:00 0 
7f0c10001000-7f0c10801000 rw-p 00000000 00:00 0 
7f0c10900000-7f0c10901000 ---p 00000000 00:00 0 
7f0c10901000-7f0c10909000 rw-p 00000000 00:00 0 
7f0c20000000-7f0c2003c000 rwxp 00000000 00:00 0 
7f0c2003c000-7f0c40000000 ---p 00000000 00:00 0 
7f0c50000000-7f0c50001000 rw-s 00000000 00:01 77 /memfd:wasm (deleted)
7f0c60000000-7f0c60028000 r--p 00000000 fe:01 2049 /usr/lib/x86_64-linux-gnu/libc.so.6
7f0c70000000-7f0c70001000 r--p 00000000 fe:01 3000 /usr/share/locale/locale-archive
7ffd3a1a9000-7ffd3a1ca000 rw-p 00000000 00:00 0 [stack]
7ffd3a1f8000-7ffd3a1fa000 r-xp 00000000 00:00 0 [vdso]
";

    #[test]
    fn classifies_a_node_like_map() {
        let maps = parse_maps(MAPS);
        let threads = [
            ThreadSp {
                tid: 11,
                sp: 0x7f0c10800f00,
            },
            ThreadSp {
                tid: 10,
                sp: 0x7ffd3a1c8000,
            },
        ];
        let categories = classify(&maps, Some(b"/usr/bin/node"), &threads);
        use Category::*;
        assert_eq!(
            categories,
            vec![
                Executable,
                Executable,
                Heap,
                MallocArena,
                MallocArena,
                ThreadStack(Some(11)),
                ThreadStack(Some(11)),
                ThreadStack(None),
                ThreadStack(None),
                AnonExec,
                Reservation,
                SharedMemory,
                Library("libc.so.6".into()),
                FileMapping,
                MainStack,
                Special,
            ]
        );
    }

    #[test]
    fn address_regions() {
        let maps = parse_maps(b"0563e000-0565d000 rw-p 0523d000 fe:00 247584 /usr/bin/node\n0565d000-05689000 rw-p 00000000 00:00 0 \n06923000-06be6000 rw-p 00000000 00:00 0 [heap]\n7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n");
        assert_eq!(address_region(&maps, 0x5640000), Some("static"));
        assert_eq!(
            address_region(&maps, 0x5660460),
            Some("static"),
            ".bss after the data segment"
        );
        assert_eq!(address_region(&maps, 0x6ad0854), Some("heap"));
        assert_eq!(address_region(&maps, 0x7f0000000010), Some("anonymous"));
        assert_eq!(address_region(&maps, 0x10), None);
    }

    /// Memory mmap placed right after a module's read-only or executable mapping, or after a
    /// shared file mapping, is anonymous: only the data segment (private and writable) is
    /// continued by a .bss.
    #[test]
    fn anonymous_memory_after_a_read_only_or_shared_file_mapping_is_not_static() {
        let maps = parse_maps(
            b"7f10000000-7f10001000 r--p 00010000 fe:00 11 /usr/lib/libx.so
              7f10001000-7f10002000 rw-p 00000000 00:00 0 
              7f20000000-7f20001000 r-xp 00000000 fe:00 12 /usr/lib/liby.so
              7f20001000-7f20002000 rw-p 00000000 00:00 0 
              7f30000000-7f30001000 rw-s 00000000 00:05 13 /dev/shm/z
              7f30001000-7f30002000 rw-p 00000000 00:00 0 
",
        );
        for address in [0x7f10001010, 0x7f20001010, 0x7f30001010] {
            assert_eq!(
                address_region(&maps, address),
                Some("anonymous"),
                "{address:x}"
            );
        }
    }

    #[test]
    fn no_threads_known_still_finds_guarded_stacks() {
        let maps = parse_maps(MAPS);
        let categories = classify(&maps, None, &[]);
        assert_eq!(categories[5], Category::ThreadStack(None));
        assert_eq!(categories[6], Category::ThreadStack(None));
        assert_eq!(categories[0], Category::FileMapping);
        assert_eq!(categories[14], Category::MainStack);
    }
}
