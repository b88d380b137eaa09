//! The JVM (HotSpot): recognised by the HotSpot library mapped into the process. The `java`
//! launcher does not link libjvm: its DT_NEEDED names only `libjli.so`, which `dlopen`s
//! `lib/server/libjvm.so` after reading `jvm.cfg`. So the executable's facts (needs
//! libjli, or defines `JNI_CreateJavaVM`/`JLI_Launch`) only make a process a candidate, and
//! detection then looks at `/proc/PID/maps` for a mapped `libjvm.so`: a launcher that has not
//! loaded the VM yet (or failed to) is not a JVM. The version is the `JAVA_VERSION` of the
//! JDK's `release` file above the mapped libjvm. Thread roles come from the names HotSpot
//! gives its threads (`VM Thread`, `GC Thread#0`, `C2 CompilerThread0`…, cut to 15 bytes by
//! the kernel); a thread without a name of its own is `unknown`. Pure: no reading.

use std::collections::HashMap;

use super::facts::base_evidence;
use super::node_roles::creation_ranks;
use super::{
    ProcessFacts, RoleAssignment, RoleContext, Runtime, RuntimeInfo, RuntimeProbe, ThreadFacts,
    ThreadRole, VersionSource,
};
use super::{settings, summary_line};

/// The runtime's name in `RuntimeInfo`.
pub const NAME: &str = "jvm";

/// Environment variables the JVM (or its launcher) reads options from.
const SETTINGS: &[&str] = &["JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS"];

/// HotSpot's thread names (prefixes: the kernel keeps 15 bytes) and their roles.
const NAMES: &[(&str, ThreadRole)] = &[
    ("VM Thread", ThreadRole::Vm),
    ("GC Thread#", ThreadRole::Gc),
    ("G1 ", ThreadRole::Gc),
    ("ZDirector", ThreadRole::Gc),
    ("ZDriver", ThreadRole::Gc),
    ("ZStat", ThreadRole::Gc),
    ("ZUnmapper", ThreadRole::Gc),
    ("ZWorker", ThreadRole::Gc),
    ("Shenandoah", ThreadRole::Gc),
    ("C1 CompilerThre", ThreadRole::JitCompiler),
    ("C2 CompilerThre", ThreadRole::JitCompiler),
    ("JVMCI CompilerT", ThreadRole::JitCompiler),
    ("Signal Dispatch", ThreadRole::SignalDispatcher),
    ("Finalizer", ThreadRole::Finalizer),
    ("Reference Handl", ThreadRole::ReferenceHandler),
    ("Common-Cleaner", ThreadRole::CommonCleaner),
    ("Service Thread", ThreadRole::VmService),
    ("VM Periodic Tas", ThreadRole::VmService),
    ("Monitor Deflati", ThreadRole::VmService),
    ("Notification Th", ThreadRole::VmService),
    ("Sweeper thread", ThreadRole::VmService),
    ("Attach Listener", ThreadRole::VmService),
];

/// Roles HotSpot gives one thread only: a second thread with that name is not trusted.
const SINGLE: &[ThreadRole] = &[
    ThreadRole::Vm,
    ThreadRole::SignalDispatcher,
    ThreadRole::Finalizer,
    ThreadRole::ReferenceHandler,
    ThreadRole::CommonCleaner,
];

/// The JVM analyzer.
pub struct Jvm;

impl Runtime for Jvm {
    fn probe(&self) -> RuntimeProbe {
        RuntimeProbe {
            runtime: NAME,
            symbols: &["JNI_CreateJavaVM", "JLI_Launch"],
            libraries: &["libjli.so", "libjvm.so"],
            mapped: &["libjvm.so"],
            version: VersionSource::FileAbove {
                file: "release",
                key: "JAVA_VERSION",
                levels: 4,
            },
        }
    }

    fn detect(&self, process: &ProcessFacts) -> Option<RuntimeInfo> {
        let found = process.binary?.of(NAME)?;
        found.mapped.as_ref()?;
        Some(RuntimeInfo {
            runtime: NAME.into(),
            version: found.version.clone(),
            cluster: None,
            settings: settings(process, SETTINGS),
        })
    }

    fn thread_roles(
        &self,
        _info: &RuntimeInfo,
        context: &RoleContext,
        threads: &[ThreadFacts],
    ) -> Vec<RoleAssignment> {
        let ranks = creation_ranks(threads);
        let first_name = threads
            .iter()
            .find(|t| t.tid == context.pid)
            .map(|t| t.name.as_slice());
        let mut judged: Vec<(Vec<ThreadRole>, String)> = threads
            .iter()
            .zip(&ranks)
            .map(|(thread, &rank)| judge(context.pid, thread, rank, first_name))
            .collect();
        distrust_repeated_names(&mut judged);
        threads
            .iter()
            .zip(ranks)
            .zip(judged)
            .map(|((thread, rank), (candidates, rule))| assignment(thread, rank, candidates, rule))
            .collect()
    }

    fn summary(&self, info: &RuntimeInfo, roles: &[RoleAssignment]) -> String {
        let count =
            |wanted: &[ThreadRole]| roles.iter().filter(|r| wanted.contains(&r.role)).count();
        let counted = |n: usize, noun: &str| format!("{n} {noun}{}", if n == 1 { "" } else { "s" });
        let mut parts = vec![
            counted(count(&[ThreadRole::JavaMain]), "main thread"),
            counted(count(&[ThreadRole::Gc]), "GC thread"),
            counted(count(&[ThreadRole::JitCompiler]), "JIT compiler thread"),
            counted(count(&[ThreadRole::App]), "application thread"),
            counted(
                count(&[
                    ThreadRole::Vm,
                    ThreadRole::SignalDispatcher,
                    ThreadRole::Finalizer,
                    ThreadRole::ReferenceHandler,
                    ThreadRole::CommonCleaner,
                    ThreadRole::VmService,
                ]),
                "VM service thread",
            ),
        ];
        let unknown = count(&[ThreadRole::Unknown]);
        if unknown > 0 {
            parts.push(format!("{unknown} unknown"));
        }
        summary_line("JVM", info.version.clone(), &parts)
    }
}

/// The roles a thread's name fits, and why.
fn judge(
    pid: u32,
    thread: &ThreadFacts,
    rank: usize,
    first_name: Option<&[u8]>,
) -> (Vec<ThreadRole>, String) {
    let name = String::from_utf8_lossy(&thread.name);
    if thread.tid == pid {
        return (
            vec![ThreadRole::Launcher],
            "TID equals PID: the launcher's first thread, which starts the VM in a new thread and waits for it".into(),
        );
    }
    if let Some((known, role)) = NAMES.iter().find(|(known, _)| name.starts_with(known)) {
        return (vec![*role], format!("HotSpot thread name {known}…"));
    }
    let inherited = first_name == Some(thread.name.as_slice());
    match (inherited, rank) {
        (_, _) if thread.name.is_empty() => (Vec::new(), "no thread name".into()),
        (true, 1) => (
            vec![ThreadRole::JavaMain],
            format!(
                "the first thread the launcher started, with its name {name} (HotSpot does not rename the main thread)"
            ),
        ),
        (true, _) => (
            Vec::new(),
            format!(
                "name {name} inherited from the launcher: not named by the VM or the application"
            ),
        ),
        (false, _) => (
            vec![ThreadRole::App],
            format!("name {name} is none of HotSpot's: a thread the application named"),
        ),
    }
}

/// A name HotSpot gives one thread only, worn by several: none of them is trusted.
fn distrust_repeated_names(judged: &mut [(Vec<ThreadRole>, String)]) {
    let mut wearers: HashMap<ThreadRole, usize> = HashMap::new();
    for (candidates, _) in judged.iter() {
        if let [role] = candidates.as_slice() {
            *wearers.entry(*role).or_default() += 1;
        }
    }
    for (candidates, rule) in judged.iter_mut() {
        if let [role] = candidates.as_slice()
            && SINGLE.contains(role)
            && wearers.get(role).is_some_and(|&n| n > 1)
        {
            let role = *role;
            *candidates = vec![role, ThreadRole::App];
            rule.push_str(&format!(
                "; {} threads have this name, HotSpot gives it to one",
                wearers[&role]
            ));
        }
    }
}

fn assignment(
    thread: &ThreadFacts,
    rank: usize,
    candidates: Vec<ThreadRole>,
    rule: String,
) -> RoleAssignment {
    let role = match candidates.as_slice() {
        [role] => *role,
        _ => ThreadRole::Unknown,
    };
    RoleAssignment {
        role,
        detail: (role == ThreadRole::App)
            .then(|| String::from_utf8_lossy(&thread.name).into_owned()),
        evidence: base_evidence(thread, rule, rank, candidates),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::binary::{BinaryFacts, RuntimeMatch};
    use crate::model::runtime::RoleEvidence;

    fn thread(tid: u32, name: &str, start: u64) -> ThreadFacts {
        ThreadFacts {
            tid,
            name: name.as_bytes().to_vec(),
            state: None,
            stack: None,
            futex_region: None,
            epoll_targets: None,
            epoll_listener_ports: Vec::new(),
            start_ticks: Some(start),
            always_running: false,
        }
    }

    fn info() -> RuntimeInfo {
        RuntimeInfo {
            runtime: NAME.into(),
            version: Some("17.0.15".into()),
            cluster: None,
            settings: Vec::new(),
        }
    }

    #[test]
    fn detected_only_with_libjvm_mapped() {
        let launcher = |mapped: Option<&str>| BinaryFacts {
            runtimes: vec![RuntimeMatch {
                runtime: NAME,
                exports: vec!["JLI_Launch".into()],
                needs: vec!["libjli.so".into()],
                mapped: mapped.map(|m| m.as_bytes().to_vec()),
                version: Some("17.0.15".into()),
            }],
        };
        let detect = |binary: &BinaryFacts| {
            Jvm.detect(&ProcessFacts {
                pid: 7,
                ppid: 1,
                binary: Some(binary),
                environ: None,
            })
        };
        assert!(detect(&launcher(None)).is_none());
        let info = detect(&launcher(Some("/usr/lib/jvm/x/lib/server/libjvm.so"))).unwrap();
        assert_eq!(info.label(), "jvm 17.0.15");
        let node = BinaryFacts {
            runtimes: vec![RuntimeMatch {
                runtime: "node",
                exports: vec!["napi_module_register".into()],
                ..RuntimeMatch::default()
            }],
        };
        assert!(detect(&node).is_none());
    }

    #[test]
    fn roles_from_hotspot_names() {
        let names = [
            "java",
            "java",
            "GC Thread#0",
            "G1 Main Marker",
            "VM Thread",
            "Reference Handl",
            "Finalizer",
            "Signal Dispatch",
            "Service Thread",
            "C2 CompilerThre",
            "C1 CompilerThre",
            "Common-Cleaner",
            "my-worker",
            "java",
        ];
        let threads: Vec<ThreadFacts> = names
            .iter()
            .enumerate()
            .map(|(i, name)| thread(100 + i as u32, name, 10 + i as u64))
            .collect();
        let context = RoleContext {
            pid: 100,
            ..RoleContext::default()
        };
        let roles: Vec<ThreadRole> = Jvm
            .thread_roles(&info(), &context, &threads)
            .into_iter()
            .map(|r| r.role)
            .collect();
        use ThreadRole::*;
        assert_eq!(
            roles,
            [
                Launcher,
                JavaMain,
                Gc,
                Gc,
                Vm,
                ReferenceHandler,
                Finalizer,
                SignalDispatcher,
                VmService,
                JitCompiler,
                JitCompiler,
                CommonCleaner,
                App,
                Unknown
            ]
        );
    }

    #[test]
    fn a_second_vm_thread_is_not_trusted() {
        let threads = [
            thread(1, "java", 1),
            thread(2, "VM Thread", 2),
            thread(3, "VM Thread", 3),
        ];
        let context = RoleContext {
            pid: 1,
            ..RoleContext::default()
        };
        let roles = Jvm.thread_roles(&info(), &context, &threads);
        assert_eq!(roles[1].role, ThreadRole::Unknown);
        assert_eq!(
            roles[1].evidence.candidates,
            [ThreadRole::Vm, ThreadRole::App]
        );
    }

    #[test]
    fn summary_counts_roles() {
        let roles: Vec<RoleAssignment> = [
            ThreadRole::JavaMain,
            ThreadRole::Gc,
            ThreadRole::Gc,
            ThreadRole::App,
            ThreadRole::Vm,
        ]
        .into_iter()
        .map(|role| RoleAssignment {
            role,
            detail: None,
            evidence: RoleEvidence::default(),
        })
        .collect();
        assert_eq!(
            Jvm.summary(&info(), &roles),
            "JVM 17.0.15 — 1 main thread, 2 GC threads, 0 JIT compiler threads, 1 application thread, 1 VM service thread"
        );
    }
}
