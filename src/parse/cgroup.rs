//! `/proc/PID/cgroup`: one `hierarchy-ID:controllers:path` line per hierarchy (v1), and the
//! unified `0::path` line (v2); hybrid hosts have both.

use schemars::JsonSchema;
use serde::Serialize;

/// One line of `/proc/PID/cgroup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CgroupLine {
    /// The hierarchy ID: 0 for the unified (v2) hierarchy.
    pub hierarchy: u32,
    /// The v1 controllers bound to the hierarchy (`memory`, `cpu,cpuacct` split, `name=systemd`);
    /// empty for v2.
    pub controllers: Vec<String>,
    /// The cgroup path within the hierarchy.
    pub path: String,
}

impl CgroupLine {
    /// The line as the kernel writes it (`4:memory:/job`).
    pub fn text(&self) -> String {
        format!(
            "{}:{}:{}",
            self.hierarchy,
            self.controllers.join(","),
            self.path
        )
    }
}

/// Every well-formed line (paths may hold `:`; lossy for non-UTF-8 bytes).
pub fn parse_cgroup(raw: &[u8]) -> Vec<CgroupLine> {
    String::from_utf8_lossy(raw)
        .lines()
        .filter_map(|line| {
            let (hierarchy, rest) = line.split_once(':')?;
            let (controllers, path) = rest.split_once(':')?;
            Some(CgroupLine {
                hierarchy: hierarchy.parse().ok()?,
                controllers: controllers
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect(),
                path: path.to_owned(),
            })
        })
        .collect()
}

/// The one-line summary, as exact bytes (a cgroup name may hold any byte but `/` and NUL):
/// the v2 path when it says more than `/`, else the v1 lines that do (a hybrid host keeps
/// the real placement in the v1 controllers), joined with `; `, else `/`.
pub fn summary(raw: &[u8]) -> Vec<u8> {
    // (hierarchy ID, the whole line, the path)
    let lines: Vec<(&[u8], &[u8], &[u8])> = raw
        .split(|&b| b == b'\n')
        .filter_map(|line| {
            let mut parts = line.splitn(3, |&b| b == b':');
            let hierarchy = parts.next()?;
            parts.next()?;
            Some((hierarchy, line, parts.next()?))
        })
        .collect();
    if let Some((_, _, path)) = lines
        .iter()
        .find(|(id, _, path)| *id == b"0" && *path != b"/")
    {
        return path.to_vec();
    }
    let legacy: Vec<&[u8]> = lines
        .iter()
        .filter(|(id, _, path)| *id != b"0" && *path != b"/")
        .map(|(_, line, _)| *line)
        .collect();
    if legacy.is_empty() {
        b"/".to_vec()
    } else {
        legacy.join(&b"; "[..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unified_only() {
        let lines = parse_cgroup(b"0::/user.slice/session-1.scope\n");
        assert_eq!(lines[0].hierarchy, 0);
        assert!(lines[0].controllers.is_empty());
        assert_eq!(
            summary(b"0::/user.slice/session-1.scope\n"),
            b"/user.slice/session-1.scope"
        );
    }

    #[test]
    fn hybrid_host_shows_the_v1_controllers_when_v2_says_only_root() {
        let raw = b"12:memory:/process_api/job-7\n4:cpu,cpuacct:/process_api/job-7\n0::/\n";
        let lines = parse_cgroup(raw);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1].controllers, ["cpu", "cpuacct"]);
        assert_eq!(
            summary(raw),
            b"12:memory:/process_api/job-7; 4:cpu,cpuacct:/process_api/job-7"
        );
        assert_eq!(
            summary(b"12:memory:/a\n0::/system.slice/x.service\n"),
            b"/system.slice/x.service"
        );
    }

    #[test]
    fn paths_with_colons_and_junk_lines() {
        let lines = parse_cgroup(b"0::/a:b\nnot a line\n");
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].path, "/a:b");
        assert_eq!(summary(b"0::/\n"), b"/");
        assert_eq!(summary(b"4:memory:/\n1:cpu:/\n"), b"/");
        assert_eq!(summary(b"0::/a\xffb\n"), b"/a\xffb");
    }
}
