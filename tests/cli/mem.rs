//! `mem` on the test process and its own children, and on a captured Node.js process.

use std::os::fd::AsRawFd;

use crate::common::{Gate, Owned, json, run, run_fixture_tree, stderr, stdout};

fn category_rss(doc: &serde_json::Value, keys: &[&str]) -> u64 {
    doc["memory"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| keys.contains(&c["category"].as_str().unwrap()))
        .map(|c| c["rss_bytes"].as_u64().unwrap())
        .sum()
}

#[test]
fn a_64_mib_buffer_shows_up_in_heap_and_anonymous_memory() {
    let me = std::process::id().to_string();
    let keys = ["heap", "malloc_arena", "anonymous_data"];
    let before = category_rss(&json(&run(&["mem", &me, "--json"])), &keys);
    let mut buffer = vec![0u8; 64 << 20];
    for page in buffer.chunks_mut(4096) {
        page[0] = 1;
    }
    let doc = json(&run(&["mem", &me, "--maps", "--json"]));
    let after = category_rss(&doc, &keys);
    let address = buffer.as_ptr() as u64;
    std::hint::black_box(&buffer);
    // The mapping that holds the buffer is resident and counted as heap or anonymous data.
    let mapping = doc["memory"]["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["start"].as_u64().unwrap() <= address && address < m["end"].as_u64().unwrap())
        .expect("the buffer's mapping is listed")
        .clone();
    assert!(
        mapping["rss_bytes"].as_u64().unwrap() >= 64 << 20,
        "{mapping}"
    );
    assert!(
        keys.contains(&mapping["category"].as_str().unwrap()),
        "{mapping}"
    );
    // Other tests in this process may free memory meanwhile; allow them 4 MiB.
    assert!(
        after + (4 << 20) >= before + (64 << 20),
        "grew from {before} to {after}"
    );
}

#[test]
fn three_named_thread_stacks_with_their_sizes() {
    let mut gate = Gate::default();
    let threads: Vec<(&str, u32, u64)> = [
        (1u64 << 20, "mem-1m"),
        (2 << 20, "mem-2m"),
        (4 << 20, "mem-4m"),
    ]
    .into_iter()
    .map(|(size, name)| {
        let builder = std::thread::Builder::new()
            .name(name.into())
            .stack_size(size as usize);
        (name, gate.park(builder), size)
    })
    .collect();
    // Wait until each is blocked, so its stack pointer can be sampled.
    for (_, tid, _) in &threads {
        for _ in 0..400 {
            let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/syscall"))
                .unwrap_or_default();
            if text.starts_with("202 ") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
    // The stack each thread really got: glibc may hand out a cached stack up to 4 times
    // the size asked for (threads of other tests end and leave theirs in its cache).
    let granted: Vec<u64> = (0..threads.len())
        .map(|index| crate::common::stack_size_of(gate.pthread(index)))
        .collect();
    let doc = json(&run(&["mem", &std::process::id().to_string(), "--json"]));
    gate.open();
    let categories = doc["memory"]["categories"].as_array().unwrap();
    for ((name, tid, _asked), size) in threads.into_iter().zip(granted) {
        let row = categories
            .iter()
            .find(|c| c["category"] == "thread_stack" && c["tid"] == tid)
            .unwrap_or_else(|| panic!("stack of {name} ({tid}) listed"));
        assert_eq!(row["thread_name"], name);
        let virtual_bytes = row["virtual_bytes"].as_u64().unwrap();
        // The stack mapping plus its guard page; glibc may round to the page.
        assert!(
            (size..=size + (68 << 10)).contains(&virtual_bytes),
            "{name}: {virtual_bytes} for {size}"
        );
        assert_eq!(row["mappings"], 2, "stack and guard page");
    }
}

#[test]
fn a_mapped_file_shows_with_its_path_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mapped.bin");
    std::fs::write(&path, vec![7u8; 3 << 20]).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    // SAFETY: a read-only private mapping of a file we own, unmapped below.
    let address = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            3 << 20,
            libc::PROT_READ,
            libc::MAP_PRIVATE,
            file.as_raw_fd(),
            0,
        )
    };
    assert_ne!(address, libc::MAP_FAILED);
    let doc = json(&run(&[
        "mem",
        &std::process::id().to_string(),
        "--maps",
        "--json",
    ]));
    let text = stdout(&run(&[
        "mem",
        &std::process::id().to_string(),
        "--maps",
        "--wide",
    ]));
    unsafe { libc::munmap(address, 3 << 20) };
    let mappings = doc["memory"]["mappings"].as_array().unwrap();
    let row = mappings
        .iter()
        .find(|m| m["path"] == path.to_str().unwrap())
        .expect("the mapped file is listed");
    assert_eq!(row["virtual_bytes"], 3 << 20);
    assert_eq!(row["category"], "file");
    assert_eq!(row["start"], address as u64);
    assert_eq!(row["perms"], "r--p");
    let line = text
        .lines()
        .find(|l| l.ends_with(path.to_str().unwrap()))
        .unwrap();
    assert!(line.contains(" file ") && line.contains(" 3.0M "), "{line}");
}

#[test]
fn categories_add_up_to_the_kernels_totals() {
    let sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    let doc = json(&run(&["mem", &sleeper.pid().to_string(), "--json"]));
    let memory = &doc["memory"];
    let sum = |key: &str| -> u64 {
        memory["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c[key].as_u64().unwrap())
            .sum()
    };
    for key in ["rss_bytes", "private_bytes", "swap_bytes"] {
        assert_eq!(sum(key), memory["rollup"][key].as_u64().unwrap(), "{key}");
        assert_eq!(sum(key), memory["total"][key].as_u64().unwrap(), "{key}");
    }
    let mappings = memory["total"]["mappings"].as_u64().unwrap();
    let (pss, rollup_pss) = (
        sum("pss_bytes"),
        memory["rollup"]["pss_bytes"].as_u64().unwrap(),
    );
    // smaps truncates each mapping's PSS to whole KiB (up to 1 KiB less per mapping); and
    // the two reads are not one instant: a shared page's PSS moves as other processes
    // (the suite's, running in parallel) map and unmap it, by at most 1/10 here.
    let drift = rollup_pss / 10;
    assert!(
        pss <= rollup_pss + drift && rollup_pss.saturating_sub(pss) <= mappings * 1024 + drift,
        "pss {pss} vs {rollup_pss}"
    );
    let keys: Vec<&str> = memory["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"main_stack") && keys.contains(&"executable") && keys.contains(&"library"),
        "{keys:?}"
    );
}

#[test]
fn captured_node_process_is_classified() {
    let output = run_fixture_tree("node", &["mem", "9012"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let expected = "\
PID 9012  node  RSS 73.5M  PSS 70.0M  private 68.7M  swap 0B (kernel totals)
CATEGORY                   OWNER     VIRTUAL   RSS   PSS PRIVATE SWAP MAPS
main stack                              132K 64.0K 64.0K   64.0K   0B    1
thread stack               9014 node    8.0M 16.0K 16.0K   16.0K   0B    2
thread stack               9015 node    8.0M 24.0K 24.0K   24.0K   0B    2
thread stack               9016 node    8.0M  8.0K  8.0K    8.0K   0B    2
thread stack               9017 node    8.0M  8.0K  8.0K    8.0K   0B    2
thread stack               9018 node    8.0M  8.0K  8.0K    8.0K   0B    2
thread stack               9019 node   36.0K  8.0K  8.0K    8.0K   0B    2
thread stack               9020 node    4.0M 36.0K 36.0K   36.0K   0B    2
thread stack               9021 node    4.0M 36.0K 36.0K   36.0K   0B    2
thread stack               9022 node    8.0M  8.0K  8.0K    8.0K   0B    2
thread stack               9023 node    8.0M  8.0K  8.0K    8.0K   0B    2
thread stack               9024 node    8.0M  8.0K  8.0K    8.0K   0B    2
thread stack               9025 node    8.0M  8.0K  8.0K    8.0K   0B    2
heap [heap]                             2.8M  2.7M  2.7M    2.7M   0B    1
heap (malloc arenas)                    512M  2.6M  2.6M    2.6M   0B   16
anonymous data                         33.9M 25.6M 25.6M   25.6M   0B  141
anonymous executable (JIT)              720K  100K  100K    100K   0B    3
reservations (PROT_NONE)                1.5G    0B    0B      0B   0B   10
executable                 node        87.1M 38.8M 36.6M   35.8M   0B   10
shared libraries                        5.2M  3.5M  2.2M    1.7M   0B   35
special                                36.0K  4.0K    0B      0B   0B    4
total                                   2.2G 73.5M 70.0M   68.7M   0B  245
";
    assert_eq!(stdout(&output), expected);
    let doc = json(&run_fixture_tree(
        "node",
        &["mem", "9012", "--libs", "--json"],
    ));
    let libraries: Vec<&str> = doc["memory"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["file"].as_str())
        .collect();
    assert!(
        libraries.contains(&"libc.so.6") && libraries.contains(&"libstdc++.so.6.0.30"),
        "{libraries:?}"
    );
}

#[test]
fn kernel_threads_and_unreadable_processes_say_why() {
    let output = run_fixture_tree("basic", &["mem", "2"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "procscope: PID 2 is a kernel thread: it has no user-space memory\n"
    );
    let output = run_fixture_tree("basic", &["mem", "42"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("zombie"));
    let Some(user) = crate::permission::unprivileged() else {
        return;
    };
    let sleeper = Owned::spawn("sleep", &["300"]).sleeping();
    let output = user.run(&["mem", &sleeper.pid().to_string()]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "procscope: cannot read the memory map of PID {}: permission denied\n",
            sleeper.pid()
        )
    );
}
