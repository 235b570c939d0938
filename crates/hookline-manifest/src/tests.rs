use super::*;

const MINIMAL: &str = r#"
[project]
name = "hookline"

[[providers]]
name = "stripe"
template = "stripe"
"#;

fn error(source: &str) -> ManifestError {
    match parse(source, "hookline.toml") {
        Ok(m) => panic!("expected an error, got {m:?}"),
        Err(e) => e,
    }
}

fn with_provider(extra: &str) -> String {
    format!("{MINIMAL}{extra}\n")
}

#[test]
fn a_two_line_provider_gets_every_default() {
    let m = parse(MINIMAL, "hookline.toml").unwrap();
    assert_eq!(
        m.project,
        Project {
            name: "hookline".into(),
            region: "us-east-1".into(),
            architecture: Architecture::Arm64,
            alarm_email: None,
            tracing: false,
        }
    );
    let p = &m.providers[0];
    assert_eq!(p.route, "/webhooks/stripe");
    assert_eq!(p.signing.scheme, "stripe");
    assert_eq!(p.signing.secret_arn, None);
    assert_eq!(
        p.ingest,
        Ingest {
            // The largest body an ingest function can be given: every delivery AWS lets through.
            max_body_bytes: hookline::ingest::MAX_BODY_BYTES as u64,
            timestamp_tolerance_secs: 300,
            timeout_secs: 10,
            memory_mb: 128
        }
    );
    assert_eq!(
        p.queue,
        Queue {
            kind: QueueKind::Standard,
            batch_size: 10,
            max_batching_window_secs: 0,
            max_receive_count: 5,
            visibility_timeout_secs: 180,
            retention_secs: 345_600,
            group_by: None,
        }
    );
    assert_eq!(
        p.processor,
        Processor {
            timeout_secs: 30,
            memory_mb: 256,
            max_concurrency: 10,
            concurrency: 8,
            idempotency_ttl_secs: Some(259_200),
        }
    );
    assert_eq!(
        (p.crate_dir(), p.ingest_binary(), p.process_binary()),
        (
            "functions/stripe".into(),
            "stripe-ingest".into(),
            "stripe-process".into()
        )
    );
}

#[test]
fn every_setting_can_be_given() {
    let source = r#"
[project]
name = "acme-hooks"
region = "eu-west-1"
architecture = "x86_64"
alarm_email = "ops@example.com"
tracing = true

[[providers]]
name = "vendor"
template = "my-template"
route = "/hooks/vendor.v2"
vars = { greeting = "hi" }
[providers.signing]
scheme = "generic-hmac"
secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:vendor-AbCdEf"
header = "X-Vendor-Signature"
algorithm = "sha512"
encoding = "base64"
prefix = "v1="
[providers.ingest]
max_body_bytes = 65536
timestamp_tolerance_secs = 60
timeout_secs = 5
memory_mb = 256
[providers.queue]
kind = "fifo"
batch_size = 5
max_receive_count = 3
visibility_timeout_secs = 600
retention_secs = 1209600
[providers.processor]
timeout_secs = 60
memory_mb = 512
max_concurrency = 4
"#;
    let m = parse(source, "hookline.toml").unwrap();
    assert_eq!(m.project.architecture, Architecture::X86_64);
    assert_eq!(m.project.alarm_email.as_deref(), Some("ops@example.com"));
    assert!(m.project.tracing);
    let p = m.provider("vendor").unwrap();
    assert_eq!(p.route, "/hooks/vendor.v2");
    assert_eq!(p.signing.prefix.as_deref(), Some("v1="));
    assert_eq!(p.queue.kind, QueueKind::Fifo);
    assert_eq!(p.queue.visibility_timeout_secs, 600);
    assert_eq!(p.processor.max_concurrency, 4);
    assert_eq!(p.vars.get("greeting").map(String::as_str), Some("hi"));
}

/// Lambda developer guide, "Using Lambda with Amazon SQS": the visibility timeout is six times
/// the function timeout plus the batching window, since Lambda holds gathered messages that long.
#[test]
fn the_default_visibility_timeout_adds_the_batching_window_to_six_processor_timeouts() {
    let m = parse(
        &with_provider("[providers.queue]\nbatch_size = 100\nmax_batching_window_secs = 300"),
        "hookline.toml",
    )
    .unwrap();
    assert_eq!(m.providers[0].queue.visibility_timeout_secs, 6 * 30 + 300);
    let m = parse(
        &with_provider(
            "[providers.processor]\ntimeout_secs = 900\n[providers.queue]\nbatch_size = 20\nmax_batching_window_secs = 1",
        ),
        "hookline.toml",
    )
    .unwrap();
    assert_eq!(m.providers[0].queue.visibility_timeout_secs, 5401);
    assert_eq!(limits::min_visibility_timeout_secs(30, 0), 180);
}

/// SQS developer guide, "Setting-up dead-letter queue retention": a standard queue's message
/// keeps its enqueue timestamp in the DLQ, a FIFO queue's gets a new one.
#[test]
fn a_standard_queue_keeps_messages_for_less_than_its_dlq_and_a_fifo_queue_as_long() {
    let retention = |extra: &str| {
        parse(&with_provider(extra), "hookline.toml").map(|m| m.providers[0].queue.retention_secs)
    };
    assert_eq!(retention(""), Ok(345_600));
    assert_eq!(
        u64::from(retention("[providers.queue]\nretention_secs = 950400").unwrap()),
        limits::DLQ_RETENTION_SECS - limits::DLQ_MIN_DWELL_SECS
    );
    let e = retention("[providers.queue]\nretention_secs = 950401").unwrap_err();
    assert_eq!(
        e.message,
        "950401 is out of range: allowed 60–950400 for a standard queue: a message moved to its dead-letter queue keeps the time it was first queued, and the DLQ keeps messages 14 days from then, so the queue's retention must leave at least 3 days there (FIFO queues, which reset that time, allow up to 1209600)"
    );
    assert_eq!(
        retention("[providers.queue]\nkind = \"fifo\"\nretention_secs = 1209600"),
        Ok(1_209_600)
    );
    const { assert!(limits::DEFAULT_RETENTION_SECS < *limits::STANDARD_RETENTION_SECS.end()) };
}

#[test]
fn the_event_source_concurrency_has_a_default_and_lambdas_range() {
    let concurrency = |extra: &str| {
        parse(&with_provider(extra), "hookline.toml")
            .map(|m| m.providers[0].processor.max_concurrency)
    };
    assert_eq!(concurrency(""), Ok(10));
    assert_eq!(
        u64::from(concurrency("").unwrap()),
        limits::DEFAULT_MAX_CONCURRENCY
    );
    assert_eq!(
        concurrency("[providers.processor]\nmax_concurrency = 2"),
        Ok(2)
    );
    assert_eq!(
        concurrency("[providers.processor]\nmax_concurrency = 1000"),
        Ok(1000)
    );
}

#[test]
fn a_fifo_queue_groups_by_provider_unless_told_otherwise() {
    use hookline::queue::GroupBy;
    let group_by = |extra: &str| {
        parse(&with_provider(extra), "hookline.toml").map(|m| m.providers[0].queue.group_by.clone())
    };
    assert_eq!(
        group_by("[providers.queue]\nkind = \"fifo\""),
        Ok(Some(GroupBy::Provider))
    );
    assert_eq!(
        group_by("[providers.queue]\nkind = \"fifo\"\ngroup_by = \"/data/object/customer\""),
        Ok(Some(GroupBy::Pointer("/data/object/customer".into())))
    );
    assert_eq!(
        group_by("[providers.queue]\nkind = \"fifo\"\ngroup_by = \"X-Shopify-Shop-Domain\""),
        Ok(Some(GroupBy::Header("x-shopify-shop-domain".into())))
    );
    assert_eq!(group_by(""), Ok(None));
    let e = group_by("[providers.queue]\ngroup_by = \"provider\"").unwrap_err();
    assert_eq!(
        (e.field.as_deref(), e.line),
        (Some("providers.stripe.queue.group_by"), Some(9))
    );
    assert!(e.message.starts_with("only applies to FIFO queues"), "{e}");
    let e = group_by("[providers.queue]\nkind = \"fifo\"\ngroup_by = \"/data/~x\"").unwrap_err();
    assert_eq!(
        (e.field.as_deref(), e.line),
        (Some("providers.stripe.queue.group_by"), Some(10))
    );
    assert!(e.message.contains("RFC 6901"), "{e}");
}

#[test]
fn schemes_match_the_runtime_library() {
    assert_eq!(SCHEMES, hookline::Scheme::NAMES);
}

#[test]
fn unknown_keys_are_reported_with_their_line() {
    let e = error(&with_provider("[providers.queue]\nbatchsize = 5"));
    assert_eq!(e.line, Some(9), "{e}");
    assert!(e.message.contains("unknown field `batchsize`"), "{e}");
    let e = error("[project]\nname = \"x\"\nregion = \"eu-west-1\"\nstack = \"y\"\n");
    assert_eq!(e.line, Some(4), "{e}");
    let rendered = e.to_string();
    assert!(rendered.starts_with("hookline.toml:4: "), "{rendered}");
}

#[test]
fn syntax_errors_are_reported_with_their_line() {
    let e = error("[project]\nname = \"x\n");
    assert_eq!(e.line, Some(2), "{e}");
}

#[test]
fn duplicate_names_and_routes_are_rejected() {
    let e = error(&with_provider(
        "[[providers]]\nname = \"stripe\"\ntemplate = \"github\"",
    ));
    assert!(e.message.contains("defined twice"), "{e}");
    assert_eq!(e.line, Some(8), "the second [[providers]] header");
    let e = error(&with_provider(
        "[[providers]]\nname = \"other\"\ntemplate = \"github\"\nroute = \"/webhooks/stripe\"",
    ));
    assert!(e.message.contains("already the route of `stripe`"), "{e}");
    assert_eq!(e.field.as_deref(), Some("providers.other.route"));
}

#[test]
fn values_outside_aws_ranges_name_file_line_and_field() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "[providers.queue]\nkind = \"fifo\"\nbatch_size = 11",
            "providers.stripe.queue.batch_size",
            "allowed 1–10",
        ),
        (
            "[providers.queue]\nbatch_size = 10001\nmax_batching_window_secs = 5",
            "providers.stripe.queue.batch_size",
            "allowed 1–10000",
        ),
        (
            "[providers.queue]\nbatch_size = 100",
            "providers.stripe.queue.batch_size",
            "at least 1",
        ),
        (
            "[providers.queue]\nkind = \"fifo\"\nmax_batching_window_secs = 1",
            "providers.stripe.queue.max_batching_window_secs",
            "FIFO",
        ),
        (
            "[providers.queue]\nmax_batching_window_secs = 301",
            "providers.stripe.queue.max_batching_window_secs",
            "allowed 0–300",
        ),
        (
            "[providers.processor]\nmax_concurrency = 1",
            "providers.stripe.processor.max_concurrency",
            "allowed 2–1000",
        ),
        (
            "[providers.processor]\nmax_concurrency = 1001",
            "providers.stripe.processor.max_concurrency",
            "allowed 2–1000",
        ),
        (
            "[providers.processor]\nidempotency_ttl_secs = 59",
            "providers.stripe.processor.idempotency_ttl_secs",
            "allowed 60–2592000",
        ),
        (
            "[providers.processor]\nidempotency = false\nidempotency_ttl_secs = 3600",
            "providers.stripe.processor.idempotency_ttl_secs",
            "has no effect with `idempotency = false`",
        ),
        (
            "[providers.queue]\nvisibility_timeout_secs = 179",
            "providers.stripe.queue.visibility_timeout_secs",
            "6 × the processor timeout",
        ),
        (
            "[providers.processor]\ntimeout_secs = 60\n[providers.queue]\nvisibility_timeout_secs = 300",
            "providers.stripe.queue.visibility_timeout_secs",
            "at least 360",
        ),
        (
            "[providers.queue]\nbatch_size = 100\nmax_batching_window_secs = 60\nvisibility_timeout_secs = 180",
            "providers.stripe.queue.visibility_timeout_secs",
            "+ the batching window (60 s), as AWS recommends: use at least 240",
        ),
        (
            "[providers.processor]\ntimeout_secs = 901",
            "providers.stripe.processor.timeout_secs",
            "allowed 1–900",
        ),
        (
            "[providers.queue]\nmax_receive_count = 0",
            "providers.stripe.queue.max_receive_count",
            "allowed 1–1000",
        ),
        (
            "[providers.queue]\nretention_secs = 59",
            "providers.stripe.queue.retention_secs",
            "allowed 60–950400 for a standard queue",
        ),
        (
            "[providers.queue]\nretention_secs = 1209600",
            "providers.stripe.queue.retention_secs",
            "keeps the time it was first queued",
        ),
        (
            "[providers.queue]\nkind = \"fifo\"\nretention_secs = 1209601",
            "providers.stripe.queue.retention_secs",
            "allowed 60–1209600",
        ),
        (
            "[providers.queue]\nkind = \"priority\"",
            "providers.stripe.queue.kind",
            "not one of",
        ),
        (
            "[providers.ingest]\ntimeout_secs = 31",
            "providers.stripe.ingest.timeout_secs",
            "allowed 1–30",
        ),
        (
            "[providers.signing]\nscheme = \"paypal\"",
            "providers.stripe.signing.scheme",
            "not one of",
        ),
        (
            "[providers.signing]\nheader = \"x-sig\"",
            "providers.stripe.signing.header",
            "only applies to the generic-hmac",
        ),
        (
            "[providers.signing]\nsecret_arn = \"stripe-secret\"",
            "providers.stripe.signing.secret_arn",
            "Secrets Manager ARN",
        ),
        (
            "route = \"webhooks/x\"",
            "providers.stripe.route",
            "not a route",
        ),
    ];
    for (extra, field, message) in cases {
        // Keys right after the provider's two lines belong to it; tables start after them.
        let e = error(&with_provider(extra));
        assert_eq!(e.field.as_deref(), Some(*field), "{extra}: {e}");
        assert!(e.message.contains(message), "{extra}: {e}");
        let line = e.line.unwrap_or_else(|| panic!("{extra}: no line in {e}"));
        let text = with_provider(extra);
        let key = field.rsplit('.').next().unwrap();
        let at_line = text.lines().nth(line - 1).unwrap();
        assert!(
            at_line.contains(key)
                || at_line.starts_with("[[providers]]")
                || at_line.starts_with("name"),
            "{extra}: line {line} is `{at_line}`"
        );
    }
}

#[test]
fn bodies_over_one_queue_message_use_the_body_bucket_up_to_what_ingest_can_be_given() {
    let max = hookline::ingest::MAX_BODY_BYTES;
    let body_limit =
        |extra: &str| parse(&with_provider(extra), "hookline.toml").map(|m| m.providers[0].clone());

    // The default: the largest, so the bucket is on, under the provider's own prefix.
    let default = body_limit("").unwrap();
    assert!(default.uses_body_bucket());
    assert_eq!(default.body_key_prefix().as_deref(), Some("stripe/"));

    // Under one queue message: no bucket. Exactly the inline limit: none either; one byte over: on.
    let small = body_limit("[providers.ingest]\nmax_body_bytes = 1000000").unwrap();
    assert_eq!(
        (small.uses_body_bucket(), small.body_key_prefix()),
        (false, None)
    );
    let inline = hookline::ingest::MAX_INLINE_BODY_BYTES;
    let at = body_limit(&format!("[providers.ingest]\nmax_body_bytes = {inline}")).unwrap();
    assert!(!at.uses_body_bucket());
    let over = body_limit(&format!(
        "[providers.ingest]\nmax_body_bytes = {}",
        inline + 1
    ))
    .unwrap();
    assert!(over.uses_body_bucket());

    // The largest is accepted, one byte more is refused with the range.
    assert!(body_limit(&format!("[providers.ingest]\nmax_body_bytes = {max}")).is_ok());
    let e = error(&with_provider(&format!(
        "[providers.ingest]\nmax_body_bytes = {}",
        max + 1
    )));
    assert_eq!(
        e.to_string(),
        format!(
            "hookline.toml:9: providers.stripe.ingest.max_body_bytes: {} is out of range: allowed 1–{max}",
            max + 1
        )
    );
}

#[test]
fn names_and_project_are_checked() {
    let e = error("[[providers]]\nname = \"stripe\"\ntemplate = \"stripe\"\n");
    assert_eq!(e.field.as_deref(), Some("project"));
    for bad in [
        "Stripe",
        "9lives",
        "a_b",
        "trailing-",
        "double--dash",
        &"x".repeat(33),
    ] {
        let e = error(&format!(
            "[project]\nname = \"ok\"\n[[providers]]\nname = \"{bad}\"\ntemplate = \"stripe\"\n"
        ));
        assert_eq!(e.field.as_deref(), Some("providers[0].name"), "{bad}");
        assert_eq!(e.line, Some(4));
    }
    let e = error("[project]\nname = \"ok\"\nregion = \"europe\"\n");
    assert_eq!(e.field.as_deref(), Some("project.region"));
    let e = error("[project]\nname = \"ok\"\narchitecture = \"arm\"\n");
    assert_eq!(e.field.as_deref(), Some("project.architecture"));
    for bad in [
        "ops",
        "ops@",
        "@example.com",
        "ops@example",
        "o ps@example.com",
    ] {
        let e = error(&format!(
            "[project]\nname = \"ok\"\nalarm_email = \"{bad}\"\n"
        ));
        assert_eq!(
            (e.field.as_deref(), e.line),
            (Some("project.alarm_email"), Some(3)),
            "{bad}"
        );
    }
    let e = error("[project]\nname = \"ok\"\n[[providers]]\nname = \"x\"\ntemplate = \"custom\"\n");
    assert_eq!(e.field.as_deref(), Some("providers.x.signing.scheme"));
}

#[test]
fn load_names_a_missing_file() {
    let e = load(Path::new("/nonexistent/hookline.toml")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/hookline.toml: cannot read the manifest"),
        "{e}"
    );
}

#[test]
fn idempotency_is_on_for_72_hours_unless_turned_off() {
    let processor = |extra: &str| {
        let source = format!(
            "[project]\nname = \"p\"\n[[providers]]\nname = \"stripe\"\ntemplate = \"stripe\"\n{extra}"
        );
        let provider = crate::parse(&source, "hookline.toml")
            .unwrap()
            .providers
            .remove(0);
        let env = crate::environment::processor(&provider);
        (
            provider.processor.idempotency_ttl_secs,
            env.get("HOOKLINE_IDEMPOTENCY_TTL_SECS").cloned(),
        )
    };
    assert_eq!(processor(""), (Some(259_200), Some("259200".into())));
    assert_eq!(
        processor("[providers.processor]\nidempotency_ttl_secs = 3600"),
        (Some(3600), Some("3600".into()))
    );
    assert_eq!(
        processor("[providers.processor]\nidempotency = true"),
        (Some(259_200), Some("259200".into()))
    );
    assert_eq!(
        processor("[providers.processor]\nidempotency = false"),
        (None, None)
    );
}
