//! What kind of object a file descriptor refers to, from its link target and (for paths)
//! its file type.

use rustix::fs::FileType;

use crate::analyze::sockets::socket_info;
use crate::collect::fds::{FdEntry, inode_of};
use crate::collect::net::SocketIndex;

// moved (issue 14): re-export until merge
pub use crate::model::fd::FdKind;

/// Classifies a descriptor by its link target and, for paths, the target's file type.
pub fn classify(target: &[u8], file_type: Option<FileType>) -> FdKind {
    if target.starts_with(b"socket:[") {
        return FdKind::Socket;
    }
    if target.starts_with(b"pipe:[") {
        return FdKind::Pipe;
    }
    if target.starts_with(b"pidfd:") {
        return FdKind::PidFd;
    }
    if let Some(anon) = target.strip_prefix(b"anon_inode:") {
        return match anon {
            b"[eventfd]" => FdKind::EventFd,
            b"[eventpoll]" => FdKind::Epoll,
            b"[timerfd]" => FdKind::TimerFd,
            b"[signalfd]" => FdKind::SignalFd,
            b"inotify" => FdKind::Inotify,
            b"[pidfd]" => FdKind::PidFd,
            _ => FdKind::AnonInode,
        };
    }
    if target.starts_with(b"/memfd:") {
        return FdKind::MemFd;
    }
    if target.first() != Some(&b'/') {
        return FdKind::Other;
    }
    match file_type {
        Some(FileType::Directory) => FdKind::Dir,
        Some(FileType::CharacterDevice) => FdKind::CharDevice,
        Some(FileType::BlockDevice) => FdKind::BlockDevice,
        Some(FileType::Fifo) => FdKind::Fifo,
        Some(FileType::Socket) => FdKind::Socket,
        _ => FdKind::File,
    }
}

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
    fn kinds_from_targets() {
        assert_eq!(classify(b"socket:[1]", None), FdKind::Socket);
        assert_eq!(classify(b"pipe:[2]", None), FdKind::Pipe);
        assert_eq!(classify(b"anon_inode:[eventfd]", None), FdKind::EventFd);
        assert_eq!(classify(b"anon_inode:[eventpoll]", None), FdKind::Epoll);
        assert_eq!(classify(b"anon_inode:[timerfd]", None), FdKind::TimerFd);
        assert_eq!(classify(b"anon_inode:[signalfd]", None), FdKind::SignalFd);
        assert_eq!(classify(b"anon_inode:inotify", None), FdKind::Inotify);
        assert_eq!(classify(b"anon_inode:[pidfd]", None), FdKind::PidFd);
        assert_eq!(classify(b"pidfd:[1234]", None), FdKind::PidFd);
        assert_eq!(classify(b"anon_inode:[io_uring]", None), FdKind::AnonInode);
        assert_eq!(
            classify(b"/memfd:jit (deleted)", Some(FileType::RegularFile)),
            FdKind::MemFd
        );
        assert_eq!(
            classify(b"/dev/null", Some(FileType::CharacterDevice)),
            FdKind::CharDevice
        );
        assert_eq!(classify(b"/tmp", Some(FileType::Directory)), FdKind::Dir);
        assert_eq!(classify(b"/tmp/f", Some(FileType::Fifo)), FdKind::Fifo);
        assert_eq!(classify(b"/var/log/x.log", None), FdKind::File);
        assert_eq!(classify(b"net:[4026531840]", None), FdKind::Other);
    }

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
