//! Which mapping holds a thread's stack: the one containing its stack pointer, and the
//! inaccessible guard page directly below it.

use crate::model::code::StackMapping;
use crate::parse::maps::{self, Mapping};

/// The stack mapping that contains `sp`.
pub fn stack_of(maps: &[Mapping], sp: u64) -> Option<StackMapping> {
    let index = maps::find(maps, sp)?;
    let mapping = &maps[index];
    let guard_bytes = index
        .checked_sub(1)
        .map(|below| &maps[below])
        .filter(|below| below.end == mapping.start && below.is_inaccessible())
        .map_or(0, Mapping::size);
    Some(StackMapping {
        start: mapping.start,
        end: mapping.end,
        size_bytes: mapping.size(),
        guard_bytes,
        main: mapping.path == b"[stack]",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::maps::parse_maps;

    #[test]
    fn thread_stack_with_guard_and_main_stack() {
        let maps = parse_maps(b"7f00000000-7f00001000 ---p 00000000 00:00 0 \n7f00001000-7f00101000 rw-p 00000000 00:00 0 \n7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]\n");
        let thread = stack_of(&maps, 0x7f00100f00).unwrap();
        assert_eq!(
            (thread.size_bytes, thread.guard_bytes, thread.main),
            (1 << 20, 4096, false)
        );
        let main = stack_of(&maps, 0x7ffd00020000).unwrap();
        assert_eq!(
            (main.size_bytes, main.guard_bytes, main.main),
            (0x21000, 0, true)
        );
        assert_eq!(stack_of(&maps, 0x10), None);
    }
}
