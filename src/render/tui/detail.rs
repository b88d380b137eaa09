//! The detail pane of the selected process: a tab bar and the open tab (threads with live
//! CPU% and waits, descriptors, memory by category with growth, sockets, runtime load).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, Tabs};

use crate::text::units::{bytes, percent};

use super::pane::{DetailPane, category_key};
use super::runtime_load::{LoopLoad, RuntimeLoad};
use super::text::safe_str;
use super::view::Tab;

/// Draws the pane for `detail` with `tab` open.
pub fn draw(frame: &mut Frame, area: Rect, detail: &DetailPane, tab: Tab) {
    let block = Block::default()
        .borders(Borders::TOP)
        .title(format!(" PID {} (Tab: next, Esc: close) ", detail.pid));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [bar, body] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(inner);
    let titles: Vec<&str> = Tab::ALL.iter().map(|t| t.title()).collect();
    let selected = Tab::ALL.iter().position(|&t| t == tab).unwrap_or(0);
    frame.render_widget(
        Tabs::new(titles)
            .select(selected)
            .highlight_style(Style::default().add_modifier(Modifier::REVERSED)),
        bar,
    );
    if detail.gone {
        frame.render_widget(Paragraph::new("the process has exited"), body);
        return;
    }
    if let Some(error) = &detail.error {
        frame.render_widget(Paragraph::new(safe_str(error)), body);
        return;
    }
    match tab {
        Tab::Threads => threads(frame, body, detail),
        Tab::Fds => fds(frame, body, detail),
        Tab::Memory => memory(frame, body, detail),
        Tab::Ports => ports(frame, body, detail),
        Tab::Runtime => runtime(frame, body, detail.runtime.as_ref(), detail.sampling),
    }
}

fn table<'a>(rows: Vec<Row<'a>>, header: &'a [&'a str], widths: &[Constraint]) -> Table<'a> {
    Table::new(rows, widths.to_vec())
        .header(Row::new(header.to_vec()).style(Style::default().add_modifier(Modifier::BOLD)))
        .column_spacing(1)
}

fn threads(frame: &mut Frame, area: Rect, detail: &DetailPane) {
    let Some(list) = &detail.threads else { return };
    let dash = || "-".to_owned();
    let rows = list.threads.iter().map(|t| {
        Row::new(vec![
            t.tid.to_string(),
            t.name.as_deref().map_or_else(dash, safe_str),
            t.state.clone().unwrap_or_else(dash),
            detail
                .thread_cpu
                .get(&t.tid)
                .map_or_else(dash, |&p| percent(p)),
            t.wait.as_deref().map_or_else(dash, safe_str),
            t.pc_text.as_deref().map_or_else(dash, safe_str),
            t.role.map(|r| r.as_str().to_owned()).unwrap_or_default(),
        ])
    });
    let widths = [
        Constraint::Length(7),
        Constraint::Length(16),
        Constraint::Length(2),
        Constraint::Length(6),
        Constraint::Length(22),
        Constraint::Fill(1),
        Constraint::Length(14),
    ];
    let header = &["TID", "NAME", "S", "%CPU", "WAIT", "PC", "ROLE"];
    frame.render_widget(table(rows.collect(), header, &widths), area);
}

fn fds(frame: &mut Frame, area: Rect, detail: &DetailPane) {
    let Some(list) = &detail.fds else { return };
    let rows = list.fds.iter().map(|fd| {
        Row::new(vec![
            fd.fd.to_string(),
            fd.kind.name().to_owned(),
            fd.mode.clone().unwrap_or_default(),
            safe_str(&fd.description),
        ])
    });
    let widths = [
        Constraint::Length(5),
        Constraint::Length(9),
        Constraint::Length(3),
        Constraint::Fill(1),
    ];
    let header = &["FD", "TYPE", "RW", "TARGET"];
    frame.render_widget(table(rows.collect(), header, &widths), area);
}

fn memory(frame: &mut Frame, area: Rect, detail: &DetailPane) {
    let Some(report) = &detail.memory else { return };
    let rows = report.categories.iter().map(|row| {
        let before = detail.memory_baseline.get(&category_key(row)).copied();
        let growth = before.map_or_else(
            || "new".to_owned(),
            |b| signed_bytes(row.sizes.rss_bytes as i128 - b as i128),
        );
        let what = match (&row.file, &row.thread_name) {
            (Some(file), _) => format!("{} {}", row.label, safe_str(file)),
            (None, Some(name)) => format!("{} {}", row.label, safe_str(name)),
            _ => row.label.clone(),
        };
        Row::new(vec![
            what,
            bytes(row.sizes.rss_bytes),
            bytes(row.sizes.pss_bytes),
            bytes(row.sizes.swap_bytes),
            growth,
        ])
    });
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(9),
    ];
    let header = &["CATEGORY", "RSS", "PSS", "SWAP", "GROWTH"];
    frame.render_widget(table(rows.collect(), header, &widths), area);
}

/// `+1.2M`, `-4.0K`, `0`.
fn signed_bytes(delta: i128) -> String {
    match delta {
        0 => "0".to_owned(),
        d if d > 0 => format!("+{}", bytes(d as u64)),
        d => format!("-{}", bytes(d.unsigned_abs() as u64)),
    }
}

fn ports(frame: &mut Frame, area: Rect, detail: &DetailPane) {
    let Some(list) = &detail.ports else { return };
    let endpoint = |address: &Option<String>, port: Option<u16>| match (address, port) {
        (Some(a), Some(p)) => format!("{a}:{p}"),
        (Some(a), None) => a.clone(),
        _ => "*".to_owned(),
    };
    let rows = list.sockets.iter().map(|row| {
        let s = &row.socket;
        let local = s
            .path
            .as_deref()
            .map_or_else(|| endpoint(&s.local_address, s.local_port), safe_str);
        Row::new(vec![
            s.proto.clone(),
            s.state.clone().unwrap_or_default(),
            local,
            endpoint(&s.remote_address, s.remote_port),
        ])
    });
    let widths = [
        Constraint::Length(6),
        Constraint::Length(12),
        Constraint::Fill(1),
        Constraint::Fill(1),
    ];
    let header = &["PROTO", "STATE", "LOCAL", "REMOTE"];
    frame.render_widget(table(rows.collect(), header, &widths), area);
}

fn runtime(frame: &mut Frame, area: Rect, load: Option<&RuntimeLoad>, sampling: bool) {
    let Some(load) = load else {
        let text = match sampling {
            true => "sampling the threads (figures at the next refresh)",
            false => "no runtime recognised",
        };
        frame.render_widget(Paragraph::new(text), area);
        return;
    };
    let mut lines = vec![Line::from(format!(
        "{} ({} samples per thread this interval)",
        safe_str(&load.label),
        load.samples
    ))];
    if let Some(summary) = &load.summary {
        lines.push(Line::from(safe_str(summary)));
    }
    lines.push(Line::from(format!(
        "JS main thread busy {}",
        load.main_thread.as_ref().map_or("-".into(), loop_text)
    )));
    let pool = match load.pool {
        Some((_, 0)) | None => "- (no thread identified)".to_owned(),
        Some((busy, of)) => format!("{busy}/{of}"),
    };
    let v8 = load.v8_workers.map_or("-".into(), |(running, n)| {
        format!("{}% of samples ({n} threads)", percent(running))
    });
    lines.push(Line::from(format!(
        "libuv pool busy {pool}   V8 workers busy {v8}"
    )));
    for (subject, event_loop) in &load.worker_threads {
        lines.push(Line::from(format!(
            "{} busy {}",
            safe_str(subject),
            loop_text(event_loop)
        )));
    }
    for worker in &load.cluster_workers {
        let cpu = worker
            .cpu_percent
            .map_or("-".into(), |p| format!("{}%", percent(p)));
        let event_loop = worker.event_loop.as_ref().map_or("-".into(), loop_text);
        lines.push(Line::from(format!(
            "cluster worker PID {} CPU {cpu}, loop busy {event_loop}",
            worker.pid
        )));
    }
    lines.extend(load.verdicts.iter().map(|v| Line::from(safe_str(v))));
    frame.render_widget(Paragraph::new(lines), area);
}

/// `97% (waiting 3%)`.
fn loop_text(event_loop: &LoopLoad) -> String {
    format!(
        "{}% (waiting {}%)",
        percent(event_loop.computing_percent),
        percent(event_loop.waiting_percent)
    )
}
