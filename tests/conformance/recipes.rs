//! How each server of the conformance suite is started and known to be ready: PostgreSQL
//! (initdb and postgres as an unprivileged user), nginx, redis, a Node.js cluster with a
//! worker thread, Python `http.server` and a UDP server. Each runs in its own PID namespace.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::servers::{
    Server, children, cmdline, connects, free_port, only_child, ready_line, spawn_in_namespace,
    temp_dir, top_of, wait_for,
};

pub fn postgres_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("postgres").exists())
        .collect();
    found.sort();
    found.pop()
}

const PG_USER: &str = "procscope-pg";

fn as_pg_user(program: &Path) -> Vec<String> {
    vec![
        "setpriv".into(),
        format!("--reuid={PG_USER}"),
        format!("--regid={PG_USER}"),
        "--clear-groups".into(),
        "--".into(),
        program.display().to_string(),
    ]
}

pub fn postgres() -> Result<Server, String> {
    let bin = postgres_bin().ok_or("no PostgreSQL server binary")?;
    crate::system_user::ensure_system_user(PG_USER)?;
    let dir = temp_dir();
    let chown = Command::new("chown").arg(PG_USER).arg(&dir).status();
    if !chown.is_ok_and(|s| s.success()) {
        return Err("chown failed".into());
    }
    let data = dir.join("data");
    let mut initdb: Vec<String> = as_pg_user(&bin.join("initdb"));
    initdb.extend([
        "-D".into(),
        data.display().to_string(),
        "-A".into(),
        "trust".into(),
    ]);
    initdb.extend(["-U".into(), "postgres".into()]);
    let out = Command::new(&initdb[0])
        .args(&initdb[1..])
        .current_dir(&dir)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("initdb: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let port = free_port();
    let mut argv = as_pg_user(&bin.join("postgres"));
    let (d, p) = (dir.display().to_string(), port.to_string());
    let data = data.display().to_string();
    argv.extend(
        [
            "-D",
            &data,
            "-k",
            &d,
            "-h",
            "127.0.0.1",
            "-p",
            &p,
            "-c",
            "shared_buffers=16MB",
            // SysV rather than files in /dev/shm, which no namespace removes when the
            // postmaster is killed.
            "-c",
            "dynamic_shared_memory_type=sysv",
        ]
        .map(String::from),
    );
    // setpriv's change of user clears the parent-death signal `--kill-child` set, so the
    // namespace init is a root shell that waits for the postmaster: when the shell dies,
    // the namespace (and the postmaster in it) goes with it.
    let mut wrapped = vec!["sh", "-c", "\"$@\" & wait", "sh"];
    wrapped.extend(argv.iter().map(String::as_str));
    let (wrapper, _) = spawn_in_namespace(&wrapped, &dir, false);
    let shell = top_of(wrapper, "postgres' waiting shell")?;
    let root = only_child(shell, "postmaster")?;
    wait_for("postgres port", || connects(port))?;
    let clients = psql_clients(&dir, &p)?;
    wait_for("postgres backends and auxiliaries", || {
        let kids = children(root);
        let waiting = kids.iter().filter(|&&k| cmdline(k).contains("SELECT"));
        kids.len() >= 7 && waiting.count() == 2
    })?;
    Ok(Server {
        name: "postgres",
        root,
        ports: vec![port],
        dir,
        clients,
    })
}

/// Two clients whose backends wait in pg_sleep, over TCP and over the unix socket in `dir`
/// (each in its own PID namespace too). The first commits a table before: its backend then
/// keeps the WAL segment and the table's file open.
fn psql_clients(dir: &Path, port: &str) -> Result<Vec<u32>, String> {
    let socket_dir = dir.display().to_string();
    let mut clients = Vec::new();
    for (host, first) in [
        ("127.0.0.1", "create table conformance as select 1 as x"),
        (socket_dir.as_str(), "select 1"),
    ] {
        let psql = [
            "psql",
            "-h",
            host,
            "-p",
            port,
            "-U",
            "postgres",
            "-c",
            first,
            "-c",
            "select pg_sleep(3600)",
        ];
        let (wrapper, _) = spawn_in_namespace(&psql, dir, false);
        clients.push(top_of(wrapper, "psql")?);
    }
    Ok(clients)
}

pub fn nginx() -> Result<Server, String> {
    let dir = temp_dir();
    let port = free_port();
    let d = dir.display();
    let config = format!(
        "daemon off; master_process on; worker_processes 2;
pid {d}/nginx.pid; error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off; error_log {d}/gone.log;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  server {{ listen 127.0.0.1:{port}; listen [::1]:{port}; location / {{ return 200 \"ok\\n\"; }} }}
}}
"
    );
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, config).unwrap();
    let (c, p) = (conf.display().to_string(), dir.display().to_string());
    let (wrapper, _) = spawn_in_namespace(&["nginx", "-c", &c, "-p", &p], &dir, false);
    let root = top_of(wrapper, "nginx master")?;
    wait_for("nginx workers and ports", || {
        children(root).len() == 2 && connects(port) && TcpStream::connect(("::1", port)).is_ok()
    })?;
    // Master and workers keep the http-level error log open after it is unlinked: a
    // deleted-but-open file for `who --deleted`.
    std::fs::remove_file(dir.join("gone.log")).map_err(|e| format!("gone.log: {e}"))?;
    Ok(Server {
        name: "nginx",
        root,
        ports: vec![port],
        dir,
        clients: Vec::new(),
    })
}

pub fn redis() -> Result<Server, String> {
    let dir = temp_dir();
    let port = free_port();
    let (p, d) = (port.to_string(), dir.display().to_string());
    let argv = [
        "redis-server",
        "--port",
        &p,
        "--bind",
        "127.0.0.1",
        "::1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--dir",
        &d,
    ];
    let (wrapper, _) = spawn_in_namespace(&argv, &dir, false);
    let root = top_of(wrapper, "redis")?;
    wait_for("redis port", || connects(port))?;
    let script = dir.join("held.bin").display().to_string();
    // Niced (STAT `N`).
    let client = [
        "nice",
        "-n",
        "5",
        "python3",
        "-c",
        REDIS_CLIENT,
        &p,
        &script,
    ];
    let (wrapper, stdout) = spawn_in_namespace(&client, &dir, true);
    ready_line(stdout)?;
    Ok(Server {
        name: "redis",
        root,
        ports: vec![port],
        dir,
        clients: vec![top_of(wrapper, "redis client")?],
    })
}

/// Bytes of the redis reply the client leaves unread on its first connection.
pub const UNREAD_REPLY: u64 = 52;
/// Size of the file the redis client holds open after unlinking it.
pub const HELD_DELETED: u64 = 100_000;

/// A redis client that never reads: one connection with the 52-byte reply to `ECHO` of 45
/// bytes (`$45\r\n` + 45 + `\r\n`) in its receive queue; one with a small receive buffer
/// asking for a 4 MiB value, so its receive queue and the server's send queue stay full.
/// It also holds a 100000-byte file it unlinked (argv[2]).
const REDIS_CLIENT: &str = "import os, socket, sys, time
port = int(sys.argv[1])
small = socket.create_connection(('127.0.0.1', port))
small.sendall(b'ECHO ' + b'x' * 45 + b'\\r\\n')
big = socket.socket()
big.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
big.connect(('127.0.0.1', port))
value = b'y' * (4 << 20)
big.sendall(b'*3\\r\\n$3\\r\\nSET\\r\\n$3\\r\\nbig\\r\\n$%d\\r\\n%s\\r\\n' % (len(value), value))
big.sendall(b'*2\\r\\n$3\\r\\nGET\\r\\n$3\\r\\nbig\\r\\n')
held = open(sys.argv[2], 'wb')
held.write(b'z' * 100000)
held.flush()
os.unlink(sys.argv[2])
print('ready', flush=True)
time.sleep(3600)
";

const CLUSTER: &str = "const cluster = require('cluster'); const http = require('http');
const { Worker } = require('worker_threads');
const port = Number(process.argv[2]);
if (cluster.isPrimary) {
  let listening = 0;
  for (let i = 0; i < 2; i++) {
    cluster.fork().on('listening', () => { if (++listening === 2) console.log('ready'); });
  }
} else {
  const serve = () => http.createServer((q, r) => r.end('ok')).listen(port, '127.0.0.1');
  if (cluster.worker.id === 1) {
    new Worker('setInterval(() => {}, 1 << 30)', { eval: true }).on('online', serve);
  } else { serve(); }
}
";

pub fn node_cluster() -> Result<Server, String> {
    let dir = temp_dir();
    let script = dir.join("cluster.js");
    std::fs::write(&script, CLUSTER).unwrap();
    let port = free_port();
    let (s, p) = (script.display().to_string(), port.to_string());
    let (wrapper, stdout) = spawn_in_namespace(&["node", &s, &p], &dir, true);
    ready_line(stdout)?;
    let root = top_of(wrapper, "node primary")?;
    Ok(Server {
        name: "node",
        root,
        ports: vec![port],
        dir,
        clients: Vec::new(),
    })
}

pub fn python_http() -> Result<Server, String> {
    let dir = temp_dir();
    let port = free_port();
    let p = port.to_string();
    let argv = ["python3", "-m", "http.server", &p, "--bind", "127.0.0.1"];
    let (wrapper, _) = spawn_in_namespace(&argv, &dir, false);
    let root = top_of(wrapper, "python http.server")?;
    wait_for("python http.server port", || connects(port))?;
    Ok(Server {
        name: "python-http",
        root,
        ports: vec![port],
        dir,
        clients: Vec::new(),
    })
}

const UDP: &str = "import socket, sys, time
port = int(sys.argv[1])
held = []
for family, host in ((socket.AF_INET, '127.0.0.1'), (socket.AF_INET6, '::1')):
    s = socket.socket(family, socket.SOCK_DGRAM); s.bind((host, port)); held.append(s)
print('ready', flush=True)
time.sleep(3600)
";

pub fn python_udp() -> Result<Server, String> {
    let dir = temp_dir();
    let port = loop {
        let port = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if std::net::UdpSocket::bind(("::1", port)).is_ok() {
            break port;
        }
    };
    let p = port.to_string();
    // At a raised priority (STAT `<`).
    let argv = ["nice", "-n", "-5", "python3", "-c", UDP, &p];
    let (wrapper, stdout) = spawn_in_namespace(&argv, &dir, true);
    ready_line(stdout)?;
    let root = top_of(wrapper, "python UDP server")?;
    Ok(Server {
        name: "python-udp",
        root,
        ports: vec![port],
        dir,
        clients: Vec::new(),
    })
}
