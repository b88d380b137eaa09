//! App layer: `procscope top` and `procscope ps --watch` / `top --batch`, the live view and
//! snapshot streams. The sampler reads a refresh, the view orders it, `render::tui` draws it
//! (or `render::watch` prints it) from render-owned view types; the detail pane and the kill
//! dialog call the one-shot commands' run functions (threads, fds, mem, ports, profile's
//! sampling, kill's pidfd path) for their payloads. Commands never format; this does not
//! read /proc itself beyond what collect offers.

pub mod app;
pub mod detail;
pub mod keys;
pub mod reader;
pub mod runtime_tab;
pub mod sampler;
pub mod stream;
pub mod timings;
pub mod view;

use std::time::Duration;

use crate::cli::PsArgs;
use crate::collect::{SystemInfo, UserNames};
use crate::columns::Column;
use crate::exit;

use crate::render::tui::view::View;
use sampler::SampleSpec;

/// The validated request of a live view or a stream.
pub struct TopQuery {
    pub spec: SampleSpec,
    /// Index of the sort column in `spec.columns`.
    pub sort: usize,
    pub reverse: bool,
    pub tree: bool,
    pub delay: Duration,
    /// Stop after this many snapshots (streams).
    pub count: Option<usize>,
    /// `--timings FILE`: where each refresh's read and render times go.
    pub timings: Option<std::path::PathBuf>,
}

impl TopQuery {
    /// Validates the `ps` arguments (columns, sort, filters) for a live view refreshed every
    /// `delay`; `rates` asks for context-switch and I/O rates too; `busiest_first` sorts by
    /// CPU, highest first, unless `--sort` says otherwise (top's order, not ps's).
    pub fn new(
        args: &PsArgs,
        delay: Duration,
        (rates, busiest_first): (bool, bool),
        system: &SystemInfo,
        users: &UserNames,
    ) -> anyhow::Result<Self> {
        if args.interval.is_some() {
            return Err(exit::usage(
                "--interval measures one listing; a live view measures every refresh (-d or --watch)",
            ));
        }
        if args.limit == Some(0) {
            return Err(exit::usage(
                "-n 0 asks for no snapshot: expected a count of 1 or more",
            ));
        }
        let ps = crate::ps_query(args, system, users)?;
        let mut columns: Vec<&'static Column> = ps.columns.clone();
        let cpu_first = busiest_first && args.sort.is_none();
        let sort_column = match crate::columns::lookup::find("cpu") {
            Some(cpu) if cpu_first => cpu,
            _ => ps.sort,
        };
        let sort = match columns.iter().position(|c| std::ptr::eq(*c, sort_column)) {
            Some(at) => at,
            None => {
                columns.push(sort_column);
                columns.len() - 1
            }
        };
        Ok(Self {
            spec: SampleSpec {
                columns,
                filter: ps.filter,
                threads: ps.threads,
                rates,
            },
            sort,
            reverse: ps.reverse != cpu_first,
            tree: ps.tree,
            delay,
            count: args.limit,
            timings: None,
        })
    }

    /// The view this query starts with.
    pub fn view(&self) -> View {
        let mut view = View::new(
            self.spec.columns.clone(),
            self.sort,
            self.reverse,
            self.delay,
        );
        view.tree = self.tree;
        view.threads = self.spec.threads;
        view
    }
}
