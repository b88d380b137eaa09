//! `export` and `serve` against real components: promtool validates the exposition, a real
//! Prometheus scrapes `serve` and follows the test's own sleeps, and process-exporter with
//! the same group gives the same counts, CPU, RSS, threads and descriptors.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Owned, command, run, run_fixture, stderr, stdout};

/// True when `program` is installed; in CI (CI=true, which installs it) a missing one fails.
fn have(program: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()));
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{program} is missing in CI (.ci/run installs it)"
        );
        eprintln!(
            "skipping: {program} is not installed (Debian package prometheus / prometheus-process-exporter)"
        );
    }
    found
}

/// Runs `promtool check metrics` on `text`: (exit code, its findings).
fn promtool(text: &str) -> (Option<i32>, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let findings = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code(), findings)
}

#[test]
fn promtool_accepts_both_expositions() {
    if !have("promtool") {
        return;
    }
    let classic = run(&["export", "--format", "prometheus", "--pss"]);
    assert_eq!(classic.status.code(), Some(0), "{}", stderr(&classic));
    let (code, findings) = promtool(&stdout(&classic));
    assert_eq!(
        (code, findings.as_str()),
        (Some(0), ""),
        "classic text is clean"
    );

    let open = run(&["export", "--pss"]);
    let text = stdout(&open);
    assert!(text.ends_with("# EOF\n"));
    let (_, findings) = promtool(&text);
    // promtool parses the classic format: an OpenMetrics counter's HELP names the family,
    // not its `_total` sample, which is the only finding allowed.
    for finding in findings.lines() {
        let sample = finding
            .strip_suffix(" no help text")
            .unwrap_or_else(|| panic!("{finding}"));
        let family = sample
            .strip_suffix("_total")
            .unwrap_or_else(|| panic!("{finding}"));
        assert!(
            text.contains(&format!("# TYPE {family} counter\n")),
            "{finding}"
        );
    }
}

#[test]
fn fixture_groups_are_deterministic() {
    let output = run_fixture(&["export", "--group-by", "name"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("procscope_group_num_procs{group=\"init\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("procscope_group_states{group=\"defunct-child\",state=\"zombie\"} 1\n"),
        "{text}"
    );
}

#[test]
fn bad_config_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[[group]]\ncmdline = '('\n").unwrap();
    let output = run(&["export", "--config", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cmdline regex '('"),
        "{}",
        stderr(&output)
    );
    let output = run(&["serve", "--listen", "localhost"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let output = run(&["export", "--json"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("not JSON"), "{}", stderr(&output));
}

/// A port nobody listens on now (the listener is closed again at once).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET `path` from 127.0.0.1:`port`: the body, or `None` when nothing answers yet.
fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.").then(|| body.to_owned())
}

/// `procscope serve` on a free loopback port: the child and its port.
fn serve(args: &[&str]) -> (Owned, u16) {
    let mut all = vec!["serve", "--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let mut child = command(&all)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .rsplit_once(':')
        .and_then(|(_, rest)| rest.trim_end_matches("/metrics").parse().ok())
        .unwrap_or_else(|| panic!("serve says where it listens: {line:?}"));
    (Owned(child), port)
}

#[test]
fn serve_answers_while_a_client_stalls_and_stops_on_sigterm() {
    let (mut server, port) = serve(&[]);
    // A client that connects and never finishes its request.
    let mut stalled = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stalled.write_all(b"GET /metr").unwrap();
    let index = get(port, "/").expect("the index page answers");
    assert!(index.contains("<a href=\"/metrics\">"), "{index}");
    let metrics = get(port, "/metrics").expect("metrics answer");
    assert!(
        metrics.contains("procscope_group_num_procs{group=\"procscope\"}"),
        "{metrics}"
    );
    // SIGTERM to our own un-reaped child: it stops cleanly with 0.
    crate::common::signal_own_child(&mut server.0, libc::SIGTERM);
    let status = server.0.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

/// A copy of `sleep` under a name no other process has, so its group is the test's own.
struct Sleeps {
    program: PathBuf,
    children: Vec<Owned>,
}

impl Sleeps {
    fn new(dir: &Path) -> Self {
        let name = format!("pse{}", std::process::id());
        let program = dir.join(&name);
        let sleep = ["/usr/bin/sleep", "/bin/sleep"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap();
        std::fs::copy(sleep, &program).unwrap();
        Self {
            program,
            children: Vec::new(),
        }
    }

    fn name(&self) -> String {
        self.program
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    fn resize(&mut self, count: usize) {
        self.children.truncate(count);
        while self.children.len() < count {
            self.children
                .push(Owned::spawn(&self.program, &["1000"]).sleeping());
        }
    }
}

/// A background server the test started (Prometheus, process-exporter), killed on drop.
fn start(program: &str, args: &[String], log: &Path) -> Owned {
    let log = std::fs::File::create(log).unwrap();
    let child: Child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|err| panic!("{program} starts: {err}"));
    Owned(child)
}

/// The value of an instant query that returns one series, if it does now.
fn query(port: u16, promql: &str) -> Option<f64> {
    let encoded: String = promql
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let body = get(port, &format!("/api/v1/query?query={encoded}"))?;
    let json: serde_json::Value = serde_json::from_str(&body).ok()?;
    let result = json["data"]["result"].as_array()?;
    if result.len() != 1 {
        return None;
    }
    result[0]["value"][1].as_str()?.parse().ok()
}

/// Polls `promql` until it equals `want` (the test's own processes), for up to 3 minutes.
fn wait_for(port: u16, promql: &str, want: f64) {
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut last = None;
    while Instant::now() < deadline {
        last = query(port, promql);
        if last == Some(want) {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("{promql} stayed {last:?}, expected {want}");
}

#[test]
fn prometheus_follows_the_sleeps_and_matches_process_exporter() {
    if !have("prometheus") || !have("prometheus-process-exporter") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut sleeps = Sleeps::new(dir.path());
    let name = sleeps.name();
    let group = format!("sleepers-{name}");
    let config = dir.path().join("groups.toml");
    std::fs::write(
        &config,
        format!("[[group]]\ncomm = [\"{name}\"]\nname = \"{group}\"\n"),
    )
    .unwrap();
    let exporter_config = dir.path().join("process-exporter.yml");
    std::fs::write(
        &exporter_config,
        format!("process_names:\n  - name: \"{group}\"\n    comm:\n      - {name}\n"),
    )
    .unwrap();
    sleeps.resize(3);
    let (_serve, serve_port) = serve(&["--config", config.to_str().unwrap()]);
    let exporter_port = free_port();
    let _exporter = start(
        "prometheus-process-exporter",
        &[
            format!("-config.path={}", exporter_config.display()),
            format!("-web.listen-address=127.0.0.1:{exporter_port}"),
        ],
        &dir.path().join("process-exporter.log"),
    );
    let prometheus_port = free_port();
    let prometheus_config = dir.path().join("prometheus.yml");
    std::fs::write(
        &prometheus_config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  \
             - job_name: procscope\n    static_configs:\n      - targets: ['127.0.0.1:{serve_port}']\n  \
             - job_name: process-exporter\n    static_configs:\n      - targets: ['127.0.0.1:{exporter_port}']\n"
        ),
    )
    .unwrap();
    let _prometheus = start(
        "prometheus",
        &[
            format!("--config.file={}", prometheus_config.display()),
            format!("--storage.tsdb.path={}", dir.path().join("data").display()),
            format!("--web.listen-address=127.0.0.1:{prometheus_port}"),
        ],
        &dir.path().join("prometheus.log"),
    );
    let ours = |metric: &str| format!("{metric}{{group=\"{group}\"}}");
    wait_for(prometheus_port, &ours("procscope_group_num_procs"), 3.0);
    sleeps.resize(5);
    wait_for(prometheus_port, &ours("procscope_group_num_procs"), 5.0);
    sleeps.resize(2);
    wait_for(prometheus_port, &ours("procscope_group_num_procs"), 2.0);
    let theirs = |metric: &str, extra: &str| format!("{metric}{{groupname=\"{group}\"{extra}}}");
    wait_for(
        prometheus_port,
        &theirs("namedprocess_namegroup_num_procs", ""),
        2.0,
    );
    compare_with_process_exporter(prometheus_port, &ours, &theirs);
}

/// The same group through both exporters, in the same Prometheus.
fn compare_with_process_exporter(
    port: u16,
    ours: &dyn Fn(&str) -> String,
    theirs: &dyn Fn(&str, &str) -> String,
) {
    // RSS: procscope reads the exact count (status VmRSS / statm, like ps and top);
    // process-exporter reads `stat` field 24, which on kernels with per-CPU RSS counters
    // lags by up to the counters' batch (64 pages) on each CPU, per process. So it may be
    // lower, by at most that much, never higher.
    let their_rss = query(
        port,
        &theirs(
            "namedprocess_namegroup_memory_bytes",
            ",memtype=\"resident\"",
        ),
    )
    .expect("process-exporter's resident series");
    let our_rss = query(port, &ours("procscope_group_memory_resident_bytes")).expect("our rss");
    let procs = query(port, &ours("procscope_group_num_procs")).expect("our process count");
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let lag = procs * cpus * 64.0 * 4096.0;
    assert!(
        their_rss <= our_rss + 4096.0 * procs && our_rss - their_rss <= lag,
        "resident bytes: procscope {our_rss}, process-exporter {their_rss} (lag allowed {lag})"
    );
    let exact = [
        (
            "procscope_group_threads",
            "namedprocess_namegroup_num_threads",
            "",
        ),
        (
            "procscope_group_open_fds",
            "namedprocess_namegroup_open_filedesc",
            "",
        ),
    ];
    for (our_metric, their_metric, extra) in exact {
        let their_value = query(port, &theirs(their_metric, extra)).expect(their_metric);
        wait_for(port, &ours(our_metric), their_value);
    }
    for mode in ["user", "system"] {
        let our_query = format!(
            "procscope_group_cpu_seconds_total{{mode=\"{mode}\",{}",
            &ours("")[1..]
        );
        let mine = query(port, &our_query).expect("our cpu series");
        let theirs = query(
            port,
            &theirs(
                "namedprocess_namegroup_cpu_seconds_total",
                &format!(",mode=\"{mode}\""),
            ),
        )
        .expect("process-exporter's cpu series");
        // Sleeping processes barely run; one scrape interval (1 s) bounds any difference.
        assert!(
            (mine - theirs).abs() <= 1.0,
            "cpu {mode}: procscope {mine}, process-exporter {theirs}"
        );
    }
}

#[test]
fn contrib_config_and_dashboard_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = root.join("contrib/groups.toml");
    let output = run(&["export", "--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).ends_with("# EOF\n"));
    // Every series the dashboard queries is one the README's table documents.
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("contrib/grafana-dashboard.json")).unwrap(),
    )
    .unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let names = regex::Regex::new(r"procscope_[a-z_]+").unwrap();
    let mut queried = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            for name in names.find_iter(target["expr"].as_str().unwrap()) {
                queried += 1;
                assert!(
                    readme.contains(&format!("`{}`", name.as_str())),
                    "{} is not documented",
                    name.as_str()
                );
            }
        }
    }
    assert!(queried >= 12, "the dashboard queries procscope series");
}
