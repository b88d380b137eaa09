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

/// The one-line summary: the v2 path when there is one that says more than `/`, else the v1
/// lines (a hybrid host keeps the real placement in the v1 controllers), joined with `; `.
pub fn summary(lines: &[CgroupLine]) -> String {
    let unified = lines.iter().find(|line| line.hierarchy == 0);
    let legacy: Vec<String> = lines
        .iter()
        .filter(|line| line.hierarchy != 0)
        .map(CgroupLine::text)
        .collect();
    match unified {
        Some(v2) if v2.path != "/" || legacy.is_empty() => v2.path.clone(),
        _ => legacy.join("; "),
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
        assert_eq!(summary(&lines), "/user.slice/session-1.scope");
    }

    #[test]
    fn hybrid_host_shows_the_v1_controllers_when_v2_says_only_root() {
        let raw = b"12:memory:/process_api/job-7\n4:cpu,cpuacct:/process_api/job-7\n0::/\n";
        let lines = parse_cgroup(raw);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1].controllers, ["cpu", "cpuacct"]);
        assert_eq!(
            summary(&lines),
            "12:memory:/process_api/job-7; 4:cpu,cpuacct:/process_api/job-7"
        );
        let with_v2 = parse_cgroup(b"12:memory:/a\n0::/system.slice/x.service\n");
        assert_eq!(summary(&with_v2), "/system.slice/x.service");
    }

    #[test]
    fn paths_with_colons_and_junk_lines() {
        let lines = parse_cgroup(b"0::/a:b\nnot a line\n");
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].path, "/a:b");
        assert_eq!(summary(&parse_cgroup(b"0::/\n")), "/");
    }
}
