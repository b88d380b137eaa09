//! Which metrics text exposition is asked for (OpenMetrics or the classic Prometheus text),
//! and its Content-Type: a plain value shared by the request and the exporter, which does the
//! encoding (`render::openmetrics`).

/// The two text expositions: OpenMetrics 1.0 (what Prometheus asks for first) and the
/// classic Prometheus 0.0.4 text (what node_exporter's textfile collector parses: there a
/// counter's TYPE line names its `_total` sample, so counters keep their type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Exposition {
    #[default]
    #[value(name = "openmetrics")]
    OpenMetrics,
    Prometheus,
}

impl Exposition {
    /// The Content-Type of the exposition.
    pub fn content_type(self) -> &'static str {
        match self {
            Exposition::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Exposition::Prometheus => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
        }
    }

    /// OpenMetrics when an HTTP Accept header asks for it, else the classic text.
    pub fn negotiate(accept: Option<&str>) -> Self {
        match accept {
            Some(accept) if accept.contains("application/openmetrics-text") => {
                Exposition::OpenMetrics
            }
            _ => Exposition::Prometheus,
        }
    }
}
