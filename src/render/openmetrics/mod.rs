//! The OpenMetrics text exposition of an [`ExportPayload`], encoded by `prometheus-client`
//! (names, `_total` and unit suffixes, label escaping, `# EOF`). Rendering only.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};

use crate::model::export::ExportPayload;

mod series;
use crate::model::exposition::Exposition;
use series::families;

/// A sample's labels, in order.
type Labels = Vec<(&'static str, String)>;

/// One metric family with its samples.
#[derive(Debug)]
pub(super) struct Family {
    name: &'static str,
    help: &'static str,
    unit: Option<Unit>,
    kind: MetricType,
    samples: Vec<(Labels, f64)>,
}

impl Family {
    fn new(name: &'static str, help: &'static str, kind: MetricType, unit: Option<Unit>) -> Self {
        Self {
            name,
            help,
            unit,
            kind,
            samples: Vec::new(),
        }
    }
}

/// The families of one payload, encoded on demand by the registry.
#[derive(Debug)]
struct Families(Vec<Family>);

impl Collector for Families {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for family in &self.0 {
            let mut metric = encoder.encode_descriptor(
                family.name,
                family.help,
                family.unit.as_ref(),
                family.kind,
            )?;
            for (labels, value) in &family.samples {
                let sample = metric.encode_family(labels)?;
                let whole = value.fract() == 0.0 && value.abs() < 9.0e15;
                match family.kind {
                    MetricType::Counter if whole => {
                        ConstCounter::new(*value as u64).encode(sample)?
                    }
                    MetricType::Counter => ConstCounter::new(*value).encode(sample)?,
                    _ if whole => ConstGauge::new(*value as i64).encode(sample)?,
                    _ => ConstGauge::new(*value).encode(sample)?,
                }
            }
        }
        Ok(())
    }
}

/// The exposition text (OpenMetrics ends in `# EOF`).
pub fn render(payload: &ExportPayload, exposition: Exposition) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Families(families(payload))));
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = match exposition {
        Exposition::OpenMetrics => prometheus_client::encoding::text::encode(&mut text, &registry),
        Exposition::Prometheus => {
            prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
        }
    };
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::export::{GroupStats, ListeningPort, ProcessStats, RoleStats};

    fn payload() -> ExportPayload {
        let mut payload = ExportPayload::default();
        let mut group = GroupStats {
            num_procs: 2,
            cpu_user_seconds: 1.5,
            resident_bytes: 4096,
            ..GroupStats::default()
        };
        group.ports.insert(ListeningPort {
            protocol: "tcp",
            address: "127.0.0.1".into(),
            port: 8080,
        });
        group.roles.insert(
            ("node".into(), "libuv-pool".into()),
            RoleStats {
                threads: 4,
                busy: 1,
                cpu_seconds: 0.5,
            },
        );
        payload.groups.insert("web".into(), group);
        payload.groups.insert(
            "evil\"\\\nname} x=\"1".into(),
            GroupStats {
                num_procs: 1,
                ..GroupStats::default()
            },
        );
        payload.processes.push(ProcessStats {
            pid: 42,
            group: "web".into(),
            start_time_unix: 1_700_000_000.0,
            cpu_user_seconds: 1.0,
            cpu_system_seconds: 0.25,
            resident_bytes: 4096,
            proportional_bytes: None,
            threads: 3,
            open_fds: Some(7),
        });
        payload
    }

    #[test]
    fn names_units_and_totals_follow_prometheus_conventions() {
        let text = render(&payload(), Exposition::OpenMetrics);
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(
            text.contains("# TYPE procscope_group_cpu_seconds counter\n"),
            "{text}"
        );
        assert!(
            text.contains("procscope_group_cpu_seconds_total{group=\"web\",mode=\"user\"} 1.5\n"),
            "{text}"
        );
        assert!(
            text.contains("procscope_group_num_procs{group=\"web\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("procscope_group_memory_resident_bytes{group=\"web\"} 4096\n"),
            "{text}"
        );
        assert!(text.contains(
            "procscope_group_listening_port_info{group=\"web\",protocol=\"tcp\",address=\"127.0.0.1\",port=\"8080\"} 1\n"
        ), "{text}");
        assert!(text.contains(
            "procscope_group_runtime_busy_threads{group=\"web\",runtime=\"node\",role=\"libuv-pool\"} 1\n"
        ), "{text}");
        assert!(
            text.contains(
                "procscope_process_open_fds{group=\"web\",pid=\"42\",start_time=\"1700000000\"} 7\n"
            ),
            "{text}"
        );
        // No PSS family without --pss.
        assert!(!text.contains("proportional"), "{text}");
    }

    #[test]
    fn hostile_group_names_are_escaped() {
        let text = render(&payload(), Exposition::OpenMetrics);
        assert!(
            text.contains("procscope_group_num_procs{group=\"evil\\\"\\\\\\nname} x=\\\"1\"} 1\n"),
            "{text}"
        );
        // Every sample line stays one line: the newline in the name is escaped.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.starts_with("procscope_"), "a broken line: {line:?}");
        }
    }

    #[test]
    fn classic_text_names_the_counter_sample_and_has_no_eof() {
        let text = render(&payload(), Exposition::Prometheus);
        assert!(
            text.contains("# TYPE procscope_group_cpu_seconds_total counter\n"),
            "{text}"
        );
        assert!(!text.contains("# EOF"), "{text}");
        assert_eq!(
            Exposition::negotiate(Some(
                "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"
            )),
            Exposition::OpenMetrics
        );
        assert_eq!(
            Exposition::negotiate(Some("text/plain")),
            Exposition::Prometheus
        );
        assert_eq!(Exposition::negotiate(None), Exposition::Prometheus);
    }

    #[test]
    fn pss_family_only_with_pss() {
        let mut with_pss = payload();
        with_pss.pss = true;
        let text = render(&with_pss, Exposition::OpenMetrics);
        assert!(
            text.contains("procscope_group_memory_proportional_bytes{group=\"web\"} 0\n"),
            "{text}"
        );
    }
}
