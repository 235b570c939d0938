"""boto3 against hookline's local DynamoDB endpoint, unchanged: a table with TTL, the
idempotency store's conditional claim (with ALL_OLD on failure), completion, reads and
deletes, through the client and the resource layer. boto3 checks each response's x-amz-crc32
itself. Exits non-zero on the first mismatch.

Usage: python boto3_dynamodb.py http://127.0.0.1:<port>
"""
import sys

import boto3
from boto3.dynamodb.conditions import Attr

endpoint = sys.argv[1]
session = boto3.session.Session(
    region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local"
)
ddb = session.client("dynamodb", endpoint_url=endpoint)

ddb.create_table(
    TableName="boto3",
    KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    BillingMode="PAY_PER_REQUEST",
)
ddb.get_waiter("table_exists").wait(TableName="boto3", WaiterConfig={"Delay": 1, "MaxAttempts": 5})
ddb.update_time_to_live(
    TableName="boto3", TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"}
)
ttl = ddb.describe_time_to_live(TableName="boto3")["TimeToLiveDescription"]
assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}, ttl
assert "boto3" in ddb.list_tables()["TableNames"]

NOW, NOW_MS = 4_000_000_000, 4_000_000_000_000
record = {
    "id": {"S": "event-1"},
    "status": {"S": "INPROGRESS"},
    "expiration": {"N": str(NOW + 3600)},
    "in_progress_expiry": {"N": str(NOW_MS + 60_000)},
}
claim = dict(
    TableName="boto3",
    ConditionExpression="attribute_not_exists(#id) OR #expiration < :now OR (#status = :in_progress AND #in_progress_expiry < :now_ms)",
    ExpressionAttributeNames={
        "#id": "id",
        "#expiration": "expiration",
        "#status": "status",
        "#in_progress_expiry": "in_progress_expiry",
    },
    ExpressionAttributeValues={
        ":now": {"N": str(NOW)},
        ":now_ms": {"N": str(NOW_MS)},
        ":in_progress": {"S": "INPROGRESS"},
    },
    ReturnValuesOnConditionCheckFailure="ALL_OLD",
)
ddb.put_item(Item=record, **claim)
try:
    ddb.put_item(Item=record, **claim)
    raise AssertionError("a second claim of a live record succeeded")
except ddb.exceptions.ConditionalCheckFailedException as e:
    assert e.response["Item"] == record, e.response

ddb.update_item(
    TableName="boto3",
    Key={"id": {"S": "event-1"}},
    UpdateExpression="SET #status = :completed, #expiration = :expiration, #data = :data",
    ConditionExpression="attribute_exists(#id)",
    ExpressionAttributeNames={"#id": "id", "#status": "status", "#expiration": "expiration", "#data": "data"},
    ExpressionAttributeValues={
        ":completed": {"S": "COMPLETED"},
        ":expiration": {"N": str(NOW + 86_400)},
        ":data": {"B": b"\x00\x01result"},
    },
)
got = ddb.get_item(TableName="boto3", Key={"id": {"S": "event-1"}}, ConsistentRead=True)["Item"]
assert got["status"] == {"S": "COMPLETED"} and got["data"] == {"B": b"\x00\x01result"}, got

try:
    ddb.get_item(TableName="missing", Key={"id": {"S": "x"}})
    raise AssertionError("a missing table answered")
except ddb.exceptions.ResourceNotFoundException:
    pass

# The resource layer: Python types in and out, numbers as Decimal.
table = session.resource("dynamodb", endpoint_url=endpoint).Table("boto3")
table.put_item(
    Item={"id": "event-2", "n": 42, "flag": True, "nothing": None, "m": {"l": [1, "two"]}},
    ConditionExpression=Attr("id").not_exists(),
)
item = table.get_item(Key={"id": "event-2"})["Item"]
assert item == {"id": "event-2", "n": 42, "flag": True, "nothing": None, "m": {"l": [1, "two"]}}, item
table.delete_item(Key={"id": "event-2"})
assert "Item" not in table.get_item(Key={"id": "event-2"})

ddb.delete_table(TableName="boto3")
print("boto3 dynamodb ok")
