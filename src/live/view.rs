//! The live view's reaction to keys ([`Action`]) and the rows it shows: the snapshot
//! filtered, sorted (or in tree order), the followed process kept selected. The view's state
//! itself is the render-owned [`View`].

use std::collections::HashMap;

use crate::analyze::tree::Forest;
use crate::columns::value;
use crate::query::signal::SignalChoice;
use crate::render::tui::snapshot::Snapshot;
use crate::render::tui::table::offset;
use crate::render::tui::view::{View, Visible};

/// What the event loop must do after a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Nothing,
    Quit,
    /// Read again now (threads mode changed).
    Refresh,
    /// Open the detail pane for (PID, start ticks).
    OpenDetail(u32, u64),
    /// Bind the selected process (PID, start ticks) for this signal and ask to confirm.
    PrepareKill(u32, u64, SignalChoice),
    /// The user confirmed the prepared kill.
    ConfirmKill,
    CancelKill,
}

/// Recomputing the rows a [`View`] shows from a snapshot.
pub trait Rebuild {
    /// Recomputes the visible rows: filtered, sorted (or in tree order), the followed
    /// process kept selected.
    fn rebuild(&mut self, snapshot: &Snapshot);
}

impl Rebuild for View {
    fn rebuild(&mut self, snapshot: &Snapshot) {
        let needle = self.filter.to_lowercase();
        let mut order: Vec<usize> = (0..snapshot.rows.len())
            .filter(|&i| needle.is_empty() || row_text(snapshot, i).contains(&needle))
            .collect();
        let sort = self.sort.min(self.columns.len().saturating_sub(1));
        order.sort_by(|&a, &b| {
            let (ra, rb) = (&snapshot.rows[a], &snapshot.rows[b]);
            let by_value = match (ra.cells.get(sort), rb.cells.get(sort)) {
                (Some(x), Some(y)) => value::compare(x, y),
                _ => std::cmp::Ordering::Equal,
            };
            let by_value = if self.reverse {
                by_value.reverse()
            } else {
                by_value
            };
            by_value.then(ra.pid.cmp(&rb.pid)).then(ra.tid.cmp(&rb.tid))
        });
        self.visible = if self.tree && !self.threads {
            tree_order(snapshot, &order)
        } else {
            order
                .into_iter()
                .map(|index| Visible { index, depth: 0 })
                .collect()
        };
        if let Some((pid, tid, start)) = self.follow {
            match self.visible.iter().position(|v| {
                let row = &snapshot.rows[v.index];
                (row.pid, row.tid, row.start_ticks) == (pid, tid, start)
            }) {
                Some(at) => self.selected = at,
                None => self.follow = None,
            }
        }
        self.selected = self.selected.min(self.visible.len().saturating_sub(1));
    }
}

/// The visible rows a screen of `height` rows may show: the table draws at most that many,
/// ending with the selected row or starting at the top (`render::tui::table::offset`).
pub fn on_screen(view: &View, height: usize) -> impl Iterator<Item = &Visible> {
    let first = offset(view.selected, height);
    view.visible.iter().skip(first).take(height)
}

/// The lower-case text the filter searches: the name and every text cell.
fn row_text(snapshot: &Snapshot, index: usize) -> String {
    let row = &snapshot.rows[index];
    let mut text = String::from_utf8_lossy(&row.name).into_owned();
    for cell in &row.cells {
        if let Ok(
            value @ (value::Value::Text(_) | value::Value::Argv { .. } | value::Value::Label(_)),
        ) = cell
        {
            text.push(' ');
            text.push_str(value::table_text(&Ok(value.clone()), 0.0).as_str());
        }
    }
    text.to_lowercase()
}

/// Children under their parents, siblings in sorted order.
fn tree_order(snapshot: &Snapshot, order: &[usize]) -> Vec<Visible> {
    let rank: HashMap<u32, usize> = order
        .iter()
        .map(|&i| snapshot.rows[i].pid)
        .enumerate()
        .map(|(rank, pid)| (pid, rank))
        .collect();
    let index_of: HashMap<u32, usize> = order.iter().map(|&i| (snapshot.rows[i].pid, i)).collect();
    let forest = Forest::new(order.iter().map(|&i| {
        let row = &snapshot.rows[i];
        let parent = if index_of.contains_key(&row.ppid) {
            row.ppid
        } else {
            0
        };
        (row.pid, parent)
    }));
    let mut roots = forest.roots().to_vec();
    roots.sort_by_key(|pid| rank.get(pid).copied().unwrap_or(usize::MAX));
    forest
        .walk(&roots)
        .into_iter()
        .filter_map(|step| {
            Some(Visible {
                index: *index_of.get(&step.pid)?,
                depth: step.depth,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::columns::{Value, lookup};
    use crate::render::tui::snapshot::{Rates, TopRow};

    fn row(pid: u32, cpu: f64, name: &str) -> TopRow {
        TopRow {
            pid,
            tid: pid,
            ppid: 1,
            start_ticks: 100,
            state: b'S',
            name: name.as_bytes().to_vec(),
            cells: vec![
                Ok(Value::Integer(pid.into())),
                Ok(Value::Percent(cpu)),
                Ok(Value::Text(name.into())),
            ],
            rates: Rates::default(),
            fresh: false,
            deferred: false,
        }
    }

    #[test]
    fn rows_are_filtered_sorted_and_the_followed_one_stays_selected() {
        let snapshot = Snapshot {
            rows: vec![
                row(10, 5.0, "sleep"),
                row(20, 90.0, "busy"),
                row(30, 1.0, "cat"),
            ],
            ..Snapshot::default()
        };
        let columns = ["pid", "cpu", "cmd"]
            .iter()
            .filter_map(|n| lookup::find(n))
            .collect();
        let mut view = View::new(columns, 1, true, Duration::from_secs(1));
        view.rebuild(&snapshot);
        let order: Vec<usize> = view.visible.iter().map(|v| v.index).collect();
        assert_eq!(order, [1, 0, 2]);
        view.follow = Some((30, 30, 100));
        view.sort_by(0);
        view.rebuild(&snapshot);
        assert_eq!(view.selected_index(), Some(2));
        view.filter = "SLE".into();
        view.rebuild(&snapshot);
        let order: Vec<usize> = view.visible.iter().map(|v| v.index).collect();
        assert_eq!((order, view.follow), (vec![0], None));
    }
}
