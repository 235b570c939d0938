//! What a stage measures and alarms on, for the CDK app: the names of the metrics the functions
//! write (`hookline::metrics`), the CloudWatch Logs metric filters over their log lines (whose
//! shape `hookline::logline` owns), and the alarms' thresholds ([`crate::limits`]).

use serde::{Deserialize, Serialize};

use hookline::{logline, metrics};

use crate::limits;

/// What the stage measures beyond AWS's own metrics, and the API alarm's threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedMonitoring {
    /// The functions' Embedded Metric Format metrics (the stage's dashboard shows them).
    pub metrics: ResolvedMetrics,
    /// Metrics counted by metric filters on the functions' log groups.
    pub log_metrics: ResolvedLogMetrics,
    /// The alarms' period, in seconds.
    pub alarm_period_secs: u64,
    /// The API alarm fires at this many 5xx answers in a period.
    pub api_server_errors: u64,
}

/// The namespace, dimensions and names of the functions' metrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedMetrics {
    /// The namespace.
    pub namespace: String,
    /// The dimensions' names.
    pub dimensions: MetricDimensions,
    /// The metrics' names.
    pub names: MetricNames,
}

/// The dimensions' names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricDimensions {
    /// The provider's name.
    pub provider: String,
    /// The stage's name.
    pub stage: String,
    /// A rejection's error code (with the other two, on `rejected` only).
    pub code: String,
}

/// The metrics' names (`hookline::metrics::names`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricNames {
    /// Ingest: requests.
    pub received: String,
    /// Ingest: deliveries queued.
    pub enqueued: String,
    /// Ingest: requests refused.
    pub rejected: String,
    /// Ingest: milliseconds the queue took.
    pub enqueue_latency: String,
    /// Processor: messages handled.
    pub processed: String,
    /// Processor: messages failed.
    pub failed: String,
    /// Processor: milliseconds per message.
    pub processing_duration: String,
    /// Processor: milliseconds a message waited in the queue.
    pub queue_age: String,
}

/// Metrics counted from the functions' log lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedLogMetrics {
    /// Their namespace.
    pub namespace: String,
    /// Each dimension's name and the JSON selector of its value in a line (provider, stage).
    pub dimensions: std::collections::BTreeMap<String, String>,
    /// Ingest: requests answered 401.
    pub unauthorized: LogMetric,
    /// Ingest: requests answered 503 `queue_unavailable`.
    pub queue_unavailable: LogMetric,
    /// Processor: messages reported failed.
    pub failed_items: LogMetric,
}

/// One metric filter: the metric it counts, and the CloudWatch Logs filter pattern of the lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogMetric {
    /// The metric's name.
    pub metric_name: String,
    /// The filter pattern (JSON, CloudWatch Logs "Filter pattern syntax").
    pub filter_pattern: String,
}

/// A provider's alarm thresholds (counts are per [`ResolvedMonitoring::alarm_period_secs`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedAlarms {
    /// The oldest-message alarm fires past this age, in seconds (below the retention, or
    /// messages would expire before it fires).
    pub oldest_message_age_secs: u64,
    /// The period of the count alarms below, in seconds.
    pub period_secs: u64,
    /// Ingest function errors.
    pub ingest_errors: u64,
    /// Ingest function throttles.
    pub ingest_throttles: u64,
    /// Requests answered 401.
    pub unauthorized: u64,
    /// Requests answered 503 `queue_unavailable`.
    pub queue_unavailable: u64,
    /// Processor function errors.
    pub processor_errors: u64,
    /// Processor function throttles.
    pub processor_throttles: u64,
    /// Messages reported failed.
    pub failed_items: u64,
}

impl ResolvedAlarms {
    /// The thresholds of a queue keeping messages `retention_secs`.
    pub fn new(retention_secs: u64) -> ResolvedAlarms {
        ResolvedAlarms {
            // The retention is at least 60 s, so half of it is at least 30 s.
            oldest_message_age_secs: limits::OLDEST_MESSAGE_ALARM_SECS.min(retention_secs / 2),
            period_secs: limits::ALARM_PERIOD_SECS,
            // Each of these is a delivery refused, lost or retried: one is worth a look.
            ingest_errors: 1,
            ingest_throttles: 1,
            unauthorized: limits::UNAUTHORIZED_ALARM_COUNT,
            queue_unavailable: 1,
            processor_errors: 1,
            processor_throttles: 1,
            failed_items: limits::FAILED_ITEMS_ALARM_COUNT,
        }
    }
}

/// The stage's monitoring, from the runtime's log format.
pub fn monitoring() -> ResolvedMonitoring {
    // A JSON selector of a member of a log line (`$.fields.status`).
    let path = |object: &str, member: &str| format!("$.{object}.{member}");
    let provider = path(logline::SPAN, logline::PROVIDER);
    let stage = path(logline::SPAN, logline::STAGE);
    // Metric filter dimensions must be matched by the pattern, if only as `= *`.
    let pattern = |condition: String| format!("{{ {condition} && {provider} = * && {stage} = * }}");
    let name = |n: &str| n.to_owned();
    ResolvedMonitoring {
        metrics: ResolvedMetrics {
            namespace: metrics::NAMESPACE.to_owned(),
            dimensions: MetricDimensions {
                provider: name(metrics::dimensions::PROVIDER),
                stage: name(metrics::dimensions::STAGE),
                code: name(metrics::dimensions::CODE),
            },
            names: MetricNames {
                received: name(metrics::names::RECEIVED),
                enqueued: name(metrics::names::ENQUEUED),
                rejected: name(metrics::names::REJECTED),
                enqueue_latency: name(metrics::names::ENQUEUE_LATENCY),
                processed: name(metrics::names::PROCESSED),
                failed: name(metrics::names::FAILED),
                processing_duration: name(metrics::names::PROCESSING_DURATION),
                queue_age: name(metrics::names::QUEUE_AGE),
            },
        },
        log_metrics: ResolvedLogMetrics {
            namespace: metrics::NAMESPACE.to_owned(),
            dimensions: [
                (metrics::dimensions::PROVIDER.to_owned(), provider.clone()),
                (metrics::dimensions::STAGE.to_owned(), stage.clone()),
            ]
            .into(),
            unauthorized: LogMetric {
                metric_name: "IngestUnauthorizedLogged".to_owned(),
                filter_pattern: pattern(format!(
                    "{} = {}",
                    path(logline::FIELDS, logline::STATUS),
                    hookline::ingest::UNAUTHORIZED_STATUS
                )),
            },
            queue_unavailable: LogMetric {
                metric_name: "IngestQueueUnavailableLogged".to_owned(),
                filter_pattern: pattern(format!(
                    "{} = \"{}\"",
                    path(logline::FIELDS, logline::CODE),
                    hookline::ingest::QUEUE_UNAVAILABLE
                )),
            },
            failed_items: LogMetric {
                metric_name: "ProcessorFailedItemsLogged".to_owned(),
                filter_pattern: pattern(format!(
                    "{} = \"{}\"",
                    path(logline::FIELDS, logline::MESSAGE),
                    logline::MESSAGE_FAILED
                )),
            },
        },
        alarm_period_secs: limits::ALARM_PERIOD_SECS,
        api_server_errors: limits::API_SERVER_ERRORS_ALARM_COUNT,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use serde_json::Value;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    /// The log lines of `emit`, written by the functions' own JSON format.
    fn logged(emit: impl FnOnce()) -> Vec<Value> {
        #[derive(Clone, Default)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl Write for Buffer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber =
            tracing_subscriber::registry().with(logline::json_layer(move || writer.clone()));
        tracing::subscriber::with_default(subscriber, emit);
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The value a `$.a.b` selector names in a line.
    fn select<'v>(line: &'v Value, selector: &str) -> Option<&'v Value> {
        let path = selector.strip_prefix("$.")?;
        path.split('.').try_fold(line, |v, key| v.get(key))
    }

    /// Whether a pattern of the form `{ $.a = 401 && $.b = "x" && $.c = * }` (the only form
    /// made here; CloudWatch Logs "Filter pattern syntax", JSON) matches a line.
    fn matches(pattern: &str, line: &Value) -> bool {
        let inner = pattern
            .trim()
            .strip_prefix('{')
            .and_then(|p| p.strip_suffix('}'))
            .unwrap();
        inner.split("&&").all(|condition| {
            let (selector, expected) = condition.trim().split_once(" = ").unwrap();
            match (select(line, selector), expected) {
                (None, _) => false,
                (Some(_), "*") => true,
                (Some(Value::String(s)), e) if e.starts_with('"') => format!("\"{s}\"") == e,
                (Some(Value::Number(n)), e) => n.to_string() == e,
                _ => false,
            }
        })
    }

    #[test]
    fn the_filters_match_the_lines_the_functions_write_and_no_others() {
        let m = monitoring();
        let lines = logged(|| {
            let _span = logline::invocation_span("stripe", "prod").entered();
            tracing::warn!(
                status = 401_i64,
                code = "invalid_signature",
                "webhook rejected"
            );
            tracing::error!(
                status = 503_i64,
                code = hookline::ingest::QUEUE_UNAVAILABLE,
                "webhook not queued"
            );
            tracing::error!(message_id = "m1", "{}", logline::MESSAGE_FAILED);
            tracing::info!(status = 200_i64, "webhook queued");
        });
        let filters = [
            &m.log_metrics.unauthorized,
            &m.log_metrics.queue_unavailable,
            &m.log_metrics.failed_items,
        ];
        for (i, line) in lines.iter().enumerate() {
            let matched: Vec<usize> = (0..3)
                .filter(|&f| matches(&filters[f].filter_pattern, line))
                .collect();
            let expected: Vec<usize> = if i < 3 { vec![i] } else { vec![] };
            assert_eq!(matched, expected, "{line}");
            for selector in m.log_metrics.dimensions.values() {
                assert!(
                    select(line, selector).is_some_and(Value::is_string),
                    "{selector} in {line}"
                );
            }
        }
        // Outside an invocation there is no provider or stage: no dimension, no match.
        let outside = logged(|| tracing::warn!(status = 401_i64, "webhook rejected"));
        assert!(!matches(
            &m.log_metrics.unauthorized.filter_pattern,
            &outside[0]
        ));
    }

    #[test]
    fn the_patterns_and_dimensions_as_the_cdk_app_gets_them() {
        let m = monitoring();
        assert_eq!(
            m.log_metrics.unauthorized.filter_pattern,
            "{ $.fields.status = 401 && $.span.provider = * && $.span.stage = * }"
        );
        assert_eq!(
            m.log_metrics.queue_unavailable.filter_pattern,
            "{ $.fields.code = \"queue_unavailable\" && $.span.provider = * && $.span.stage = * }"
        );
        assert_eq!(
            m.log_metrics.failed_items.filter_pattern,
            "{ $.fields.message = \"message failed\" && $.span.provider = * && $.span.stage = * }"
        );
        assert_eq!(
            m.log_metrics
                .dimensions
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
            [("provider", "$.span.provider"), ("stage", "$.span.stage")]
        );
        assert_eq!(m.log_metrics.namespace, "hookline");
        let names = [
            &m.log_metrics.unauthorized.metric_name,
            &m.log_metrics.queue_unavailable.metric_name,
            &m.log_metrics.failed_items.metric_name,
        ];
        assert_eq!(
            names
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            3
        );
    }

    /// The names the dashboard reads are the ones the functions write, and no log metric
    /// shares a name with them.
    #[test]
    fn the_metric_names_are_the_runtimes() {
        let m = monitoring();
        assert_eq!(m.metrics.namespace, hookline::metrics::NAMESPACE);
        let names = serde_json::to_value(&m.metrics.names).unwrap();
        let mut names: Vec<&str> = names
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_str().unwrap())
            .collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "EnqueueLatency",
                "Enqueued",
                "Failed",
                "Processed",
                "ProcessingDuration",
                "QueueAge",
                "Received",
                "Rejected"
            ]
        );
        for log_metric in [
            &m.log_metrics.unauthorized,
            &m.log_metrics.queue_unavailable,
            &m.log_metrics.failed_items,
        ] {
            assert!(!names.contains(&log_metric.metric_name.as_str()));
        }
        assert_eq!(
            (
                m.metrics.dimensions.provider.as_str(),
                m.metrics.dimensions.stage.as_str(),
                m.metrics.dimensions.code.as_str()
            ),
            ("provider", "stage", "code")
        );
    }

    #[test]
    fn thresholds_follow_the_retention() {
        let a = ResolvedAlarms::new(345_600);
        assert_eq!(a.oldest_message_age_secs, 3600);
        assert_eq!(
            (a.period_secs, a.unauthorized, a.failed_items),
            (300, 10, 5)
        );
        assert_eq!(ResolvedAlarms::new(120).oldest_message_age_secs, 60);
    }
}
