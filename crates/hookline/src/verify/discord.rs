//! Discord (interactions endpoint and webhook events): Ed25519 over `X-Signature-Timestamp` +
//! body, the signature hex in `X-Signature-Ed25519`, verified with the application's public key
//! (hex) from the developer portal (Discord's "Receiving and responding to interactions":
//! "Security and authorization"). Anything that does not verify gets 401: Discord "will also
//! perform automated, routine security checks ... including purposefully sending you invalid
//! signatures" and removes endpoints that accept them.
//!
//! No Discord library applies a tolerance; hookline applies 10 minutes, Discord's documented
//! retry window for webhook events ("retry ... for up to 10 minutes").
//!
//! Interactions: PING (`type` 1) is answered `{"type":1}`; the others are queued and
//! acknowledged with a deferred response, so your processor answers through the interaction's
//! token later: `{"type":5}` (DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE) for commands and modal
//! submits, `{"type":6}` (DEFERRED_UPDATE_MESSAGE) for components, and for autocomplete, which
//! cannot be deferred, an empty `{"type":8}` result. Webhook events: the PING (`type` 0, no
//! `event`) and events (`event` in the body) are answered 204 with no body, as Discord requires.

use std::time::Duration;

use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::Deserialize;
use serde_json::json;

use super::headers;
use super::keys::Key;
use super::{Context, Credentials, Named, Outgoing, Request, SchemeSpec, Signed, VerifyError};
use crate::describe::{Acknowledgement, Answer, Description, Handshake, MalformedBody};
use crate::describe::{json_object, lenient_string};

pub(crate) const SIGNATURE_HEADER: &str = "x-signature-ed25519";
pub(crate) const TIMESTAMP_HEADER: &str = "x-signature-timestamp";

/// The Discord scheme.
#[derive(Debug, Default)]
pub(crate) struct Discord;

impl Named for Discord {
    const NAME: &'static str = "discord";
}

/// 32 bytes from 64 hex digits.
fn hex32(text: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(text.trim()).ok()?;
    bytes.try_into().ok()
}

impl SchemeSpec for Discord {
    fn signature_headers(&self) -> Vec<&str> {
        vec![SIGNATURE_HEADER]
    }

    fn public_key(&self) -> bool {
        true
    }

    fn signs_timestamp(&self) -> bool {
        true
    }

    fn default_tolerance(&self) -> Duration {
        Duration::from_secs(600)
    }

    fn key(&self, secret: &str) -> Result<Key, &'static str> {
        hex32(secret)
            .and_then(|bytes| VerifyingKey::from_bytes(&bytes).ok())
            .map(Key::Ed25519Public)
            .ok_or("an Ed25519 public key: 64 hex digits (the application's Public Key)")
    }

    fn signing_key(&self, secret: &str) -> Result<Key, &'static str> {
        hex32(secret)
            .map(|seed| Key::Ed25519Private(Box::new(SigningKey::from_bytes(&seed))))
            .ok_or("an Ed25519 private key: 64 hex digits")
    }

    fn verify(&self, ctx: &Context<'_>, request: &Request<'_>) -> Result<(), VerifyError> {
        let value = headers::single(request.headers, SIGNATURE_HEADER)?;
        let timestamp = headers::single(request.headers, TIMESTAMP_HEADER)?;
        let signature = headers::decode_hex(value, 64, SIGNATURE_HEADER)?;
        let signature = ed25519_dalek::Signature::from_slice(&signature).map_err(|_| {
            VerifyError::MalformedHeader {
                header: SIGNATURE_HEADER.to_owned(),
                reason: "the signature is not an Ed25519 signature",
            }
        })?;
        ctx.check_timestamp(super::parse_unix_seconds(timestamp, TIMESTAMP_HEADER)?)?;
        let message = [timestamp.as_bytes(), request.body].concat();
        let verified = ctx.keys().iter().any(|key| match key {
            Key::Ed25519Public(public) => public.verify(&message, &signature).is_ok(),
            _ => false,
        });
        if verified {
            Ok(())
        } else {
            Err(VerifyError::SignatureMismatch)
        }
    }

    fn describe(&self, request: &Request<'_>, _keys: &[Key]) -> Result<Description, MalformedBody> {
        let body: DiscordBody = json_object(request.body)?;
        let kind = body.r#type.unwrap_or(u64::MAX);
        // A webhook event: 1 an event, with its `event` body; 0 the PING, which has none ("Event
        // data payload" is for type 1 only: Discord's "Webhook Events", discord-api-types'
        // `APIWebhookEventBase<ApplicationWebhookType.Ping, never>`), and no interaction has
        // type 0 (they start at PING = 1). Both are answered 204 with no body.
        if body.event.is_some() || kind == 0 {
            let event = body.event.unwrap_or(WebhookEvent { r#type: None });
            let no_content = Answer {
                status: 204,
                content_type: None,
                body: String::new(),
            };
            if kind == 0 {
                return Ok(Description {
                    handshake: Some(Handshake {
                        kind: "webhook_event_ping",
                        answer: no_content,
                    }),
                    ..Description::unsigned_id(Some("ping".into()), None, request.body)
                });
            }
            return Ok(Description {
                acknowledgement: Acknowledgement::Answer(no_content),
                ..Description::unsigned_id(event.r#type, None, request.body)
            });
        }
        let event_type = Some(format!("interaction.{kind}"));
        let answer = |value| Answer::json(&value);
        let (handshake, acknowledgement) = match kind {
            1 => (Some(answer(json!({ "type": 1 }))), Acknowledgement::Json),
            3 => (None, Acknowledgement::Answer(answer(json!({ "type": 6 })))),
            4 => (
                None,
                Acknowledgement::Answer(answer(json!({ "type": 8, "data": { "choices": [] } }))),
            ),
            _ => (None, Acknowledgement::Answer(answer(json!({ "type": 5 })))),
        };
        Ok(Description {
            handshake: handshake.map(|answer| Handshake {
                kind: "ping",
                answer,
            }),
            acknowledgement,
            // The interaction's `id` is inside the signed body.
            ..Description::signed_id(event_type, body.id, request.body)
        })
    }

    fn sign(&self, key: &Key, message: &Outgoing<'_>) -> Signed {
        let timestamp = message.timestamp.to_string();
        let signature = match key {
            Key::Ed25519Private(private) => hex::encode(
                private
                    .sign(&[timestamp.as_bytes(), message.body].concat())
                    .to_bytes(),
            ),
            _ => String::new(),
        };
        Signed::with_headers(
            message,
            vec![(TIMESTAMP_HEADER, timestamp), (SIGNATURE_HEADER, signature)],
        )
    }

    /// A key pair: the public key as the portal shows it (hex), the private seed (hex).
    fn local_credentials(&self, random: &[u8; 32]) -> Credentials {
        let private = SigningKey::from_bytes(random);
        Credentials {
            verify: hex::encode(private.verifying_key().as_bytes()),
            sign: hex::encode(private.to_bytes()),
        }
    }
}

#[derive(Deserialize)]
struct DiscordBody {
    #[serde(default)]
    r#type: Option<u64>,
    #[serde(default, deserialize_with = "lenient_string")]
    id: Option<String>,
    #[serde(default)]
    event: Option<WebhookEvent>,
}

#[derive(Deserialize)]
struct WebhookEvent {
    #[serde(default, deserialize_with = "lenient_string")]
    r#type: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::super::VerifyError;
    use super::super::test_support::*;
    use crate::describe::Acknowledgement;
    use crate::verify::Request;

    // No vector is published; Ed25519 is deterministic: seed = bytes 0..31, signed with Python's
    // `cryptography` (research note).
    const PUBLIC: &str = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
    const TS: i64 = 1_700_000_000;
    const PING: &[u8] = br#"{"type":1}"#;
    const SIG: &str = "c1098e97d711377f30225d53d94b89d43537f92e5b3afaddc590781b1f9f9d4b2eeab335d370be3b9a090bc61a85b86448bc140dcd195f1569c2bff181257607";

    fn signed(sig: &str) -> http::HeaderMap {
        headers(&[
            ("X-Signature-Ed25519", sig),
            ("X-Signature-Timestamp", "1700000000"),
        ])
    }

    #[test]
    fn ping_verifies_and_is_answered_type_1() {
        let v = verifier(scheme("discord"), &[PUBLIC]);
        let h = signed(SIG);
        let request = Request::post(&h, PING);
        assert_eq!(v.verify_request(&request, TS), Ok(()));
        let handshake = v.describe(&request).unwrap().handshake.unwrap();
        assert_eq!(handshake.answer.body, r#"{"type":1}"#);
        assert_eq!(handshake.answer.content_type, Some("application/json"));
    }

    #[test]
    fn anything_unverifiable_is_refused() {
        let v = verifier(scheme("discord"), &[PUBLIC]);
        assert_eq!(
            v.verify(&signed(SIG), br#"{"type":2}"#, TS),
            Err(VerifyError::SignatureMismatch)
        );
        let mut flipped = SIG.to_owned();
        flipped.replace_range(0..2, "c0");
        assert!(v.verify(&signed(&flipped), PING, TS).is_err());
        assert_eq!(
            v.verify(&signed(&SIG[..126]), PING, TS)
                .map_err(|e| e.code()),
            Err("malformed_signature")
        );
        assert!(matches!(
            v.verify(&signed(SIG), PING, TS + 601),
            Err(VerifyError::TimestampTooOld { .. })
        ));
        // A shared secret is no public key.
        let err = crate::verify::Verifier::new(
            scheme("discord"),
            &[crate::verify::SigningSecret::new("not a key")],
            std::time::Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(err.to_string().contains("Ed25519 public key"), "{err}");
    }

    #[test]
    fn interactions_are_deferred_and_webhook_events_get_204() {
        let v = verifier(scheme("discord"), &[PUBLIC]);
        let h = signed(SIG);
        let ack = |body: &[u8]| v.describe(&Request::post(&h, body)).unwrap();
        let command = ack(br#"{"type":2,"id":"123","token":"t","data":{"name":"deploy"}}"#);
        assert_eq!(command.event_type.as_deref(), Some("interaction.2"));
        assert_eq!(command.dedup_id, "123");
        let Acknowledgement::Answer(answer) = command.acknowledgement else {
            panic!("deferred");
        };
        assert_eq!(answer.body, r#"{"type":5}"#);
        let Acknowledgement::Answer(answer) = ack(br#"{"type":3,"id":"1"}"#).acknowledgement else {
            panic!("deferred update");
        };
        assert_eq!(answer.body, r#"{"type":6}"#);
        // Discord's PING carries no `event`; with one, it is the same PING.
        for ping in [
            &br#"{"version":1,"application_id":"1","type":0}"#[..],
            br#"{"version":1,"application_id":"1","type":0,"event":{}}"#,
        ] {
            let ping = ack(ping);
            assert_eq!(ping.handshake.unwrap().answer.status, 204);
        }
        let event = ack(br#"{"version":1,"application_id":"1","type":1,"event":{"type":"APPLICATION_AUTHORIZED","data":{}}}"#);
        assert_eq!(event.event_type.as_deref(), Some("APPLICATION_AUTHORIZED"));
        let Acknowledgement::Answer(answer) = event.acknowledgement else {
            panic!("204");
        };
        assert_eq!((answer.status, answer.body.as_str()), (204, ""));
    }
}
