//! The envelope's round trips, wire format, versions and bad input.

use super::*;
use crate::verify::test_support::headers;
use sha2::Digest as _;

fn sample(body: &[u8]) -> Envelope {
    Envelope {
        id: "0193a0b2-0000-7000-8000-000000000001".into(),
        provider: "stripe".into(),
        event_type: Some("invoice.paid".into()),
        delivery_id: Some("evt_1".into()),
        dedup_id: Some("evt_1".into()),
        received_at: DateTime::from_timestamp_millis(1_764_000_000_123).unwrap(),
        content_type: Some("application/json; charset=utf-8".into()),
        headers: BTreeMap::from([("stripe-signature".into(), "t=1,v1=ab".into())]),
        body: body.to_vec(),
        body_ref: None,
    }
}

#[test]
fn text_body_round_trips_byte_for_byte() {
    // Key order, spacing, number forms and escapes that a re-serialiser would change.
    let body = b"{\n  \"b\": 1.0E2, \"a\": \"\\u00e9\\/\",\t\"n\": 12345678901234567890 }\n";
    let envelope = sample(body);
    let json = envelope.to_json();
    assert!(json.contains(r#""body_encoding":"utf8""#), "{json}");
    let back = Envelope::from_json(&json).unwrap();
    assert_eq!(back, envelope);
    assert_eq!(back.body, body);
}

#[test]
fn binary_body_round_trips_as_base64() {
    let body: Vec<u8> = (0..=255u8).chain([0xff, 0xfe, 0x00]).collect();
    let envelope = sample(&body);
    let json = envelope.to_json();
    assert!(json.contains(r#""body_encoding":"base64""#), "{json}");
    assert_eq!(Envelope::from_json(&json).unwrap().body, body);
}

#[test]
fn noncharacters_sqs_refuses_are_escaped_and_round_trip() {
    let body = "{\"note\":\"a\u{FFFF}b\u{FFFE}\"}".as_bytes();
    let mut envelope = sample(body);
    envelope.headers.insert("x-note".into(), "\u{FFFE}".into());
    let json = envelope.to_json();
    assert!(!json.contains(['\u{FFFE}', '\u{FFFF}']), "{json}");
    assert!(json.contains(r#""body_encoding":"utf8""#), "{json}");
    assert_eq!(Envelope::from_json(&json).unwrap(), envelope);
}

#[test]
fn empty_body_and_absent_fields_round_trip() {
    let mut envelope = sample(b"");
    envelope.event_type = None;
    envelope.delivery_id = None;
    envelope.dedup_id = None;
    envelope.content_type = None;
    envelope.headers.clear();
    assert_eq!(Envelope::from_json(&envelope.to_json()).unwrap(), envelope);
}

#[test]
fn wire_format_is_stable() {
    let json = sample(b"{}").to_json();
    assert_eq!(
        json,
        r#"{"version":2,"id":"0193a0b2-0000-7000-8000-000000000001","provider":"stripe","event_type":"invoice.paid","delivery_id":"evt_1","dedup_id":"evt_1","received_at":"2025-11-24T16:00:00.123Z","content_type":"application/json; charset=utf-8","headers":{"stripe-signature":"t=1,v1=ab"},"body_encoding":"utf8","body":"{}"}"#
    );
}

#[test]
fn version_1_envelopes_are_still_read_and_dedupe_on_the_delivery_id() {
    let v1 = r#"{"version":1,"id":"e1","provider":"github","delivery_id":"d1","received_at":"2025-11-24T16:00:00.123Z","body_encoding":"utf8","body":"{}"}"#;
    let envelope = Envelope::from_json(v1).unwrap();
    assert_eq!(envelope.dedup_id, None);
    assert_eq!(envelope.dedup_key(), "d1");
    assert_eq!(sample(b"{}").dedup_key(), "evt_1");
    assert!(matches!(
        Envelope::from_json(&v1.replace("\"version\":1", "\"version\":4")),
        Err(EnvelopeError::UnsupportedVersion(4))
    ));
}

#[test]
fn bad_envelopes_are_reported() {
    assert!(matches!(
        Envelope::from_json("not json"),
        Err(EnvelopeError::Malformed(_))
    ));
    assert!(matches!(
        Envelope::from_json(r#"{"version":1}"#),
        Err(EnvelopeError::Malformed(_))
    ));
    let newer = sample(b"x")
        .to_json()
        .replacen(r#""version":2"#, r#""version":4"#, 1);
    assert_eq!(
        Envelope::from_json(&newer),
        Err(EnvelopeError::UnsupportedVersion(4))
    );
    let bad_b64 = sample(b"x").to_json().replace(
        r#""body_encoding":"utf8","body":"x""#,
        r#""body_encoding":"base64","body":"%%""#,
    );
    assert_eq!(Envelope::from_json(&bad_b64), Err(EnvelopeError::BadBase64));
}

fn stored(envelope: Envelope) -> Envelope {
    let key = crate::claim_check::object_key("stripe", envelope.received_at, &envelope.id);
    Envelope {
        body_ref: Some(BodyRef::to("bodies", key, &envelope.body)),
        ..envelope
    }
}

#[test]
fn a_body_in_the_bucket_travels_as_its_reference_in_version_3() {
    let envelope = stored(sample(b"{\"big\":true}"));
    let json = envelope.to_json();
    assert!(json.starts_with(r#"{"version":3,"#), "{json}");
    let sha256 = hex::encode(sha2::Sha256::digest(b"{\"big\":true}"));
    assert!(
        json.ends_with(&format!(
            r#""body_encoding":"s3","body":"","body_ref":{{"bucket":"bodies","key":"stripe/2025/11/24/0193a0b2-0000-7000-8000-000000000001","size":12,"sha256":"{sha256}"}}}}"#
        )),
        "{json}"
    );
    let back = Envelope::from_json(&json).unwrap();
    assert!(back.body_pending());
    assert_eq!(back.body_size(), 12);
    assert_eq!(
        back,
        Envelope {
            body: Vec::new(),
            ..envelope
        }
    );
    // The body itself never rides along.
    assert!(!json.contains("big"), "{json}");
}

#[test]
fn body_ref_and_encoding_must_agree() {
    let json = stored(sample(b"{}")).to_json();
    for bad in [
        json.replace(r#""body_encoding":"s3""#, r#""body_encoding":"utf8""#),
        json.replace(r#""version":3"#, r#""version":2"#),
        json.replace(r#""body":"""#, r#""body":"x""#),
        sample(b"")
            .to_json()
            .replace(r#""body_encoding":"utf8""#, r#""body_encoding":"s3""#),
    ] {
        assert_eq!(
            Envelope::from_json(&bad),
            Err(EnvelopeError::BadBodyRef),
            "{bad}"
        );
    }
}

#[test]
fn form_bodies_decode() {
    let e = Envelope::new("slack", b"command=%2Fdeploy&text=api+now&empty=".to_vec());
    assert_eq!(
        e.form(),
        [
            ("command".into(), "/deploy".into()),
            ("text".into(), "api now".into()),
            ("empty".into(), String::new())
        ]
    );
}

#[test]
fn builder_sets_metadata() {
    let e = Envelope::new("github", b"{}".to_vec())
        .with_event_type("push")
        .with_delivery_id("d1")
        .with_header("Content-Type", "application/json");
    assert_eq!(
        (e.event_type.as_deref(), e.delivery_id.as_deref()),
        (Some("push"), Some("d1"))
    );
    assert_eq!(e.content_type.as_deref(), Some("application/json"));
    assert_eq!(e.header("content-type"), Some("application/json"));
    assert_eq!(Envelope::from_json(&e.to_json()), Ok(e));
}

#[test]
fn header_copy_drops_credentials_and_joins_repeats() {
    let h = headers(&[
        ("Authorization", "Bearer x"),
        ("Cookie", "c"),
        ("X-A", "1"),
        ("x-a", "2"),
        ("Content-Type", "text/plain"),
    ]);
    let copied = envelope_headers(&h);
    assert_eq!(copied.get("x-a").map(String::as_str), Some("1,2"));
    assert_eq!(
        copied.get("content-type").map(String::as_str),
        Some("text/plain")
    );
    assert!(!copied.contains_key("authorization") && !copied.contains_key("cookie"));
    let envelope = Envelope {
        headers: copied,
        ..sample(b"")
    };
    assert_eq!(envelope.header("X-A"), Some("1,2"));
}
