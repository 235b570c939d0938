//! Square: `x-square-hmacsha256-signature: <base64 HMAC-SHA256(signature key, url + body)>`,
//! where `url` is the subscription's notification URL exactly, keyed with the signature key's
//! text as is (Square's "Verify and validate an event notification"; squareup
//! `square/utils/webhooks_helper.py`). No timestamp is signed. The event's `type` and
//! `event_id` ("use the generated idempotency value that's included as the event_id field")
//! are in the signed body.

use super::headers;
use super::keys::Key;
use super::{Context, Credentials, Named, Outgoing, Request, SchemeSpec, Signed, VerifyError};
use crate::describe::{Description, MalformedBody, json_object, lenient_string};

pub(crate) const SIGNATURE_HEADER: &str = "x-square-hmacsha256-signature";

/// The Square scheme.
#[derive(Debug, Default)]
pub(crate) struct Square;

impl Named for Square {
    const NAME: &'static str = "square";
}

impl SchemeSpec for Square {
    fn signature_headers(&self) -> Vec<&str> {
        // Square also sends the older HMAC-SHA1 `x-square-signature`.
        vec![SIGNATURE_HEADER, "x-square-signature"]
    }

    fn signs_url(&self) -> bool {
        true
    }

    fn signs_timestamp(&self) -> bool {
        false
    }

    fn verify(&self, ctx: &Context<'_>, request: &Request<'_>) -> Result<(), VerifyError> {
        let value = headers::single(request.headers, SIGNATURE_HEADER)?;
        let signature = headers::decode_base64(value, 32, SIGNATURE_HEADER)?;
        ctx.expect_mac(&[request.url.as_bytes(), request.body], &[signature])
    }

    fn describe(&self, request: &Request<'_>, _keys: &[Key]) -> Result<Description, MalformedBody> {
        let event: SquareEvent = json_object(request.body)?;
        Ok(Description::signed_id(
            event.r#type,
            event.event_id,
            request.body,
        ))
    }

    fn sign(&self, key: &Key, message: &Outgoing<'_>) -> Signed {
        let signature = key.mac_base64(&[message.url.as_bytes(), message.body]);
        Signed::with_headers(message, vec![(SIGNATURE_HEADER, signature)])
    }

    /// A signature key as the Developer Console shows it: 22 characters of URL-safe base64.
    fn local_credentials(&self, random: &[u8; 32]) -> Credentials {
        use base64::Engine as _;
        let key = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&random[..16]);
        Credentials {
            verify: key.clone(),
            sign: key,
        }
    }
}

#[derive(serde::Deserialize)]
struct SquareEvent {
    #[serde(default, deserialize_with = "lenient_string")]
    r#type: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    event_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::super::VerifyError;
    use super::super::test_support::*;
    use crate::verify::Request;

    // square/square-python-sdk tests/integration/test_webhooks_helper.py
    const KEY: &str = "Ibxx_5AKakO-3qeNVR61Dw";
    const URL: &str = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9";
    const BODY: &[u8] = br#"{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}"#;
    const SIG: &str = "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=";

    fn check(url: &str, sig: &str, body: &[u8], key: &str) -> Result<(), VerifyError> {
        let h = headers(&[("x-square-hmacsha256-signature", sig)]);
        verifier(scheme("square"), &[key]).verify_request(
            &Request {
                method: "POST",
                url,
                headers: &h,
                body,
            },
            0,
        )
    }

    #[test]
    fn published_vectors_verify_and_describe() {
        assert_eq!(check(URL, SIG, BODY, KEY), Ok(()));
        let body = br#"{"data":{"type":"webhooks","id":">id<"}}"#;
        assert_eq!(
            check(
                "https://webhook.site/webhooks",
                "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=",
                body,
                "signature-key"
            ),
            Ok(())
        );
        let h = headers(&[]);
        let d = verifier(scheme("square"), &[KEY])
            .describe(&Request::post(&h, BODY))
            .unwrap();
        assert_eq!(d.event_type.as_deref(), Some("webhooks.test_notification"));
        assert_eq!(d.dedup_id, "ac3ac95b-f97d-458c-a6e6-18981597e05f");
    }

    #[test]
    fn wrong_url_tampering_wrong_key_and_bad_headers() {
        assert_eq!(
            check(&format!("{URL}/"), SIG, BODY, KEY),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            check(URL, SIG, &BODY[1..], KEY),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            check(URL, SIG, BODY, "other"),
            Err(VerifyError::SignatureMismatch)
        );
        for bad in ["", "%%%", &SIG[..20]] {
            assert!(check(URL, bad, BODY, KEY).is_err(), "{bad}");
        }
    }
}
