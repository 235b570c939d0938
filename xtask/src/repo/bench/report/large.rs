//! Section 7 of the report (issue 17): ingesting a 3 MB delivery through the body bucket, its
//! latency, CPU and memory beside the floor and the 4 KB delivery of section 1, and what a
//! million of them cost.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::cost::{money, quantity};
use super::{Report, cell, fmt};
use crate::repo::bench::cost::{self as model, Function, Ingested, http_api_requests};
use crate::repo::bench::pricing;

/// How long the cost model keeps a body in the bucket: a processor that keeps up deletes it
/// within seconds of its receipt; an hour covers a backlog.
const HOURS_KEPT: f64 = 1.0;

impl Report<'_> {
    /// A delivery as section 1 (`prefix` "ingest", variant "ingest_sqs", the 4 KB one) or
    /// section 7 (`prefix` "large", variant "ingest") measured it.
    fn ingested(&self, prefix: &str, variant: &str, in_bucket: bool) -> Option<Ingested> {
        let p = self.manifest.providers.first()?;
        let m = |key: String| self.median(&key);
        let (request, message, body) = if in_bucket {
            (
                m("large.request_bytes".into())?,
                m("large.message_bytes".into())?,
                m("large.body_bytes".into())?,
            )
        } else {
            let message = m("webhook.message_bytes".into())?;
            (m("webhook.request_bytes".into())?, message, message)
        };
        Some(Ingested {
            architecture: self.manifest.project.architecture,
            queue: p.queue.kind,
            request_bytes: request as u64,
            body_bytes: body as u64,
            in_bucket,
            message_bytes: message as u64,
            ingest: Function {
                memory_mb: p.ingest.memory_mb,
                duration_ms: m(format!("{prefix}.{variant}.p50_ms"))?,
                log_lines: m(format!("{prefix}.{variant}.log_lines"))?,
                log_bytes: m(format!("{prefix}.{variant}.log_bytes"))?,
            },
        })
    }

    /// The bills for `results.json`.
    pub(super) fn large_json(&self) -> Value {
        let Some(large) = self.ingested("large", "ingest", true) else {
            return Value::Null;
        };
        let bill = large.ingest_per_million();
        let after = large.bucket_after_ingest(HOURS_KEPT);
        let lines = |lines: &[model::Line]| {
            lines
                .iter()
                .map(|l| json!({"item": l.item, "quantity": l.quantity, "unit": l.price.unit, "dollars": l.dollars}))
                .collect::<Vec<_>>()
        };
        json!({
            "body_bytes": large.body_bytes,
            "ingest_per_million": { "total": model::total(&bill), "lines": lines(&bill) },
            "processor_side_per_million": {
                "hours_kept": HOURS_KEPT,
                "total": model::total(&after),
                "lines": lines(&after),
            },
        })
    }

    /// Section 7.
    pub(super) fn large_markdown(&self, md: &mut String) {
        let _ = writeln!(
            md,
            "## 7. Ingest of a 3 MB delivery through the body bucket (issue 17)\n"
        );
        let (Some(p), Some(large)) = (
            self.manifest.providers.first(),
            self.ingested("large", "ingest", true),
        ) else {
            let _ = writeln!(md, "Not measured in this run.\n");
            return;
        };
        let _ = writeln!(
            md,
            "A signed Stripe event of {} bytes (the fixtures repeated in a list), three times \
             what an SQS message holds: `stripe-ingest` puts the body in the body bucket (the \
             local S3 endpoint, which answers after the object reached the disk), then queues a \
             {}-byte pointer to it (the local SQS endpoint, durable). Section 1's harness: one \
             release instance in the Runtime API emulator, {} sequential invocations after a \
             warm-up, each event signed anew; the floor is `noop-lambda` given the same event \
             (the Runtime API carrying 3 MB). Every `200` was checked to be a pointer in the \
             queue.\n",
            large.body_bytes, large.message_bytes, self.settings.large_invocations,
        );
        let _ = writeln!(
            md,
            "| delivery | p50 ms | p99 ms | CPU µs/invocation | CPU-bound ms at {mb} MB | peak RSS MB | log lines/invocation |\n|---|---|---|---|---|---|---|",
            mb = p.ingest.memory_mb
        );
        for (key, label) in [
            ("large.noop", "3 MB, `noop-lambda` (floor)"),
            (
                "large.ingest",
                "3 MB, `stripe-ingest` → body bucket + queue",
            ),
            (
                "ingest.ingest_sqs",
                "4 KB, `stripe-ingest` → queue (section 1)",
            ),
        ] {
            let k = |w: &str| self.get(&format!("{key}.{w}"));
            let _ = writeln!(
                md,
                "| {label} | {} | {} | {} | {} | {} | {} |",
                cell(k("p50_ms")),
                cell(k("p99_ms")),
                cell(k("cpu_us")),
                k("cpu_us").map_or("—".into(), |c| fmt(model::throttled_ms(
                    c.median,
                    p.ingest.memory_mb
                ))),
                cell(k("rss_mb")),
                cell(k("log_lines")),
            );
        }
        let rss = self.median("large.ingest.rss_mb").unwrap_or(0.0);
        let _ = writeln!(
            md,
            "\nPeak memory {} the ingest's {} MB{}.\n",
            if rss < f64::from(p.ingest.memory_mb) {
                "fits"
            } else {
                "**exceeds**"
            },
            p.ingest.memory_mb,
            if rss < f64::from(p.ingest.memory_mb) {
                ""
            } else {
                ": raise `[providers.ingest] memory_mb` for providers that send large bodies"
            },
        );
        let small = self.ingested("ingest", "ingest_sqs", false);
        let bill = large.ingest_per_million();
        let small_bill = small.map(|s| s.ingest_per_million());
        let _ = writeln!(
            md,
            "What ingesting a million of them costs, priced as in section 6 (the warm p50 billed \
             per 1 ms rounded up), beside the 4 KB delivery's same items:\n\n\
             | item | quantity per million (3 MB) | 3 MB $ | 4 KB $ |\n|---|---|---|---|"
        );
        for (i, l) in bill.iter().enumerate() {
            let small = small_bill
                .as_ref()
                .and_then(|b| b.get(i))
                .map_or("—".into(), |b| money(b.dollars));
            let _ = writeln!(
                md,
                "| {} | {} | {} | {small} |",
                l.item,
                quantity(l.quantity, l.price.unit),
                money(l.dollars)
            );
        }
        let _ = writeln!(
            md,
            "| **total** | | **{}** | **{}** |\n",
            money(model::total(&bill)),
            small_bill
                .as_ref()
                .map_or("—".into(), |b| money(model::total(b)))
        );
        let after = large.bucket_after_ingest(HOURS_KEPT);
        let cpu_bound = self
            .median("large.ingest.cpu_us")
            .map(|c| model::throttled_ms(c, p.ingest.memory_mb));
        let _ = writeln!(
            md,
            "The request is {} bytes: {} metered API Gateway requests (one per 512 KB), most \
             of the bill. The duration line is the emulator's wall time with this machine's \
             whole cores; at {} MB Lambda gives {}/{} of a vCPU, and the ingest's CPU alone \
             would take ~{} ms there ({} per million instead of {}). After ingest, the \
             processor adds a `GetObject` per delivery ({} per million; its `DeleteObject` is \
             free) and the fetch's time to its duration (not measured here), and the bucket \
             bills storage for as long as a body stays: {} per million for {} h (S3 Standard \
             has no minimum storage duration). A delivery that ends in the dead-letter queue \
             keeps its body until the bucket's lifecycle rule expires it.\n",
            fmt(large.request_bytes as f64),
            http_api_requests(large.request_bytes),
            p.ingest.memory_mb,
            p.ingest.memory_mb,
            pricing::LAMBDA_MB_PER_VCPU,
            cpu_bound.map_or("—".into(), fmt),
            cpu_bound.map_or("—".into(), |ms| money(
                model::per_extra_ms(p.ingest.memory_mb, large.architecture) * model::billed_ms(ms)
            )),
            money(
                model::per_extra_ms(p.ingest.memory_mb, large.architecture)
                    * model::billed_ms(large.ingest.duration_ms)
            ),
            money(after[0].dollars),
            money(after[1].dollars),
            HOURS_KEPT,
        );
    }
}
