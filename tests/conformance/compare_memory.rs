//! Memory against `pmap -X` and `/proc/PID/smaps_rollup`: totals, and `mem --maps` mapping
//! by mapping.

use std::collections::{BTreeMap, BTreeSet};

use crate::peers::{Diffs, assert_agree, family, fields, peer, procscope, settle, setup};

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

/// One mapping as `pmap -X` shows it: identity (perms, offset, device, inode, size KiB)
/// and the KiB columns by header name.
struct PmapRow {
    identity: (String, u64, String, u64, u64),
    kib: BTreeMap<String, u64>,
    thp_eligible: bool,
}

/// `pmap -X PID` rows by start address (`None` when pmap is missing).
fn pmap_rows(pid: u32) -> Option<BTreeMap<u64, PmapRow>> {
    let text = peer("pmap", &["-X", &pid.to_string()])?;
    let rows = parse_pmap_rows(&text);
    Some(rows.unwrap_or_else(|| panic!("unexpected pmap -X output: {text}")))
}

fn parse_pmap_rows(text: &str) -> Option<BTreeMap<u64, PmapRow>> {
    let lines: Vec<&str> = text.lines().collect();
    let header_at = lines
        .iter()
        .position(|l| l.trim_start().starts_with("Address"))?;
    let header: Vec<&str> = lines[header_at].split_whitespace().collect();
    // Every column but the last (`Mapping`, a name that may be absent or hold spaces).
    let numeric = header.len() - 1;
    let mut rows = BTreeMap::new();
    for line in lines[header_at + 1..]
        .iter()
        .take_while(|l| !l.trim_start().starts_with('='))
    {
        let (f, _) = fields(line, numeric)?;
        let hex = |i: usize| u64::from_str_radix(f[i], 16).ok();
        let kib: BTreeMap<String, u64> = header[5..numeric]
            .iter()
            .zip(&f[5..])
            .filter_map(|(h, v)| Some(((*h).to_owned(), v.parse().ok()?)))
            .collect();
        let identity = (
            f[1].to_owned(),
            hex(2)?,
            f[3].to_owned(),
            f[4].parse().ok()?,
            kib["Size"],
        );
        let thp_eligible = kib.get("THPeligible") == Some(&1);
        rows.insert(
            hex(0)?,
            PmapRow {
                identity,
                kib,
                thp_eligible,
            },
        );
    }
    Some(rows)
}

/// Per-mapping tolerance in KiB: 1% or 64 KiB for RSS, Anonymous, Referenced, LazyFree and
/// Locked (pages touched or aged between the reads); 2% or 256 KiB for PSS (every reader
/// maps the same libraries, changing their divisor), as for the totals above.
fn mapping_tolerance(column: &str, kib: u64) -> u64 {
    if column == "Pss" {
        (kib / 50).max(256)
    } else {
        (kib / 100).max(64)
    }
}

#[test]
fn mem_maps_match_pmap_x() {
    let Some(servers) = setup() else { return };
    let mut found = Vec::new();
    for server in &servers.list {
        for pid in family(server) {
            found.extend(settle(
                &format!("mem --maps vs pmap -X {pid} ({})", server.name),
                |diffs| {
                    let doc = procscope(&["mem", &pid.to_string(), "--maps", "--json"]);
                    let Some(theirs) = pmap_rows(pid) else { return };
                    compare_mappings(diffs, &format!("PID {pid}"), &doc, &theirs);
                },
            ));
        }
    }
    assert_agree("mem_maps_match_pmap_x", &found);
}

fn compare_mappings(
    diffs: &mut Diffs,
    what: &str,
    doc: &serde_json::Value,
    theirs: &BTreeMap<u64, PmapRow>,
) {
    let ours: BTreeMap<u64, &serde_json::Value> = doc["memory"]["mappings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| (m["start"].as_u64().unwrap_or(0), m))
        .collect();
    // The mappings (by start address) and their identities: exact.
    let our_starts: BTreeSet<&u64> = ours.keys().collect();
    let their_starts: BTreeSet<&u64> = theirs.keys().collect();
    diffs.sets("mapping starts", what, &our_starts, &their_starts);
    for start in our_starts.intersection(&their_starts) {
        let (mapping, row) = (ours[*start], &theirs[*start]);
        let at = format!("{what} mapping {start:x}");
        let kib = |key: &str| mapping[key].as_u64().unwrap_or(u64::MAX) / 1024;
        let identity = (
            mapping["perms"].as_str().unwrap_or("").to_owned(),
            mapping["offset"].as_u64().unwrap_or(u64::MAX),
            mapping["device"].as_str().unwrap_or("").to_owned(),
            mapping["inode"].as_u64().unwrap_or(u64::MAX),
            kib("virtual_bytes"),
        );
        diffs.eq(
            "perms, offset, device, inode, size",
            &at,
            &identity,
            &row.identity,
        );
        diffs.eq(
            "THPeligible",
            &at,
            mapping["thp_eligible"].as_bool(),
            Some(row.thp_eligible),
        );
        for (column, key) in [
            ("Rss", "rss_bytes"),
            ("Pss", "pss_bytes"),
            ("Referenced", "referenced_bytes"),
            ("Anonymous", "anonymous_bytes"),
            ("LazyFree", "lazy_free_bytes"),
            ("ShmemPmdMapped", "shmem_pmd_mapped_bytes"),
            ("Locked", "locked_bytes"),
        ] {
            let Some(&peer_kib) = row.kib.get(column) else {
                continue;
            };
            let tolerance = mapping_tolerance(column, peer_kib);
            diffs.near(column, &at, kib(key), peer_kib, tolerance);
        }
    }
}
