//! Rendering tests on ratatui's TestBackend: the header, the table (sort mark, selection,
//! new and exited rows), the detail tabs, popups, narrow terminals and hostile names.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::columns::{Value, lookup};
use crate::model::machine::Machine;
use crate::model::thread::{ThreadList, ThreadRow};
use crate::parse::cpustat::CpuShare;

use super::pane::DetailPane;
use super::runtime_load::{ClusterWorkerLoad, LoopLoad, RuntimeLoad};
use super::snapshot::{Exited, Rates, Snapshot, TopRow};
use super::view::{Popup, Tab, View, Visible};
use super::{Screen, draw};

fn machine() -> Machine {
    let share = CpuShare {
        user: 30.0,
        system: 10.0,
        iowait: 2.0,
        steal: 0.5,
    };
    Machine {
        uptime_seconds: 3 * 86_400 + 3600 + 120,
        load: [1.0, 0.5, 0.25],
        cpu_total: share,
        cpus: vec![share, CpuShare::default()],
        mem_total_bytes: 8 << 30,
        mem_used_bytes: 2 << 30,
        swap_total_bytes: 1 << 30,
        swap_used_bytes: 0,
        net_rx_bytes_per_second: 2048.0,
        net_tx_bytes_per_second: 0.0,
        disk_read_bytes_per_second: 0.0,
        disk_write_bytes_per_second: 4096.0,
    }
}

fn row(pid: u32, cpu: f64, argv: &[&[u8]]) -> TopRow {
    TopRow {
        pid,
        tid: pid,
        ppid: 1,
        start_ticks: 100,
        state: b'S',
        name: argv[0].to_vec(),
        cells: vec![
            Ok(Value::Integer(pid.into())),
            Ok(Value::Percent(cpu)),
            Ok(Value::Argv {
                argv: argv.iter().map(|a| a.to_vec()).collect(),
                fallback: None,
                truncated: false,
                raw: None,
            }),
        ],
        rates: Rates {
            cpu_percent: Some(cpu),
            ..Rates::default()
        },
        fresh: false,
        deferred: false,
    }
}

fn snapshot() -> Snapshot {
    let mut fresh = row(300, 1.0, &[b"newcomer"]);
    fresh.fresh = true;
    Snapshot {
        generation: 1,
        taken_unix: 1_800_000_000.0,
        interval_seconds: Some(1.0),
        rows: vec![
            row(100, 5.0, &[b"sleep", b"1000"]),
            row(200, 90.0, &[b"busy\x1b[31m\nloop"]),
            fresh,
        ],
        exited: vec![Exited {
            pid: 400,
            tid: 400,
            name: b"gone\x07".to_vec(),
        }],
        states: BTreeMap::from([(b'S', 2), (b'R', 1)]),
        vanished: 0,
    }
}

fn view(snapshot: &Snapshot) -> View {
    let columns = ["pid", "cpu", "cmd"]
        .iter()
        .filter_map(|n| lookup::find(n))
        .collect();
    let mut view = View::new(columns, 1, true, Duration::from_secs(1));
    // By CPU, busiest first (the order `live::view` computes; tested there).
    let mut order: Vec<usize> = (0..snapshot.rows.len()).collect();
    order.sort_by(|&a, &b| {
        let cpu = |i: usize| snapshot.rows[i].rates.cpu_percent.unwrap_or(0.0);
        cpu(b).total_cmp(&cpu(a))
    });
    show(&mut view, &order);
    view
}

/// Shows these snapshot rows, in this order.
fn show(view: &mut View, rows: &[usize]) {
    view.visible = rows
        .iter()
        .map(|&index| Visible { index, depth: 0 })
        .collect();
}

/// Draws a frame of `width` x `height` and returns its text, one line per row.
fn render(
    width: u16,
    height: u16,
    view: &View,
    snapshot: &Snapshot,
    detail: Option<&DetailPane>,
) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    let machine = machine();
    let screen = Screen {
        snapshot,
        machine: &machine,
        view,
        detail,
    };
    terminal
        .draw(|frame| {
            draw(frame, &screen);
        })
        .unwrap();
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| {
            (0..width)
                .map(|x| buffer[(x, y)].symbol().to_owned())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn header_shows_the_machine() {
    let snapshot = snapshot();
    let text = render(100, 30, &view(&snapshot), &snapshot, None);
    assert!(
        text.contains("up 3d 01:02, load average 1.00 0.50 0.25"),
        "{text}"
    );
    assert!(text.contains("Tasks 3: 1 running, 2 sleeping"), "{text}");
    assert!(text.contains("30.0 us, 10.0 sy, 2.0 wa, 0.5 st"), "{text}");
    assert!(text.contains("Mem 2.0G used of 8.0G"), "{text}");
    assert!(text.contains("Net rx 2.0K/s"), "{text}");
    assert!(text.contains("cpu0 40.5%"), "{text}");
}

#[test]
fn table_is_sorted_marked_and_escaped() {
    let snapshot = snapshot();
    let text = render(100, 30, &view(&snapshot), &snapshot, None);
    assert!(text.contains("%CPU▼"), "{text}");
    let busy = text.find("busy").unwrap();
    let sleep = text.find("sleep 1000").unwrap();
    assert!(busy < sleep, "highest CPU first:\n{text}");
    // The hostile name is escaped, never drawn raw.
    assert!(text.contains("busy\\e[31m\\nloop"), "{text}");
    assert!(!text.contains('\x1b') && !text.contains('\x07'));
    assert!(text.contains("(exited) gone\\x07"), "{text}");
}

#[test]
fn narrow_terminals_still_draw_the_table() {
    let snapshot = snapshot();
    for (width, height) in [(60, 20), (30, 10), (12, 5)] {
        let text = render(width, height, &view(&snapshot), &snapshot, None);
        assert_eq!(text.lines().count(), usize::from(height));
    }
    let text = render(60, 20, &view(&snapshot), &snapshot, None);
    assert!(text.contains("PID"), "{text}");
    assert!(text.contains("busy"), "{text}");
}

#[test]
fn filter_and_help_popup() {
    let snapshot = snapshot();
    let mut view = view(&snapshot);
    view.filter = "sleep".into();
    show(&mut view, &[0]);
    let text = render(100, 30, &view, &snapshot, None);
    assert!(text.contains("Filter: sleep"), "{text}");
    assert!(!text.contains("busy"), "{text}");
    view.popup = Popup::Help;
    let text = render(100, 30, &view, &snapshot, None);
    assert!(text.contains("follow the selected process"), "{text}");
}

fn thread(tid: u32, role: &str, wait: &str) -> ThreadRow {
    ThreadRow {
        tid,
        name: Some(format!("t\x1b{tid}")),
        name_b64: None,
        role: role.parse().ok(),
        role_name: None,
        role_evidence: None,
        state: Some("S".into()),
        state_name: None,
        cpu_percent: None,
        user_seconds: None,
        system_seconds: None,
        last_cpu: None,
        voluntary_ctxt_switches: None,
        nonvoluntary_ctxt_switches: None,
        wait: Some(wait.into()),
        syscall: None,
        syscall_nr: None,
        syscall_args: None,
        wait_fd: None,
        wchan: None,
        sp: None,
        pc: None,
        pc_location: None,
        pc_text: Some("epoll_wait+0x4e in libc.so.6".into()),
        stack: None,
        unavailable: BTreeMap::new(),
    }
}

#[test]
fn detail_tabs_show_threads_and_runtime() {
    let snapshot = snapshot();
    let mut view = view(&snapshot);
    let mut detail = DetailPane::new(100);
    detail.threads = Some(ThreadList {
        pid: 100,
        process_name: Some("node".into()),
        threads: vec![
            thread(100, "js-main", "epoll_wait(fd 3)"),
            thread(101, "libuv-pool", "futex"),
        ],
        by_state: BTreeMap::new(),
        runtime: None,
        runtime_summary: None,
    });
    detail.thread_cpu = HashMap::from([(100, 12.5), (101, 0.0)]);
    let busy_loop = LoopLoad {
        computing_percent: 12.5,
        waiting_percent: 87.5,
        verdict: "waiting".into(),
    };
    detail.runtime = Some(RuntimeLoad {
        label: "node 20.20.2".into(),
        main_thread: Some(busy_loop.clone()),
        pool: Some((1, 4)),
        v8_workers: Some((2.0, 4)),
        cluster_workers: vec![ClusterWorkerLoad {
            pid: 4242,
            cpu_percent: Some(33.0),
            event_loop: Some(busy_loop),
        }],
        ..RuntimeLoad::default()
    });
    view.detail = Some(Tab::Threads);
    let text = render(120, 40, &view, &snapshot, Some(&detail));
    assert!(text.contains("WAIT"), "{text}");
    assert!(text.contains("epoll_wait(fd 3)"), "{text}");
    assert!(text.contains("12.5"), "{text}");
    assert!(text.contains("t\\e100"), "{text}");
    assert!(text.contains("libuv-pool"), "{text}");
    view.detail = Some(Tab::Runtime);
    let text = render(120, 40, &view, &snapshot, Some(&detail));
    assert!(
        text.contains("JS main thread busy 12.5% (waiting 87.5%)"),
        "{text}"
    );
    assert!(text.contains("libuv pool busy 1/4"), "{text}");
    assert!(
        text.contains("cluster worker PID 4242 CPU 33.0%, loop busy 12.5%"),
        "{text}"
    );
    detail.gone = true;
    let text = render(120, 40, &view, &snapshot, Some(&detail));
    assert!(text.contains("the process has exited"), "{text}");
}

#[test]
fn kill_confirmation_shows_the_command_line() {
    let snapshot = snapshot();
    let mut view = view(&snapshot);
    view.popup = Popup::KillConfirm {
        lines: vec![
            "SIGTERM to PID 100 (sleep)".into(),
            "command: sleep\x1b 1000".into(),
        ],
        can_send: true,
    };
    let text = render(100, 30, &view, &snapshot, None);
    assert!(text.contains("SIGTERM to PID 100 (sleep)"), "{text}");
    assert!(text.contains("command: sleep\\e 1000"), "{text}");
    assert!(text.contains("y: send"), "{text}");
}

#[test]
fn colour_only_when_asked() {
    let snapshot = snapshot();
    let machine = machine();
    let mut view = view(&snapshot);
    for color in [false, true] {
        view.color = color;
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
        let screen = Screen {
            snapshot: &snapshot,
            machine: &machine,
            view: &view,
            detail: None,
        };
        terminal
            .draw(|frame| {
                draw(frame, &screen);
            })
            .unwrap();
        let buffer = terminal.backend().buffer();
        let coloured = buffer.content().iter().any(|cell| {
            cell.fg != ratatui::style::Color::Reset || cell.bg != ratatui::style::Color::Reset
        });
        assert_eq!(coloured, color, "colour {color}");
    }
}
