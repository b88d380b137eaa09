//! `ports` facts from sock_diag against ss and against traffic the tests make: unix peers
//! (`ss -xp`), Recv-Q/Send-Q (`ss -tn`), both ends of a connection by port, state filters,
//! and per-connection and per-process TCP bytes over an interval.

use std::io::{BufRead, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};

use crate::common::{Owned, command, json, run, sleep_holding, stdout};

fn sockets(doc: &serde_json::Value) -> Vec<serde_json::Value> {
    doc["sockets"].as_array().expect("sockets").clone()
}

fn inode_of(fd: i32) -> u64 {
    crate::common::own_socket_inode(fd)
}

fn have_ss() -> bool {
    crate::common::have_tool("ss")
}

#[test]
fn unix_socketpair_peers_across_two_processes_match_ss_xp() {
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    let left = sleep_holding(a.as_raw_fd());
    let right = sleep_holding(b.as_raw_fd());
    let (inode_a, inode_b) = (inode_of(a.as_raw_fd()), inode_of(b.as_raw_fd()));
    let pid = left.pid().to_string();
    let doc = json(&run(&["ports", "--unix", "--all", "--pid", &pid, "--json"]));
    let row = sockets(&doc)
        .into_iter()
        .find(|s| s["inode"] == inode_a)
        .expect("the left end is listed");
    assert_eq!(row["socket_type"], "stream");
    assert_eq!(row["peer_inode"], inode_b);
    let peers = row["peer_holders"].as_array().unwrap();
    let peer = peers
        .iter()
        .find(|p| p["pid"] == right.pid())
        .expect("the right child holds the peer");
    assert_eq!(peer["fds"], serde_json::json!([b.as_raw_fd()]));
    let table = stdout(&run(&["ports", "--unix", "--all", "--pid", &pid]));
    let expected = format!("sleep {} fd {}", right.pid(), b.as_raw_fd());
    assert!(table.contains(&expected), "{table}");
    if have_ss() {
        let out = Command::new("ss").args(["-xpH"]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let line = text
            .lines()
            .find(|l| l.split_whitespace().nth(5) == Some(&inode_a.to_string()))
            .unwrap_or_else(|| panic!("ss -xp lists inode {inode_a}: {text}"));
        assert_eq!(
            line.split_whitespace().nth(7),
            Some(inode_b.to_string().as_str())
        );
        let peer_line = text
            .lines()
            .find(|l| l.split_whitespace().nth(5) == Some(&inode_b.to_string()))
            .unwrap();
        let holder = format!("pid={},fd={}", right.pid(), b.as_raw_fd());
        assert!(peer_line.contains(&holder), "{peer_line}");
    }
}

/// A loopback connection: (listener, client, accepted server end).
fn connection() -> (TcpListener, TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (listener, client, server)
}

#[test]
fn recv_queue_shows_52_unread_bytes_like_ss_tn() {
    let (listener, mut client, server) = connection();
    let port = listener.local_addr().unwrap().port();
    let client_port = client.local_addr().unwrap().port();
    client.write_all(&[b'q'; 52]).unwrap();
    let server_row = |doc: &serde_json::Value| {
        sockets(doc)
            .into_iter()
            .find(|s| s["local_port"] == port && s["remote_port"] == client_port)
            .expect("the accepted end")
    };
    let mut row = serde_json::Value::Null;
    for _ in 0..400 {
        row = server_row(&json(&run(&[
            "ports",
            &port.to_string(),
            "--all",
            "--json",
        ])));
        if row["recv_queue"] == 52 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(row["recv_queue"], 52, "{row}");
    assert_eq!(row["send_queue"], 0);
    assert_eq!(row["tcp_info"]["bytes_received"], 52);
    assert_eq!(
        row["holders"][0]["fds"],
        serde_json::json!([server.as_raw_fd()])
    );
    if have_ss() {
        let filter = format!("( sport = :{port} and dport = :{client_port} )");
        let out = Command::new("ss").args(["-tnH", &filter]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let fields: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(&fields[..3], ["ESTAB", "52", "0"], "{text}");
    }
}

#[test]
fn port_with_all_finds_both_ends_and_state_filters() {
    let (listener, client, server) = connection();
    let port = listener.local_addr().unwrap().port();
    let doc = json(&run(&["ports", &port.to_string(), "--all", "--json"]));
    let rows = sockets(&doc);
    let has = |local: u16, remote: u16, state: &str| {
        rows.iter()
            .any(|s| s["local_port"] == local && s["remote_port"] == remote && s["state"] == state)
    };
    let client_port = client.local_addr().unwrap().port();
    assert!(has(port, 0, "LISTEN"), "{doc}");
    assert!(has(port, client_port, "ESTABLISHED"), "{doc}");
    assert!(
        has(client_port, port, "ESTABLISHED"),
        "the client end: {doc}"
    );
    let listening = json(&run(&["ports", &port.to_string(), "--json"]));
    assert_eq!(
        sockets(&listening).len(),
        1,
        "without --all only the listener"
    );
    let doc = json(&run(&[
        "ports",
        &port.to_string(),
        "--state",
        "established,close-wait",
        "--json",
    ]));
    let states: Vec<String> = sockets(&doc)
        .iter()
        .map(|s| s["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states, ["ESTABLISHED", "ESTABLISHED"], "{doc}");
    drop(client);
    let mut closed = Vec::new();
    for _ in 0..400 {
        let doc = json(&run(&[
            "ports",
            &port.to_string(),
            "--state",
            "close-wait",
            "--json",
        ]));
        closed = sockets(&doc);
        if !closed.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(closed.len(), 1);
    assert_eq!(
        closed[0]["holders"][0]["fds"],
        serde_json::json!([server.as_raw_fd()])
    );
    let bad = run(&["ports", "--state", "opened"]);
    assert_eq!(bad.status.code(), Some(2));
}

/// A python3 client that connects to `port`, says `ready`, and sends `bytes` bytes each
/// time it reads a line; it exits when its stdin closes.
fn client(port: u16, bytes: usize) -> Option<Owned> {
    let script = format!(
        "import socket,sys\nc=socket.create_connection(('127.0.0.1',{port}))\nprint('ready',flush=True)\nfor line in sys.stdin:\n    c.sendall(b'z'*{bytes})\n    print('sent',flush=True)\n"
    );
    let mut child = Command::new("python3")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut line = String::new();
    let stdout = child.stdout.as_mut().unwrap();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    Some(Owned(child))
}

/// Waits until our child `procscope` sleeps between its two samples (in nanosleep).
fn wait_until_sampling(child: &std::process::Child) {
    #[cfg(target_arch = "x86_64")]
    const SLEEPS: &[&str] = &["35", "230"];
    #[cfg(target_arch = "aarch64")]
    const SLEEPS: &[&str] = &["101", "115"];
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    const SLEEPS: &[&str] = &[];
    for _ in 0..4000 {
        let syscall =
            std::fs::read_to_string(format!("/proc/{}/syscall", child.id())).unwrap_or_default();
        if syscall
            .split_whitespace()
            .next()
            .is_some_and(|n| SLEEPS.contains(&n))
        {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    panic!("procscope never slept between its samples");
}

#[test]
fn tcp_bytes_over_an_interval_match_what_the_client_sent() {
    const SENT: usize = 300_000;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let Some(mut sender) = client(port, SENT) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 is installed by .ci/run"
        );
        eprintln!("skipped: python3 is not installed");
        return;
    };
    let (mut server, _) = listener.accept().unwrap();
    let client_port = {
        let doc = json(&run(&["ports", &port.to_string(), "--all", "--json"]));
        sockets(&doc)
            .into_iter()
            .find(|s| s["remote_port"] == port)
            .expect("the client end")["local_port"]
            .as_u64()
            .unwrap()
    };
    let pid = sender.pid().to_string();
    for args in [
        vec!["ports", "--all", "--tcp", "--interval", "2s", "--json"],
        vec![
            "ps",
            "-o",
            "pid,net_tx,net_rx,net_shared",
            "--pid",
            &pid,
            "--interval",
            "2s",
            "--json",
        ],
    ] {
        let watcher = command(&args).stdout(Stdio::piped()).spawn().unwrap();
        wait_until_sampling(&watcher);
        let stdin = sender.0.stdin.as_mut().unwrap();
        stdin.write_all(b"go\n").unwrap();
        stdin.flush().unwrap();
        let mut received = vec![0u8; SENT];
        server.read_exact(&mut received).unwrap();
        let out = watcher.wait_with_output().unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        if args[0] == "ports" {
            let ours = sockets(&doc)
                .into_iter()
                .find(|s| s["local_port"] == client_port && s["remote_port"] == port)
                .expect("the client's connection");
            assert_eq!(ours["throughput"]["tx_bytes"], SENT, "{ours}");
            assert_eq!(ours["throughput"]["rx_bytes"], 0);
            assert_eq!(ours["shared"], false);
            assert!(doc["throughput_limits"].as_array().unwrap().len() >= 4);
        } else {
            let row = crate::common::row_of(&doc, sender.pid());
            let rate = row["net_tx_bytes_per_second"].as_f64().unwrap();
            // The rate is the bytes over the measured interval, which is at least 2 s.
            assert!(rate > 0.0 && rate <= SENT as f64 / 2.0, "{row}");
            assert_eq!(row["net_rx_bytes_per_second"], 0);
            assert_eq!(row["net_shared"], "no");
        }
        let mut line = String::new();
        let stdout = sender.0.stdout.as_mut().unwrap();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "sent");
    }
    let without = run(&["ps", "-o", "pid,net_tx"]);
    assert_eq!(without.status.code(), Some(2));
}
