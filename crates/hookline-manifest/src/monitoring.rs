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
mod tests;
