//! Memory against `pmap -X` and `/proc/PID/smaps_rollup`.

use crate::peers::{Diffs, assert_agree, family, peer, procscope, settle, setup};

/// `pmap -X PID`: the number of mappings and the totals line (Rss, Pss in KiB).
fn pmap_totals(pid: u32) -> Option<(u64, u64, u64)> {
    let text = peer("pmap", &["-X", &pid.to_string()])?;
    Some(parse_pmap(&text).unwrap_or_else(|| panic!("unexpected pmap -X output: {text}")))
}

fn parse_pmap(text: &str) -> Option<(u64, u64, u64)> {
    let lines: Vec<&str> = text.lines().collect();
    let header_at = lines
        .iter()
        .position(|l| l.trim_start().starts_with("Address"))?;
    let header: Vec<&str> = lines[header_at].split_whitespace().collect();
    // Mapping lines run from the header to the `====` rule above the totals line.
    let mappings = lines[header_at + 1..]
        .iter()
        .take_while(|l| !l.trim_start().starts_with('='))
        .count() as u64;
    // The totals line has only the numeric columns, the first under "Size".
    let totals: Vec<u64> = lines
        .last()?
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let size_at = header.iter().position(|h| *h == "Size")?;
    let column = |name: &str| {
        totals
            .get(header.iter().position(|h| *h == name)? - size_at)
            .copied()
    };
    Some((mappings, column("Rss")?, column("Pss")?))
}

fn rollup(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    text.lines()
        .find(|l| l.starts_with(&format!("{key}:")))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Tolerance for RSS: 1% or 64 KiB (pages touched between the reads). For PSS: 2% or 256 KiB:
/// PSS divides shared pages by their sharers, and each reader (procscope, pmap, the test)
/// maps the same libraries while it reads, changing the divisor.
fn compare(diffs: &mut Diffs, what: &str, field: &str, ours_kib: u64, theirs_kib: u64, pss: bool) {
    let tolerance = if pss {
        (theirs_kib / 50).max(256)
    } else {
        (theirs_kib / 100).max(64)
    };
    diffs.near(field, what, ours_kib, theirs_kib, tolerance);
}

#[test]
fn memory_matches_pmap_and_smaps_rollup() {
    let Some(servers) = setup() else { return };
    let mut found = Vec::new();
    for server in &servers.list {
        for pid in family(server) {
            found.extend(settle(
                &format!("mem vs pmap -X {pid} ({})", server.name),
                |diffs| {
                    let doc = procscope(&["mem", &pid.to_string(), "--json"]);
                    let memory = &doc["memory"];
                    let what = format!("PID {pid} ({})", server.name);
                    let kib = |v: &serde_json::Value| v.as_u64().unwrap_or(0) / 1024;
                    if let Some((mappings, rss, pss)) = pmap_totals(pid) {
                        // Mapping count: exact (idle processes map nothing new).
                        diffs.eq(
                            "mappings vs pmap -X",
                            &what,
                            memory["total"]["mappings"].as_u64(),
                            Some(mappings),
                        );
                        compare(
                            diffs,
                            &what,
                            "rss vs pmap -X",
                            kib(&memory["total"]["rss_bytes"]),
                            rss,
                            false,
                        );
                        compare(
                            diffs,
                            &what,
                            "pss vs pmap -X",
                            kib(&memory["total"]["pss_bytes"]),
                            pss,
                            true,
                        );
                    }
                    for (field, key, pss) in [
                        ("rss_bytes", "Rss", false),
                        ("pss_bytes", "Pss", true),
                        ("swap_bytes", "Swap", false),
                    ] {
                        if let Some(theirs) = rollup(pid, key) {
                            compare(
                                diffs,
                                &what,
                                &format!("rollup {field} vs smaps_rollup"),
                                kib(&memory["rollup"][field]),
                                theirs,
                                pss,
                            );
                        }
                    }
                },
            ));
        }
    }
    assert_agree("memory_matches_pmap_and_smaps_rollup", &found);
}
