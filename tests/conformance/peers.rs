//! Running procscope and the peer tools, and the shared machinery of the comparisons: the
//! processes of each server, differences collected with retries.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

use crate::servers::{Server, Servers, required, servers};

/// The shared servers, or `None` after a notice (not root, not required).
pub fn setup() -> Option<&'static Servers> {
    servers()
}

/// Runs procscope with `args` and parses its JSON document.
pub fn procscope(args: &[&str]) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_procscope"))
        .args(args)
        .env("TZ", "UTC")
        .output()
        .expect("procscope runs");
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "procscope {args:?}: not JSON ({err}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Runs a peer tool and returns its standard output; `None` with a notice if the tool is
/// missing (a failure when servers are required, as CI installs every peer).
pub fn peer(program: &str, args: &[&str]) -> Option<String> {
    match Command::new(program).args(args).output() {
        Ok(output) => Some(String::from_utf8_lossy(&output.stdout).into_owned()),
        Err(err) => {
            assert!(!required(), "peer tool {program} is missing: {err}");
            crate::notice!("{program} is not installed; its comparison skipped");
            None
        }
    }
}

/// The first `n` whitespace-separated fields of `line` and the rest (start trimmed only).
pub fn fields(line: &str, n: usize) -> Option<(Vec<&str>, &str)> {
    let mut rest = line.trim_start();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        if end == 0 {
            return None;
        }
        out.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    Some((out, rest))
}

/// The server's processes by the test's own reading of /proc: its top process and every
/// descendant.
pub fn family(server: &Server) -> Vec<u32> {
    family_of(server.root)
}

/// `top` and every descendant, by the test's own reading of /proc.
pub fn family_of(top: u32) -> Vec<u32> {
    let mut all = vec![top];
    let mut next = 0;
    while next < all.len() {
        all.extend(crate::servers::children(all[next]));
        next += 1;
    }
    all.sort_unstable();
    all
}

/// Every process of the suite: each server's family and each of its clients' families.
pub fn suite_pids(servers: &Servers) -> BTreeSet<u64> {
    let mut all = BTreeSet::new();
    for server in &servers.list {
        let tops = std::iter::once(server.root).chain(server.clients.iter().copied());
        for top in tops {
            let family = family_of(top);
            all.extend(family.into_iter().map(u64::from));
        }
    }
    all
}

/// Differences found by one comparison: `field, process: procscope vs peer`.
#[derive(Default)]
pub struct Diffs(pub Vec<String>);

impl Diffs {
    /// Records a difference unless the two values are equal.
    pub fn eq<T: PartialEq + std::fmt::Debug>(
        &mut self,
        field: &str,
        what: &str,
        ours: T,
        peer: T,
    ) {
        if ours != peer {
            self.0.push(format!(
                "{field}, {what}: procscope {ours:?} vs peer {peer:?}"
            ));
        }
    }

    /// Records a difference unless `ours` is within `tolerance` of `peer`.
    pub fn near(&mut self, field: &str, what: &str, ours: u64, peer: u64, tolerance: u64) {
        if ours.abs_diff(peer) > tolerance {
            self.0.push(format!(
                "{field}, {what}: procscope {ours} vs peer {peer} (tolerance {tolerance})"
            ));
        }
    }

    /// Records a difference of state letters. Tolerance: R in one read and S in the other
    /// is a thread that woke (or went to sleep) between them; on a loaded machine a woken
    /// thread can stay runnable for a while, so re-reading may not settle it. Any other
    /// pair (I vs S, D, Z, T, a wrong letter) is a difference.
    pub fn state(&mut self, field: &str, what: &str, ours: &str, peer: &str) {
        let flip = matches!((ours, peer), ("R", "S") | ("S", "R"));
        if !flip {
            self.eq(field, what, ours, peer);
        }
    }

    pub fn sets<T: Ord + std::fmt::Debug + Clone>(
        &mut self,
        field: &str,
        what: &str,
        ours: &BTreeSet<T>,
        peer: &BTreeSet<T>,
    ) {
        if ours != peer {
            let only_ours: Vec<_> = ours.difference(peer).cloned().collect();
            let only_peer: Vec<_> = peer.difference(ours).cloned().collect();
            self.0.push(format!(
                "{field}, {what}: only in procscope {only_ours:?}, only in peer {only_peer:?}"
            ));
        }
    }
}

/// Runs `compare` up to 5 times, 300 ms apart, until it finds no difference: values of a
/// live process may change between procscope's read and the peer's (a thread wakes, a
/// descriptor comes and goes), and a second look settles that. Returns the differences that
/// persisted over 5 looks, each prefixed with `name`.
pub fn settle(name: &str, mut compare: impl FnMut(&mut Diffs)) -> Vec<String> {
    let mut last = Diffs::default();
    for attempt in 0..5 {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(300));
        }
        last = Diffs::default();
        compare(&mut last);
        if last.0.is_empty() {
            break;
        }
    }
    last.0.into_iter().map(|d| format!("{name}: {d}")).collect()
}

/// Fails the test listing every difference (all servers are compared before failing).
pub fn assert_agree(comparison: &str, differences: &[String]) {
    for difference in differences {
        eprintln!("conformance difference: {difference}");
    }
    assert!(
        differences.is_empty(),
        "{comparison}: {} difference(s) with the peer:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

/// procscope's `ps --json` rows by PID.
pub fn ps_rows(columns: &str) -> BTreeMap<u64, serde_json::Value> {
    procscope(&["ps", "--json", "-o", columns])["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .map(|row| (row["pid"].as_u64().unwrap(), row.clone()))
        .collect()
}

/// Descendants of `root` (and `root`) in a pid → ppid map.
pub fn descendants(parents: &BTreeMap<u64, u64>, root: u64) -> BTreeSet<u64> {
    let mut found: BTreeSet<u64> = BTreeSet::from([root]);
    loop {
        let more: Vec<u64> = parents
            .iter()
            .filter(|(pid, ppid)| found.contains(ppid) && !found.contains(pid))
            .map(|(pid, _)| *pid)
            .collect();
        if more.is_empty() {
            return found;
        }
        found.extend(more);
    }
}

/// One file of `lsof -F` output: the holder's PID and the file's fields by tag letter
/// (`f` fd, `a` access, `t` type, `s` size, `n` name...).
pub struct LsofFile {
    pub pid: u64,
    pub fields: BTreeMap<char, String>,
}

impl LsofFile {
    pub fn get(&self, tag: char) -> &str {
        self.fields.get(&tag).map_or("", String::as_str)
    }
}

/// `lsof -w -n -P -F p{tags}n ARGS` as one record per file (lsof writes the name last).
pub fn lsof_files(tags: &str, args: &[&str]) -> Option<Vec<LsofFile>> {
    let select = format!("p{tags}n");
    let mut all = vec!["-w", "-n", "-P", "-F", &select];
    all.extend_from_slice(args);
    let text = peer("lsof", &all)?;
    let mut files = Vec::new();
    let (mut pid, mut fields) = (0, BTreeMap::new());
    for line in text.lines() {
        let mut chars = line.chars();
        let Some(tag) = chars.next() else { continue };
        let value = chars.as_str().to_owned();
        match tag {
            'p' => pid = value.parse().unwrap_or(0),
            'f' => fields = BTreeMap::from([('f', value)]),
            'n' => {
                fields.insert('n', value);
                files.push(LsofFile {
                    pid,
                    fields: std::mem::take(&mut fields),
                });
            }
            _ => {
                fields.insert(tag, value);
            }
        }
    }
    Some(files)
}
