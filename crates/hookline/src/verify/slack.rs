//! Slack: `X-Slack-Signature: v0=<hex>` over `"v0:{X-Slack-Request-Timestamp}:{body}"`,
//! HMAC-SHA256 keyed with the signing secret's bytes; timestamp within the tolerance.
//!
//! Slack sends JSON for the Events API (`url_verification` is a handshake answered with its
//! challenge) and form bodies for slash commands, interactivity (`payload=<json>`) and
//! `ssl_check=1` (a handshake answered with an empty 200). Forms are acknowledged with an empty
//! 200: Slack reads any body there as a message to post.

use serde::Deserialize;
use serde_json::json;

use super::keys::Key;
use super::{Context, Named, Outgoing, Request, SchemeSpec, Signed, VerifyError};
use super::{headers, parse_unix_seconds};
use crate::describe::{Acknowledgement, Answer, Description, Handshake, MalformedBody};
use crate::describe::{TypedObject, json_object, lenient_string};

pub(crate) const SIGNATURE_HEADER: &str = "x-slack-signature";
pub(crate) const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";

/// The Slack scheme.
#[derive(Debug, Default)]
pub(crate) struct Slack;

impl Named for Slack {
    const NAME: &'static str = "slack";
}

impl SchemeSpec for Slack {
    fn signature_headers(&self) -> Vec<&str> {
        vec![SIGNATURE_HEADER]
    }

    fn signs_timestamp(&self) -> bool {
        true
    }

    fn verify(&self, ctx: &Context<'_>, request: &Request<'_>) -> Result<(), VerifyError> {
        let value = headers::single(request.headers, SIGNATURE_HEADER)?;
        let timestamp = headers::single(request.headers, TIMESTAMP_HEADER)?;
        let signature = headers::prefixed_hex(
            value,
            "v0=",
            32,
            SIGNATURE_HEADER,
            "the value does not start with v0=",
        )?;
        let unix = parse_unix_seconds(timestamp, TIMESTAMP_HEADER)?;
        ctx.check_timestamp(unix)?;
        ctx.expect_mac(
            &[b"v0:", timestamp.as_bytes(), b":", request.body],
            &[signature],
        )
    }

    fn describe(&self, request: &Request<'_>, _keys: &[Key]) -> Result<Description, MalformedBody> {
        let body = request.body;
        if body.trim_ascii_start().first() == Some(&b'{') {
            let event: SlackJson = json_object(body)?;
            if event.r#type.as_deref() == Some("url_verification") {
                let challenge = event.challenge.ok_or(MalformedBody::IncompleteHandshake {
                    handshake: "url_verification",
                    field: "challenge",
                })?;
                return Ok(Description {
                    handshake: Some(Handshake {
                        kind: "url_verification",
                        answer: Answer::json(&json!({ "challenge": challenge })),
                    }),
                    ..Description::signed_id(event.r#type, None, body)
                });
            }
            let inner_type = event.event.and_then(|e| e.r#type);
            // `event_id` is inside the signed body.
            return Ok(Description::signed_id(
                inner_type.or(event.r#type),
                event.event_id,
                body,
            ));
        }
        // A form: a slash command (`command=`), an interaction (`payload=`) or `ssl_check`.
        let mut event_type = None;
        let mut ssl_check = false;
        for (key, value) in form_urlencoded::parse(body) {
            match &*key {
                "ssl_check" if value == "1" => ssl_check = true,
                "payload" => {
                    event_type = serde_json::from_str::<TypedObject>(&value)
                        .ok()
                        .and_then(|p| p.r#type);
                }
                "command" => event_type = Some("slash_command".to_owned()),
                _ => {}
            }
        }
        Ok(Description {
            handshake: ssl_check.then(|| Handshake {
                kind: "ssl_check",
                answer: Answer::empty(),
            }),
            // "If the response body is empty, the response will be recognized as just an
            // acknowledgment" (Slack's Java SDK guide, "Slash Commands"; Bolt's `ack()` without
            // arguments answers the same).
            acknowledgement: Acknowledgement::Answer(Answer::empty()),
            ..Description::signed_id(event_type, None, body)
        })
    }

    fn sign(&self, key: &Key, message: &Outgoing<'_>) -> Signed {
        let t = message.timestamp.to_string();
        let signature = key.mac_hex(&[b"v0:", t.as_bytes(), b":", message.body]);
        Signed::with_headers(
            message,
            vec![
                (TIMESTAMP_HEADER, t),
                (SIGNATURE_HEADER, format!("v0={signature}")),
            ],
        )
    }
}

#[derive(Deserialize)]
struct SlackJson {
    #[serde(default, deserialize_with = "lenient_string")]
    r#type: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    challenge: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    event_id: Option<String>,
    #[serde(default)]
    event: Option<SlackInnerEvent>,
}

#[derive(Deserialize)]
struct SlackInnerEvent {
    #[serde(default, deserialize_with = "lenient_string")]
    r#type: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::super::VerifyError;
    use super::super::test_support::*;

    // slackapi/python-slack-sdk tests/slack_sdk/signature/test_signature_verifier.py
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TS: i64 = 1_531_420_618;
    const BODY: &[u8] = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    fn signed(sig: &str, ts: &str) -> http::HeaderMap {
        headers(&[
            ("X-Slack-Signature", sig),
            ("X-Slack-Request-Timestamp", ts),
        ])
    }

    #[test]
    fn published_vector_verifies() {
        let v = verifier(scheme("slack"), &[SECRET]);
        assert_eq!(v.verify(&signed(SIG, &TS.to_string()), BODY, TS), Ok(()));
    }

    #[test]
    fn rotation_tampering_and_wrong_secret() {
        let h = signed(SIG, &TS.to_string());
        assert_eq!(
            verifier(scheme("slack"), &["other", SECRET]).verify(&h, BODY, TS),
            Ok(())
        );
        let v = verifier(scheme("slack"), &[SECRET]);
        assert_eq!(
            v.verify(&h, &BODY[1..], TS),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            verifier(scheme("slack"), &["other"]).verify(&h, BODY, TS),
            Err(VerifyError::SignatureMismatch)
        );
        // The timestamp is signed: changing it breaks the signature.
        let moved = signed(SIG, &(TS + 1).to_string());
        assert_eq!(
            v.verify(&moved, BODY, TS),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn stale_and_future_timestamps_fail() {
        let v = verifier(scheme("slack"), &[SECRET]);
        let h = signed(SIG, &TS.to_string());
        assert_eq!(v.verify(&h, BODY, TS - 300), Ok(()));
        assert!(matches!(
            v.verify(&h, BODY, TS + 301),
            Err(VerifyError::TimestampTooOld { .. })
        ));
        assert!(matches!(
            v.verify(&h, BODY, TS - 301),
            Err(VerifyError::TimestampInFuture { .. })
        ));
    }

    #[test]
    fn empty_and_non_utf8_bodies_verify_when_signed() {
        let v = verifier(scheme("slack"), &["k"]);
        for body in [&b""[..], &[0xff, 0x00][..]] {
            let sig = format!("v0={}", hmac_sha256_hex(b"k", &[b"v0:7:", body]));
            assert_eq!(v.verify(&signed(&sig, "7"), body, 7), Ok(()));
        }
    }

    #[test]
    fn bad_headers_are_rejected() {
        let v = verifier(scheme("slack"), &[SECRET]);
        let ts = TS.to_string();
        let only_sig = headers(&[("X-Slack-Signature", SIG)]);
        assert_eq!(
            v.verify(&only_sig, BODY, TS).map_err(|e| e.code()),
            Err("missing_signature")
        );
        let only_ts = headers(&[("X-Slack-Request-Timestamp", &ts)]);
        assert_eq!(
            v.verify(&only_ts, BODY, TS).map_err(|e| e.code()),
            Err("missing_signature")
        );
        for (sig, ts) in [
            (&SIG[3..], ts.as_str()), // no version prefix
            (
                "v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
                &ts,
            ),
            (&SIG[..60], &ts), // short
            ("v0=not-hex", &ts),
            (SIG, "-1531420618"),
            (SIG, "1531420618.5"),
            (SIG, "soon"),
            (SIG, "99999999999999999999"),
        ] {
            assert_eq!(
                v.verify(&signed(sig, ts), BODY, TS).map_err(|e| e.code()),
                Err("malformed_signature"),
                "{sig} {ts}"
            );
        }
        let twice = headers(&[
            ("X-Slack-Signature", SIG),
            ("X-Slack-Signature", SIG),
            ("X-Slack-Request-Timestamp", &ts),
        ]);
        assert!(matches!(
            v.verify(&twice, BODY, TS),
            Err(VerifyError::DuplicateHeader { .. })
        ));
    }
}
