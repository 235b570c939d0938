//! The performance goals of issue 6, each with its figure from the run and whether it was met.

use super::{Report, fmt};

/// One performance goal: its figure and whether it was met.
pub(super) struct Goal {
    pub name: &'static str,
    pub goal: String,
    pub figure: String,
    pub met: Option<bool>,
}

impl Report<'_> {
    /// Every goal, in the report's order.
    pub(super) fn targets(&self) -> Vec<Goal> {
        let mut t = Vec::new();
        let cold = self.median("ingest.ingest_sqs.cold_start_ms");
        t.push(Goal {
            name: "ingest cold start (spawn → first `next`)",
            goal: "≤ 15 ms".into(),
            figure: cold.map_or("—".into(), |v| format!("{} ms", fmt(v))),
            met: cold.map(|v| v <= 15.0),
        });
        let ratio = self.median("ingest.ingest_sqs.cpu_us_ratio");
        t.push(Goal {
            name: "ingest CPU per invocation vs no-op floor, queue call included",
            goal: "≤ 2×".into(),
            figure: ratio.map_or("—".into(), |v| {
                format!(
                    "{}× ({} µs vs {} µs)",
                    fmt(v),
                    self.median("ingest.ingest_sqs.cpu_us")
                        .map_or("—".into(), fmt),
                    self.median("ingest.noop.cpu_us").map_or("—".into(), fmt)
                )
            }),
            met: ratio.map(|v| v <= 2.0),
        });
        let best = [
            self.median("stack.closed.ok_per_sec"),
            self.settings
                .rates
                .iter()
                .filter_map(|r| self.median(&format!("stack.open_{r}.ok_per_sec")))
                .reduce(f64::max),
        ]
        .into_iter()
        .flatten()
        .reduce(f64::max);
        t.push(Goal {
            name: "local stack acknowledged webhooks/s",
            goal: "≥ 10 000/s".into(),
            figure: best.map_or("—".into(), |v| format!("{}/s", fmt(v))),
            met: best.map(|v| v >= 10_000.0),
        });
        let vs = self.median("stack.closed_vs_bare_axum");
        t.push(Goal {
            name: "local stack vs bare axum (same run, closed loop)",
            goal: "≥ 25 %".into(),
            figure: vs.map_or("—".into(), |v| format!("{:.1} %", v * 100.0)),
            met: vs.map(|v| v >= 0.25),
        });
        let p99 = self.median("stack.open_2000.p99_ms");
        let kept_up = self
            .median("stack.open_2000.ok_per_sec")
            .is_some_and(|r| r >= 2000.0 * 0.95);
        t.push(Goal {
            name: "p99 ack latency at 2 000/s (open loop)",
            goal: "≤ 10 ms".into(),
            figure: p99.map_or("—".into(), |v| {
                format!(
                    "{} ms at {}/s achieved",
                    fmt(v),
                    self.median("stack.open_2000.ok_per_sec")
                        .map_or("—".into(), fmt)
                )
            }),
            met: p99.map(|v| v <= 10.0 && kept_up),
        });
        let lost = self.metrics.values.get("stack.lost");
        let acked: f64 = self
            .metrics
            .values
            .get("stack.acked")
            .map_or(0.0, |v| v.iter().sum());
        let lost_total: f64 = lost.map_or(0.0, |v| v.iter().sum());
        t.push(Goal {
            name: "every acknowledged webhook durable (queue depth = 200s)",
            goal: "0 lost".into(),
            figure: format!("{} lost of {} acknowledged", fmt(lost_total), fmt(acked)),
            met: lost.map(|_| lost_total == 0.0),
        });
        let ingest_zip = self.zips.iter().find(|z| z.binary.ends_with("-ingest"));
        t.push(Goal {
            name: "ingest zip",
            goal: "≤ 3 MB".into(),
            figure: ingest_zip.map_or("—".into(), |z| {
                format!("{:.2} MB", z.bytes as f64 / 1_000_000.0)
            }),
            met: ingest_zip.map(|z| z.bytes <= 3_000_000),
        });
        t
    }
}
