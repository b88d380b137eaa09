//! `mem --maps` against `pmap -XX` of the test's own child: device, inode, Referenced,
//! Anonymous, LazyFree, ShmemPmdMapped, Locked, THPeligible and VmFlags per mapping.

use std::collections::HashMap;
use std::process::Command;

use crate::common::{Owned, json_ok, run};

/// One pmap row: field name → text, and the VmFlags.
type PmapRow = (HashMap<String, String>, Vec<String>);

/// pmap's rows by start address.
fn pmap_rows(pid: u32) -> Option<HashMap<u64, PmapRow>> {
    let output = Command::new("pmap")
        .args(["-XX", &pid.to_string()])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut lines = text.lines().skip(1);
    let header: Vec<String> = lines
        .next()?
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let thp = header.iter().position(|h| h == "THPeligible")?;
    let mut rows = HashMap::new();
    for line in lines {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let Some(start) = tokens.first().and_then(|t| u64::from_str_radix(t, 16).ok()) else {
            continue;
        };
        if tokens.len() <= thp {
            continue;
        }
        let fields = header[..=thp]
            .iter()
            .cloned()
            .zip(tokens[..=thp].iter().map(|t| (*t).to_owned()))
            .collect();
        let flags = tokens[thp + 1..]
            .iter()
            .take_while(|t| t.len() == 2 && t.bytes().all(|b| b.is_ascii_lowercase()))
            .map(|t| (*t).to_owned())
            .collect();
        rows.insert(start, (fields, flags));
    }
    Some(rows)
}

#[test]
fn maps_match_pmap_xx_of_own_child() {
    let child = Owned::spawn("sleep", &["300"]).sleeping();
    let pid = child.pid();
    let doc = json_ok(&run(&["mem", &pid.to_string(), "--maps", "--json"]));
    let Some(pmap) = pmap_rows(pid) else {
        panic!("pmap -XX (procps) must run here");
    };
    let mappings = doc["memory"]["mappings"].as_array().unwrap();
    assert!(!mappings.is_empty());
    let mut compared = 0;
    for m in mappings {
        let start = m["start"].as_u64().unwrap();
        let (fields, flags) = pmap
            .get(&start)
            .unwrap_or_else(|| panic!("{start:x} in pmap"));
        let kib = |name: &str| fields[name].parse::<u64>().unwrap() * 1024;
        assert_eq!(m["device"], fields["Device"].as_str(), "{start:x}");
        assert_eq!(m["inode"].to_string(), fields["Inode"], "{start:x}");
        for (ours, theirs) in [
            ("referenced_bytes", "Referenced"),
            ("anonymous_bytes", "Anonymous"),
            ("lazy_free_bytes", "LazyFree"),
            ("shmem_pmd_mapped_bytes", "ShmemPmdMapped"),
            ("locked_bytes", "Locked"),
        ] {
            assert_eq!(
                m[ours].as_u64().unwrap(),
                kib(theirs),
                "{theirs} of {start:x}"
            );
        }
        assert_eq!(m["thp_eligible"], fields["THPeligible"] == "1", "{start:x}");
        let ours_flags: Vec<&str> = m["vm_flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        assert_eq!(ours_flags, *flags, "VmFlags of {start:x}");
        compared += 1;
    }
    assert_eq!(compared, pmap.len());
    // The stack is the one mapping every process has with `gd` (grows down).
    assert!(
        mappings.iter().any(|m| m["path"] == "[stack]"
            && m["vm_flags"].as_array().unwrap().iter().any(|f| f == "gd"))
    );
}
