//! Section 5 of the report (issue 16): the processor per message with the idempotency store
//! off and on, its DynamoDB requests counted, and what each costs per million messages.

use std::fmt::Write as _;

use hookline_bench::processor::ACTIONS;
use serde_json::{Value, json};

use super::cost::money;
use super::{Report, cell, fmt};
use crate::repo::bench::cost as model;

/// The passes of section 5, as the report names them.
const PASSES: [(&str, &str); 3] = [
    ("off", "idempotency off (`idempotency = false`)"),
    ("on", "idempotency on (default), new deliveries"),
    ("duplicate", "idempotency on, redelivered duplicates"),
];

impl Report<'_> {
    /// Dollars per million messages of a pass: the processor's requests, duration, logs and
    /// DynamoDB units.
    fn processor_dollars(&self, pass: &str) -> Option<f64> {
        Some(self.stage("ingest_sqs", pass)?.processor_per_million())
    }

    /// DynamoDB requests per message of a pass, by action.
    fn dynamodb_requests(&self, pass: &str) -> Vec<(&'static str, f64)> {
        ACTIONS
            .iter()
            .filter_map(|a| {
                let per = self.median(&format!("processor.{pass}.dynamodb.{a}"))?;
                Some((*a, per))
            })
            .collect()
    }

    /// Section 5 for `results.json`.
    pub(super) fn processor_json(&self) -> Value {
        let passes: serde_json::Map<String, Value> = PASSES
            .iter()
            .map(|(pass, label)| {
                let stage = self.stage("ingest_sqs", pass);
                (
                    (*pass).to_owned(),
                    json!({
                        "label": label,
                        "dynamodb_requests_per_message": self.dynamodb_requests(pass)
                            .into_iter().map(|(a, n)| (a.to_owned(), json!(n)))
                            .collect::<serde_json::Map<_, _>>(),
                        "write_units_per_message": stage.map(|s| s.write_units),
                        "read_units_per_message": stage.map(|s| s.read_units),
                        "dollars_per_million_messages": self.processor_dollars(pass),
                    }),
                )
            })
            .collect();
        Value::Object(passes)
    }

    /// Section 5.
    pub(super) fn processor_markdown(&self, md: &mut String) {
        let Some(p) = self.manifest.providers.first() else {
            return;
        };
        let _ = writeln!(
            md,
            "## 5. Processor per message, with and without idempotency (issue 16)\n\n\
             The release `noop-process` (hookline's processor, a handler that does nothing) in \
             the Runtime API emulator, invoked directly with SQS events of {} messages (the \
             default batch size) made of the messages hookline's ingest writes for the 4 KB \
             Stripe delivery, each a new Stripe event; {} batches per pass on one warm instance. \
             The binary rather than the library in-process: it is what users deploy (the store \
             made from the environment the stack gives, aws-sdk-dynamodb's client, the batch's \
             metrics line) and its CPU is its own process's. Idempotency off is a provider with \
             `idempotency = false` (no table in its environment); the duplicates are the same \
             deliveries again in new messages, as a provider's retry or a redrive brings them. \
             DynamoDB is the local endpoint's protocol and store behind a front that counts each \
             request. CPU is the instance's utime + stime per message; wall is invoke → answer \
             per batch. The $ column is the processor's part of the bill per million messages \
             (its Lambda requests and duration at {} MB, billed per batch at the batch p50, its \
             log lines, and DynamoDB's units) with the prices of section 6.\n",
            p.queue.batch_size, self.settings.batches, p.processor.memory_mb
        );
        let _ = writeln!(
            md,
            "| processor | CPU µs/message | wall ms/message | batch p50 ms | batch p99 ms | DynamoDB requests/message | write units/message | read units/message | $ per million messages |\n\
             |---|---|---|---|---|---|---|---|---|"
        );
        for (pass, label) in PASSES {
            let k = |w: &str| self.get(&format!("processor.{pass}.{w}"));
            let requests: Vec<String> = self
                .dynamodb_requests(pass)
                .into_iter()
                .filter(|(_, n)| *n > 0.0)
                .map(|(a, n)| format!("{} {a}", fmt(n)))
                .collect();
            let stage = self.stage("ingest_sqs", pass);
            let _ = writeln!(
                md,
                "| {label} | {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(k("cpu_us_per_message")),
                cell(k("wall_ms_per_message")),
                cell(k("batch_p50_ms")),
                cell(k("batch_p99_ms")),
                if requests.is_empty() {
                    "none".to_owned()
                } else {
                    requests.join(", ")
                },
                stage.map_or("—".into(), |s| fmt(s.write_units)),
                stage.map_or("—".into(), |s| fmt(s.read_units)),
                self.processor_dollars(pass).map_or("—".into(), money),
            );
        }
        let extra = self
            .processor_dollars("on")
            .zip(self.processor_dollars("off"))
            .map_or("—".into(), |(on, off)| money(on - off));
        let per_ms = model::per_extra_ms(p.processor.memory_mb, self.manifest.project.architecture)
            / f64::from(p.queue.batch_size.max(1));
        let _ = writeln!(
            md,
            "\nIdempotency adds **{extra} per million messages**, nearly all of it DynamoDB's \
             write units (a record of {} bytes: one unit per write). The durations are \
             loopback figures: each DynamoDB call here is a local HTTP exchange and a durable \
             SQLite commit, where on AWS it is a network round trip of a few ms, run {} at a \
             time within a batch (the processor's concurrency). Each further billed ms per batch \
             costs {per_ms_text} per million messages at {} MB. Peak RSS of the instance: {} MB \
             off, {} MB on.\n",
            self.median("processor.record_bytes")
                .map_or("—".into(), |b| format!("{b:.0}")),
            p.processor.concurrency,
            p.processor.memory_mb,
            cell(self.get("processor.off.rss_mb")),
            cell(self.get("processor.on.rss_mb")),
            per_ms_text = money(per_ms),
        );
    }
}
