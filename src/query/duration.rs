//! Parsing durations such as `500ms`, `1.5s`, `2m` or a bare number of seconds.

use std::time::Duration;

/// Parses a duration between 1 ms and 1 hour.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let expected = "expected a duration like 500ms, 2s or 1m";
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration: {expected}"))?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "" | "s" => number,
        "m" => number * 60.0,
        _ => return Err(format!("'{text}' has an unknown unit '{unit}': {expected}")),
    };
    if !(0.001..=3600.0).contains(&seconds) {
        return Err(format!(
            "'{text}' is out of range: expected between 1ms and 1h"
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
    }

    #[test]
    fn rejects_bad_text() {
        for bad in ["xyz", "", "5h", "0", "-1s", "1e3", "ms", "2 s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_duration("xyz").unwrap_err().contains("'xyz'"));
    }
}
