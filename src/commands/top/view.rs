//! What the live view shows and how keys change it: sort column and order, the incremental
//! filter, tree and thread modes, the followed process, pause, refresh interval, selection,
//! the open popup and the detail pane's tab. Pure state: no reading, no drawing.

use std::collections::HashMap;
use std::time::Duration;

use crate::analyze::tree::Forest;
use crate::columns::{Column, value};
use crate::query::signal::SignalChoice;

use super::sampler::Snapshot;

/// The shortest and longest refresh interval the `+`/`-` keys reach.
const MIN_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(60);

/// The signals the kill menu offers (never SIGUSR1: it opens Node.js's inspector).
pub const KILL_SIGNALS: &[&str] = &["TERM", "INT", "HUP", "QUIT", "KILL", "STOP", "CONT", "USR2"];

/// A tab of the detail pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Threads,
    Fds,
    Memory,
    Ports,
    Runtime,
}

impl Tab {
    pub const ALL: [Tab; 5] = [
        Tab::Threads,
        Tab::Fds,
        Tab::Memory,
        Tab::Ports,
        Tab::Runtime,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Threads => "Threads",
            Tab::Fds => "FDs",
            Tab::Memory => "Memory",
            Tab::Ports => "Ports",
            Tab::Runtime => "Runtime",
        }
    }

    fn step(self, forward: bool) -> Tab {
        let at = Tab::ALL.iter().position(|&t| t == self).unwrap_or(0);
        let n = Tab::ALL.len();
        Tab::ALL[if forward {
            (at + 1) % n
        } else {
            (at + n - 1) % n
        }]
    }
}

/// The popup over the table, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Popup {
    None,
    Help,
    /// Choosing the sort column; the cursor is a column index.
    Sort(usize),
    /// Choosing a signal for the selected process; the cursor indexes [`KILL_SIGNALS`].
    KillMenu(usize),
    /// The bound target and its command line, waiting for `y`.
    KillConfirm {
        lines: Vec<String>,
        can_send: bool,
    },
}

/// A row on screen: an index into the snapshot's rows and its tree depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visible {
    pub index: usize,
    pub depth: usize,
}

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

/// The state of the live view.
#[derive(Clone)]
pub struct View {
    pub columns: Vec<&'static Column>,
    pub sort: usize,
    pub reverse: bool,
    pub filter: String,
    pub editing_filter: bool,
    pub tree: bool,
    pub threads: bool,
    /// The followed process (PID, TID, start ticks).
    pub follow: Option<(u32, u32, u64)>,
    pub paused: bool,
    pub delay: Duration,
    pub selected: usize,
    pub popup: Popup,
    /// The detail pane's tab, when the pane is open.
    pub detail: Option<Tab>,
    pub color: bool,
    /// A one-line message (a kill's outcome) until the next key.
    pub message: Option<String>,
    pub visible: Vec<Visible>,
}

impl View {
    pub fn new(columns: Vec<&'static Column>, sort: usize, reverse: bool, delay: Duration) -> Self {
        Self {
            columns,
            sort,
            reverse,
            filter: String::new(),
            editing_filter: false,
            tree: false,
            threads: false,
            follow: None,
            paused: false,
            delay,
            selected: 0,
            popup: Popup::None,
            detail: None,
            color: false,
            message: None,
            visible: Vec::new(),
        }
    }

    /// Recomputes the visible rows: filtered, sorted (or in tree order), the followed
    /// process kept selected.
    pub fn rebuild(&mut self, snapshot: &Snapshot) {
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

    /// The snapshot index of the selected row.
    pub fn selected_index(&self) -> Option<usize> {
        self.visible.get(self.selected).map(|v| v.index)
    }

    /// Moves the selection by `step` rows (negative: up).
    pub fn move_selection(&mut self, step: isize) {
        let last = self.visible.len().saturating_sub(1) as isize;
        self.selected = (self.selected as isize + step).clamp(0, last.max(0)) as usize;
        self.follow = None;
    }

    /// Selects the row at `line` of the table body (a mouse click).
    pub fn click(&mut self, line: usize) {
        if line < self.visible.len() {
            self.selected = line;
            self.follow = None;
        }
    }

    /// Changes the refresh interval: doubles or halves it within bounds.
    pub fn change_delay(&mut self, longer: bool) {
        let delay = if longer {
            self.delay.saturating_mul(2)
        } else {
            self.delay / 2
        };
        self.delay = delay.clamp(MIN_DELAY, MAX_DELAY);
    }

    /// Sorts by the next (or previous) column.
    pub fn shift_sort(&mut self, forward: bool) {
        let n = self.columns.len().max(1);
        let next = if forward {
            (self.sort + 1) % n
        } else {
            (self.sort + n - 1) % n
        };
        self.sort_by(next);
    }

    /// Sorts by column `index`: numbers highest first, text in order, as htop does; the
    /// same column again reverses the order.
    pub fn sort_by(&mut self, index: usize) {
        if index == self.sort {
            self.reverse = !self.reverse;
        } else if let Some(column) = self.columns.get(index) {
            self.sort = index;
            self.reverse = column.kind.is_numeric();
        }
    }

    /// Moves the detail pane to the next or previous tab.
    pub fn step_tab(&mut self, forward: bool) {
        if let Some(tab) = self.detail {
            self.detail = Some(tab.step(forward));
        }
    }
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
