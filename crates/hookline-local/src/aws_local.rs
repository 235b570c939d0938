//! The AWS account and region the local stack pretends to be, and the ARNs it hands out.
//!
//! `000000000000` is the placeholder account local AWS emulators use (LocalStack, moto,
//! ElasticMQ): no real account has it, so a local ARN or queue URL can never be mistaken for a
//! deployed resource. `us-east-1` is the region SDKs fall back to, so clients configured only
//! with an endpoint agree with the ARNs.

/// Account id in queue URLs, ARNs and events.
pub const ACCOUNT_ID: &str = "000000000000";
/// Region in ARNs, events and the functions' environment.
pub const REGION: &str = "us-east-1";
/// The `SenderId` SQS reports for received messages: every sender is the account itself.
pub const SQS_SENDER_ID: &str = ACCOUNT_ID;

/// The ARN of the local SQS queue `queue`.
pub fn sqs_queue_arn(queue: &str) -> String {
    format!("arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue}")
}

/// The ARN of the local DynamoDB table `table`.
pub fn dynamodb_table_arn(table: &str) -> String {
    format!("arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{table}")
}

/// The ARN of the local Lambda function `function`.
pub fn lambda_function_arn(function: &str) -> String {
    format!("arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_have_the_documented_shape() {
        assert_eq!(
            sqs_queue_arn("stripe-dlq.fifo"),
            "arn:aws:sqs:us-east-1:000000000000:stripe-dlq.fifo"
        );
        assert_eq!(
            dynamodb_table_arn("shop-local-idempotency"),
            "arn:aws:dynamodb:us-east-1:000000000000:table/shop-local-idempotency"
        );
        assert_eq!(
            lambda_function_arn("stripe-ingest"),
            "arn:aws:lambda:us-east-1:000000000000:function:stripe-ingest"
        );
    }
}
