"""boto3 against hookline's local SQS endpoint, unchanged: create, send, receive, change
visibility, delete, and redrive to a dead-letter queue. Exits non-zero on the first mismatch.

Usage: python boto3_check.py http://127.0.0.1:<port>
"""
import json
import sys

import boto3

endpoint = sys.argv[1]
sqs = boto3.client(
    "sqs",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="local",
    aws_secret_access_key="local",
)

dlq_url = sqs.create_queue(QueueName="boto3-dlq")["QueueUrl"]
dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
url = sqs.create_queue(
    QueueName="boto3",
    Attributes={
        "VisibilityTimeout": "30",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"}),
    },
)["QueueUrl"]
assert url in sqs.list_queues(QueueNamePrefix="boto3")["QueueUrls"], "list_queues"

# boto3 checks the MD5 of the body and of the attributes itself.
sent = sqs.send_message(
    QueueUrl=url,
    MessageBody='{"hello": "world"}',
    MessageAttributes={"provider": {"DataType": "String", "StringValue": "stripe"}},
)
got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], AttributeNames=["All"], WaitTimeSeconds=1)["Messages"]
assert got[0]["MessageId"] == sent["MessageId"], got
assert got[0]["MessageAttributes"]["provider"]["StringValue"] == "stripe", got
assert got[0]["Attributes"]["ApproximateReceiveCount"] == "1", got

sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"], VisibilityTimeout=0)
again = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
assert again == [], "received once with maxReceiveCount 1: the next receive moves it to the DLQ"
dead = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1)["Messages"]
assert dead[0]["Body"] == '{"hello": "world"}', dead

sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=dead[0]["ReceiptHandle"])
counts = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]
assert counts["ApproximateNumberOfMessages"] == "0" and counts["ApproximateNumberOfMessagesNotVisible"] == "0", counts

try:
    sqs.get_queue_url(QueueName="missing")
    raise AssertionError("a missing queue must raise")
except sqs.exceptions.QueueDoesNotExist:
    pass

print("boto3 ok")
