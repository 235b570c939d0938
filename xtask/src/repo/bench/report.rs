//! The report: medians with min–max over the runs, ratios to the floors, each target of
//! issue 6 as met or not; `benchmarks/results.json` and `BENCHMARKS.md`. Sections 5 (the
//! processor with and without idempotency), 6 (the cost model) and 7 (a 3 MB delivery) are in
//! their own modules.

mod cost;
mod large;
mod processor;
mod targets;
mod zip_size;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use hookline_bench::{Metrics, Settings};

use targets::Goal;
pub(crate) use zip_size::{ZipSize, zip_sizes};

/// Median, min and max of a metric over the runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

pub(crate) fn summary(values: &[f64]) -> Option<Summary> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    Some(Summary {
        median,
        min: sorted[0],
        max: sorted[n - 1],
    })
}

pub(crate) struct Report<'a> {
    pub settings: &'a Settings,
    /// The benchmark provider's batch size (the processor phase's batches).
    pub batch_size: u32,
    /// The smallest and the largest Stripe fixture, in bytes (the stack sends them all; the
    /// ingest section, the largest).
    pub payload_bytes: (usize, usize),
    pub metrics: &'a Metrics,
    /// The benchmark's manifest (every default): what the cost model prices.
    pub manifest: &'a hookline_manifest::Manifest,
    pub zips: Vec<ZipSize>,
    pub command: String,
    pub load_before: String,
    pub load_after: String,
    pub wall: Duration,
}

fn fmt(v: f64) -> String {
    let a = v.abs();
    if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// Bytes in KB (1000), as the report shows sizes.
fn kb(bytes: usize) -> f64 {
    bytes as f64 / 1000.0
}

fn cell(s: Option<Summary>) -> String {
    match s {
        None => "—".into(),
        Some(s) if (s.max - s.min).abs() < f64::EPSILON => fmt(s.median),
        Some(s) => format!("{} ({}–{})", fmt(s.median), fmt(s.min), fmt(s.max)),
    }
}

impl Report<'_> {
    fn get(&self, key: &str) -> Option<Summary> {
        self.metrics.values.get(key).and_then(|v| summary(v))
    }

    fn median(&self, key: &str) -> Option<f64> {
        self.get(key).map(|s| s.median)
    }

    /// Writes `<out>/benchmarks/results.json` and `<out>/BENCHMARKS.md`.
    pub fn write(&self, out: &Path, root: &Path) -> Result<(PathBuf, PathBuf)> {
        let json_path = out.join("benchmarks").join("results.json");
        let md_path = out.join("BENCHMARKS.md");
        std::fs::create_dir_all(json_path.parent().context("no parent")?)?;
        let machine = machine();
        let targets = self.targets();
        let metrics: serde_json::Map<String, Value> = self
            .metrics
            .values
            .iter()
            .map(|(k, v)| {
                let s = summary(v);
                (
                    k.clone(),
                    json!({
                        "runs": v,
                        "median": s.map(|s| s.median),
                        "min": s.map(|s| s.min),
                        "max": s.map(|s| s.max),
                    }),
                )
            })
            .collect();
        let date = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let json = json!({
            "date": date,
            "command": self.command,
            "quick": self.settings.quick,
            "runs": self.settings.runs,
            "machine": machine,
            "loadavg_before": self.load_before,
            "loadavg_after": self.load_after,
            "wall_secs": self.wall.as_secs_f64(),
            "settings": {
                "cold_starts_per_run": self.settings.cold_starts,
                "invocations_per_run": self.settings.invocations,
                "open_loop_rates": self.settings.rates,
                "phase_secs": self.settings.phase.as_secs_f64(),
                "sqs_phase_secs": self.settings.sqs_phase.as_secs_f64(),
                "connections": self.settings.connections,
            },
            "metrics": metrics,
            "zips": self.zips.iter().map(|z| json!({"binary": z.binary, "bytes": z.bytes, "source": z.source})).collect::<Vec<_>>(),
            "processor": self.processor_json(),
            "cost": self.cost_json(),
            "large": self.large_json(),
            "targets": targets.iter().map(|t| json!({"target": t.name, "goal": t.goal, "figure": t.figure, "met": t.met})).collect::<Vec<_>>(),
        });
        std::fs::write(&json_path, serde_json::to_string_pretty(&json)? + "\n")?;
        let notes = std::fs::read_to_string(root.join("benchmarks").join("notes.md")).ok();
        let md = self.markdown(&machine, &targets, &date, notes.as_deref());
        std::fs::write(&md_path, md)?;
        Ok((json_path, md_path))
    }

    fn markdown(
        &self,
        machine: &Value,
        targets: &[Goal],
        date: &str,
        notes: Option<&str>,
    ) -> String {
        let mut md = String::new();
        let s = self.settings;
        let _ = writeln!(md, "# Benchmarks\n");
        let _ = writeln!(
            md,
            "Generated by `{}` on {date} ({} run{}, {:.0} s). Figures are medians over the runs, \
             with min–max in parentheses; ratios are taken within each run, then the median. \
             The raw figures of every run are in `benchmarks/results.json`.\n",
            self.command,
            s.runs,
            if s.runs == 1 { "" } else { "s" },
            self.wall.as_secs_f64()
        );
        let _ = writeln!(
            md,
            "**Machine:** {} × {}, {} memory, {}. Load average before: `{}`, after: `{}` \
             (the machine is shared; absolute times are noisy, ratios less so).\n",
            machine["nproc"],
            machine["cpu"].as_str().unwrap_or("?"),
            machine["memory"].as_str().unwrap_or("?"),
            machine["kernel"].as_str().unwrap_or("?"),
            self.load_before,
            self.load_after
        );
        let _ = writeln!(md, "## Targets (issue 6)\n");
        let _ = writeln!(md, "| target | goal | measured | met |\n|---|---|---|---|");
        for t in targets {
            let met = match t.met {
                Some(true) => "**met**",
                Some(false) => "**missed**",
                None => "not measured",
            };
            let _ = writeln!(md, "| {} | {} | {} | {met} |", t.name, t.goal, t.figure);
        }
        let _ = writeln!(md);

        let _ = writeln!(
            md,
            "## 1. Ingest in the Runtime API emulator\n\n\
             One release binary behind `hookline_local::lambda::Function`, invoked directly with \
             the payload-2.0 event of a signed {:.1} KB Stripe delivery (the largest fixture). Cold start: spawn → first \
             `/next` ({} per run, median). Warm: {} sequential invocations on one instance; CPU is \
             utime + stime of the instance process (all threads, `/proc/<pid>/stat`) divided by \
             the invocations; latency is `invoke()` → answer, Runtime API round trip included. \
             A Python baseline ingest is measured the same way (section 6).\n",
            kb(self.payload_bytes.1),
            s.cold_starts,
            s.invocations
        );
        let _ = writeln!(
            md,
            "| binary | cold start ms | first invoke ms | p50 ms | p99 ms | CPU µs/invocation | CPU × floor | p50 × floor |\n|---|---|---|---|---|---|---|---|"
        );
        for (variant, label) in [
            ("noop", "`noop-lambda` (floor: lambda_runtime, no work)"),
            (
                "ingest_canned",
                "`stripe-ingest` → canned SendMessage responder",
            ),
            (
                "ingest_sqs",
                "`stripe-ingest` → local SQS endpoint (durable)",
            ),
        ] {
            let k = |w: &str| self.get(&format!("ingest.{variant}.{w}"));
            let _ = writeln!(
                md,
                "| {label} | {} | {} | {} | {} | {} | {} | {} |",
                cell(k("cold_start_ms")),
                cell(k("first_invoke_ms")),
                cell(k("p50_ms")),
                cell(k("p99_ms")),
                cell(k("cpu_us")),
                cell(k("cpu_us_ratio")),
                cell(k("p50_ms_ratio")),
            );
        }
        let _ = writeln!(md);

        let _ = writeln!(
            md,
            "## 2. Local stack end to end\n\n\
             Gateway (payload 2.0) → `stripe-ingest` (release, at most {} instances as in \
             `cargo xtask dev`) → local SQS (SQLite WAL, `synchronous=FULL`, group commit), over \
             loopback HTTP/1.1 keep-alive, with the signed Stripe fixtures ({:.1}–{:.1} KB). Each \
             phase lasts {:.1} s. Open loop: request *i* is due at *i*/rate and its latency counts \
             from then ({} connections). Closed loop: {} connections, each sending as soon as \
             answered. The floor is `bare-axum` (reads the body, answers 200) with the same \
             requests and load generator, in the same run. Nothing consumes the queue during \
             these phases, so its depth afterwards must equal the number of `200`s.\n",
            hookline_bench::stack::MAX_INSTANCES,
            kb(self.payload_bytes.0),
            kb(self.payload_bytes.1),
            s.phase.as_secs_f64(),
            hookline_bench::stack::OPEN_LOOP_CONNECTIONS,
            s.connections
        );
        let _ = writeln!(
            md,
            "| load | acknowledged/s | p50 ms | p99 ms | p99.9 ms | failed | not sent (deadline) |\n|---|---|---|---|---|---|---|"
        );
        let mut rows = vec![(
            "stack.bare_axum".to_owned(),
            "bare axum, closed loop (floor)".to_owned(),
        )];
        for r in &s.rates {
            rows.push((format!("stack.open_{r}"), format!("stack, open loop {r}/s")));
        }
        rows.push(("stack.closed".into(), "stack, closed loop (max)".into()));
        for (key, label) in rows {
            let k = |w: &str| self.get(&format!("{key}.{w}"));
            let _ = writeln!(
                md,
                "| {label} | {} | {} | {} | {} | {} | {} |",
                cell(k("ok_per_sec")),
                cell(k("p50_ms")),
                cell(k("p99_ms")),
                cell(k("p999_ms")),
                cell(k("failed")),
                cell(k("not_sent")),
            );
        }
        let _ = writeln!(
            md,
            "\nStack closed loop / bare axum: **{}**. Acknowledged per run: {}; queued afterwards: \
             {}; lost: {}.\n\nProcessed/s through the event source mapping and `noop-process` \
             (hookline's processor, handler does nothing; batches of {}, {} instances, cold \
             starts included; drained for at most {:.0} s): **{}**.\n",
            self.get("stack.closed_vs_bare_axum")
                .map_or("—".into(), |v| format!(
                    "{:.1} % ({:.1}–{:.1} %)",
                    v.median * 100.0,
                    v.min * 100.0,
                    v.max * 100.0
                )),
            cell(self.get("stack.acked")),
            cell(self.get("stack.queued")),
            cell(self.get("stack.lost")),
            self.batch_size,
            hookline_bench::stack::MAX_INSTANCES,
            s.drain.as_secs_f64(),
            cell(self.get("stack.processed_per_sec")),
        );

        let _ = writeln!(
            md,
            "## 3. Local SQS endpoint\n\nHTTP JSON protocol, 2 KB messages, closed loop with 32 \
             connections for {:.1} s per phase; every send is answered after its commit reached \
             the disk. Receive + delete: 8 consumers, ReceiveMessage (10) then DeleteMessageBatch, \
             until the queue is empty or the phase ends.\n",
            s.sqs_phase.as_secs_f64()
        );
        let _ = writeln!(
            md,
            "| operation | messages/s | p50 ms | p99 ms |\n|---|---|---|---|"
        );
        let _ = writeln!(
            md,
            "| SendMessage | {} | {} | {} |",
            cell(self.get("sqs.send.per_sec")),
            cell(self.get("sqs.send.p50_ms")),
            cell(self.get("sqs.send.p99_ms"))
        );
        let _ = writeln!(
            md,
            "| SendMessageBatch (10) | {} | {} | {} |",
            cell(self.get("sqs.send_batch.messages_per_sec")),
            cell(self.get("sqs.send_batch.p50_ms")),
            cell(self.get("sqs.send_batch.p99_ms"))
        );
        let _ = writeln!(
            md,
            "| ReceiveMessage (10) + DeleteMessageBatch | {} | — | — |\n",
            cell(self.get("sqs.receive_delete.messages_per_sec"))
        );

        let _ = writeln!(
            md,
            "## 4. Release zip size\n\n| function | zip | source |\n|---|---|---|"
        );
        for z in &self.zips {
            let _ = writeln!(
                md,
                "| `{}` | {:.2} MB ({} bytes) | {} |",
                z.binary,
                z.bytes as f64 / 1_000_000.0,
                z.bytes,
                z.source
            );
        }
        let _ = writeln!(md);
        self.processor_markdown(&mut md);
        self.cost_markdown(&mut md);
        self.large_markdown(&mut md);
        let _ = writeln!(
            md,
            "## How to run\n\n```sh\ncargo xtask bench            # {} runs, writes BENCHMARKS.md and benchmarks/results.json\n\
             cargo xtask bench --quick    # 2 short runs, writes target/bench/quick/ (the test suite runs it)\n\
             cargo xtask bench --runs 5 --out /tmp/b   # more runs, elsewhere\n```\n\n\
             It builds `stripe-webhooks` and `hookline-bench` in release first, and installs the \
             Python baseline's runtime (awslambdaric, boto3) into `.tools/venv`. The load \
             generator is in `crates/hookline-bench/src/load.rs`: loopback only, bounded by a request \
             count, a deadline and a per-request timeout.\n",
            3
        );
        if let Some(notes) = notes {
            let _ = writeln!(md, "{}", notes.trim_end());
        }
        md
    }
}

fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or("?".into(), |kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0));
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| format!("Linux {}", s.trim()))
        .unwrap_or_default();
    json!({ "nproc": nproc, "cpu": cpu, "memory": memory, "kernel": kernel })
}
