"""boto3 against hookline's local S3 endpoint, unchanged: a bucket, put_object (bytes, a file
object, caller-given checksums), get_object with checksum validation, head_object,
list_objects_v2 (boto3 asks for encoding-type=url and decodes the keys), delete_object,
errors as boto3 parses them, and the managed transfer (upload_fileobj / download_fileobj).
boto3 >= 1.36 computes a CRC32 for every upload and validates the checksum of every download
that carries one. Over http:// it sends that CRC32 as a header with a signed payload; over
https:// (real S3) it sends the body aws-chunked with the CRC32 as a trailer
(STREAMING-UNSIGNED-PAYLOAD-TRAILER, Transfer-Encoding: chunked): the last part makes boto3
choose the https:// encoding over http:// and checks that it did. Exits non-zero on the first
mismatch.

Usage: python boto3_s3.py http://127.0.0.1:<port>
"""
import base64
import hashlib
import io
import os
import sys

import boto3
import botocore

endpoint = sys.argv[1]
session = boto3.session.Session(
    region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local"
)
s3 = session.client("s3", endpoint_url=endpoint)

s3.create_bucket(Bucket="boto3-claims")
assert "boto3-claims" in [b["Name"] for b in s3.list_buckets()["Buckets"]]

body = os.urandom(3 * 1024 * 1024)
put = s3.put_object(Bucket="boto3-claims", Key="stripe/big.bin", Body=body)
assert put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest(), put
assert "ChecksumCRC32" in put, put

# A file object: boto3 streams it.
s3.put_object(
    Bucket="boto3-claims",
    Key="stripe/evt 1+ü.json",
    Body=io.BytesIO(b'{"id":"evt_1"}'),
    ContentType="application/json",
    Metadata={"sha256": "abc"},
)
sha1 = base64.b64encode(hashlib.sha1(b"sha1 body").digest()).decode()
s3.put_object(Bucket="boto3-claims", Key="sha1", Body=b"sha1 body", ChecksumSHA1=sha1)
try:
    s3.put_object(Bucket="boto3-claims", Key="bad", Body=b"x", ChecksumSHA1=sha1)
    raise AssertionError("a wrong SHA-1 was accepted")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "BadDigest", e.response

got = s3.get_object(Bucket="boto3-claims", Key="stripe/big.bin", ChecksumMode="ENABLED")
assert got["Body"].read() == body
assert got["ChecksumCRC32"], got
got = s3.get_object(Bucket="boto3-claims", Key="stripe/evt 1+ü.json")
assert got["Body"].read() == b'{"id":"evt_1"}'
assert got["ContentType"] == "application/json", got["ContentType"]
assert got["Metadata"] == {"sha256": "abc"}, got["Metadata"]
got = s3.get_object(Bucket="boto3-claims", Key="sha1", ChecksumMode="ENABLED")
assert got["ChecksumSHA1"] == sha1 and got["Body"].read() == b"sha1 body"

head = s3.head_object(Bucket="boto3-claims", Key="stripe/big.bin")
assert head["ContentLength"] == len(body), head

listed = s3.list_objects_v2(Bucket="boto3-claims", Prefix="stripe/")
assert [o["Key"] for o in listed["Contents"]] == ["stripe/big.bin", "stripe/evt 1+ü.json"], listed
assert listed["KeyCount"] == 2 and not listed["IsTruncated"], listed
pages = s3.get_paginator("list_objects_v2").paginate(Bucket="boto3-claims", PaginationConfig={"PageSize": 1})
assert [o["Key"] for p in pages for o in p.get("Contents", [])] == [
    "sha1",
    "stripe/big.bin",
    "stripe/evt 1+ü.json",
]

# The managed transfer (what `aws s3 cp` uses), below its multipart threshold.
s3.upload_fileobj(io.BytesIO(body[:1000]), "boto3-claims", "transfer")
out = io.BytesIO()
s3.download_fileobj("boto3-claims", "transfer", out)
assert out.getvalue() == body[:1000]

s3.delete_object(Bucket="boto3-claims", Key="stripe/big.bin")
s3.delete_object(Bucket="boto3-claims", Key="never-was")
try:
    s3.get_object(Bucket="boto3-claims", Key="stripe/big.bin")
    raise AssertionError("a deleted object was read")
except s3.exceptions.NoSuchKey:
    pass
try:
    s3.head_object(Bucket="boto3-claims", Key="stripe/big.bin")
    raise AssertionError("a deleted object was found")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "404", e.response
try:
    s3.get_object(Bucket="no-such-bucket", Key="k")
    raise AssertionError("a missing bucket was read")
except s3.exceptions.NoSuchBucket:
    pass
try:
    s3.create_multipart_upload(Bucket="boto3-claims", Key="big")
    raise AssertionError("multipart uploads are not served")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "NotImplemented", e.response
    assert "CreateMultipartUpload" in e.response["Error"]["Message"], e.response

# What boto3 sends to S3 over TLS: it decides on trailers from the URL's scheme alone
# (botocore.httpchecksum.resolve_request_checksum_algorithm), so it is told https.
import botocore.httpchecksum as httpchecksum

real_urlparse = httpchecksum.urlparse
httpchecksum.urlparse = lambda url: real_urlparse(url.replace("http://", "https://", 1))
sent = []
s3.meta.events.register(
    "before-send.s3.PutObject", lambda request, **kwargs: sent.append(dict(request.headers))
)
for key, payload in [("tls/bytes", body), ("tls/file", io.BytesIO(body[:70000]))]:
    s3.put_object(Bucket="boto3-claims", Key=key, Body=payload)
    headers = {k.lower(): v for k, v in sent[-1].items()}
    encoding = headers.get("content-encoding", b"")
    encoding = encoding.decode() if isinstance(encoding, bytes) else encoding
    assert "aws-chunked" in encoding, headers
    assert headers.get("x-amz-trailer") in ("x-amz-checksum-crc32", b"x-amz-checksum-crc32"), headers
expected = {"tls/bytes": body, "tls/file": body[:70000]}
for key, payload in expected.items():
    got = s3.get_object(Bucket="boto3-claims", Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == payload, key
    assert got["ChecksumCRC32"], got
    assert "ContentEncoding" not in got, got
httpchecksum.urlparse = real_urlparse

print("boto3 s3 ok")
