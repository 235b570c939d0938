# Benchmark baseline, not part of hookline: `cargo xtask bench` runs this function beside
# hookline's `stripe-ingest` (section 1 and the cost section of BENCHMARKS.md) to compare cold
# start, warm duration, memory and cost with a minimal Python ingest written the way AWS's
# Lambda documentation shows a Python handler (a boto3 client created once at module level, a
# `lambda_handler(event, context)` that returns an API Gateway proxy response), with Stripe's
# manual signature verification ("Verify webhook signatures manually", Stripe docs).
#
# It runs under the official Runtime Interface Client (`python -m awslambdaric
# stripe_ingest.lambda_handler`) in hookline's local Runtime API emulator. It does less than
# hookline's ingest on purpose: no envelope (the raw body is the message), no secret rotation,
# no log line, no metrics.
#
# Environment: QUEUE_URL, STRIPE_WEBHOOK_SECRET, and the usual AWS variables (boto3 honours
# AWS_ENDPOINT_URL_SQS).

import base64
import hashlib
import hmac
import json
import os
import time

import boto3

sqs = boto3.client("sqs")
QUEUE_URL = os.environ["QUEUE_URL"]
SECRET = os.environ["STRIPE_WEBHOOK_SECRET"].encode()
# Stripe's libraries allow 300 seconds between the signature's timestamp and now.
TOLERANCE_SECONDS = 300


def verify(header, payload):
    """Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<payload>">[,v1=...]"""
    timestamp = None
    signatures = []
    for item in header.split(","):
        key, _, value = item.partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    try:
        if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
            return False
    except ValueError:
        return False
    expected = hmac.new(SECRET, timestamp.encode() + b"." + payload, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, s) for s in signatures)


def respond(status, body):
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }


def lambda_handler(event, context):
    body = event.get("body") or ""
    payload = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if not verify(headers.get("stripe-signature", ""), payload):
        return respond(400, {"error": "invalid signature"})
    sqs.send_message(QueueUrl=QUEUE_URL, MessageBody=payload.decode())
    return respond(200, {"status": "received"})
