//! Parser for `/proc/PID/cmdline`: NUL-separated argv bytes, bounded in count, with the
//! NUL padding that title-rewriting programs leave behind collapsed the way `ps` shows it.

/// At most this many arguments are kept; a command line with more is `truncated`.
pub const MAX_ARGS: usize = 4096;

/// A command line as `ps` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Argv {
    pub args: Vec<Vec<u8>>,
    /// Arguments or bytes were left out: past [`MAX_ARGS`], or past the bytes read (`cut`).
    pub truncated: bool,
}

/// Splits a cmdline buffer into arguments. A run of trailing NULs ends the last argument
/// (a program that rewrote its title, like postgres or nginx, pads its argument area with
/// NULs: `ps` shows none of them); NULs inside separate arguments, empty ones included. A
/// buffer without NULs (a rewritten title, setproctitle) is one argument. `cut` says the
/// buffer is a prefix of a longer command line.
pub fn parse_argv(raw: &[u8], cut: bool) -> Argv {
    let end = padded_end(raw);
    if end == 0 {
        return Argv {
            args: Vec::new(),
            truncated: cut,
        };
    }
    let mut pieces = raw[..end].split(|&b| b == 0);
    let args: Vec<Vec<u8>> = pieces.by_ref().take(MAX_ARGS).map(<[u8]>::to_vec).collect();
    Argv {
        args,
        truncated: cut || pieces.next().is_some(),
    }
}

/// The length of `raw` without its trailing NULs, eight bytes at a time (an argument area
/// can hold hundreds of KiB of them).
fn padded_end(raw: &[u8]) -> usize {
    let mut end = raw.len();
    while end >= 8 && raw[end - 8..end] == [0u8; 8] {
        end -= 8;
    }
    while end > 0 && raw[end - 1] == 0 {
        end -= 1;
    }
    end
}

/// [`parse_argv`] of a whole buffer: the arguments only.
pub fn parse_cmdline(raw: &[u8]) -> Vec<Vec<u8>> {
    parse_argv(raw, false).args
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

    #[test]
    fn title_padding_is_collapsed() {
        // Captured shape of a postgres auxiliary after it rewrote its title.
        let mut raw = b"postgres: checkpointer ".to_vec();
        raw.extend(std::iter::repeat_n(0u8, 60));
        assert_eq!(
            parse_argv(&raw, false),
            Argv {
                args: vec![b"postgres: checkpointer ".to_vec()],
                truncated: false
            }
        );
        // An argument area zeroed whole is no argument at all, not millions of empty ones.
        assert_eq!(parse_argv(&vec![0u8; 1 << 20], false), Argv::default());
    }

    #[test]
    fn argument_count_is_capped() {
        let raw = b"a\x00".repeat(MAX_ARGS + 5);
        let argv = parse_argv(&raw, false);
        assert_eq!(argv.args.len(), MAX_ARGS);
        assert!(argv.truncated);
        let exact = b"a\x00".repeat(MAX_ARGS);
        assert!(!parse_argv(&exact, false).truncated);
        assert!(parse_argv(b"a\x00b", true).truncated);
    }
}
