//! `procscope serve`: the HTTP loop (tiny_http) around `commands::export`. Scrapes run one
//! at a time in worker threads, so a slow scrape or client never blocks the next accept;
//! SIGTERM and SIGINT stop the loop cleanly. Also builds the export request from arguments.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{SigSet, Signal};

use crate::cli::{ExportArgs, GlobalArgs, ServeArgs};
use crate::collect::{ProcFs, SystemInfo, UserNames};
use crate::commands::export::run as collect;
use crate::exit::{self, Exit};
use crate::model::exposition::Exposition;
use crate::query::export::ExportQuery;
use crate::query::groups::Grouping;
use crate::render::openmetrics::render;

/// Requests being answered at once; more get 503 (scrapes queue on one lock anyway).
const MAX_IN_FLIGHT: usize = 16;

/// The one-line index page.
const INDEX: &str =
    "<html><body>procscope exporter: <a href=\"/metrics\">/metrics</a></body></html>\n";

/// Validates the grouping arguments (reading the config file) into an export request.
pub fn export_query(args: &ExportArgs, system: &SystemInfo) -> anyhow::Result<ExportQuery> {
    for &pid in &args.pid {
        crate::query::pid::check_pid_max(pid, system.pid_max).map_err(exit::usage)?;
    }
    let grouping = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|err| {
                exit::usage(format!("cannot read config {}: {err}", path.display()))
            })?;
            let users = UserNames::load();
            Grouping::from_toml(&text, |name| users.resolve(name), args.pid.clone())
                .map_err(|err| exit::usage(format!("config {}: {err}", path.display())))?
        }
        None => Grouping::by(args.group_by, args.pid.clone()),
    };
    Ok(ExportQuery {
        grouping,
        pss: args.pss,
    })
}

/// What every scrape needs.
struct Scraper {
    procfs: ProcFs,
    query: ExportQuery,
    users: UserNames,
    /// Held while collecting and rendering: scrapes are serialized.
    lock: Mutex<()>,
    in_flight: AtomicUsize,
}

impl Scraper {
    /// One collection, rendered.
    fn scrape(&self, exposition: Exposition) -> anyhow::Result<String> {
        let _serial = self
            .lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let system = SystemInfo::read(&self.procfs)?;
        let payload = collect(&self.query, &self.procfs, &system, &self.users)?;
        Ok(render(&payload, exposition))
    }

    fn answer(&self, request: tiny_http::Request) {
        let accept = request
            .headers()
            .iter()
            .find(|h| h.field.equiv("Accept"))
            .map(|h| h.value.as_str().to_owned());
        let exposition = Exposition::negotiate(accept.as_deref());
        let response = match (request.method(), request.url()) {
            (tiny_http::Method::Get | tiny_http::Method::Head, "/metrics") => {
                match self.scrape(exposition) {
                    Ok(text) => respond(text, exposition.content_type(), 200),
                    Err(err) => respond(format!("scrape failed: {err:#}\n"), "text/plain", 500),
                }
            }
            (tiny_http::Method::Get, "/") => {
                respond(INDEX.to_owned(), "text/html; charset=utf-8", 200)
            }
            (tiny_http::Method::Get, _) => {
                respond("not found: try /metrics\n".into(), "text/plain", 404)
            }
            _ => respond("only GET\n".into(), "text/plain", 405),
        };
        // A client that went away is not our error.
        let _ = request.respond(response);
    }
}

fn respond(
    body: String,
    content_type: &str,
    status: u16,
) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let header = tiny_http::Header::from_bytes("Content-Type", content_type)
        .expect("a static header is valid");
    tiny_http::Response::from_data(body.into_bytes())
        .with_status_code(status)
        .with_header(header)
}

/// Serves until SIGTERM or SIGINT.
pub fn run(global: &GlobalArgs, args: &ServeArgs) -> anyhow::Result<Exit> {
    // Blocked before any thread starts (the read watchdog's too), so every thread inherits the mask and only the
    // waiter below takes the signals.
    let mut stop = SigSet::empty();
    stop.add(Signal::SIGTERM);
    stop.add(Signal::SIGINT);
    stop.thread_block()?;
    let root = &global.proc_root;
    let procfs = ProcFs::open(root)
        .map_err(|err| anyhow::anyhow!("cannot open the proc tree {}: {err}", root.display()))?
        .with_runtimes(crate::analyze::runtime::probes());
    let system = SystemInfo::read(&procfs)?;
    let query = export_query(&args.export, &system)?;
    let server = tiny_http::Server::http(args.listen).map_err(|err| exit::Failure {
        exit: Exit::Fatal,
        message: format!("cannot listen on {}: {err}", args.listen),
    })?;
    let server = Arc::new(server);
    let address = server
        .server_addr()
        .to_ip()
        .map_or_else(|| args.listen.to_string(), |a| a.to_string());
    let _ = writeln!(
        std::io::stderr(),
        "procscope: serving http://{address}/metrics"
    );
    let stopping = Arc::new(AtomicBool::new(false));
    let (waiter, flag) = (Arc::clone(&server), Arc::clone(&stopping));
    std::thread::spawn(move || {
        let _ = stop.wait();
        flag.store(true, Ordering::SeqCst);
        waiter.unblock();
    });
    let scraper = Arc::new(Scraper {
        procfs,
        query,
        users: UserNames::load(),
        lock: Mutex::new(()),
        in_flight: AtomicUsize::new(0),
    });
    loop {
        let request = match server.recv() {
            Ok(request) => request,
            Err(_) if stopping.load(Ordering::SeqCst) => break,
            Err(err) => {
                // An accept error (out of descriptors): say so, breathe, go on.
                let _ = writeln!(std::io::stderr(), "procscope: accept: {err}");
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        if scraper.in_flight.fetch_add(1, Ordering::SeqCst) >= MAX_IN_FLIGHT {
            scraper.in_flight.fetch_sub(1, Ordering::SeqCst);
            let _ = request.respond(respond("busy\n".into(), "text/plain", 503));
            continue;
        }
        let scraper = Arc::clone(&scraper);
        std::thread::spawn(move || {
            scraper.answer(request);
            scraper.in_flight.fetch_sub(1, Ordering::SeqCst);
        });
    }
    // Let answers in progress finish (bounded: a stuck client does not hold the exit).
    let deadline = Instant::now() + Duration::from_secs(5);
    while scraper.in_flight.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(Exit::Success)
}
