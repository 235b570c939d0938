//! Twitch EventSub (webhook transport): `Twitch-Eventsub-Message-Signature: sha256=<hex>` over
//! message id + timestamp + body, HMAC-SHA256 keyed with the subscription's secret (Twitch's
//! "Handling webhook events": "Verifying the event message"). The timestamp is RFC 3339 with
//! up to nanoseconds, signed as sent; Twitch advises refusing messages older than 10 minutes.
//!
//! The message id is signed, stays the same when Twitch resends, and is the dedup id.
//! `webhook_callback_verification` is a handshake answered with the raw challenge as
//! `text/plain`; `revocation` is queued like a notification (your code learns the
//! subscription ended) and acknowledged with a 2xx.

use std::time::Duration;

use chrono::DateTime;
use serde::Deserialize;

use super::keys::Key;
use super::{Context, Named, Outgoing, Request, SchemeSpec, Signed, VerifyError, headers};
use crate::describe::lenient_string;
use crate::describe::{Answer, Description, Handshake, MalformedBody, header, json_object};

pub(crate) const SIGNATURE_HEADER: &str = "twitch-eventsub-message-signature";
pub(crate) const ID_HEADER: &str = "twitch-eventsub-message-id";
pub(crate) const TIMESTAMP_HEADER: &str = "twitch-eventsub-message-timestamp";
pub(crate) const TYPE_HEADER: &str = "twitch-eventsub-message-type";
const VERIFICATION: &str = "webhook_callback_verification";

/// The Twitch EventSub scheme.
#[derive(Debug, Default)]
pub(crate) struct Twitch;

impl Named for Twitch {
    const NAME: &'static str = "twitch";
}

impl SchemeSpec for Twitch {
    fn signature_headers(&self) -> Vec<&str> {
        vec![SIGNATURE_HEADER]
    }

    fn signs_timestamp(&self) -> bool {
        true
    }

    fn default_tolerance(&self) -> Duration {
        Duration::from_secs(600)
    }

    fn verify(&self, ctx: &Context<'_>, request: &Request<'_>) -> Result<(), VerifyError> {
        let value = headers::single(request.headers, SIGNATURE_HEADER)?;
        let id = headers::single(request.headers, ID_HEADER)?;
        let timestamp = headers::single(request.headers, TIMESTAMP_HEADER)?;
        let signature = headers::prefixed_hex(
            value,
            "sha256=",
            32,
            SIGNATURE_HEADER,
            "the value does not start with sha256=",
        )?;
        let unix = DateTime::parse_from_rfc3339(timestamp)
            .map_err(|_| VerifyError::MalformedHeader {
                header: TIMESTAMP_HEADER.to_owned(),
                reason: "the timestamp is not RFC 3339",
            })?
            .timestamp();
        ctx.check_timestamp(unix)?;
        ctx.expect_mac(
            &[id.as_bytes(), timestamp.as_bytes(), request.body],
            &[signature],
        )
    }

    fn describe(&self, request: &Request<'_>, _keys: &[Key]) -> Result<Description, MalformedBody> {
        let message: TwitchMessage = json_object(request.body)?;
        let event_type = message.subscription.and_then(|s| s.r#type);
        let id = header(request.headers, ID_HEADER);
        let description = Description::signed_id(event_type, id, request.body);
        if header(request.headers, TYPE_HEADER).as_deref() != Some(VERIFICATION) {
            return Ok(description);
        }
        let challenge = message
            .challenge
            .ok_or(MalformedBody::IncompleteHandshake {
                handshake: VERIFICATION,
                field: "challenge",
            })?;
        Ok(Description {
            handshake: Some(Handshake {
                kind: VERIFICATION,
                answer: Answer::text("text/plain", challenge),
            }),
            ..description
        })
    }

    fn sign(&self, key: &Key, message: &Outgoing<'_>) -> Signed {
        let timestamp = DateTime::from_timestamp(message.timestamp, 0)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        let id = message.delivery_id;
        let signature = key.mac_hex(&[id.as_bytes(), timestamp.as_bytes(), message.body]);
        Signed::with_headers(
            message,
            vec![
                (ID_HEADER, id.to_owned()),
                (TIMESTAMP_HEADER, timestamp),
                (SIGNATURE_HEADER, format!("sha256={signature}")),
            ],
        )
    }
}

#[derive(Deserialize)]
struct TwitchMessage {
    #[serde(default, deserialize_with = "lenient_string")]
    challenge: Option<String>,
    #[serde(default)]
    subscription: Option<Subscription>,
}

#[derive(Deserialize)]
struct Subscription {
    #[serde(default, deserialize_with = "lenient_string")]
    r#type: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::super::VerifyError;
    use super::super::test_support::*;
    use crate::verify::Request;

    // twitch-rs/twitch_api src/eventsub/mod.rs `verify_request` (made with twitch-cli).
    const SECRET: &str = "secretabcd";
    const ID: &str = "ae2ff348-e102-16be-a3eb-6830c1bf38d2";
    const TS: &str = "2021-02-19T23:47:00.8091512Z";
    const NOW: i64 = 1_613_778_420;
    const BODY: &str = r#"{"subscription":{"id":"ae2ff348-e102-16be-a3eb-6830c1bf38d2","status":"enabled","type":"channel.follow","version":"1","condition":{"broadcaster_user_id":"44429626"},"transport":{"method":"webhook","callback":"null"},"created_at":"2021-02-19T23:47:00.7621315Z"},"event":{"user_id":"28408015","user_login":"testFromUser","user_name":"testFromUser","broadcaster_user_id":"44429626","broadcaster_user_login":"44429626","broadcaster_user_name":"testBroadcaster"}}"#;
    const SIG: &str = "sha256=d10f5bd9474b7ac7bd7105eb79c2d52768b4d0cd2a135982c3bf5a1d59a78823";

    fn message(kind: &str, sig: &str, ts: &str) -> http::HeaderMap {
        headers(&[
            ("Twitch-Eventsub-Message-Id", ID),
            ("Twitch-Eventsub-Message-Timestamp", ts),
            ("Twitch-Eventsub-Message-Signature", sig),
            ("Twitch-Eventsub-Message-Type", kind),
        ])
    }

    fn twitch() -> crate::verify::Verifier {
        verifier_with_tolerance(scheme("twitch"), &[SECRET], 600)
    }

    #[test]
    fn published_vector_verifies_and_is_described() {
        let h = message("notification", SIG, TS);
        let request = Request::post(&h, BODY.as_bytes());
        assert_eq!(twitch().verify_request(&request, NOW), Ok(()));
        let d = twitch().describe(&request).unwrap();
        assert_eq!(d.event_type.as_deref(), Some("channel.follow"));
        assert_eq!(d.dedup_id, ID);
        assert!(d.handshake.is_none());
    }

    #[test]
    fn ten_minutes_tampering_and_bad_headers() {
        let h = message("notification", SIG, TS);
        assert!(matches!(
            twitch().verify(&h, BODY.as_bytes(), NOW + 601),
            Err(VerifyError::TimestampTooOld { .. })
        ));
        assert_eq!(scheme("twitch").default_tolerance().as_secs(), 600);
        assert_eq!(
            twitch().verify(&h, &BODY.as_bytes()[1..], NOW),
            Err(VerifyError::SignatureMismatch)
        );
        // The id is signed: another id breaks the signature.
        let mut other_id = h.clone();
        other_id.insert("twitch-eventsub-message-id", "x".parse().unwrap());
        assert_eq!(
            twitch().verify(&other_id, BODY.as_bytes(), NOW),
            Err(VerifyError::SignatureMismatch)
        );
        for (sig, ts) in [(&SIG[7..], TS), (SIG, "yesterday"), ("sha256=zz", TS)] {
            assert_eq!(
                twitch()
                    .verify(&message("notification", sig, ts), BODY.as_bytes(), NOW)
                    .map_err(|e| e.code()),
                Err("malformed_signature")
            );
        }
    }

    #[test]
    fn callback_verification_is_answered_with_the_raw_challenge() {
        let body = br#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"f1c2a387","status":"webhook_callback_verification_pending","type":"channel.follow","version":"1"}}"#;
        let signer = crate::sign::Signer::new(scheme("twitch"), SECRET).unwrap();
        let mut h = headers(
            &signer
                .headers(body, NOW, ID)
                .unwrap()
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        );
        h.insert(
            "twitch-eventsub-message-type",
            "webhook_callback_verification".parse().unwrap(),
        );
        let request = Request::post(&h, body);
        assert_eq!(twitch().verify_request(&request, NOW), Ok(()));
        let answer = twitch()
            .describe(&request)
            .unwrap()
            .handshake
            .unwrap()
            .answer;
        assert_eq!(answer.body, "pogchamp-kappa-360noscope-vohiyo");
        assert_eq!(answer.content_type, Some("text/plain"));
    }
}
