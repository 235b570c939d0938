use super::*;
use crate::parse;

#[test]
fn a_preview_is_tagged_with_its_pull_request_and_a_kept_stage_cannot_be() {
    let manifest = parse(SHOP, "hookline.toml").unwrap();
    let mut o = options("pr-42");
    o.pr = Some(42);
    let r = resolve(&manifest, "hookline.toml", &o).unwrap();
    assert_eq!(r.stage.pr, Some(42));
    assert_eq!(r.stage.tags["hookline:pr"], "42");
    let mut kept = options("prod");
    kept.pr = Some(42);
    assert_eq!(
        resolve(&manifest, "hookline.toml", &kept)
            .unwrap_err()
            .to_string(),
        "--pr only applies to ephemeral stages (pr-*, or --ephemeral); `prod` is not one"
    );
}

const SHOP: &str = r#"
[project]
name = "shop"
region = "eu-west-1"
alarm_email = "ops@example.com"

[[providers]]
name = "stripe"
template = "stripe"

[[providers]]
name = "billing-eu"
template = "generic-hmac"
route = "/hooks/billing"
[providers.signing]
header = "x-billing-signature"
secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:billing"
[providers.queue]
kind = "fifo"
retention_secs = 120
[providers.processor]
timeout_secs = 60
max_concurrency = 4
"#;

/// The deploy time of the tests.
const NOW: &str = "2026-12-02T10:30:00Z";

fn options(stage: &str) -> StageOptions {
    StageOptions {
        stage: Stage::new(stage, false, None).unwrap(),
        region: None,
        alarm_email: None,
        pr: None,
        now: DateTime::parse_from_rfc3339(NOW)
            .unwrap()
            .with_timezone(&Utc),
    }
}

fn resolved(stage: &str) -> Resolved {
    let manifest = parse(SHOP, "hookline.toml").unwrap();
    resolve(&manifest, "hookline.toml", &options(stage)).unwrap()
}

#[test]
fn a_retained_stage_keeps_logs_a_month_and_has_no_ttl() {
    let r = resolved("prod");
    assert_eq!(r.version, RESOLVED_VERSION);
    assert_eq!(r.stage.stack_name, "shop-prod");
    assert_eq!(r.stage.region, "eu-west-1");
    assert!(!r.stage.ephemeral);
    assert_eq!((r.stage.ttl.as_deref(), r.stage.ttl_secs), (None, None));
    assert_eq!(r.stage.log_retention_days, 30);
    assert_eq!(r.stage.alarm_email.as_deref(), Some("ops@example.com"));
    assert_eq!(
        r.stage.tags,
        BTreeMap::from([
            ("hookline:project".to_owned(), "shop".to_owned()),
            ("hookline:stage".to_owned(), "prod".to_owned())
        ])
    );
    assert_eq!(r.stage.description, "hookline webhooks: stage prod of shop");
    assert_eq!(
        r.stage.access_log_group_prefix,
        "/aws/vendedlogs/hookline/shop-prod/api-access"
    );
}

#[test]
fn an_ephemeral_stage_is_tagged_with_its_ttl() {
    let r = resolved("pr-42");
    assert!(r.stage.ephemeral);
    assert_eq!(r.stage.ttl.as_deref(), Some("24h"));
    assert_eq!(r.stage.ttl_secs, Some(86_400));
    assert_eq!(r.stage.log_retention_days, 7);
    assert_eq!(r.stage.expires_at.as_deref(), Some("2026-12-03T10:30:00Z"));
    assert_eq!(r.stage.tags["hookline:expires-at"], "2026-12-03T10:30:00Z");
    assert!(!r.stage.tags.contains_key("hookline:pr"));
    assert_eq!(
        r.stage.description,
        "hookline webhooks: stage pr-42 of shop (ephemeral, ttl 24h)"
    );
}

#[test]
fn providers_carry_names_settings_and_environments() {
    let r = resolved("prod");
    let stripe = r.provider("stripe").unwrap();
    assert_eq!(stripe.ingest.function.binary, "stripe-ingest");
    assert_eq!(
        stripe.ingest.function.zip,
        "arm64/stripe-ingest/bootstrap.zip"
    );
    assert_eq!(stripe.processor.function.binary, "stripe-process");
    assert_eq!(stripe.outputs.webhook_url, "StripeWebhookUrl");
    assert_eq!(stripe.queue.visibility_timeout_secs, 180);
    assert_eq!(stripe.queue.dlq_retention_secs, 14 * 24 * 3600);
    assert_eq!(stripe.alarms.oldest_message_age_secs, 3600);
    assert_eq!(
        stripe.ingest.function.environment["HOOKLINE_SCHEME"],
        "stripe"
    );
    assert_eq!(
        stripe.ingest.resource_environment,
        ResourceEnvironment::names()
    );

    let billing = r.provider("billing-eu").unwrap();
    assert_eq!(billing.outputs.dlq_url, "BillingEuDlqUrl");
    assert!(billing.queue.fifo);
    assert_eq!(billing.queue.visibility_timeout_secs, 360);
    // Half the retention when that is shorter than an hour.
    assert_eq!(billing.alarms.oldest_message_age_secs, 60);
    assert_eq!(billing.processor.max_concurrency, 4);
    assert_eq!(billing.queue.group_by.as_deref(), Some("provider"));
    assert_eq!(stripe.queue.group_by, None);
    assert_eq!(
        billing.route_throttle,
        Some(RouteThrottle {
            rate_limit: 300,
            burst_limit: 300
        })
    );
    assert_eq!(stripe.route_throttle, None);
    assert_eq!(
        billing.ingest.function.environment["HOOKLINE_GROUP_BY"],
        "provider"
    );
    // The stage is in every function's logs and metrics.
    for p in [stripe, billing] {
        assert_eq!(p.ingest.function.environment["HOOKLINE_STAGE"], "prod");
        assert_eq!(p.processor.function.environment["HOOKLINE_STAGE"], "prod");
    }
    assert_eq!(r.stage.monitoring, crate::monitoring::monitoring());
    assert_eq!(
        stripe.alarms.unauthorized,
        crate::limits::UNAUTHORIZED_ALARM_COUNT
    );
    assert_eq!(stripe.processor.max_concurrency, 10);
    assert_eq!(
        billing.ingest.function.environment["HOOKLINE_GENERIC_HEADER"],
        "x-billing-signature"
    );
    assert_eq!(
        billing.secret_arn.as_deref(),
        Some("arn:aws:secretsmanager:eu-west-1:123456789012:secret:billing")
    );
}

#[test]
fn the_region_and_alarm_email_can_be_overridden_and_are_checked() {
    let manifest = parse(SHOP, "hookline.toml").unwrap();
    let mut o = options("prod");
    o.region = Some("ap-south-1".to_owned());
    o.alarm_email = Some("oncall@example.com".to_owned());
    let r = resolve(&manifest, "hookline.toml", &o).unwrap();
    assert_eq!(r.stage.region, "ap-south-1");
    assert_eq!(r.stage.alarm_email.as_deref(), Some("oncall@example.com"));

    o.region = Some("mars".to_owned());
    assert_eq!(
        resolve(&manifest, "hookline.toml", &o)
            .unwrap_err()
            .to_string(),
        "region `mars` (from AWS_REGION or the AWS profile) is not an AWS region name such as eu-west-1"
    );
    o.region = None;
    o.alarm_email = Some("not-an-address".to_owned());
    assert_eq!(
        resolve(&manifest, "hookline.toml", &o)
            .unwrap_err()
            .to_string(),
        "--alarm-email `not-an-address` is not an email address"
    );
}

#[test]
fn a_manifest_without_providers_cannot_be_deployed() {
    let manifest = parse("[project]\nname = \"x\"\n", "hookline.toml").unwrap();
    let err = resolve(&manifest, "hookline.toml", &options("prod")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "hookline.toml: providers: the manifest has no providers: add one with `cargo xtask new <name> --template <template>`"
    );
}

#[test]
fn the_json_round_trips_in_camel_case() {
    let r = resolved("pr-7");
    let json = r.to_json();
    assert!(json.starts_with("{\n  \"$comment\": \"Generated by hookline-manifest"));
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["version"], RESOLVED_VERSION);
    assert_eq!(value["stage"]["stackName"], "shop-pr-7");
    assert_eq!(
        value["stage"]["idempotencyTable"],
        serde_json::json!({
            "tableName": "shop-pr-7-idempotency",
            "partitionKey": "id",
            "timeToLiveAttribute": "expiration",
            "environmentVariable": "HOOKLINE_IDEMPOTENCY_TABLE",
        })
    );
    assert_eq!(value["providers"][1]["processor"]["maxConcurrency"], 4);
    assert_eq!(value["providers"][1]["processor"]["timeoutSecs"], 60);
    assert_eq!(
        value["providers"][0]["ingest"]["resourceEnvironment"]["queueUrl"],
        "HOOKLINE_QUEUE_URL"
    );
    assert!(value["providers"][0].get("secretArn").is_none());
    assert_eq!(value["providers"][0]["bodyKeyPrefix"], "stripe/");
    assert_eq!(
        value["stage"]["bodyBucket"],
        serde_json::json!({
            "environmentVariable": "HOOKLINE_BODY_BUCKET",
            "expirationDays": 19,
        })
    );
    assert_eq!(value["project"]["architecture"], "arm64");
    assert_eq!(value["project"]["tracing"], false);
    let back: Resolved = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
}

/// A stage of providers given as `(name, extra TOML)`, resolved for `prod`.
fn stage_of(providers: &[(&str, &str)]) -> Resolved {
    let mut source = "[project]\nname = \"shop\"\n".to_owned();
    for (name, extra) in providers {
        source += &format!("[[providers]]\nname = \"{name}\"\ntemplate = \"stripe\"\n{extra}\n");
    }
    let manifest = parse(&source, "hookline.toml").unwrap();
    resolve(&manifest, "hookline.toml", &options("prod")).unwrap()
}

const FIFO_14_DAYS: &str = "[providers.queue]\nkind = \"fifo\"\nretention_secs = 1209600\n";
const INLINE_ONLY: &str = "[providers.ingest]\nmax_body_bytes = 1000000\n";

#[test]
fn the_body_bucket_keeps_bodies_until_the_dlq_drops_their_message() {
    let days = |r: &Resolved| r.stage.body_bucket.as_ref().map(|b| b.expiration_days);
    // A standard queue's default 4 days, the DLQ's 14, and one.
    let standard = stage_of(&[("stripe", "")]);
    assert_eq!(days(&standard), Some(19));
    assert_eq!(
        standard
            .stage
            .body_bucket
            .as_ref()
            .unwrap()
            .environment_variable,
        "HOOKLINE_BODY_BUCKET"
    );
    // A FIFO queue of 14 days: its message starts over in the DLQ.
    assert_eq!(days(&stage_of(&[("orders", FIFO_14_DAYS)])), Some(29));
    // The stage's bucket takes the longest of its providers'.
    let mixed = stage_of(&[("stripe", ""), ("orders", FIFO_14_DAYS)]);
    assert_eq!(days(&mixed), Some(29));
    // ... of the providers that use it only.
    let fifo_inline = format!("{FIFO_14_DAYS}{INLINE_ONLY}");
    let mixed = stage_of(&[("stripe", ""), ("orders", &fifo_inline)]);
    assert_eq!(days(&mixed), Some(19));
    let prefixes: Vec<_> = mixed
        .providers
        .iter()
        .map(|p| p.body_key_prefix.as_deref())
        .collect();
    assert_eq!(prefixes, [Some("stripe/"), None]);
}

#[test]
fn no_body_bucket_when_every_body_fits_its_queue_message() {
    let r = stage_of(&[("stripe", INLINE_ONLY), ("orders", INLINE_ONLY)]);
    assert_eq!(r.stage.body_bucket, None);
    assert!(r.providers.iter().all(|p| p.body_key_prefix.is_none()));
    // Written out as null, not left out: the CDK app reads both.
    let value: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(value["stage"]["bodyBucket"], serde_json::Value::Null);
    assert!(
        value["stage"]
            .as_object()
            .unwrap()
            .contains_key("bodyBucket")
    );
    assert_eq!(
        value["providers"][0]["bodyKeyPrefix"],
        serde_json::Value::Null
    );
    assert!(
        value["providers"][0]
            .as_object()
            .unwrap()
            .contains_key("bodyKeyPrefix")
    );
    let back: Resolved = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(back, r);
}
