//! Section 6 of the report (issue 15): the cost of a million webhooks through a stage with the
//! manifest's defaults, itemised, for hookline's ingest and for the Python baseline, with the
//! prices and their sources.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{Report, cell, fmt};
use crate::repo::bench::cost::{
    self as model, Function, Stage, http_api_requests, read_units, sqs_requests, write_units,
};
use crate::repo::bench::pricing;

/// The ingest variants of section 1 the bill is made for: hookline's (to the durable local
/// queue) and the Python baseline.
const INGESTS: [(&str, &str); 2] = [
    ("ingest_sqs", "hookline `stripe-ingest`"),
    ("python", "Python baseline"),
];

impl Report<'_> {
    fn provider(&self) -> Option<&hookline_manifest::Provider> {
        self.manifest.providers.first()
    }

    /// The stage as measured: `ingest` one of section 1's variants, `processor` one of
    /// section 5's passes. Medians of each input over the runs.
    pub(super) fn stage(&self, ingest: &str, processor: &str) -> Option<Stage> {
        let p = self.provider()?;
        let m = |key: String| self.median(&key);
        let record = m("processor.record_bytes".into())? as u64;
        let per = |action: &str| m(format!("processor.{processor}.dynamodb.{action}"));
        let writes = per("PutItem")? + per("UpdateItem")? + per("DeleteItem")?;
        Some(Stage {
            architecture: self.manifest.project.architecture,
            queue: p.queue.kind,
            batch_size: p.queue.batch_size,
            request_bytes: m("webhook.request_bytes".into())? as u64,
            message_bytes: m("webhook.message_bytes".into())? as u64,
            ingest: Function {
                memory_mb: p.ingest.memory_mb,
                duration_ms: m(format!("ingest.{ingest}.p50_ms"))?,
                log_lines: m(format!("ingest.{ingest}.log_lines"))?,
                log_bytes: m(format!("ingest.{ingest}.log_bytes"))?,
            },
            processor: Function {
                memory_mb: p.processor.memory_mb,
                duration_ms: m(format!("processor.{processor}.batch_p50_ms"))?,
                log_lines: m(format!("processor.{processor}.log_lines_per_batch"))?,
                log_bytes: m(format!("processor.{processor}.log_bytes_per_batch"))?,
            },
            write_units: writes * write_units(record) as f64,
            read_units: per("GetItem")? * read_units(record) as f64,
        })
    }

    /// The bills for `results.json`.
    pub(super) fn cost_json(&self) -> Value {
        let bills: serde_json::Map<String, Value> = INGESTS
            .iter()
            .filter_map(|(variant, label)| {
                let lines = self.stage(variant, "on")?.per_million();
                Some((
                    (*variant).to_owned(),
                    json!({
                        "label": label,
                        "total_per_million": model::total(&lines),
                        "lines": lines.iter().map(|l| json!({
                            "item": l.item, "quantity": l.quantity, "unit": l.price.unit,
                            "dollars": l.dollars,
                        })).collect::<Vec<_>>(),
                    }),
                ))
            })
            .collect();
        json!({
            "region": pricing::REGION,
            "prices_checked": pricing::CHECKED,
            "prices": pricing::ALL.iter().map(|p| json!({
                "item": p.item, "dollars": p.dollars, "per": p.per, "unit": p.unit, "source": p.source,
            })).collect::<Vec<_>>(),
            "per_million_webhooks": bills,
        })
    }

    /// Section 6.
    pub(super) fn cost_markdown(&self, md: &mut String) {
        let _ = writeln!(md, "## 6. Cost per million webhooks (issue 15)\n");
        let (Some(p), Some(stage), python) = (
            self.provider(),
            self.stage("ingest_sqs", "on"),
            self.stage("python", "on"),
        ) else {
            let _ = writeln!(md, "Not measured in this run.\n");
            return;
        };
        let lines = stage.per_million();
        let python_lines = python.map(|s| s.per_million());
        let _ = writeln!(
            md,
            "A million webhooks through one stage with the manifest's defaults ({} functions, \
             ingest {} MB, processor {} MB, a {} queue, batches of {}, idempotency on), in {} \
             at on-demand prices checked on {} (table below), free tiers left out (they are per \
             account, not per webhook). The figures are this run's medians: the 4 KB Stripe \
             delivery of section 1, the ingest's warm p50 (to the durable local queue) and the \
             processor's batch p50 with idempotency on (section 5), each billed per 1 ms \
             rounded up, and the log lines both functions wrote. The Python column is the \
             same stage with the Python baseline as its ingest.\n",
            self.manifest.project.architecture.as_str(),
            p.ingest.memory_mb,
            p.processor.memory_mb,
            p.queue.kind.as_str(),
            p.queue.batch_size,
            pricing::REGION,
            pricing::CHECKED,
        );
        let _ = writeln!(
            md,
            "| item | quantity per million webhooks | hookline $ | Python baseline $ |\n|---|---|---|---|"
        );
        for (i, l) in lines.iter().enumerate() {
            let python = python_lines
                .as_ref()
                .and_then(|b| b.get(i))
                .map_or("—".into(), |b| money(b.dollars));
            let _ = writeln!(
                md,
                "| {} | {} | {} | {python} |",
                l.item,
                quantity(l.quantity, l.price.unit),
                money(l.dollars)
            );
        }
        let _ = writeln!(
            md,
            "| **total** | | **{}** | **{}** |\n",
            money(model::total(&lines)),
            python_lines
                .as_ref()
                .map_or("—".into(), |b| money(model::total(b)))
        );
        self.cost_notes(md, p, &stage);
        self.ingests_compared(md, p);
        let _ = writeln!(
            md,
            "Prices ({}, checked {}; AWS pricing pages as named):\n\n| price | $ | per | source |\n|---|---|---|---|",
            pricing::REGION,
            pricing::CHECKED
        );
        for price in pricing::ALL {
            let dollars = if price.dollars >= 0.01 {
                format!("${:.3}", price.dollars)
            } else {
                format!("${}", price.dollars)
            };
            let per = if price.per == 1.0 {
                price.unit.to_owned()
            } else {
                quantity(price.per, price.unit)
            };
            let _ = writeln!(
                md,
                "| {} | {dollars} | {per} | {} |",
                price.item, price.source
            );
        }
        let _ = writeln!(md);
    }

    fn cost_notes(&self, md: &mut String, p: &hookline_manifest::Provider, stage: &Stage) {
        let batch = u64::from(p.queue.batch_size.max(1));
        let per_call = batch.min(pricing::SQS_MESSAGES_PER_CALL);
        let extra_ingest = model::per_extra_ms(p.ingest.memory_mb, stage.architecture);
        let extra_processor = model::per_extra_ms(p.processor.memory_mb, stage.architecture)
            / f64::from(p.queue.batch_size.max(1));
        let cpu = self.median("ingest.ingest_sqs.cpu_us").unwrap_or(0.0);
        let throttled = model::throttled_ms(cpu, p.ingest.memory_mb);
        let throttled_dollars = model::per_extra_ms(p.ingest.memory_mb, stage.architecture)
            * model::billed_ms(throttled);
        let record = self.median("processor.record_bytes").unwrap_or(0.0);
        let _ = writeln!(
            md,
            "What each line counts, and what it leaves out:\n\n\
             - **API Gateway**: the signed request is {} bytes: {} metered request. HTTP APIs \
               meter requests in 512 KB increments (a 3 MB request counts as 6).\n\
             - **SQS**: one `SendMessage` per webhook of a {}-byte message (envelope and \
               attributes); per full batch of {batch}, {} `ReceiveMessage` and \
               `DeleteMessageBatch` call(s) (at most {} messages each), a receive of {per_call} \
               messages being {} request(s): each 64 KB chunk of a payload counts as a \
               request. Left out: partial batches at low traffic (up to a receive per \
               message), the empty receives of Lambda's idle long polling (a per-queue cost, \
               not per webhook), retries and the dead-letter queue.\n\
             - **Lambda duration**: measured here as invoke → answer in the emulator, with \
               this machine's whole cores. On AWS the ingest's `SendMessage` crosses the \
               network, and at {} MB Lambda gives {}/{} of a vCPU: the ingest's measured \
               {} µs of CPU alone would take ~{} ms there ({} per million instead of {}). \
               Each further billed ms costs {} per million webhooks at the ingest's memory and \
               {} at the processor's ({} MB, shared by a batch). A cold start bills its init \
               too (custom runtimes always; managed runtimes such as Python since August \
               2025).\n\
             - **CloudWatch Logs**: the lines the functions wrote here, counted: hookline's \
               ingest {} lines ({} bytes) per invocation, its request line and its metrics \
               (EMF) line; the processor {} lines ({} bytes) per batch, a line per message and \
               the batch's metrics; the Python baseline none. Plus Lambda's own START, END and \
               REPORT lines ({} bytes an invocation in the default text format; a cold start's \
               `Init Duration` and X-Ray's trace line not counted), plus {} bytes per log \
               event. Storage after ingestion is left out. Logs are most of the difference \
               between the two columns: the Python baseline logs nothing of its own.\n\
             - **DynamoDB**: the requests the processor made per message, counted (section \
               5): a conditional put and an update of a {}-byte record, 1 write unit each \
               (each {} bytes or part). A redelivered duplicate instead costs the refused \
               put (a failed conditional write still consumes write units) and a strongly \
               consistent read. Record storage (kept for the idempotency window) is left out.\n",
            fmt(stage.request_bytes as f64),
            http_api_requests(stage.request_bytes),
            fmt(stage.message_bytes as f64),
            batch.div_ceil(per_call),
            pricing::SQS_MESSAGES_PER_CALL,
            sqs_requests(per_call * stage.message_bytes),
            p.ingest.memory_mb,
            p.ingest.memory_mb,
            pricing::LAMBDA_MB_PER_VCPU,
            fmt(cpu),
            fmt(throttled),
            money(throttled_dollars),
            money(extra_ingest * model::billed_ms(stage.ingest.duration_ms)),
            money(extra_ingest),
            money(extra_processor),
            p.processor.memory_mb,
            fmt(stage.ingest.log_lines),
            fmt(stage.ingest.log_bytes),
            fmt(stage.processor.log_lines),
            fmt(stage.processor.log_bytes),
            model::platform_bytes(),
            pricing::CLOUDWATCH_EVENT_OVERHEAD_BYTES,
            record,
            pricing::DYNAMODB_WRITE_UNIT_BYTES,
        );
    }

    /// The ingest functions side by side: what the bill takes from section 1, and memory.
    fn ingests_compared(&self, md: &mut String, p: &hookline_manifest::Provider) {
        let _ = writeln!(
            md,
            "The two ingests as measured (section 1's harness: same event, same emulator, same \
             local queue; peak RSS is the instance's `VmHWM`, what Lambda reports as Max \
             Memory Used). The CPU-bound column scales the CPU time to the share of a vCPU \
             Lambda gives at the ingest's memory: a lower bound of the duration there, network \
             waits not included.\n\n\
             | ingest | cold start ms | warm p50 ms | CPU µs/invocation | CPU-bound ms at {mb} MB | that duration, $ per million | peak RSS MB | log lines/invocation | log bytes/invocation |\n\
             |---|---|---|---|---|---|---|---|---|",
            mb = p.ingest.memory_mb
        );
        let architecture = self.manifest.project.architecture;
        for (variant, label) in INGESTS {
            let k = |w: &str| self.get(&format!("ingest.{variant}.{w}"));
            let throttled = k("cpu_us").map(|c| model::throttled_ms(c.median, p.ingest.memory_mb));
            let dollars = |ms: f64| {
                money(model::per_extra_ms(p.ingest.memory_mb, architecture) * model::billed_ms(ms))
            };
            let _ = writeln!(
                md,
                "| {label} | {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(k("cold_start_ms")),
                cell(k("p50_ms")),
                cell(k("cpu_us")),
                throttled.map_or("—".into(), fmt),
                throttled.map_or("—".into(), dollars),
                cell(k("rss_mb")),
                cell(k("log_lines")),
                cell(k("log_bytes")),
            );
        }
        let _ = writeln!(
            md,
            "\nThe Python baseline (`crates/hookline-bench/python/stripe_ingest.py`) is a minimal \
             function as AWS's documentation writes a Python handler: Stripe's signature checked \
             with `hmac`, boto3's `send_message`, a 200; it runs under the official Runtime \
             Interface Client (`awslambdaric`) and does less than hookline's ingest (no envelope, \
             no log line, no metrics). It is costed at the stage's ingest memory ({} MB); Python \
             functions are usually given more, since the interpreter and boto3 take most of \
             128 MB (its peak RSS above), and its duration line grows in proportion.\n",
            p.ingest.memory_mb
        );
    }
}

/// A quantity with its unit, millions as such; units that are words take a plural.
pub(super) fn quantity(q: f64, unit: &str) -> String {
    let plural = if q != 1.0 && unit.ends_with(|c: char| c.is_ascii_lowercase()) {
        "s"
    } else {
        ""
    };
    if q >= 10_000.0 {
        format!("{} M {unit}{plural}", fmt(q / 1e6))
    } else {
        format!("{} {unit}{plural}", fmt(q))
    }
}

/// Dollars: to a tenth of a cent, smaller amounts to 5 decimals, tinier ones in scientific
/// notation.
pub(super) fn money(dollars: f64) -> String {
    let a = dollars.abs();
    if a == 0.0 {
        "$0".into()
    } else if a >= 0.01 {
        format!("${dollars:.3}")
    } else if a >= 0.000_01 {
        format!("${dollars:.5}")
    } else {
        format!("${dollars:.2e}")
    }
}
