//! Parsing a PID argument: a positive decimal within the kernel's limit, never 0, never
//! negative, never a value that wraps to -1.

/// The largest pid_max Linux allows (PID_MAX_LIMIT on 64-bit).
pub const PID_MAX_LIMIT: u32 = 4_194_304;

/// Parses a PID as typed by a user. Accepts only plain decimal digits.
pub fn parse_pid(text: &str) -> Result<u32, String> {
    if text.is_empty() {
        return Err("expected a process ID (a number from 1 to the system's pid_max)".into());
    }
    if text.starts_with('-') {
        return Err(format!(
            "'{text}' is negative: expected a process ID from 1 to {PID_MAX_LIMIT} (negative numbers mean process groups to kill(2) and are never accepted)"
        ));
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "'{text}' is not a process ID: expected decimal digits only, from 1 to {PID_MAX_LIMIT}"
        ));
    }
    let value: u64 = text.parse().map_err(|_| {
        format!("'{text}' is out of range: expected a process ID from 1 to {PID_MAX_LIMIT}")
    })?;
    match value {
        0 => Err(
            "PID 0 is not a process (to kill(2) it means 'my process group'): expected 1 or more"
                .into(),
        ),
        v if v > u64::from(PID_MAX_LIMIT) => Err(format!(
            "'{text}' is out of range: expected a process ID from 1 to {PID_MAX_LIMIT}"
        )),
        v => Ok(v as u32),
    }
}

/// Like [`parse_pid`] but also accepts 0 (the parent of PID 1 and of kernel threads), for
/// `--ppid`.
pub fn parse_ppid(text: &str) -> Result<u32, String> {
    if text == "0" { Ok(0) } else { parse_pid(text) }
}

/// Rejects a PID above this system's pid_max (it can never exist here).
pub fn check_pid_max(pid: u32, pid_max: u32) -> Result<(), String> {
    if pid > pid_max {
        return Err(format!(
            "PID {pid} is above this system's pid_max ({pid_max}): no process can have it"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_pids() {
        assert_eq!(parse_pid("1"), Ok(1));
        assert_eq!(parse_pid("4194304"), Ok(4_194_304));
        assert_eq!(parse_ppid("0"), Ok(0));
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "0",
            "-1",
            "-0",
            "+5",
            "abc",
            "1e3",
            "0x10",
            " 1",
            "4294967295",
            "2147483648",
            "99999999",
            "4194305",
            "1.0",
        ] {
            let err = parse_pid(bad).unwrap_err();
            assert!(!err.contains('\n'), "{bad}: one line");
        }
        assert!(
            parse_pid("4294967295")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(parse_pid("-1").unwrap_err().contains("negative"));
        assert!(parse_pid("abc").unwrap_err().contains("'abc'"));
    }

    #[test]
    fn pid_max_bounds_pids() {
        assert_eq!(check_pid_max(32768, 32768), Ok(()));
        let err = check_pid_max(32769, 32768).unwrap_err();
        assert!(err.contains("32769") && err.contains("(32768)"), "{err}");
    }
}
