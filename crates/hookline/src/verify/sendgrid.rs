//! SendGrid Event Webhook: ECDSA P-256 with SHA-256 over
//! `X-Twilio-Email-Event-Webhook-Timestamp` + body, the DER signature in base64 in
//! `X-Twilio-Email-Event-Webhook-Signature`, verified with the public key the dashboard shows
//! (base64 SPKI DER) (SendGrid's "Getting started with the Event Webhook security features";
//! sendgrid-python `helpers/eventwebhook`). The body is verified byte for byte, trailing
//! `\r\n` included.
//!
//! SendGrid's libraries apply no tolerance and SendGrid retries for up to a day, so the
//! default is hookline's largest: one day. The body is a JSON array of events; the first one's
//! `event` is the event type; the dedup id is the digest of the events' `sg_event_id`s.

use std::time::Duration;

use base64::Engine as _;
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePublicKey as _, EncodePublicKey as _};

use super::keys::{BASE64, Key};
use super::{Context, Credentials, Named, Outgoing, Request, SchemeSpec, Signed, VerifyError};
use super::{headers, parse_unix_seconds};
use crate::describe::{Description, MalformedBody, lenient_string};

pub(crate) const SIGNATURE_HEADER: &str = "x-twilio-email-event-webhook-signature";
pub(crate) const TIMESTAMP_HEADER: &str = "x-twilio-email-event-webhook-timestamp";

/// The SendGrid Event Webhook scheme.
#[derive(Debug, Default)]
pub(crate) struct SendGrid;

impl Named for SendGrid {
    const NAME: &'static str = "sendgrid";
}

impl SchemeSpec for SendGrid {
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
        Duration::from_secs(crate::config::MAX_TOLERANCE_SECS)
    }

    fn key(&self, secret: &str) -> Result<Key, &'static str> {
        BASE64
            .decode(secret.trim())
            .ok()
            .and_then(|der| VerifyingKey::from_public_key_der(&der).ok())
            .map(Key::P256Public)
            .ok_or("an ECDSA P-256 public key: base64 SPKI DER, as SendGrid's dashboard shows it")
    }

    fn signing_key(&self, secret: &str) -> Result<Key, &'static str> {
        hex::decode(secret.trim())
            .ok()
            .and_then(|bytes| SigningKey::from_slice(&bytes).ok())
            .map(|key| Key::P256Private(Box::new(key)))
            .ok_or("an ECDSA P-256 private key: 64 hex digits")
    }

    fn verify(&self, ctx: &Context<'_>, request: &Request<'_>) -> Result<(), VerifyError> {
        let value = headers::single(request.headers, SIGNATURE_HEADER)?;
        let timestamp = headers::single(request.headers, TIMESTAMP_HEADER)?;
        let malformed = VerifyError::MalformedHeader {
            header: SIGNATURE_HEADER.to_owned(),
            reason: "the signature is not a base64 DER ECDSA signature",
        };
        let der = BASE64.decode(value).map_err(|_| malformed.clone())?;
        let signature = Signature::from_der(&der).map_err(|_| malformed)?;
        ctx.check_timestamp(parse_unix_seconds(timestamp, TIMESTAMP_HEADER)?)?;
        let message = [timestamp.as_bytes(), request.body].concat();
        let verified = ctx.keys().iter().any(|key| match key {
            Key::P256Public(public) => public.verify(&message, &signature).is_ok(),
            _ => false,
        });
        if verified {
            Ok(())
        } else {
            Err(VerifyError::SignatureMismatch)
        }
    }

    fn describe(&self, request: &Request<'_>, _keys: &[Key]) -> Result<Description, MalformedBody> {
        if request.body.trim_ascii_start().first() != Some(&b'[') {
            return Err(MalformedBody::NotJsonObject);
        }
        let events: Vec<SendGridEvent> =
            serde_json::from_slice(request.body).map_err(|_| MalformedBody::NotJsonObject)?;
        let event_type = events.first().and_then(|e| e.event.clone());
        let ids = events.into_iter().map(|e| e.sg_event_id).collect();
        Ok(Description::batch(event_type, ids, request.body))
    }

    fn sign(&self, key: &Key, message: &Outgoing<'_>) -> Signed {
        let timestamp = message.timestamp.to_string();
        let signature = match key {
            Key::P256Private(private) => {
                let signature: Signature =
                    private.sign(&[timestamp.as_bytes(), message.body].concat());
                base64::engine::general_purpose::STANDARD.encode(signature.to_der().as_bytes())
            }
            _ => String::new(),
        };
        Signed::with_headers(
            message,
            vec![(TIMESTAMP_HEADER, timestamp), (SIGNATURE_HEADER, signature)],
        )
    }

    /// A key pair: the public key as the dashboard shows it, the private scalar in hex.
    fn local_credentials(&self, random: &[u8; 32]) -> Credentials {
        // 32 bytes are a valid scalar unless zero or at least the group order (odds about
        // 2^-32): such bytes are hashed again.
        let mut candidate = *random;
        let private = loop {
            if let Ok(key) = SigningKey::from_slice(&candidate) {
                break key;
            }
            use sha2::Digest as _;
            candidate = sha2::Sha256::digest(candidate).into();
        };
        let public = p256::PublicKey::from(private.verifying_key())
            .to_public_key_der()
            .map(|der| base64::engine::general_purpose::STANDARD.encode(der.as_bytes()))
            .unwrap_or_default();
        Credentials {
            verify: public,
            sign: hex::encode(private.to_bytes()),
        }
    }
}

#[derive(serde::Deserialize)]
struct SendGridEvent {
    #[serde(default, deserialize_with = "lenient_string")]
    event: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    sg_event_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::super::VerifyError;
    use super::super::test_support::*;
    use crate::verify::Request;

    // sendgrid/sendgrid-python test/unit/test_eventwebhook.py
    const PUBLIC: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==";
    const TS: &str = "1600112502";
    const SIG: &str = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=";
    const BODY: &[u8] = b"[{\"email\":\"hello@world.com\",\"event\":\"dropped\",\"reason\":\"Bounced Address\",\"sg_event_id\":\"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA\",\"sg_message_id\":\"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0\",\"smtp-id\":\"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>\",\"timestamp\":1600112492}]\r\n";
    const NOW: i64 = 1_600_112_502;

    fn signed(sig: &str, ts: &str) -> http::HeaderMap {
        headers(&[
            ("X-Twilio-Email-Event-Webhook-Signature", sig),
            ("X-Twilio-Email-Event-Webhook-Timestamp", ts),
        ])
    }

    #[test]
    fn published_vector_verifies_byte_for_byte() {
        let v = verifier(scheme("sendgrid"), &[PUBLIC]);
        let h = signed(SIG, TS);
        assert_eq!(v.verify(&h, BODY, NOW), Ok(()));
        // Without the trailing CRLF the bytes differ.
        assert_eq!(
            v.verify(&h, &BODY[..BODY.len() - 2], NOW),
            Err(VerifyError::SignatureMismatch)
        );
        let d = v.describe(&Request::post(&h, BODY)).unwrap();
        assert_eq!(d.event_type.as_deref(), Some("dropped"));
    }

    #[test]
    fn wrong_timestamp_and_bad_headers() {
        let v = verifier(scheme("sendgrid"), &[PUBLIC]);
        assert_eq!(
            v.verify(&signed(SIG, "1600112503"), BODY, NOW),
            Err(VerifyError::SignatureMismatch)
        );
        for sig in ["", "not base64!", "AAAA"] {
            assert!(v.verify(&signed(sig, TS), BODY, NOW).is_err(), "{sig}");
        }
        let err = crate::verify::Verifier::new(
            scheme("sendgrid"),
            &[crate::verify::SigningSecret::new("whsec_abc")],
            std::time::Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(err.to_string().contains("P-256 public key"), "{err}");
    }
}
