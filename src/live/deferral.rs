//! The columns a refresh leaves unread for rows the full-screen view does not draw (every
//! column but the sort column that needs a file beyond `stat`), chosen by the view, and
//! read for the rows it names before it draws, searches or sorts them.

use crate::collect::{Needs, ProcFs, UserNames};
use crate::columns::Context;
use crate::render::tui::snapshot::Snapshot;

use super::reader::{self, DeferredRow};
use super::{Sampler, statics_of};

impl Sampler {
    /// Chooses the columns a process's first read leaves unread, for a view sorted by
    /// column `sort` (an index into the spec's columns): with `defer` (the view needs the
    /// other columns only for the rows it draws: no filter typed) and processes listed, every
    /// column but the sort column that needs a file beyond those read anyway (`stat`, the
    /// filter's and the sort column's). When the choice changes, the rows of `snapshot` left
    /// unread are read first: the view may sort or search all of them next.
    pub fn set_deferral(
        &mut self,
        procfs: &ProcFs,
        users: &UserNames,
        snapshot: &mut Snapshot,
        (sort, defer): (usize, bool),
    ) {
        let columns = &self.spec.columns;
        let read_anyway = columns.get(sort).map_or(Needs::NONE, |c| c.needs)
            | self.spec.filter.needs()
            | Needs::STAT;
        let mut deferred: Vec<bool> = columns
            .iter()
            .enumerate()
            .map(|(at, c)| {
                defer && !self.spec.threads && at != sort && !read_anyway.contains(c.needs)
            })
            .collect();
        if !deferred.contains(&true) {
            deferred.clear();
        }
        if deferred != self.deferred {
            let all: Vec<usize> = (0..snapshot.rows.len()).collect();
            self.fill(procfs, users, snapshot, &all);
            self.deferred = deferred;
        }
    }

    /// Reads the deferred cells of the rows of `snapshot` (this sampler's latest) at
    /// `indices` that have them, and keeps the static ones for the next refreshes.
    pub fn fill(
        &mut self,
        procfs: &ProcFs,
        users: &UserNames,
        snapshot: &mut Snapshot,
        indices: &[usize],
    ) {
        if self.deferred.is_empty() || snapshot.generation != self.refreshes {
            return;
        }
        let rows: Vec<DeferredRow> = indices
            .iter()
            .filter_map(|&index| {
                let row = snapshot.rows.get(index)?;
                row.deferred.then_some((index, row.pid, row.start_ticks))
            })
            .collect();
        if rows.is_empty() {
            return;
        }
        let context = Context {
            system: &self.system,
            users,
            sampled_cpu: None,
            sampled_net: None,
        };
        let filled = reader::read_deferred(&self.pass(procfs, &context, false), &rows);
        let columns: Vec<usize> = (0..self.deferred.len())
            .filter(|&at| self.deferred[at])
            .collect();
        for (index, cells) in filled {
            let row = &mut snapshot.rows[index];
            for (&at, cell) in columns.iter().zip(cells) {
                row.cells[at] = cell;
            }
            row.deferred = false;
            if let Some(prior) = self.priors.get_mut(&(row.pid, row.tid))
                && prior.start_ticks == row.start_ticks
            {
                prior.statics = statics_of(&self.spec.columns, &row.cells);
                prior.deferred = false;
            }
        }
    }
}
