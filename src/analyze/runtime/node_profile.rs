//! Node.js verdicts over a profile, each with the numbers behind it: the event loop
//! computing or waiting, the libuv pool saturated or idle, V8 workers busy, each
//! worker_thread's loop, what the main loop's epoll set holds. Pure.

use super::ThreadRole;
use super::node_roles::{MAIN, POOL, UNKNOWN, V8, WORKER};
use crate::model::profile::{EpollSet, ThreadProfile, Verdict};

/// A pool thread is busy when running in at least this % of its samples.
pub const BUSY_PERCENT: f64 = 90.0;

fn is_epoll(syscall: Option<&str>) -> bool {
    matches!(syscall, Some("epoll_wait" | "epoll_pwait" | "epoll_pwait2"))
}

fn verdict(subject: &str, word: &str, text: String, tids: Vec<u32>) -> Verdict {
    Verdict {
        subject: subject.to_owned(),
        verdict: word.to_owned(),
        text,
        tids,
        running_percent: None,
        waiting_percent: None,
        busy_threads: None,
        of_threads: None,
    }
}

/// Computing vs waiting of one event loop thread.
fn event_loop(subject: &str, thread: &ThreadProfile) -> Verdict {
    let waiting: f64 = thread
        .waits
        .iter()
        .filter(|w| is_epoll(w.syscall.as_deref()))
        .map(|w| w.percent)
        .fold(0.0, |a, b| a + b);
    let computing = thread.running_percent;
    let blocked = thread
        .waits
        .iter()
        .find(|w| w.wait != "running" && !is_epoll(w.syscall.as_deref()));
    let other = (100.0 - computing - waiting).max(0.0);
    let (word, lead) = if computing >= waiting && computing >= other {
        ("computing", format!("computing {computing:.0}%"))
    } else if waiting >= other {
        ("waiting", format!("waiting {waiting:.0}%"))
    } else {
        ("blocked", format!("blocked {other:.0}%"))
    };
    let mut text = format!(
        "{subject} {lead} of {} samples (computing {computing:.0}%, waiting in epoll {waiting:.0}%",
        thread.samples
    );
    if let Some(blocked) = blocked {
        text.push_str(&format!(
            ", most blocked: {} {:.0}%",
            blocked.wait, blocked.percent
        ));
    }
    text.push(')');
    let mut verdict = verdict(subject, word, text, vec![thread.tid]);
    verdict.running_percent = Some(computing);
    verdict.waiting_percent = Some(waiting);
    verdict
}

/// Verdicts for one Node.js process.
pub fn verdicts(threads: &[ThreadProfile], epoll_sets: &[EpollSet]) -> Vec<Verdict> {
    let of_role = |role: ThreadRole| -> Vec<&ThreadProfile> {
        threads
            .iter()
            .filter(|t| t.role == Some(role) && t.samples > 0)
            .collect()
    };
    let mut out = Vec::new();
    if let Some(main) = of_role(MAIN).first() {
        out.push(event_loop("event loop", main));
        if let Some(set) = main_epoll_set(main, epoll_sets) {
            out.push(verdict(
                "loop alive",
                "kept alive",
                format!("main loop's epoll set (fd {}): {}", set.fd, set.text),
                vec![main.tid],
            ));
        }
    }
    out.push(pool(&of_role(POOL), threads));
    let v8 = of_role(V8);
    if !v8.is_empty() {
        let average = v8.iter().map(|t| t.running_percent).sum::<f64>() / v8.len() as f64;
        let word = match average {
            a if a >= 50.0 => "busy",
            a if a >= 10.0 => "partly busy",
            _ => "idle",
        };
        let text = format!(
            "V8 workers {word}: running {average:.0}% of samples on average over {} threads (GC, compilation)",
            v8.len()
        );
        let mut v = verdict("V8 workers", word, text, v8.iter().map(|t| t.tid).collect());
        v.running_percent = Some((average * 10.0).round() / 10.0);
        out.push(v);
    }
    for worker in of_role(WORKER) {
        let subject = match &worker.role_name {
            Some(name) => format!("worker_thread {} ({name})", worker.tid),
            None => format!("worker_thread {}", worker.tid),
        };
        out.push(event_loop(&subject, worker));
    }
    let unclassified: Vec<&ThreadProfile> = threads
        .iter()
        .filter(|t| t.role == Some(UNKNOWN) && t.running_percent >= BUSY_PERCENT)
        .collect();
    if !unclassified.is_empty() {
        out.push(verdict(
            "unclassified",
            "unclassified",
            format!(
                "{} thread{} running in ≥ {BUSY_PERCENT:.0}% of samples, unclassified (no blocked sample to judge by)",
                unclassified.len(),
                if unclassified.len() == 1 { "" } else { "s" }
            ),
            unclassified.iter().map(|t| t.tid).collect(),
        ));
    }
    out
}

fn main_epoll_set<'a>(main: &ThreadProfile, sets: &'a [EpollSet]) -> Option<&'a EpollSet> {
    let fd = main
        .waits
        .iter()
        .find(|w| is_epoll(w.syscall.as_deref()))?
        .fd?;
    sets.iter().find(|set| set.fd == fd)
}

fn pool(pool: &[&ThreadProfile], threads: &[ThreadProfile]) -> Verdict {
    let n = pool.len() as u32;
    let busy = pool
        .iter()
        .filter(|t| t.running_percent >= BUSY_PERCENT)
        .count() as u32;
    let could_be = threads
        .iter()
        .filter(|t| {
            t.role == Some(UNKNOWN)
                && t.role_evidence
                    .as_ref()
                    .is_some_and(|e| e.candidates.contains(&POOL))
        })
        .count();
    let word = match (n, busy) {
        (0, _) => "not seen",
        (n, b) if b == n => "saturated",
        (_, 0) if pool.iter().all(|t| t.running_percent < 10.0) => "idle",
        _ => "partly busy",
    };
    let mut text = match n {
        0 => "libuv pool: no thread identified as the pool".to_owned(),
        _ => format!(
            "libuv pool {word}: {busy} of {n} threads busy in ≥ {BUSY_PERCENT:.0}% of samples"
        ),
    };
    if could_be > 0 {
        text.push_str(&format!(
            " ({could_be} more thread{} could be pool threads: unclassified)",
            if could_be == 1 { "" } else { "s" }
        ));
    }
    let mut v = verdict(
        "libuv pool",
        word,
        text,
        pool.iter().map(|t| t.tid).collect(),
    );
    v.busy_threads = Some(busy);
    v.of_threads = Some(n);
    v
}
