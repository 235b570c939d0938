"""The providers' official SDKs against hookline's signatures, for tests/official_sdks.rs.

Reads JSON cases on stdin: each a scheme, its keys, a URL and a delivery hookline signed.
Writes JSON on stdout: per case, whether the provider's SDK verifies hookline's delivery, and,
where the SDK can sign, a delivery the SDK signed (for hookline to verify).
"""

import base64
import hashlib
import json
import sys
import time
from urllib.parse import parse_qsl


def sdk_verifies(case, headers, body, url):
    scheme, key = case["scheme"], case["verify_key"]
    if scheme == "twilio":
        from twilio.request_validator import RequestValidator

        params = body.decode() if "bodySHA256=" in url else dict(parse_qsl(body.decode(), keep_blank_values=True))
        return RequestValidator(key).validate(url, params, headers["x-twilio-signature"])
    if scheme == "paddle":
        from paddle_billing.Notifications import Secret, Verifier

        class Request:  # what the SDK reads of a request: headers.get() and body
            def __init__(self):
                self.headers = {"Paddle-Signature": headers["paddle-signature"]}
                self.body = body

        return Verifier().verify(Request(), Secret(key))
    if scheme == "square":
        from square.utils.webhooks_helper import verify_signature

        return verify_signature(
            request_body=body.decode(),
            signature_header=headers["x-square-hmacsha256-signature"],
            signature_key=key,
            notification_url=url,
        )
    if scheme == "hubspot":
        from hubspot.utils.signature import Signature

        return Signature.is_valid(
            signature=headers["x-hubspot-signature-v3"],
            client_secret=key,
            request_body=body.decode(),
            http_uri=url,
            http_method="POST",
            signature_version="v3",
            timestamp=headers["x-hubspot-request-timestamp"],
        )
    if scheme == "sendgrid":
        from sendgrid.helpers.eventwebhook import EventWebhook

        return EventWebhook(key).verify_signature(
            body.decode(),
            headers["x-twilio-email-event-webhook-signature"],
            headers["x-twilio-email-event-webhook-timestamp"],
        )
    if scheme == "discord":
        from nacl.exceptions import BadSignatureError
        from nacl.signing import VerifyKey

        try:
            VerifyKey(bytes.fromhex(key)).verify(
                headers["x-signature-timestamp"].encode() + body,
                bytes.fromhex(headers["x-signature-ed25519"]),
            )
            return True
        except BadSignatureError:
            return False
    if scheme == "mailgun":
        from mailgun.security import SecurityGuard

        s = json.loads(body)["signature"]
        return SecurityGuard.verify_webhook(key, s["token"], s["timestamp"], s["signature"])
    raise ValueError(f"no official SDK check for {scheme}")


def sdk_signs(case, url, body):
    """A delivery of `body` to `url` signed by the SDK, or None where the SDK has no signer."""
    scheme, key = case["scheme"], case["sign_key"]
    now = int(time.time())
    if scheme == "twilio":
        from twilio.request_validator import RequestValidator

        validator = RequestValidator(key)
        if body.lstrip().startswith(b"{"):
            url = f"{url}&bodySHA256={validator.compute_hash(body.decode())}"
            signature = validator.compute_signature(url, {})
        else:
            signature = validator.compute_signature(url, dict(parse_qsl(body.decode(), keep_blank_values=True)))
        return url, {"X-Twilio-Signature": signature}
    if scheme == "paddle":
        from paddle_billing.Notifications import PaddleSignature

        h1 = PaddleSignature.calculate_hmac(key, f"{now}:{body.decode()}".encode()).hexdigest()
        return url, {"Paddle-Signature": f"ts={now};h1={h1}"}
    if scheme == "hubspot":
        from hubspot.utils.signature import Signature

        ts = str(now * 1000)
        signature = Signature.get_signature(key, body.decode(), "v3", http_uri=url, timestamp=ts)
        return url, {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": ts}
    if scheme == "discord":
        from nacl.signing import SigningKey

        ts = str(now)
        signature = SigningKey(bytes.fromhex(key)).sign(ts.encode() + body).signature.hex()
        return url, {"X-Signature-Ed25519": signature, "X-Signature-Timestamp": ts}
    return None  # Square, SendGrid and Mailgun ship verifiers only


def main():
    results = []
    for case in json.load(sys.stdin):
        headers = {k.lower(): v for k, v in case["headers"].items()}
        body = base64.b64decode(case["body_b64"])
        verified = sdk_verifies(case, headers, body, case["url"])
        fresh = base64.b64decode(case["fresh_body_b64"])
        signed = sdk_signs(case, case["base_url"], fresh)
        results.append(
            {
                "scheme": case["scheme"],
                "sdk_verifies_hookline": bool(verified),
                "sdk_signed": None if signed is None else {"url": signed[0], "headers": signed[1]},
            }
        )
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
