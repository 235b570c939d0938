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
