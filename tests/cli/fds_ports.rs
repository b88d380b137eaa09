//! `fds` and `ports` against descriptors and sockets the test opens itself.

use std::io::{Seek, SeekFrom};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

use crate::common::{fd_row, json, run, run_fixture_tree, sleep_holding, stderr, stdout};

#[test]
fn every_kind_of_descriptor_the_test_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.txt");
    std::fs::write(&path, vec![b'x'; 10_000]).unwrap();
    let mut file = std::fs::File::open(&path).unwrap();
    file.seek(SeekFrom::Start(4321)).unwrap();
    let deleted_path = dir.path().join("gone.txt");
    let deleted = std::fs::File::create(&deleted_path).unwrap();
    std::fs::remove_file(&deleted_path).unwrap();
    let (pipe_read, pipe_write) = std::io::pipe().unwrap();
    let (pair_a, _pair_b) = UnixStream::pair().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let listener6 = TcpListener::bind("[::]:0").unwrap();
    let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let client_port = client.local_addr().unwrap().port();
    let (_accepted, _) = listener.accept().unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    // SAFETY: plain system calls; the returned fds are owned right away.
    let eventfd = unsafe { OwnedFd::from_raw_fd(libc::eventfd(7, libc::EFD_CLOEXEC)) };
    let epoll = unsafe { OwnedFd::from_raw_fd(libc::epoll_create1(libc::EPOLL_CLOEXEC)) };
    let mut event = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: 1,
    };
    assert_eq!(
        unsafe {
            libc::epoll_ctl(
                epoll.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                pipe_read.as_raw_fd(),
                &mut event,
            )
        },
        0
    );

    let output = run(&["fds", &std::process::id().to_string(), "--json", "--peers"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc = json(&output);
    assert_eq!(doc["peers_searched"], true);

    let row = fd_row(&doc, file.as_raw_fd());
    assert_eq!(
        (
            row["type"].as_str(),
            row["mode"].as_str(),
            row["pos"].as_u64()
        ),
        (Some("file"), Some("r"), Some(4321))
    );
    assert_eq!(row["target"], path.to_str().unwrap());
    assert_eq!(row["deleted"], false);

    let row = fd_row(&doc, deleted.as_raw_fd());
    assert_eq!(row["deleted"], true);
    assert_eq!(row["target"], deleted_path.to_str().unwrap());
    assert_eq!(row["mode"], "w");

    let read_end = fd_row(&doc, pipe_read.as_raw_fd());
    assert_eq!(
        (read_end["type"].as_str(), read_end["mode"].as_str()),
        (Some("pipe"), Some("r"))
    );
    let peers = read_end["pipe_peers"].as_array().unwrap();
    assert!(
        peers
            .iter()
            .any(|p| p["pid"] == std::process::id() && p["fd"] == pipe_write.as_raw_fd()),
        "{read_end}"
    );
    assert_eq!(fd_row(&doc, pipe_write.as_raw_fd())["mode"], "w");

    let row = fd_row(&doc, pair_a.as_raw_fd());
    assert_eq!(
        (row["type"].as_str(), row["socket"]["state"].as_str()),
        (Some("unix"), Some("CONNECTED"))
    );

    let row = fd_row(&doc, listener.as_raw_fd());
    assert_eq!(row["type"], "tcp");
    assert_eq!(row["description"], format!("tcp 127.0.0.1:{port} LISTEN"));
    assert_eq!(row["socket"]["local_port"], port);

    let row = fd_row(&doc, listener6.as_raw_fd());
    assert_eq!(
        (
            row["type"].as_str(),
            row["socket"]["local_address"].as_str()
        ),
        (Some("tcp6"), Some("::"))
    );
    assert_eq!(row["socket"]["state"], "LISTEN");

    let row = fd_row(&doc, client.as_raw_fd());
    assert_eq!(
        row["description"],
        format!("tcp 127.0.0.1:{client_port} -> 127.0.0.1:{port} ESTABLISHED")
    );

    let row = fd_row(&doc, udp.as_raw_fd());
    assert_eq!(
        (row["type"].as_str(), row["socket"]["state"].as_str()),
        (Some("udp"), Some("BOUND"))
    );

    let row = fd_row(&doc, eventfd.as_raw_fd());
    assert_eq!(
        (row["type"].as_str(), row["eventfd_count"].as_u64()),
        (Some("eventfd"), Some(7))
    );

    let row = fd_row(&doc, epoll.as_raw_fd());
    assert_eq!(row["type"], "epoll");
    assert_eq!(
        row["epoll_targets"],
        serde_json::json!([pipe_read.as_raw_fd()])
    );

    // The table shows the same.
    let text = stdout(&run(&["fds", &std::process::id().to_string(), "--wide"]));
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some(&listener.as_raw_fd().to_string()))
        .unwrap();
    assert!(
        line.contains(&format!("tcp 127.0.0.1:{port} LISTEN")),
        "{line}"
    );
    assert!(
        text.lines().next().unwrap().contains(" fds (soft limit "),
        "{text}"
    );
}

#[test]
fn ports_finds_the_listener_and_every_holder() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let child = sleep_holding(listener.as_raw_fd());
    let output = run(&["ports", &port.to_string(), "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc = json(&output);
    let sockets = doc["sockets"].as_array().unwrap();
    assert_eq!(sockets.len(), 1, "{doc}");
    let socket = &sockets[0];
    assert_eq!(
        (socket["proto"].as_str(), socket["state"].as_str()),
        (Some("tcp"), Some("LISTEN"))
    );
    assert_eq!(socket["local_port"], port);
    let holders = socket["holders"].as_array().unwrap();
    let me = holders
        .iter()
        .find(|h| h["pid"] == std::process::id())
        .expect("the test holds it");
    assert_eq!(me["fds"], serde_json::json!([listener.as_raw_fd()]));
    let other = holders
        .iter()
        .find(|h| h["pid"] == child.pid())
        .expect("the child holds it too");
    assert_eq!(other["name"], "sleep");
    assert_eq!(other["fds"], serde_json::json!([listener.as_raw_fd()]));

    let text = stdout(&run(&["ports", &port.to_string()]));
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert!(
        rows.iter()
            .any(|r| r.split_whitespace().nth(4) == Some(&child.pid().to_string())),
        "{text}"
    );
    assert!(
        rows.iter().all(|r| r
            .split_whitespace()
            .take(2)
            .eq(["tcp", &format!("127.0.0.1:{port}")])),
        "{text}"
    );
}

#[test]
fn ports_on_ipv6_udp_and_filters() {
    let listener6 = TcpListener::bind("[::]:0").unwrap();
    let port6 = listener6.local_addr().unwrap().port();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp_port = udp.local_addr().unwrap().port();
    let doc = json(&run(&["ports", &port6.to_string(), "--json"]));
    assert_eq!(
        doc["sockets"][0]["proto"], "tcp6",
        "a dual-stack listener is only in tcp6"
    );
    assert_eq!(doc["sockets"][0]["local_address"], "::");
    let doc = json(&run(&["ports", &udp_port.to_string(), "--udp", "--json"]));
    assert_eq!(doc["sockets"][0]["proto"], "udp");
    assert_eq!(doc["sockets"][0]["state"], "BOUND");
    let tcp_only = run(&["ports", &udp_port.to_string(), "--tcp"]);
    assert_eq!(
        tcp_only.status.code(),
        Some(1),
        "the UDP port has no TCP listener"
    );
    let mine = json(&run(&[
        "ports",
        "--pid",
        &std::process::id().to_string(),
        "--json",
    ]));
    let ports: Vec<u64> = mine["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["local_port"].as_u64().unwrap())
        .collect();
    assert!(
        ports.contains(&u64::from(port6)) && ports.contains(&u64::from(udp_port)),
        "{ports:?}"
    );
}

#[test]
fn ports_all_shows_connections() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (accepted, _) = listener.accept().unwrap();
    let doc = json(&run(&["ports", &port.to_string(), "--all", "--json"]));
    let states: Vec<&str> = doc["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert!(
        states.contains(&"LISTEN") && states.contains(&"ESTABLISHED"),
        "{states:?}"
    );
    let established = doc["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["state"] == "ESTABLISHED" && s["local_port"] == port)
        .unwrap();
    assert_eq!(
        established["holders"][0]["fds"],
        serde_json::json!([accepted.as_raw_fd()])
    );
}

#[test]
fn a_port_nobody_holds_exits_1() {
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = run(&["ports", &free.to_string()]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    assert_eq!(stderr(&output), format!("nothing listens on port {free}\n"));
    let bad = run(&["ports", "70000"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("70000"));
}

#[test]
fn ten_thousand_descriptors_are_all_listed() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain getrlimit/setrlimit on our own process.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    if limit.rlim_max < 10_300 {
        crate::common::notice!(
            "the hard RLIMIT_NOFILE is {}, below 10300; 10000-fd test skipped",
            limit.rlim_max
        );
        return;
    }
    if limit.rlim_cur < 10_300 {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            crate::common::notice!("setrlimit failed; 10000-fd test skipped");
            return;
        }
    }
    let null = std::fs::File::open("/dev/null").unwrap();
    let copies: Vec<OwnedFd> = (0..10_000)
        .map(|_| null.try_clone().unwrap().into())
        .collect();
    let doc = json(&run(&["fds", &std::process::id().to_string(), "--json"]));
    let listed: std::collections::HashSet<i64> = doc["fds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["fd"].as_i64().unwrap())
        .collect();
    let missing = copies
        .iter()
        .filter(|fd| !listed.contains(&i64::from(fd.as_raw_fd())))
        .count();
    assert_eq!(missing, 0, "of 10000 descriptors");
    assert!(doc["by_type"]["char"].as_u64().unwrap() >= 10_000);
}

#[test]
fn fixture_sockets_and_holders() {
    let output = run_fixture_tree("net", &["ports", "--all"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let expected = "\
PROTO LOCAL          REMOTE          STATE       RECV-Q SEND-Q PID PROCESS FD USER
tcp   127.0.0.1:3000 -               LISTEN           0      0 500 server  3  root
tcp   127.0.0.1:3000 -               LISTEN           0      0 501 worker  7  root
tcp   127.0.0.1:3000 127.0.0.1:41234 ESTABLISHED      0      0 500 server  5  root
tcp   10.0.0.5:22    -               LISTEN           0      0   - -       -  root
tcp6  *:8080         -               LISTEN           0      0 500 server  4  root
tcp6  [::1]:80       [::1]:50000     ESTABLISHED      0      0   - -       -  root
udp   127.0.0.53:53  -               BOUND            0      0   - -       -  54321
";
    assert_eq!(stdout(&output), expected);
    let doc = json(&run_fixture_tree("net", &["fds", "500", "--json"]));
    let row = |fd: i64| {
        doc["fds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["fd"] == fd)
            .unwrap()
            .clone()
    };
    assert_eq!(row(3)["description"], "tcp 127.0.0.1:3000 LISTEN");
    assert_eq!(row(4)["description"], "tcp6 *:8080 LISTEN");
    assert_eq!(
        row(5)["description"],
        "tcp 127.0.0.1:3000 -> 127.0.0.1:41234 ESTABLISHED"
    );
    assert_eq!(row(6)["description"], "unix /run/server.sock LISTEN");
    assert_eq!(row(6)["type"], "unix");
}

#[test]
fn another_users_listener_shows_with_owner_unavailable() {
    let Some(user) = crate::permission::unprivileged() else {
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let output = user.run(&["ports", &port.to_string(), "--json"]);
    let doc = crate::common::json_ok(&output);
    let socket = &doc["sockets"][0];
    assert_eq!(socket["local_port"], port);
    assert_eq!(socket["user"], "root");
    assert_eq!(socket["holders"], serde_json::json!([]));
    assert_eq!(socket["unavailable"]["holders"], "permission_denied");
    let table = user.run(&["ports", &port.to_string()]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("- (permission denied)"));
}

#[test]
fn pipe_peers_are_searched_only_with_peers() {
    let (read_end, write_end) = std::io::pipe().unwrap();
    let writer = sleep_holding(write_end.as_raw_fd());
    let me = std::process::id().to_string();
    let read_fd = read_end.as_raw_fd();

    // Without --peers nobody looks: JSON says so, and pipe_peers is null, not empty.
    let doc = json(&run(&["fds", &me, "--json"]));
    assert_eq!(doc["peers_searched"], false, "{doc}");
    let row = fd_row(&doc, read_fd);
    assert!(row["pipe_peers"].is_null(), "{row}");
    let output = run(&["fds", &me]);
    assert!(
        stderr(&output).contains("were not searched: --peers names them"),
        "{}",
        stderr(&output)
    );
    let line = stdout(&output)
        .lines()
        .find(|l| l.split_whitespace().next() == Some(&read_fd.to_string()))
        .map(str::to_owned)
        .unwrap();
    assert!(!line.contains(" <- "), "{line}");

    // With --peers the writer this test started is named on the read end.
    let doc = json(&run(&["fds", &me, "--json", "--peers"]));
    assert_eq!(doc["peers_searched"], true, "{doc}");
    let row = fd_row(&doc, read_fd);
    assert!(
        row["pipe_peers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["pid"] == writer.pid() && p["fd"] == write_end.as_raw_fd()),
        "{row}"
    );
    let text = stdout(&run(&["fds", &me, "--peers", "--wide"]));
    assert!(
        text.contains(&format!(
            "{} sleep fd {}",
            writer.pid(),
            write_end.as_raw_fd()
        )),
        "{text}"
    );
}
