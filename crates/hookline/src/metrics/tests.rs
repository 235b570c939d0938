//! Every line is checked against the EMF specification (CloudWatch user guide, "Specification:
//! Embedded metric format"), member by member.

use serde_json::Value;

use super::*;

/// The units CloudWatch takes (`MetricDatum.Unit`).
const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// A directive as read back: its dimension sets and its metrics' `(name, unit)`.
type Directive = (Vec<Vec<String>>, Vec<(String, String)>);

/// Checks one line against the specification and returns its directives.
fn check(line: &str) -> Vec<Directive> {
    assert!(!line.contains('\n'), "one line: {line}");
    // "The root node MUST be a valid JSON object", with "no additional data at the start or end".
    let root: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let root = root.as_object().expect("the root node is an object");
    let aws = root["_aws"].as_object().expect("_aws is an object");
    let mut keys: Vec<&str> = aws.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["CloudWatchMetrics", "Timestamp"],
        "no other _aws members: {line}"
    );
    // "Timestamp: a number of milliseconds after Jan 1, 1970 00:00:00 UTC".
    assert!(aws["Timestamp"].is_u64(), "{line}");
    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .expect("CloudWatchMetrics is an array");
    assert!(!directives.is_empty());
    let mut out = Vec::new();
    for d in directives {
        let d = d.as_object().expect("a MetricDirective is an object");
        let mut keys: Vec<&str> = d.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["Dimensions", "Metrics", "Namespace"], "{line}");
        let namespace = d["Namespace"].as_str().expect("Namespace is a string");
        assert!((1..=1024).contains(&namespace.len()));
        assert_eq!(namespace, NAMESPACE);
        let mut sets = Vec::new();
        for set in d["Dimensions"].as_array().expect("Dimensions is an array") {
            let set: Vec<String> = set
                .as_array()
                .expect("a DimensionSet is an array")
                .iter()
                .map(|name| {
                    name.as_str()
                        .expect("dimension names are strings")
                        .to_owned()
                })
                .collect();
            assert!((1..=30).contains(&set.len()), "at most 30 dimensions");
            for name in &set {
                // "Dimension values MUST be referenced by a member of the root node" and be strings.
                let value = root
                    .get(name)
                    .unwrap_or_else(|| panic!("no member {name}: {line}"));
                let value = value
                    .as_str()
                    .unwrap_or_else(|| panic!("{name} is not a string"));
                assert!((1..=1024).contains(&value.len()));
            }
            sets.push(set);
        }
        let metrics = d["Metrics"].as_array().expect("Metrics is an array");
        assert!(
            (1..=100).contains(&metrics.len()),
            "at most 100 metrics per directive"
        );
        let mut definitions = Vec::new();
        for m in metrics {
            let m = m.as_object().expect("a MetricDefinition is an object");
            assert!(m.keys().all(|k| k == "Name" || k == "Unit"), "{line}");
            let name = m["Name"].as_str().expect("Name is a string");
            let unit = m["Unit"].as_str().expect("Unit is a string");
            assert!(UNITS.contains(&unit), "unit {unit}");
            // The value: a number, or an array of at most 100 numbers.
            match &root[name] {
                Value::Number(_) => {}
                Value::Array(values) => {
                    assert!(
                        (1..=MAX_VALUES).contains(&values.len()),
                        "{name}: {} values",
                        values.len()
                    );
                    assert!(values.iter().all(Value::is_number), "{name}");
                }
                other => panic!("metric {name} is {other}: {line}"),
            }
            definitions.push((name.to_owned(), unit.to_owned()));
        }
        out.push((sets, definitions));
    }
    out
}

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_764_400_000_123).unwrap()
}

fn value(line: &str, member: &str) -> Value {
    serde_json::from_str::<Value>(line).unwrap()[member].clone()
}

#[test]
fn a_queued_delivery_counts_as_received_and_enqueued_with_its_latency() {
    let m = Metrics::new("stripe", "prod");
    let line = m.ingest_line(
        at(),
        &IngestOutcome {
            code: None,
            enqueued: true,
            enqueue_latency_ms: Some(12.5),
        },
    );
    let directives = check(&line);
    assert_eq!(directives.len(), 1);
    assert_eq!(directives[0].0, [["provider", "stage"]]);
    let names: Vec<&str> = directives[0].1.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["Received", "Enqueued", "Rejected", "EnqueueLatency"]
    );
    assert_eq!(directives[0].1[3].1, "Milliseconds");
    for (member, expected) in [
        ("provider", json!("stripe")),
        ("stage", json!("prod")),
        ("Received", json!(1)),
        ("Enqueued", json!(1)),
        ("Rejected", json!(0)),
        ("EnqueueLatency", json!(12.5)),
    ] {
        assert_eq!(value(&line, member), expected, "{member}");
    }
    assert_eq!(
        value(&line, "_aws")["Timestamp"],
        json!(1_764_400_000_123_u64)
    );
    assert!(value(&line, "code").is_null());
}

#[test]
fn a_rejection_is_counted_by_code_too() {
    let m = Metrics::new("github", "pr-42");
    let line = m.ingest_line(
        at(),
        &IngestOutcome {
            code: Some("invalid_signature"),
            enqueued: false,
            enqueue_latency_ms: None,
        },
    );
    let directives = check(&line);
    assert_eq!(directives.len(), 2);
    assert_eq!(directives[1].0, [["provider", "stage", "code"]]);
    assert_eq!(
        directives[1].1,
        [("Rejected".to_owned(), "Count".to_owned())]
    );
    assert_eq!(value(&line, "code"), json!("invalid_signature"));
    assert_eq!(value(&line, "Rejected"), json!(1));
    // No send was made: no latency is reported, rather than a zero.
    assert!(directives[0].1.iter().all(|(n, _)| n != "EnqueueLatency"));
    assert!(value(&line, "EnqueueLatency").is_null());

    let unavailable = m.ingest_line(
        at(),
        &IngestOutcome {
            code: Some("queue_unavailable"),
            enqueued: false,
            enqueue_latency_ms: Some(2500.0),
        },
    );
    check(&unavailable);
    assert_eq!(value(&unavailable, "EnqueueLatency"), json!(2500.0));
}

#[test]
fn a_batch_reports_counts_durations_and_queue_ages() {
    let m = Metrics::new("stripe", "prod");
    let items = [
        ItemOutcome {
            ok: true,
            duration_ms: Some(3.0),
            queue_age_ms: Some(1000.0),
        },
        ItemOutcome {
            ok: false,
            duration_ms: Some(4.0),
            queue_age_ms: Some(2000.0),
        },
        ItemOutcome {
            ok: false,
            duration_ms: None,
            queue_age_ms: None,
        },
    ];
    let lines = m.batch_lines(at(), &items);
    assert_eq!(lines.len(), 1);
    let directives = check(&lines[0]);
    let names: Vec<&str> = directives[0].1.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["Processed", "Failed", "ProcessingDuration", "QueueAge"]
    );
    assert_eq!(value(&lines[0], "Processed"), json!(1));
    assert_eq!(value(&lines[0], "Failed"), json!(2));
    assert_eq!(value(&lines[0], "ProcessingDuration"), json!([3.0, 4.0]));
    assert_eq!(value(&lines[0], "QueueAge"), json!([1000.0, 2000.0]));
}

#[test]
fn a_large_batch_is_split_at_one_hundred_values_per_metric() {
    let m = Metrics::new("stripe", "prod");
    let items = vec![
        ItemOutcome {
            ok: true,
            duration_ms: Some(1.0),
            queue_age_ms: Some(5.0)
        };
        250
    ];
    let lines = m.batch_lines(at(), &items);
    assert_eq!(lines.len(), 3);
    let mut processed = 0;
    for line in &lines {
        check(line);
        processed += value(line, "Processed").as_u64().unwrap();
    }
    assert_eq!(processed, 250);
    assert_eq!(value(&lines[2], "QueueAge").as_array().unwrap().len(), 50);
    assert!(
        m.batch_lines(at(), &[]).is_empty(),
        "an empty batch writes nothing"
    );
}

#[test]
fn the_checker_refuses_what_the_specification_refuses() {
    for bad in [
        r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"hookline","Dimensions":[["provider"]],"Metrics":[{"Name":"Received","Unit":"Count"}]}]},"Received":1}"#,
        r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"hookline","Dimensions":[["provider"]],"Metrics":[{"Name":"Received","Unit":"Count"}]}]},"provider":"p","Received":"1"}"#,
        r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"hookline","Dimensions":[["provider"]],"Metrics":[{"Name":"Received","Unit":"Things"}]}]},"provider":"p","Received":1}"#,
        r#"{"_aws":{"Timestamp":"now","CloudWatchMetrics":[]}}"#,
    ] {
        assert!(std::panic::catch_unwind(|| check(bad)).is_err(), "{bad}");
    }
}
