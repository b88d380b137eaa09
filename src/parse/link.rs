//! The targets of `/proc/PID/fd/N` links that name an object by inode: `socket:[N]`,
//! `pipe:[N]`. Pure: the caller reads the link.

/// The inode in `socket:[N]` or `pipe:[N]` when the target has that prefix.
pub fn inode_of(target: &[u8], prefix: &[u8]) -> Option<u64> {
    let rest = target.strip_prefix(prefix)?.strip_prefix(b":[")?;
    let digits = rest.strip_suffix(b"]")?;
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inodes_of_sockets_and_pipes() {
        assert_eq!(inode_of(b"socket:[12345]", b"socket"), Some(12345));
        assert_eq!(inode_of(b"pipe:[7]", b"pipe"), Some(7));
        assert_eq!(inode_of(b"pipe:[7]", b"socket"), None);
        assert_eq!(inode_of(b"socket:[12x]", b"socket"), None);
        assert_eq!(inode_of(b"socket:[1", b"socket"), None);
        assert_eq!(inode_of(b"/tmp/socket:[1]", b"socket"), None);
    }
}
