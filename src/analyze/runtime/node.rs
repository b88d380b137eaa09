//! Node.js: recognised by its executable (it defines the N-API registration symbols, or
//! needs libnode that does: naming libnode alone is not enough), versioned from the binary, cluster roles from the environment,
//! and each thread's role from evidence that works without names: what it is blocked in,
//! where the futex it waits on lives, its stack size, its epoll set, its creation order.

use super::node_roles::{self, INSPECTOR, MAIN, POOL, UNKNOWN, V8, WORKER};
use super::{
    ClusterRole, ProcessFacts, RoleAssignment, RoleContext, Runtime, RuntimeInfo, RuntimeProbe,
    ThreadFacts, ThreadRole, VersionSource,
};
use super::{env_value, settings, summary_line};
use crate::parse::maps::Mapping;

/// The runtime's name in `RuntimeInfo`.
pub const NAME: &str = "node";
/// Symbols only a Node.js binary (or libnode) exports.
pub const SYMBOLS: &[&str] = &["napi_module_register", "node_module_register"];
/// The shared library that distribution builds of Node.js link.
pub const LIBRARY: &str = "libnode.so";
/// The marker before the version in the binary's read-only data.
pub const VERSION_MARKER: &[u8] = b"node.js/v";

/// Environment variables that change Node.js's threads or cluster.
const SETTINGS: &[&str] = &[
    "UV_THREADPOOL_SIZE",
    "NODE_OPTIONS",
    "NODE_CLUSTER_SCHED_POLICY",
];

/// The Node.js analyzer.
pub struct Node;

impl Runtime for Node {
    fn probe(&self) -> RuntimeProbe {
        RuntimeProbe {
            runtime: NAME,
            symbols: SYMBOLS,
            libraries: &[LIBRARY],
            mapped: &[],
            version: VersionSource::Marker(VERSION_MARKER),
        }
    }

    fn detect(&self, process: &ProcessFacts) -> Option<RuntimeInfo> {
        let found = process.binary?.of(NAME)?;
        if found.exports.is_empty() {
            return None;
        }
        let cluster = match (
            env_value(process, "NODE_UNIQUE_ID").and_then(|id| id.parse().ok()),
            env_value(process, "NODE_CHANNEL_FD"),
        ) {
            (Some(id), _) => Some(ClusterRole::Worker {
                id,
                primary: process.ppid,
            }),
            (None, Some(_)) => Some(ClusterRole::ForkedChild {
                parent: process.ppid,
            }),
            (None, None) => None,
        };
        Some(RuntimeInfo {
            runtime: NAME.into(),
            version: found.version.clone(),
            cluster,
            settings: settings(process, SETTINGS),
        })
    }

    fn thread_roles(
        &self,
        info: &RuntimeInfo,
        context: &RoleContext,
        threads: &[ThreadFacts],
    ) -> Vec<RoleAssignment> {
        if context.isolates.is_some() {
            return node_roles::assign(info, context, threads);
        }
        let counted = RoleContext {
            isolates: isolates(&context.maps, context.exe.as_deref()),
            ..context.clone()
        };
        node_roles::assign(info, &counted, threads)
    }

    fn verdicts(
        &self,
        threads: &[crate::model::profile::ThreadProfile],
        epoll_sets: &[crate::model::profile::EpollSet],
    ) -> Vec<crate::model::profile::Verdict> {
        super::node_profile::verdicts(threads, epoll_sets)
    }

    fn summary(&self, info: &RuntimeInfo, roles: &[RoleAssignment]) -> String {
        let count = |role: ThreadRole| roles.iter().filter(|r| r.role == role).count();
        // Undecided threads that could have a role: a count of it is then a lower bound.
        let open = |role: ThreadRole| {
            roles
                .iter()
                .any(|r| r.role == UNKNOWN && r.evidence.candidates.contains(&role))
        };
        let at_least = |role: ThreadRole| if open(role) { "at least " } else { "" };
        let pool_setting = match info
            .settings
            .iter()
            .find(|(k, _)| k == "UV_THREADPOOL_SIZE")
        {
            Some((_, size)) => format!("UV_THREADPOOL_SIZE={size}"),
            None => "UV_THREADPOOL_SIZE unset: default 4".into(),
        };
        let pool = match count(POOL) {
            0 if !open(POOL) => format!("libuv pool not started yet ({pool_setting})"),
            n => format!(
                "{}{n} libuv pool thread{} ({pool_setting})",
                at_least(POOL),
                plural(n)
            ),
        };
        let counted = |role: ThreadRole, noun: &str| {
            let n = count(role);
            format!("{}{n} {noun}{}", at_least(role), plural(n))
        };
        let inspector = match (count(INSPECTOR), open(INSPECTOR)) {
            (0, false) => "inspector off",
            (0, true) => "inspector unknown",
            _ => "inspector on",
        };
        let mut parts = vec![
            format!("{} JavaScript main thread", count(MAIN)),
            pool,
            counted(V8, "V8 worker"),
            counted(WORKER, "worker_thread"),
            inspector.to_owned(),
        ];
        let unknown: Vec<&RoleAssignment> = roles.iter().filter(|r| r.role == UNKNOWN).collect();
        let running = unknown
            .iter()
            .filter(|r| r.evidence.wait.as_deref() == Some("running"))
            .count();
        if running > 0 {
            parts.push(format!(
                "{running} thread{} running, unclassified",
                plural(running)
            ));
        }
        if unknown.len() > running {
            parts.push(format!("{} unknown", unknown.len() - running));
        }
        summary_line(
            "Node.js",
            info.version.as_ref().map(|v| format!("v{v}")),
            &parts,
        )
    }
}

/// Live V8 isolates: each remaps the embedded builtins of the Node.js binary (or libnode)
/// as a lone executable mapping of that file, away from the binary's own segments.
/// `None` when no such mapping is seen (nothing to count by).
pub fn isolates(maps: &[Mapping], exe: Option<&[u8]>) -> Option<usize> {
    let is_runtime = |m: &Mapping| {
        m.is_file()
            && (Some(m.path.as_slice()) == exe
                || m.path
                    .rsplit(|&b| b == b'/')
                    .next()
                    .is_some_and(|name| name.starts_with(LIBRARY.as_bytes())))
    };
    let same_file = |a: &Mapping, b: &Mapping| a.path == b.path && a.inode == b.inode;
    let count = maps
        .iter()
        .enumerate()
        .filter(|(i, m)| {
            m.exec
                && is_runtime(m)
                && !(i.checked_sub(1).is_some_and(|j| same_file(&maps[j], m)))
                && !maps.get(i + 1).is_some_and(|next| same_file(next, m))
        })
        .count();
    (count > 0).then_some(count)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::collect::binary::{BinaryFacts, RuntimeMatch};
    use crate::model::runtime::RoleEvidence;
    use crate::parse::maps::parse_maps;

    fn facts(runtime: &'static str, exports: &[&str], needs: &[&str]) -> BinaryFacts {
        BinaryFacts {
            runtimes: vec![RuntimeMatch {
                runtime,
                exports: exports.iter().map(|e| (*e).to_owned()).collect(),
                needs: needs.iter().map(|n| (*n).to_owned()).collect(),
                mapped: None,
                version: Some("20.20.2".into()),
            }],
        }
    }

    #[test]
    fn only_nodes_own_symbols_claim_a_process() {
        let detect = |binary: &BinaryFacts| {
            Node.detect(&ProcessFacts {
                pid: 1,
                ppid: 0,
                binary: Some(binary),
                environ: None,
            })
        };
        // Another runtime's symbols (the JVM launcher's) are not Node's.
        assert!(detect(&facts("jvm", &["JLI_Launch"], &["libjli.so"])).is_none());
        // Naming libnode without it defining the symbols (not mapped) is not enough.
        assert!(detect(&facts(NAME, &[], &[LIBRARY])).is_none());
        assert!(detect(&facts(NAME, &["napi_module_register"], &[])).is_some());
    }

    #[test]
    fn detection_and_cluster_roles() {
        let binary = facts(NAME, &["napi_module_register"], &[]);
        let env = vec![
            (b"NODE_UNIQUE_ID".to_vec(), b"2".to_vec()),
            (b"NODE_CHANNEL_FD".to_vec(), b"3".to_vec()),
        ];
        let facts = ProcessFacts {
            pid: 10,
            ppid: 5,
            binary: Some(&binary),
            environ: Some(&env),
        };
        let info = Node.detect(&facts).unwrap();
        assert_eq!(
            info.cluster,
            Some(ClusterRole::Worker { id: 2, primary: 5 })
        );
        assert_eq!(info.label(), "node 20.20.2 cluster worker 2");
        let plain = BinaryFacts::default();
        assert!(
            Node.detect(&ProcessFacts {
                pid: 1,
                ppid: 0,
                binary: Some(&plain),
                environ: None
            })
            .is_none()
        );
    }

    fn info(settings: &[(&str, &str)]) -> RuntimeInfo {
        RuntimeInfo {
            runtime: "node".into(),
            version: Some("20.20.2".into()),
            cluster: None,
            settings: settings
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    fn role(role: ThreadRole, wait: &str, candidates: &[ThreadRole]) -> RoleAssignment {
        RoleAssignment {
            role,
            detail: None,
            evidence: RoleEvidence {
                wait: Some(wait.into()),
                candidates: candidates.to_vec(),
                ..RoleEvidence::default()
            },
        }
    }

    #[test]
    fn summary_line() {
        let roles: Vec<RoleAssignment> = [MAIN, V8, V8, POOL]
            .iter()
            .map(|&r| role(r, "futex", &[r]))
            .collect();
        assert_eq!(
            Node.summary(&info(&[]), &roles),
            "Node.js v20.20.2 — 1 JavaScript main thread, 1 libuv pool thread (UV_THREADPOOL_SIZE unset: default 4), 2 V8 workers, 0 worker_threads, inspector off"
        );
    }

    #[test]
    fn summary_claims_nothing_about_running_threads() {
        // Eight CPU-bound threads that could be the pool, never caught blocked.
        let mut roles = vec![role(MAIN, "epoll_pwait(fd 14)", &[MAIN])];
        roles.extend((0..8).map(|_| role(UNKNOWN, "running", &[POOL, V8, WORKER])));
        let summary = Node.summary(&info(&[("UV_THREADPOOL_SIZE", "8")]), &roles);
        assert!(!summary.contains("not started"), "{summary}");
        assert!(
            summary.contains("at least 0 libuv pool threads (UV_THREADPOOL_SIZE=8)"),
            "{summary}"
        );
        assert!(
            summary.contains("8 threads running, unclassified"),
            "{summary}"
        );
        assert!(!summary.contains("inspector on"), "{summary}");
    }

    #[test]
    fn isolates_are_counted_by_remapped_builtins() {
        let maps = parse_maps(
            b"00400000-00b6f000 r--p 00000000 fe:00 7 /usr/bin/node\n\
00b72000-025fe000 r-xp 00772000 fe:00 7 /usr/bin/node\n\
025fe000-02600000 r--p 021fe000 fe:00 7 /usr/bin/node\n\
7f0000000000-7f000003c000 rwxp 00000000 00:00 0 \n\
7f000003c000-7f00001ce000 r-xp 014c4000 fe:00 7 /usr/bin/node\n\
7f00001ce000-7f0000200000 ---p 00000000 00:00 0 \n\
7f1000000000-7f100003c000 rwxp 00000000 00:00 0 \n\
7f100003c000-7f10001ce000 r-xp 014c4000 fe:00 7 /usr/bin/node\n",
        );
        assert_eq!(isolates(&maps, Some(b"/usr/bin/node")), Some(2));
        assert_eq!(isolates(&maps[..3], Some(b"/usr/bin/node")), None);
    }
}
