//! Decoding of the `tty_nr` device number in stat into a terminal name (`pts/3`, `tty1`).

/// The terminal name for a `tty_nr`, or `None` for no controlling terminal.
pub fn tty_name(tty_nr: u32) -> Option<String> {
    if tty_nr == 0 {
        return None;
    }
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    Some(match major {
        136..=143 => format!("pts/{}", minor + (major - 136) * 256),
        4 if minor < 64 => format!("tty{minor}"),
        4 => format!("ttyS{}", minor - 64),
        5 if minor == 0 => "tty".to_owned(),
        5 if minor == 1 => "console".to_owned(),
        _ => format!("{major}:{minor}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_common_terminals() {
        assert_eq!(tty_name(0), None);
        assert_eq!(tty_name(34816), Some("pts/0".into()));
        assert_eq!(tty_name(34819), Some("pts/3".into()));
        assert_eq!(tty_name(1025), Some("tty1".into()));
        assert_eq!(tty_name(1088), Some("ttyS0".into()));
        assert_eq!(tty_name(1281), Some("console".into()));
    }
}
