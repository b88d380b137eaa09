//! Tests of the table renderer: widths, alignment, cells made on one or two threads.

use super::*;

const PLAIN: Style = Style {
    header: true,
    color: false,
    width: None,
};

#[test]
fn one_long_last_cell_reserves_only_its_own_bytes() {
    let mut rows: Vec<Vec<Text>> = (0..10_000)
        .map(|pid| vec![Text::plain(pid.to_string()), Text::plain("sleep 1")])
        .collect();
    rows.push(vec![Text::plain("1"), Text::plain("x".repeat(1 << 20))]);
    let out = render(&[("PID", Align::Right), ("CMD", Align::Left)], rows, PLAIN);
    assert!(out.len() > 1 << 20);
    // Reserving the widest cell for every row would be 10 GB.
    assert!(out.capacity() < 8 << 20, "capacity {}", out.capacity());
}

#[test]
fn rows_made_on_two_threads_render_as_rows_made_on_one() {
    let cells = |row: usize| {
        let name = if row == 3000 {
            "a\nlong\x1bname"
        } else {
            "sleep"
        };
        vec![Text::plain(row.to_string()), Text::plain(name.to_owned())]
    };
    let columns = [
        Column::new("PID", Align::Right, Fit::Keep),
        Column::new("NAME", Align::Left, Fit::Keep),
    ];
    for count in [3, PARALLEL_ROWS + 1001] {
        let parallel = render_rows(&columns, count, PLAIN, cells);
        let mut made = Vec::new().into_iter();
        let serial = render_cells(&columns, count, PLAIN, |row, column| {
            if column == 0 {
                made = cells(row).into_iter();
            }
            made.next().map(Cow::Owned)
        });
        assert_eq!(parallel, serial);
        assert_eq!(parallel.lines().count(), count + 1);
    }
}

#[test]
fn aligns_columns_without_borders() {
    let out = render(
        &[("PID", Align::Right), ("NAME", Align::Left)],
        vec![
            vec!["1".into(), "init".into()],
            vec!["1234".into(), "sleep".into()],
        ],
        PLAIN,
    );
    assert_eq!(out, " PID NAME\n   1 init\n1234 sleep\n");
    let colored = render(
        &[("PID", Align::Right)],
        vec![vec![Text::toned("7", Tone::Bad)]],
        Style {
            header: true,
            color: true,
            width: None,
        },
    );
    assert_eq!(colored, "\x1b[1mPID\x1b[0m\n  \x1b[31m7\x1b[0m\n");
}

#[test]
fn no_header_and_cut() {
    let style = Style {
        header: false,
        color: false,
        width: Some(6),
    };
    let out = render(
        &[("PID", Align::Right), ("CMD", Align::Left)],
        vec![vec!["7".into(), "a-very-long-command".into()]],
        style,
    );
    assert_eq!(out, "7 a-ve\n");
}

#[test]
fn cut_keeps_escape_sequences() {
    assert_eq!(cut("\x1b[1mabcdef\x1b[0m", 3), "\x1b[1mabc\x1b[0m");
}

#[test]
fn cells_are_measured_and_cut_in_display_columns() {
    let style = Style {
        header: false,
        color: false,
        width: Some(20),
    };
    let cjk = "漢".repeat(40);
    let combining = "e\u{301}".repeat(12);
    let out = render(
        &[("PID", Align::Right), ("CMD", Align::Left)],
        vec![
            vec!["7".into(), cjk.as_str().into()],
            vec!["8".into(), combining.as_str().into()],
        ],
        style,
    );
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(format!("7 {}", "漢".repeat(9)).as_str()));
    // Twelve letters with accents are twelve columns: nothing is cut.
    assert_eq!(lines.next(), Some(format!("8 {combining}").as_str()));
}

#[test]
fn cells_that_give_way_end_in_an_ellipsis_and_dropped_columns_vanish() {
    let style = Style {
        header: true,
        color: false,
        width: Some(16),
    };
    let columns = [
        Column::new("PID", Align::Right, Fit::Keep),
        Column::new("NAME", Align::Left, Fit::Narrow { order: 1, min: 4 }),
        Column::new("TIME", Align::Right, Fit::Drop(0)),
        Column::new("RESULT", Align::Left, Fit::Keep),
    ];
    let out = render_columns(
        &columns,
        vec![vec![
            "1".into(),
            "systemd".into(),
            "0.1s".into(),
            "refused".into(),
        ]],
        style,
    );
    assert_eq!(out, "PID NAME RESULT\n  1 sys… refused\n");
}
