//! Key/value sections (`show`) laid out by comfy-table: long values wrap within the
//! terminal width instead of being cut.

use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table};

use super::table::{Style, Text, Tone};

/// Keys are padded to this width so that every section of a screen lines up.
const KEY_WIDTH: usize = 10;

/// A titled block of `key value` lines, keys indented two spaces.
pub fn section(title: &str, rows: Vec<(&str, Text)>, style: &Style) -> String {
    let mut out = String::new();
    if style.color {
        out.push_str(&format!("\x1b[1m{title}\x1b[0m\n"));
    } else {
        out.push_str(title);
        out.push('\n');
    }
    let mut table = Table::new();
    table.load_style(comfy_table::presets::NOTHING);
    if style.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    if let Some(width) = style.width {
        table.set_content_arrangement(ContentArrangement::Dynamic);
        table.set_width(u16::try_from(width).unwrap_or(u16::MAX));
    }
    for (key, value) in rows {
        let cell = Cell::new(value.text);
        let cell = match (style.color, value.tone) {
            (false, _) | (_, Tone::Plain) => cell,
            (true, Tone::Dim) => cell.add_attribute(Attribute::Dim),
            (true, Tone::Good) => cell.fg(Color::Green),
            (true, Tone::Warn) => cell.fg(Color::Yellow),
            (true, Tone::Bad) => cell.fg(Color::Red),
        };
        table.add_row(vec![Cell::new(format!("{key:<KEY_WIDTH$}")), cell]);
    }
    for (index, column) in table.column_iter_mut().enumerate() {
        column.set_padding(if index == 0 { (2, 1) } else { (0, 0) });
    }
    for line in table.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_align_and_long_values_wrap() {
        let style = Style {
            header: true,
            color: false,
            width: None,
        };
        let out = section(
            "CPU",
            vec![("nice", Text::plain("0")), ("priority", Text::plain("20"))],
            &style,
        );
        assert_eq!(out, "CPU\n  nice       0\n  priority   20\n");
        let narrow = Style {
            width: Some(20),
            ..style
        };
        let out = section(
            "P",
            vec![("command", Text::plain("sleep 100 --one --two --three"))],
            &narrow,
        );
        assert!(out.lines().all(|line| line.chars().count() <= 20), "{out}");
        assert!(out.lines().count() > 2, "{out}");
    }
}
