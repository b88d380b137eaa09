//! The name and user of the processes that hold a socket or file, each read once per run
//! (shared by `ports` and `who`).

use std::collections::HashMap;

use crate::collect::{Needs, ProcFs, ProcessSample, UserNames};
use crate::model::text::lossless;

/// Process names and users, read once per holder.
pub struct HolderNames<'a> {
    procfs: &'a ProcFs,
    users: &'a UserNames,
    cache: HashMap<u32, (Option<String>, Option<String>)>,
}

impl<'a> HolderNames<'a> {
    pub fn new(procfs: &'a ProcFs, users: &'a UserNames) -> Self {
        Self {
            procfs,
            users,
            cache: HashMap::new(),
        }
    }

    /// The process name (comm) and effective user of `pid`; `None` when it is gone.
    pub fn of(&mut self, pid: u32) -> (Option<String>, Option<String>) {
        let (procfs, users) = (self.procfs, self.users);
        self.cache
            .entry(pid)
            .or_insert_with(|| {
                match ProcessSample::read(procfs, pid, Needs::STAT | Needs::STATUS) {
                    Ok(sample) => (
                        sample.name().ok().map(|n| lossless(&n).0),
                        sample.euid().ok().map(|uid| users.name(uid)),
                    ),
                    Err(_) => (None, None),
                }
            })
            .clone()
    }
}
