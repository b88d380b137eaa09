//! What kind of object a file descriptor refers to: the pure classification of a link
//! target and file type into an [`FdKind`] (defined with the fd payload). No I/O happens here.

use rustix::fs::FileType;

pub use super::fd::FdKind;

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
}
