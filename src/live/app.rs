//! The event loop of the full-screen view: refresh on time (unless paused), draw, and turn
//! keys, clicks and resizes into changes of the view. The terminal is set up and restored
//! by ratatui and crossterm, also when the loop fails or panics.

use std::time::{Duration, Instant};

use crossterm::event::{self, Event, MouseButton, MouseEventKind};
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;

use crate::collect::machine::MachineSampler;
use crate::collect::{ProcFs, SystemInfo, UserNames};
use crate::commands::kill::{self, Prepared};
use crate::exit::Exit;
use crate::model::machine::Machine;
use crate::query::kill::KillQuery;
use crate::query::signal::SignalChoice;
use crate::render::tui::{self, Drawn, Screen};

use super::TopQuery;
use super::detail::Detail;
use super::keys::on_key;
use super::runtime_tab::SAMPLE_PERIOD;
use super::sampler::{SampleSpec, Sampler};
use super::timings::Timings;
use super::view::{Action, Rebuild, on_screen};
use crate::render::tui::snapshot::Snapshot;
use crate::render::tui::view::{Popup, View};

/// The live view's state between frames.
struct App<'a> {
    procfs: &'a ProcFs,
    users: &'a UserNames,
    sampler: Sampler,
    machine_sampler: MachineSampler,
    snapshot: Snapshot,
    machine: Machine,
    view: View,
    detail: Option<Detail>,
    pending_kill: Option<(Prepared, KillQuery)>,
    drawn: Drawn,
    timings: Timings,
    /// The terminal's height at the last draw: no more table rows than this are drawn.
    screen_rows: usize,
}

/// Runs the full-screen view until `q`.
pub fn run(
    query: &TopQuery,
    procfs: &ProcFs,
    system: &SystemInfo,
    users: &UserNames,
    color: bool,
) -> anyhow::Result<Exit> {
    let spec = SampleSpec {
        rates: false,
        ..query.spec.clone()
    };
    let mut app = App {
        procfs,
        users,
        sampler: Sampler::new(spec, system.clone()),
        machine_sampler: MachineSampler::new(),
        snapshot: Snapshot::default(),
        machine: Machine::default(),
        view: query.view(),
        detail: None,
        pending_kill: None,
        drawn: Drawn::default(),
        timings: Timings::open(query.timings.as_deref())?,
        screen_rows: 0,
    };
    app.view.color = color;
    let mut terminal = ratatui::init();
    app.screen_rows = screen_rows(&terminal);
    let _ = execute!(std::io::stdout(), EnableMouseCapture);
    let result = app.event_loop(&mut terminal);
    let _ = execute!(std::io::stdout(), DisableMouseCapture);
    ratatui::restore();
    result
}

impl App<'_> {
    fn event_loop(&mut self, terminal: &mut ratatui::DefaultTerminal) -> anyhow::Result<Exit> {
        self.refresh();
        let mut next = Instant::now() + self.view.delay;
        let mut next_tick = Instant::now() + SAMPLE_PERIOD;
        let mut dirty = true;
        loop {
            if !self.view.paused && Instant::now() >= next {
                self.refresh();
                next = Instant::now() + self.view.delay;
                dirty = true;
            }
            if dirty {
                self.draw(terminal)?;
                dirty = false;
            }
            let sampling = !self.view.paused && self.detail.as_ref().is_some_and(Detail::sampling);
            let wait = match (self.view.paused, sampling) {
                (true, _) => Duration::from_secs(3600),
                (false, false) => next.saturating_duration_since(Instant::now()),
                (false, true) => next
                    .min(next_tick)
                    .saturating_duration_since(Instant::now()),
            };
            if !event::poll(wait)? {
                if sampling
                    && Instant::now() >= next_tick
                    && let Some(detail) = &mut self.detail
                {
                    detail.tick();
                    next_tick = Instant::now() + SAMPLE_PERIOD;
                }
                continue;
            }
            dirty = true;
            match self.on_event(event::read()?) {
                Action::Quit => return Ok(Exit::Success),
                Action::Refresh => {
                    self.refresh();
                    next = Instant::now() + self.view.delay;
                }
                other => self.act(other),
            }
            self.settle_deferral();
            self.view.rebuild(&self.snapshot);
        }
    }

    fn draw(&mut self, terminal: &mut ratatui::DefaultTerminal) -> anyhow::Result<()> {
        self.screen_rows = screen_rows(terminal);
        self.fill_screen();
        let screen = Screen {
            snapshot: &self.snapshot,
            machine: &self.machine,
            view: &self.view,
            detail: self.detail.as_ref().map(Detail::pane),
        };
        let mut drawn = Drawn::default();
        terminal.draw(|frame| drawn = tui::draw(frame, &screen))?;
        self.drawn = drawn;
        self.timings.drawn(true);
        Ok(())
    }

    fn on_event(&mut self, event: Event) -> Action {
        match event {
            Event::Key(key) if key.is_press() => {
                let selected = self.view.selected_index().map(|i| &self.snapshot.rows[i]);
                on_key(&mut self.view, key, selected)
            }
            Event::Mouse(mouse) => {
                self.mouse(mouse.kind, mouse.row);
                Action::Nothing
            }
            _ => Action::Nothing,
        }
    }

    fn mouse(&mut self, kind: MouseEventKind, row: u16) {
        match kind {
            MouseEventKind::Down(MouseButton::Left) => {
                let drawn = self.drawn;
                if row >= drawn.body_top && row < drawn.body_top + drawn.body_height {
                    self.view
                        .click(drawn.first + usize::from(row - drawn.body_top));
                }
            }
            MouseEventKind::ScrollDown => self.view.move_selection(3),
            MouseEventKind::ScrollUp => self.view.move_selection(-3),
            _ => {}
        }
    }

    /// Reads a refresh of the table, the machine and the open detail tab.
    fn refresh(&mut self) {
        self.timings.read_starts();
        self.sampler.set_threads(self.view.threads);
        self.settle_deferral();
        let previous = std::mem::take(&mut self.snapshot);
        self.snapshot = self.sampler.refresh(self.procfs, self.users, previous);
        self.machine = self.machine_sampler.refresh(self.procfs);
        if let (Some(detail), Some(tab)) = (&mut self.detail, self.view.detail) {
            let system = self.sampler.system();
            detail.refresh(tab, self.procfs, system, self.users);
        }
        self.view.rebuild(&self.snapshot);
        self.fill_screen();
        self.timings.read_ends(self.snapshot.rows.len());
    }

    /// Defers the columns needed only for the rows on screen while no filter is typed (the
    /// sort column is always read); rows left unread are read when that changes.
    fn settle_deferral(&mut self) {
        let choice = (self.view.sort, self.view.filter.is_empty());
        let snapshot = &mut self.snapshot;
        self.sampler
            .set_deferral(self.procfs, self.users, snapshot, choice);
    }

    /// Reads the deferred cells of the rows the next draw may show.
    fn fill_screen(&mut self) {
        let rows: Vec<usize> = on_screen(&self.view, self.screen_rows)
            .map(|visible| visible.index)
            .collect();
        self.sampler
            .fill(self.procfs, self.users, &mut self.snapshot, &rows);
    }

    fn act(&mut self, action: Action) {
        match action {
            Action::OpenDetail(pid, start) => {
                let mut detail = Detail::new(pid, start);
                if let Some(tab) = self.view.detail {
                    let system = self.sampler.system();
                    detail.refresh(tab, self.procfs, system, self.users);
                }
                self.detail = Some(detail);
            }
            Action::PrepareKill(pid, start, signal) => self.prepare_kill(pid, start, signal),
            Action::ConfirmKill => {
                if let Some((prepared, query)) = self.pending_kill.take() {
                    self.view.message = Some(kill_outcome(kill::finish(prepared, &query)));
                }
            }
            Action::CancelKill => self.pending_kill = None,
            Action::Nothing | Action::Quit | Action::Refresh => {}
        }
    }

    /// Binds the selected process through `procscope kill`'s selection (pidfd, refusals)
    /// and shows what would be signalled.
    fn prepare_kill(&mut self, pid: u32, start: u64, signal: SignalChoice) {
        let query = kill_query(pid, signal);
        let system = self.sampler.system();
        let prepared = match kill::prepare(&query, self.procfs, system) {
            Ok(prepared) => prepared,
            Err(error) => {
                self.view.message = Some(format!("{error:#}"));
                return;
            }
        };
        let targets = prepared.targets();
        let mut lines = Vec::new();
        let mut can_send = !targets.is_empty();
        for target in &targets {
            let name = target.name.as_deref().map(String::from_utf8_lossy);
            lines.push(format!(
                "{} to PID {} ({})",
                signal.full_name(),
                target.pid,
                name.unwrap_or_default()
            ));
            let argv: Vec<String> = target
                .argv
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            lines.push(format!("command: {}", argv.join(" ")));
            if target.start_ticks.is_some_and(|s| s != start) {
                lines.push("refused: its PID now names another process".into());
                can_send = false;
            } else if let Some(why) = &target.refusal {
                lines.push(format!("refused: {why}"));
                can_send = false;
            }
        }
        self.view.popup = Popup::KillConfirm { lines, can_send };
        self.pending_kill = can_send.then_some((prepared, query));
    }
}

/// The terminal's height in rows (a large one when unknown: every row may then be drawn).
fn screen_rows(terminal: &ratatui::DefaultTerminal) -> usize {
    terminal
        .size()
        .map_or(usize::from(u16::MAX), |size| usize::from(size.height))
}

/// The query `procscope kill -s SIGNAL PID` would run.
fn kill_query(pid: u32, signal: SignalChoice) -> KillQuery {
    KillQuery {
        pids: vec![pid],
        port: None,
        all_netns: false,
        matcher: None,
        unit: None,
        tree: false,
        signal,
        wait: false,
        timeout: None,
        escalate: false,
        force: false,
        dry_run: false,
        yes: true,
    }
}

/// One line about what the signal did.
fn kill_outcome(report: crate::model::report::KillReport) -> String {
    report
        .payload
        .results
        .iter()
        .map(|r| {
            let reason = r
                .reason
                .as_deref()
                .map(|w| format!(": {w}"))
                .unwrap_or_default();
            format!("PID {} {} {:?}{reason}", r.pid, r.signal, r.result)
        })
        .collect::<Vec<_>>()
        .join("; ")
}
