//! Twilio: `X-Twilio-Signature: <base64 HMAC-SHA1(auth token, url + params)>`, where `url` is the
//! full URL Twilio requested (query included) and `params` the POST parameters sorted by name
//! (each name followed by its value, no delimiters). A JSON body is covered through the URL:
//! Twilio adds `bodySHA256=<hex SHA-256 of the body>` to the query and signs the URL alone.
//! Sources: Twilio's "Webhooks security" and twilio-python `request_validator.py` (which also
//! accepts the URL with and without its port, and sorts each name's distinct values).
//!
//! Twilio signs no timestamp and no id (`I-Twilio-Idempotency-Token` is an unsigned header), so
//! the dedup id is the digest of type and body. A queued delivery is acknowledged with empty
//! TwiML as `text/xml`: "If you are trying to send a 200 response in a status callback, use an
//! empty TwiML response" (Twilio error 11750). The shared-key SHA-256 signing in public beta
//! (`X-Twilio-Webhooks-Signature-Settings`) is not supported: such a request is refused.

use sha2::Digest as _;

use super::keys::{Key, constant_time_eq, hex_secret};
use super::url::{port_variants, query_param};
use super::{Algorithm, Context, Credentials, Named, Outgoing, Request, SchemeSpec, Signed};
use super::{VerifyError, headers};
use crate::describe::{Acknowledgement, Answer, Description, MalformedBody, header};

pub(crate) const SIGNATURE_HEADER: &str = "x-twilio-signature";
pub(crate) const IDEMPOTENCY_HEADER: &str = "i-twilio-idempotency-token";
const BODY_HASH_PARAM: &str = "bodySHA256";
/// What `str(MessagingResponse())` of twilio-python renders: TwiML that does nothing.
pub(crate) const EMPTY_TWIML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response />"#;

/// The Twilio scheme.
#[derive(Debug, Default)]
pub(crate) struct Twilio;

impl Named for Twilio {
    const NAME: &'static str = "twilio";
}

impl SchemeSpec for Twilio {
    fn signature_headers(&self) -> Vec<&str> {
        vec![SIGNATURE_HEADER]
    }

    fn signs_url(&self) -> bool {
        true
    }

    fn signs_timestamp(&self) -> bool {
        false
    }

    fn key(&self, secret: &str) -> Result<Key, &'static str> {
        Key::hmac(Algorithm::Sha1, secret.as_bytes()).ok_or("a non-empty auth token")
    }

    fn verify(&self, ctx: &Context<'_>, request: &Request<'_>) -> Result<(), VerifyError> {
        let value = headers::single(request.headers, SIGNATURE_HEADER)?;
        let signature = headers::decode_base64(value, 20, SIGNATURE_HEADER)?;
        let params = match query_param(request.url, BODY_HASH_PARAM) {
            // A JSON body: its hash is in the signed URL.
            Some(expected) => {
                let actual = hex::encode(sha2::Sha256::digest(request.body));
                if !constant_time_eq(actual.as_bytes(), expected.to_ascii_lowercase().as_bytes()) {
                    return Err(VerifyError::SignatureMismatch);
                }
                String::new()
            }
            None => sorted_params(request.body),
        };
        let candidates = [signature];
        let matches = port_variants(request.url)
            .iter()
            .any(|url| ctx.any_mac_matches(&[url.as_bytes(), params.as_bytes()], &candidates));
        if matches {
            Ok(())
        } else {
            Err(VerifyError::SignatureMismatch)
        }
    }

    fn describe(&self, request: &Request<'_>, _keys: &[Key]) -> Result<Description, MalformedBody> {
        let mut has_body = false;
        let mut has_status = false;
        let mut has_call = false;
        for (name, _) in form_urlencoded::parse(request.body) {
            match &*name {
                "Body" => has_body = true,
                "MessageStatus" => has_status = true,
                "CallSid" => has_call = true,
                _ => {}
            }
        }
        let event_type = if has_status {
            Some("message.status")
        } else if has_body {
            Some("message.received")
        } else if has_call {
            Some("call")
        } else {
            None
        };
        Ok(Description {
            acknowledgement: Acknowledgement::Answer(Answer::text("text/xml", EMPTY_TWIML)),
            ..Description::unsigned_id(
                event_type.map(str::to_owned),
                header(request.headers, IDEMPOTENCY_HEADER),
                request.body,
            )
        })
    }

    /// A form body is signed with its parameters; any other body (JSON) by its hash in the URL.
    fn sign(&self, key: &Key, message: &Outgoing<'_>) -> Signed {
        let is_form = !message.body.trim_ascii_start().starts_with(b"{")
            && !message.body.trim_ascii_start().starts_with(b"[");
        let (url, params) = if is_form {
            (message.url.to_owned(), sorted_params(message.body))
        } else {
            let hash = hex::encode(sha2::Sha256::digest(message.body));
            let separator = if message.url.contains('?') { '&' } else { '?' };
            (
                format!("{}{separator}{BODY_HASH_PARAM}={hash}", message.url),
                String::new(),
            )
        };
        let signature = key.mac_base64(&[url.as_bytes(), params.as_bytes()]);
        let mut signed = Signed::with_headers(message, vec![(SIGNATURE_HEADER, signature)]);
        signed.url = url;
        if !message.delivery_id.is_empty() {
            signed.headers.push((
                IDEMPOTENCY_HEADER.to_owned(),
                message.delivery_id.to_owned(),
            ));
        }
        signed
    }

    /// An auth token as the console shows it: 32 hex digits.
    fn local_credentials(&self, random: &[u8; 32]) -> Credentials {
        let token = hex_secret(random)[..32].to_owned();
        Credentials {
            verify: token.clone(),
            sign: token,
        }
    }
}

/// The form's parameters sorted by name, each name's distinct values sorted, concatenated as
/// `name value name value ...` without delimiters (twilio-python `compute_signature`).
fn sorted_params(body: &[u8]) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    pairs.dedup();
    pairs.into_iter().map(|(k, v)| k + &v).collect()
}

#[cfg(test)]
mod tests {
    use super::super::VerifyError;
    use super::super::test_support::*;
    use crate::verify::Request;

    // twilio-python tests/unit/test_request_validator.py
    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const FORM: &[u8] = b"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212";
    const JSON: &[u8] = br#"{"property": "value", "boolean": true}"#;

    fn check(url: &str, sig: &str, body: &[u8]) -> Result<(), VerifyError> {
        let h = headers(&[("X-Twilio-Signature", sig)]);
        verifier(scheme("twilio"), &[TOKEN]).verify_request(
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
    fn published_vectors_verify() {
        assert_eq!(check(URL, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", FORM), Ok(()));
        // Signed with the port, received without it (and the reverse).
        assert_eq!(check(URL, "kvajT1Ptam85bY51eRf/AJRuM3w=", FORM), Ok(()));
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        assert_eq!(
            check(with_port, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", FORM),
            Ok(())
        );
        let http_port = "http://mycompany.com:1234/myapp.php?foo=1&bar=2";
        assert_eq!(
            check(http_port, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", FORM),
            Ok(())
        );
        // JSON: the body's hash is in the signed URL.
        let json_url = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        assert_eq!(
            check(json_url, "a9nBmqA0ju/hNViExpshrM61xv4=", JSON),
            Ok(())
        );
    }

    #[test]
    fn tampering_wrong_url_and_bad_headers() {
        let sig = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
        let tampered = b"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1235&From=%2B14158675309&To=%2B18005551212";
        assert_eq!(
            check(URL, sig, tampered),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            check("https://mycompany.com/other.php?foo=1&bar=2", sig, FORM),
            Err(VerifyError::SignatureMismatch)
        );
        let json_url = "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        assert_eq!(
            check(
                json_url,
                "a9nBmqA0ju/hNViExpshrM61xv4=",
                br#"{"property": "other"}"#
            ),
            Err(VerifyError::SignatureMismatch)
        );
        for bad in ["", "not base64!", "RSOYDt4T1cUTdK1PDd93"] {
            assert!(check(URL, bad, FORM).is_err(), "{bad}");
        }
    }

    #[test]
    fn described_and_acknowledged_with_empty_twiml() {
        let h = headers(&[]);
        let v = verifier(scheme("twilio"), &[TOKEN]);
        let sms = b"MessageSid=SM1&From=%2B1&To=%2B2&Body=hi&SmsStatus=received";
        let d = v.describe(&Request::post(&h, sms)).unwrap();
        assert_eq!(d.event_type.as_deref(), Some("message.received"));
        let crate::describe::Acknowledgement::Answer(answer) = d.acknowledgement else {
            panic!("Twilio is acknowledged with TwiML");
        };
        assert_eq!(answer.content_type, Some("text/xml"));
        assert!(answer.body.contains("<Response />"));
        let status = b"MessageSid=SM1&MessageStatus=delivered&SmsStatus=delivered";
        let d = v.describe(&Request::post(&h, status)).unwrap();
        assert_eq!(d.event_type.as_deref(), Some("message.status"));
    }
}
