//! Parser for `/proc/PID/limits`: the resource limit table.

/// One row of the limits table. `None` means `unlimited`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub name: String,
    pub soft: Option<u64>,
    pub hard: Option<u64>,
    pub unit: String,
}

/// Parses the table. Columns are separated by two or more spaces; names hold single spaces.
pub fn parse_limits(raw: &[u8]) -> Vec<Limit> {
    let text = String::from_utf8_lossy(raw);
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut cells = line
                .split("  ")
                .map(str::trim)
                .filter(|cell| !cell.is_empty());
            let name = cells.next()?.to_owned();
            let soft = parse_value(cells.next()?)?;
            let hard = parse_value(cells.next()?)?;
            let unit = cells.next().unwrap_or("").to_owned();
            Some(Limit {
                name,
                soft,
                hard,
                unit,
            })
        })
        .collect()
}

fn parse_value(cell: &str) -> Option<Option<u64>> {
    if cell == "unlimited" {
        Some(None)
    } else {
        cell.parse().ok().map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from /proc/PID/limits on Linux 6.18 (trailing spaces kept).
    const LIMITS: &[u8] = b"Limit                     Soft Limit           Hard Limit           Units     \nMax cpu time              unlimited            unlimited            seconds   \nMax stack size            8388608              unlimited            bytes     \nMax processes             96365                96365                processes \nMax open files            20000                20000                files     \nMax nice priority         0                    0                    \nMax realtime timeout      unlimited            unlimited            us        \n";

    #[test]
    fn parses_rows() {
        let limits = parse_limits(LIMITS);
        assert_eq!(limits.len(), 6);
        assert_eq!(
            limits[1],
            Limit {
                name: "Max stack size".into(),
                soft: Some(8388608),
                hard: None,
                unit: "bytes".into()
            }
        );
        assert_eq!(limits[3].name, "Max open files");
        assert_eq!(limits[3].soft, Some(20000));
        assert_eq!(limits[4].unit, "");
        assert_eq!(limits[5].soft, None);
    }

    #[test]
    fn garbage_gives_no_rows() {
        assert!(parse_limits(b"\xff\xfe\nfoo bar\n").is_empty());
    }
}
