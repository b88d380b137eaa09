//! Human formatting of bytes, durations, CPU time and start times for tables.

/// Bytes in binary units with one decimal above KiB: `512B`, `4.0K`, `12.3M`, `1.5G`.
pub fn bytes(value: u64) -> String {
    const UNITS: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
    if value < 1024 {
        return format!("{value}B");
    }
    let mut scaled = value as f64 / 1024.0;
    let mut unit = 0;
    while scaled >= 1024.0 && unit + 1 < UNITS.len() {
        scaled /= 1024.0;
        unit += 1;
    }
    if scaled >= 100.0 {
        format!("{scaled:.0}{}", UNITS[unit])
    } else {
        format!("{scaled:.1}{}", UNITS[unit])
    }
}

/// Accumulated CPU time like `ps aux` TIME: `M:SS`, with hours `H:MM:SS`, with days `D-HH:MM:SS`.
pub fn cpu_time(seconds: f64) -> String {
    let total = seconds.max(0.0) as u64;
    let (days, hours, minutes, secs) = split(total);
    if days > 0 {
        format!("{days}-{hours:02}:{minutes:02}:{secs:02}")
    } else if hours > 0 {
        format!("{hours}:{minutes:02}:{secs:02}")
    } else {
        format!("{minutes}:{secs:02}")
    }
}

/// An age or duration in the largest two units: `42s`, `5m12s`, `3h04m`, `12d03h`.
pub fn age(seconds: f64) -> String {
    let total = seconds.max(0.0) as u64;
    let (days, hours, minutes, secs) = split(total);
    if days > 0 {
        format!("{days}d{hours:02}h")
    } else if hours > 0 {
        format!("{hours}h{minutes:02}m")
    } else if minutes > 0 {
        format!("{minutes}m{secs:02}s")
    } else {
        format!("{secs}s")
    }
}

fn split(total: u64) -> (u64, u64, u64, u64) {
    (
        total / 86_400,
        total / 3600 % 24,
        total / 60 % 60,
        total % 60,
    )
}

/// A start time like `ps` START: `HH:MM` within the last day, else `Mon DD`, else the year.
pub fn start_time(start_unix: f64, now_unix: f64) -> String {
    let Some(start) = local_time(start_unix) else {
        return "?".to_owned();
    };
    let age = now_unix - start_unix;
    if age < 86_400.0 {
        start.strftime("%H:%M").to_string()
    } else if local_time(now_unix).is_some_and(|now| now.year() == start.year()) {
        start.strftime("%b%d").to_string()
    } else {
        start.strftime("%Y").to_string()
    }
}

/// A full local date and time, `2026-11-26 06:32:10`.
pub fn date_time(unix: f64) -> String {
    local_time(unix)
        .map(|time| time.strftime("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "?".to_owned())
}

/// Elapsed time like ps's `etime`: `[[DD-]hh:]mm:ss`.
pub fn elapsed(seconds: f64) -> String {
    let total = seconds.max(0.0) as u64;
    let (days, hours) = (total / 86_400, total / 3600 % 24);
    let (minutes, secs) = (total / 60 % 60, total % 60);
    match (days, hours) {
        (0, 0) => format!("{minutes:02}:{secs:02}"),
        (0, _) => format!("{hours:02}:{minutes:02}:{secs:02}"),
        _ => format!("{days}-{hours:02}:{minutes:02}:{secs:02}"),
    }
}

/// A local time like ps's `lstart`: `Sat Nov 28 07:25:15 2026`.
pub fn long_date(unix: f64) -> String {
    local_time(unix)
        .map(|time| time.strftime("%a %b %e %H:%M:%S %Y").to_string())
        .unwrap_or_else(|| "?".to_owned())
}

fn local_time(unix: f64) -> Option<jiff::ZonedDateTime> {
    let timestamp = jiff::Timestamp::from_second(unix as i64).ok()?;
    Some(timestamp.to_zoned_datetime(local_zone().clone()))
}

/// The local time zone, read once and only when a time is shown. It is read as one TZif
/// file (`/etc/localtime`, or the file `TZ` names): `TimeZone::system()` would first index
/// the whole zoneinfo database (a walk of about 22 directories) just to name the zone.
fn local_zone() -> &'static jiff::tz::TimeZone {
    use jiff::tz::TimeZone;
    static ZONE: std::sync::OnceLock<TimeZone> = std::sync::OnceLock::new();
    ZONE.get_or_init(|| {
        let Some(tz) = std::env::var_os("TZ") else {
            return read_tzif("/etc/localtime".into()).unwrap_or(TimeZone::UTC);
        };
        use std::os::unix::ffi::OsStrExt;
        let tz = tz.as_bytes();
        let tz = std::ffi::OsStr::from_bytes(tz.strip_prefix(b":").unwrap_or(tz));
        if tz.is_empty() || tz == "UTC" {
            return TimeZone::UTC;
        }
        let dir = std::env::var_os("TZDIR").unwrap_or_else(|| "/usr/share/zoneinfo".into());
        read_tzif(std::path::Path::new(&dir).join(tz))
            // A POSIX rule (`EST5EDT,M3.2.0,M11.1.0`) names no file.
            .or_else(|| TimeZone::posix(tz.to_str()?).ok())
            .unwrap_or_else(TimeZone::system)
    })
}

fn read_tzif(path: std::path::PathBuf) -> Option<jiff::tz::TimeZone> {
    let data = std::fs::read(&path).ok()?;
    jiff::tz::TimeZone::tzif(&path.to_string_lossy(), &data).ok()
}

/// A percentage with one decimal.
pub fn percent(value: f64) -> String {
    format!("{value:.1}")
}

/// A count with its noun in the right number: `1 thread`, `2 threads`, `0 fds`.
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_like_ps_etime() {
        assert_eq!(elapsed(5.9), "00:05");
        assert_eq!(elapsed(3725.0), "01:02:05");
        assert_eq!(elapsed(2.0 * 86_400.0 + 3661.0), "2-01:01:01");
    }

    #[test]
    fn byte_units() {
        assert_eq!(bytes(0), "0B");
        assert_eq!(bytes(1023), "1023B");
        assert_eq!(bytes(1024), "1.0K");
        assert_eq!(bytes(1812 * 1024), "1.8M");
        assert_eq!(bytes(150 * 1024 * 1024), "150M");
        assert_eq!(bytes(3 << 30), "3.0G");
    }

    #[test]
    fn cpu_time_like_ps() {
        assert_eq!(cpu_time(0.4), "0:00");
        assert_eq!(cpu_time(75.0), "1:15");
        assert_eq!(cpu_time(3_725.0), "1:02:05");
        assert_eq!(cpu_time(90_061.0), "1-01:01:01");
    }

    #[test]
    fn ages() {
        assert_eq!(age(42.9), "42s");
        assert_eq!(age(312.0), "5m12s");
        assert_eq!(age(11_040.0), "3h04m");
        assert_eq!(age(1_047_600.0), "12d03h");
    }
}
