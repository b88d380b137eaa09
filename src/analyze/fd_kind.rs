//! What kind of object a file descriptor refers to, from its link target and (for paths)
//! its file type.

use crate::analyze::sockets::socket_info;
use crate::collect::fds::FdEntry;
use crate::collect::net::SocketIndex;
use crate::model::fd_kind::{FdKind, classify};
use crate::parse::link::inode_of;

/// The type name of a descriptor as tables show it: the socket protocol (`tcp`, `unix`...)
/// for sockets, else the kind.
pub fn type_name(entry: &FdEntry, index: &SocketIndex) -> String {
    match classify(&entry.target, entry.file_type) {
        FdKind::Socket => match inode_of(&entry.target, b"socket") {
            Some(inode) => socket_info(index, inode).proto,
            None => FdKind::Socket.name().to_owned(),
        },
        kind => kind.name().to_owned(),
    }
}

/// The path of a target and whether its file is deleted. The file's link count decides
/// (`nlink` 0: deleted, and the kernel's ` (deleted)` suffix is taken off); a name that
/// merely ends in ` (deleted)` is a live file's name and stays whole. Only when the file
/// could not be stat'ed (`nlink` unknown, as in fixture trees) does the suffix decide.
pub fn split_deleted(target: &[u8], nlink: Option<u64>) -> (&[u8], bool) {
    if target.first() != Some(&b'/') {
        return (target, false);
    }
    let stripped = target.strip_suffix(b" (deleted)");
    match (nlink, stripped) {
        (Some(0), Some(path)) => (path, true),
        (Some(0), None) => (target, true),
        (Some(_), _) => (target, false),
        (None, Some(path)) => (path, true),
        (None, None) => (target, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deleted_from_link_count() {
        assert_eq!(
            split_deleted(b"/tmp/x (deleted)", Some(0)),
            (&b"/tmp/x"[..], true)
        );
        // A live file whose name ends in " (deleted)" is not deleted.
        assert_eq!(
            split_deleted(b"/tmp/x (deleted)", Some(1)),
            (&b"/tmp/x (deleted)"[..], false)
        );
        assert_eq!(split_deleted(b"/tmp/x", Some(1)), (&b"/tmp/x"[..], false));
        assert_eq!(split_deleted(b"/tmp/x", None), (&b"/tmp/x"[..], false));
        assert_eq!(
            split_deleted(b"/tmp/x (deleted)", None),
            (&b"/tmp/x"[..], true)
        );
        assert_eq!(
            split_deleted(b"pipe:[1]", Some(0)),
            (&b"pipe:[1]"[..], false)
        );
    }
}
