//! The `mem` tables: the memory of one process by category, or every mapping (`--maps`).

use crate::model::memory::{MappingRow, Sizes};
use crate::model::report::MemReport;
use crate::render::table::{self, Align, Text, Tone};
use crate::render::{Sheet, Style};
use crate::text::escape::{Escaped, exact_text};
use crate::text::units;

fn size_cells(sizes: &Sizes) -> [Text; 6] {
    [
        Text::plain(units::bytes(sizes.virtual_bytes)),
        Text::plain(units::bytes(sizes.rss_bytes)),
        Text::plain(units::bytes(sizes.pss_bytes)),
        Text::plain(units::bytes(sizes.private_bytes)),
        Text::plain(units::bytes(sizes.swap_bytes)),
        Text::plain(sizes.mappings.to_string()),
    ]
}

const SIZE_HEADERS: [(&str, Align); 6] = [
    ("VIRTUAL", Align::Right),
    ("RSS", Align::Right),
    ("PSS", Align::Right),
    ("PRIVATE", Align::Right),
    ("SWAP", Align::Right),
    ("MAPS", Align::Right),
];

impl MemReport {
    fn summary_table(&self, style: &Style) -> String {
        let mut headers = vec![("CATEGORY", Align::Left), ("OWNER", Align::Left)];
        headers.extend(SIZE_HEADERS);
        let mut rows: Vec<Vec<Text>> = self
            .report
            .categories
            .iter()
            .map(|row| {
                let owner = match (row.tid, &row.thread_name, &row.file) {
                    (Some(tid), Some(name), _) => format!("{tid} {name}"),
                    (Some(tid), None, _) => tid.to_string(),
                    (_, _, Some(file)) => file.clone(),
                    _ => String::new(),
                };
                let mut cells = vec![Text::plain(row.label.clone()), Text::plain(owner)];
                cells.extend(size_cells(&row.sizes));
                cells
            })
            .collect();
        let mut total = vec![Text::toned("total", Tone::Plain), Text::plain("")];
        total.extend(size_cells(&self.report.total));
        rows.push(total);
        table::render(&headers, rows, *style)
    }

    fn maps_table(&self, mappings: &[MappingRow], style: &Style) -> String {
        let left = |h| (h, Align::Left);
        let right = |h| (h, Align::Right);
        let headers = [
            left("ADDRESS"),
            left("PERMS"),
            right("OFFSET"),
            left("DEVICE"),
            right("INODE"),
            left("CATEGORY"),
            right("SIZE"),
            right("RSS"),
            right("PSS"),
            right("PRIVATE"),
            right("SWAP"),
            right("REFERENCED"),
            right("ANONYMOUS"),
            right("LAZYFREE"),
            right("SHMEMPMD"),
            right("LOCKED"),
            left("THP"),
            left("FLAGS"),
            left("PATH"),
        ];
        let rows = mappings
            .iter()
            .map(|m| {
                let path = exact_text(&m.path, m.path_b64.as_deref());
                let category = match m.tid {
                    Some(tid) => format!("{} {tid}", m.category),
                    None => m.category.clone(),
                };
                let thp = match m.thp_eligible {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "-",
                };
                let bytes = |n: u64| Text::plain(units::bytes(n));
                vec![
                    Text::plain(format!("{:x}-{:x}", m.start, m.end)),
                    Text::plain(m.perms.clone()),
                    Text::plain(format!("{:x}", m.offset)),
                    Text::plain(m.device.clone()),
                    Text::plain(m.inode.to_string()),
                    Text::plain(category),
                    bytes(m.sizes.virtual_bytes),
                    bytes(m.sizes.rss_bytes),
                    bytes(m.sizes.pss_bytes),
                    bytes(m.sizes.private_bytes),
                    bytes(m.sizes.swap_bytes),
                    bytes(m.referenced_bytes),
                    bytes(m.anonymous_bytes),
                    bytes(m.lazy_free_bytes),
                    bytes(m.shmem_pmd_mapped_bytes),
                    bytes(m.locked_bytes),
                    Text::plain(thp),
                    Text::plain(m.vm_flags.join(" ")),
                    Text::plain(path),
                ]
            })
            .collect();
        table::render(&headers, rows, *style)
    }
}

impl Sheet for MemReport {
    fn table(&self, style: &Style) -> String {
        let r = &self.report;
        let mut out = String::new();
        if style.header {
            let kernel = r
                .rollup
                .map(|k| {
                    format!(
                        "  RSS {}  PSS {}  private {}  swap {} (kernel totals)",
                        units::bytes(k.rss_bytes),
                        units::bytes(k.pss_bytes),
                        units::bytes(k.private_bytes),
                        units::bytes(k.swap_bytes)
                    )
                })
                .unwrap_or_default();
            let title = format!(
                "PID {}  {}{kernel}",
                r.pid,
                r.process_name.as_deref().unwrap_or("-")
            );
            out.push_str(&table::title_line(&Escaped::text(&title), style));
        }
        match (&r.mappings, self.maps) {
            (Some(mappings), true) => out.push_str(&self.maps_table(mappings, style)),
            _ => out.push_str(&self.summary_table(style)),
        }
        out
    }

    fn notes(&self) -> Vec<String> {
        match self.report.unsampled_threads {
            0 => Vec::new(),
            n => vec![format!(
                "{} not be sampled (running, or no ptrace access); their stacks show as \"owner unknown\"",
                units::count(n, "thread could", "threads could")
            )],
        }
    }
}
