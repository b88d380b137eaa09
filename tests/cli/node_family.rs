//! A cluster primary that is itself a forked child (an app run by `node --watch` or a
//! supervisor that forks it with an IPC channel): its own environment says "forked child",
//! its workers make it a primary, and every command must say so.

use crate::common::{json, run};
use crate::node::{node_available, start_file};

/// The launcher forks itself as `child`; the child runs a cluster of two workers and sends
/// `CHILD_PID PORT WORKER,WORKER` once both listen, which the launcher prints.
const FORKED_PRIMARY: &str = "const cluster = require('cluster'); const http = require('http');
if (cluster.isPrimary && !process.send) {
  require('child_process').fork(__filename, ['child']).on('message', (m) => console.log(m));
} else if (cluster.isPrimary) {
  const pids = []; let listening = 0;
  for (let i = 0; i < 2; i++) {
    const w = cluster.fork(); pids.push(w.process.pid);
    w.on('listening', (a) => { if (++listening === 2) process.send(process.pid + ' ' + a.port + ' ' + pids.join(',')); });
  }
} else { http.createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1'); }";

#[test]
fn a_forked_child_running_a_cluster_is_its_primary_everywhere() {
    if !node_available() {
        return;
    }
    // The launcher leads a process group of its own, ended as a whole by the drop.
    let launcher = start_file(FORKED_PRIMARY, &[]);
    let fields: Vec<&str> = launcher.ready.split_whitespace().collect();
    assert_eq!(fields.len(), 3, "{:?}", launcher.ready);
    let (child, port) = (fields[0], fields[1]);
    let workers: Vec<u64> = fields[2].split(',').map(|w| w.parse().unwrap()).collect();
    let primary = serde_json::json!({"role": "primary", "workers": workers});
    let ports = json(&run(&["ports", port, "--json"]));
    assert_eq!(ports["sockets"][0]["holders"][0]["pid"].to_string(), child);
    assert_eq!(ports["sockets"][0]["holders"][0]["role"], "cluster primary");
    let ps = json(&run(&["ps", "--json", "--pid", child, "-o", "runtime"]));
    assert_eq!(ps["processes"][0]["runtime"]["cluster"], primary);
    let show = json(&run(&["show", child, "--json"]));
    assert_eq!(show["process"]["runtime"]["cluster"], primary);
    let threads = json(&run(&["threads", child, "--json"]));
    assert_eq!(threads["runtime"]["cluster"], primary);
    let tree = json(&run(&["tree", &launcher.pid().to_string(), "--json"]));
    assert_eq!(tree["tree"][0]["children"][0]["role"], "cluster primary");
}
