//! What the live view shows, as the TUI draws it: sort column and order, the incremental
//! filter, tree and thread modes, the followed process, pause, refresh interval, selection,
//! the open popup and the detail pane's tab. A render-owned view type: pure state changed by
//! the live view's keys (`live::keys`); the visible rows are computed by `live::view`.

use std::time::Duration;

use crate::columns::Column;

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

    pub fn step(self, forward: bool) -> Tab {
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
