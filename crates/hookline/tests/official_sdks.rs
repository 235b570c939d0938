//! hookline's signatures against the providers' official SDKs (issue 13): what hookline's
//! signer makes, the provider's SDK verifies (and refuses once tampered with); what the SDK
//! signs, where it can sign, hookline verifies. The SDKs run in Python from the venv that
//! `cargo xtask test` creates (`xtask/python-requirements.txt`), through `sdk/official_sdks.py`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use hookline::sign::Signer;
use hookline::verify::{Outgoing, Request};
use hookline::{Scheme, SigningSecret, Verifier};
use serde_json::{Value, json};

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
/// Where the provider posts: a query, so that Twilio's `bodySHA256` is appended with `&`.
const URL: &str = "https://abc123.execute-api.eu-west-1.amazonaws.com/webhooks/acme?src=sdk";

/// A delivery per scheme in the shape its provider sends.
fn samples() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("twilio", b"MessageSid=SM1&From=%2B14155550100&To=%2B14155550199&Body=Hello+world&SmsStatus=received".to_vec()),
        ("twilio", br#"{"CallSid":"CA1234567890ABCDE","Caller":"+12349013030"}"#.to_vec()),
        ("paddle", br#"{"event_id":"evt_01h","event_type":"transaction.completed","occurred_at":"2026-12-02T10:00:00Z","notification_id":"ntf_01h","data":{"id":"txn_01h"}}"#.to_vec()),
        ("square", br#"{"merchant_id":"MLEFBHHSJGVHD","type":"payment.created","event_id":"6a8f5f28-54a1-4eb0-a98a-3111513fd4fc","created_at":"2026-12-02T10:00:00Z","data":{"type":"payment","id":"KkAkhdMsgzn59SM8A89WgKwekxLZY"}}"#.to_vec()),
        ("hubspot", br#"[{"eventId":1,"subscriptionId":2,"portalId":3,"occurredAt":1700000000000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123}]"#.to_vec()),
        ("sendgrid", b"[{\"email\":\"example@test.com\",\"timestamp\":1700000000,\"event\":\"delivered\",\"sg_event_id\":\"sg1\",\"sg_message_id\":\"m1\"}]\r\n".to_vec()),
        ("discord", br#"{"type":2,"id":"786008729715212338","application_id":"1","token":"t","data":{"name":"deploy"}}"#.to_vec()),
        ("mailgun", br#"{"event-data":{"event":"delivered","id":"CPgfbmQMTCKtHW6uIWtuVe","timestamp":1700000000.0}}"#.to_vec()),
    ]
}

fn python() -> PathBuf {
    std::env::var_os("HOOKLINE_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/venv/bin/python")
        })
}

/// Runs the SDK side on `cases`; its answer per case.
fn run_sdks(cases: &Value) -> Vec<Value> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/official_sdks.py");
    let mut child = Command::new(python())
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e}; run `cargo xtask test` (it installs the providers' SDKs into .tools/venv)",
                python().display()
            )
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(cases.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the providers' SDKs are required: run `cargo xtask test` (it installs them into .tools/venv)\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_providers_sdks_and_hookline_agree() {
    let now = chrono::Utc::now().timestamp();
    let mut cases = Vec::new();
    let mut verifiers = Vec::new();
    for (seed, (name, body)) in samples().into_iter().enumerate() {
        let scheme: Scheme = name.parse().unwrap();
        let credentials = scheme.local_credentials(&[u8::try_from(seed).unwrap() + 1; 32]);
        let signer = Signer::new(scheme.clone(), &credentials.sign).unwrap();
        let signed = signer
            .sign(&Outgoing {
                url: URL,
                body: &body,
                timestamp: now,
                delivery_id: "d1b2c3",
            })
            .unwrap();
        let headers: serde_json::Map<String, Value> = signed
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let case = json!({
            "scheme": name,
            "verify_key": credentials.verify,
            "sign_key": credentials.sign,
            "url": signed.url,
            "base_url": URL,
            "headers": headers,
            "body_b64": BASE64.encode(&signed.body),
            "fresh_body_b64": BASE64.encode(&body),
        });
        // The same delivery with its body changed: the SDK must refuse it (Mailgun's SDK checks
        // only the signed token, so its copy changes the signature instead).
        let mut tampered = case.clone();
        if scheme.signs_body() {
            let mut changed = signed.body.clone();
            changed.insert(1, b' ');
            tampered["body_b64"] = Value::String(BASE64.encode(changed));
        } else {
            let body = String::from_utf8(signed.body.clone()).unwrap();
            let mut value: Value = serde_json::from_str(&body).unwrap();
            value["signature"]["token"] = Value::String("another-token".into());
            tampered["body_b64"] = Value::String(BASE64.encode(value.to_string()));
        }
        tampered["tampered"] = Value::Bool(true);
        cases.push(case);
        cases.push(tampered);
        let verifier = Verifier::new(
            scheme,
            &[SigningSecret::new(credentials.verify)],
            Duration::from_secs(300),
        )
        .unwrap();
        verifiers.push((name, verifier, body));
    }
    let results = run_sdks(&Value::Array(cases.clone()));
    assert_eq!(results.len(), cases.len());
    let mut sdk_signed = 0;
    for (case, result) in cases.iter().zip(&results) {
        let name = case["scheme"].as_str().unwrap();
        let tampered = case["tampered"] == true;
        assert_eq!(
            result["sdk_verifies_hookline"],
            !tampered,
            "{name}: the SDK {} hookline's {} delivery",
            if tampered { "accepted" } else { "refused" },
            if tampered { "tampered" } else { "signed" },
        );
        if tampered || result["sdk_signed"].is_null() {
            continue;
        }
        let (_, verifier, body) = verifiers
            .iter()
            .find(|(n, _, b)| *n == name && BASE64.encode(b) == case["fresh_body_b64"])
            .unwrap();
        let mut headers = http::HeaderMap::new();
        for (k, v) in result["sdk_signed"]["headers"].as_object().unwrap() {
            headers.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.as_str().unwrap().parse().unwrap(),
            );
        }
        let request = Request {
            method: "POST",
            url: result["sdk_signed"]["url"].as_str().unwrap(),
            headers: &headers,
            body,
        };
        assert_eq!(
            verifier.verify_request(&request, now),
            Ok(()),
            "{name}: hookline refused what the SDK signed"
        );
        sdk_signed += 1;
    }
    // Twilio (form and JSON), Paddle, HubSpot and Discord's PyNaCl sign; the others verify only.
    assert_eq!(sdk_signed, 5);
}
