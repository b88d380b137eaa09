//! Parser for `/proc/PID/cmdline`: NUL-separated argv bytes, kept exact.

/// Splits a cmdline buffer into arguments. A trailing NUL ends the last argument; a buffer
/// without NULs (a rewritten title, setproctitle) is one argument.
pub fn parse_cmdline(raw: &[u8]) -> Vec<Vec<u8>> {
    if raw.is_empty() {
        return Vec::new();
    }
    let body = raw.strip_suffix(b"\0").unwrap_or(raw);
    body.split(|&b| b == 0).map(<[u8]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_nul() {
        assert_eq!(
            parse_cmdline(b"sleep\x00100\x00"),
            vec![b"sleep".to_vec(), b"100".to_vec()]
        );
    }

    #[test]
    fn empty_for_kernel_threads_and_zombies() {
        assert!(parse_cmdline(b"").is_empty());
    }

    #[test]
    fn keeps_empty_arguments_and_odd_bytes() {
        assert_eq!(
            parse_cmdline(b"a\x00\x00b c\xff\x00"),
            vec![b"a".to_vec(), b"".to_vec(), b"b c\xff".to_vec()]
        );
    }

    #[test]
    fn title_without_nul_is_one_argument() {
        assert_eq!(
            parse_cmdline(b"my-api worker"),
            vec![b"my-api worker".to_vec()]
        );
    }
}
