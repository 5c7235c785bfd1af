//! The benchmark's figures, summarised over runs as median, min and max.

use serde_json::{Map, Value, json};

/// What one run measured. `None` means "not measured in this scenario".
#[derive(Debug, Default, Clone)]
pub(crate) struct Figures {
    pub(crate) accepted: u64,
    pub(crate) errors: u64,
    pub(crate) ingest_events_per_s: Option<f64>,
    pub(crate) delivered: Option<u64>,
    pub(crate) delivered_per_s: Option<f64>,
    pub(crate) latency_ms: Option<[f64; 4]>,
    pub(crate) pending: Option<u64>,
    pub(crate) rss_while_pending_mb: Option<f64>,
    pub(crate) drain_per_s: Option<f64>,
    pub(crate) server_peak_rss_mb: Option<f64>,
    pub(crate) server_cpu_s: Option<f64>,
}

impl Figures {
    /// Records p50, p90, p99 and max from raw nanosecond latencies.
    pub(crate) fn set_latencies(&mut self, mut ns: Vec<u64>) {
        if ns.is_empty() {
            return;
        }
        ns.sort_unstable();
        let at = |q: f64| {
            let i = ((ns.len() as f64 * q).ceil() as usize).clamp(1, ns.len()) - 1;
            ns[i] as f64 / 1e6
        };
        self.latency_ms = Some([at(0.50), at(0.90), at(0.99), ns[ns.len() - 1] as f64 / 1e6]);
    }

    /// The named figures of this run, in report order.
    fn named(&self) -> Vec<(&'static str, Option<f64>)> {
        let lat = |i: usize| self.latency_ms.map(|l| l[i]);
        let events_per_cpu_s = match (self.delivered, self.server_cpu_s) {
            (Some(d), Some(cpu)) if cpu > 0.0 => Some(d as f64 / cpu),
            _ => None,
        };
        vec![
            ("ingest_events_per_s", self.ingest_events_per_s),
            ("delivered_per_s", self.delivered_per_s),
            ("e2e_latency_p50_ms", lat(0)),
            ("e2e_latency_p90_ms", lat(1)),
            ("e2e_latency_p99_ms", lat(2)),
            ("e2e_latency_max_ms", lat(3)),
            ("drain_per_s", self.drain_per_s),
            ("rss_while_pending_mb", self.rss_while_pending_mb),
            ("server_peak_rss_mb", self.server_peak_rss_mb),
            ("server_cpu_s", self.server_cpu_s),
            ("deliveries_per_server_cpu_s", events_per_cpu_s),
            ("accepted", Some(self.accepted as f64)),
            ("errors", Some(self.errors as f64)),
            ("delivered", self.delivered.map(|d| d as f64)),
            ("pending", self.pending.map(|p| p as f64)),
        ]
    }
}

/// What the figures were measured on.
pub(crate) struct Testbed {
    pub(crate) cores: usize,
    pub(crate) nodes: usize,
    /// `sqlite` or `postgresql`.
    pub(crate) backend: &'static str,
}

pub(crate) struct Summary {
    runs: Vec<Figures>,
}

struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

impl Summary {
    pub(crate) fn new(runs: Vec<Figures>) -> Summary {
        Summary { runs }
    }

    /// Each figure measured in every run, with its spread.
    fn spreads(&self) -> Vec<(&'static str, Spread)> {
        let names: Vec<&'static str> = self.runs[0].named().into_iter().map(|(n, _)| n).collect();
        names
            .into_iter()
            .enumerate()
            .filter_map(|(i, name)| {
                let mut values: Vec<f64> = self
                    .runs
                    .iter()
                    .map(|r| r.named()[i].1)
                    .collect::<Option<Vec<f64>>>()?;
                values.sort_by(f64::total_cmp);
                let n = values.len();
                let median = if n % 2 == 1 {
                    values[n / 2]
                } else {
                    (values[n / 2 - 1] + values[n / 2]) / 2.0
                };
                Some((
                    name,
                    Spread {
                        median,
                        min: values[0],
                        max: values[n - 1],
                    },
                ))
            })
            .collect()
    }

    pub(crate) fn to_json(&self, settings: Value, testbed: &Testbed) -> Value {
        let spreads = self.spreads();
        let pick = |f: fn(&Spread) -> f64| -> Map<String, Value> {
            spreads
                .iter()
                .map(|(n, s)| (n.to_string(), json!(round(f(s)))))
                .collect()
        };
        let median = pick(|s| s.median);
        let get = |name: &str| median.get(name).cloned().unwrap_or(Value::Null);
        let latency = if median.contains_key("e2e_latency_p50_ms") {
            json!({
                "p50": get("e2e_latency_p50_ms"),
                "p90": get("e2e_latency_p90_ms"),
                "p99": get("e2e_latency_p99_ms"),
                "max": get("e2e_latency_max_ms"),
            })
        } else {
            Value::Null
        };
        let runs: Vec<Value> = self
            .runs
            .iter()
            .map(|r| {
                r.named()
                    .into_iter()
                    .filter_map(|(n, v)| v.map(|v| (n.to_string(), json!(round(v)))))
                    .collect::<Map<String, Value>>()
                    .into()
            })
            .collect();
        json!({
            "ingest_events_per_s": get("ingest_events_per_s"),
            "delivered_per_s": get("delivered_per_s"),
            "e2e_latency_ms": latency,
            "drain_per_s": get("drain_per_s"),
            "rss_while_pending_mb": get("rss_while_pending_mb"),
            "server_peak_rss_mb": get("server_peak_rss_mb"),
            "cores": testbed.cores,
            "nodes": testbed.nodes,
            "backend": testbed.backend,
            "settings": settings,
            "median": median,
            "min": pick(|s| s.min),
            "max": pick(|s| s.max),
            "runs": runs,
        })
    }

    pub(crate) fn to_table(&self, settings: &Value, testbed: &Testbed) -> String {
        let nodes = match testbed.nodes {
            1 => "1 node".to_string(),
            n => format!("{n} nodes"),
        };
        let mut out = format!(
            "herald bench on {} cores, {nodes} on {}\nsettings: {settings}\n\n",
            testbed.cores, testbed.backend
        );
        out.push_str(&format!(
            "{:<30} {:>14} {:>14} {:>14}\n",
            "figure", "median", "min", "max"
        ));
        for (name, s) in self.spreads() {
            out.push_str(&format!(
                "{name:<30} {:>14} {:>14} {:>14}\n",
                fmt(s.median),
                fmt(s.min),
                fmt(s.max)
            ));
        }
        out
    }
}

fn round(v: f64) -> f64 {
    if v.abs() >= 100.0 {
        v.round()
    } else {
        (v * 1000.0).round() / 1000.0
    }
}

fn fmt(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}
