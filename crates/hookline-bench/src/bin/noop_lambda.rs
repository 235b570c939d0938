//! The floor of an ingest invocation: the Lambda runtime client with a handler that does no work.
//! The event is parsed (as `IgnoredAny`, which only checks the JSON) and a fixed API Gateway
//! proxy response is returned.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde::de::IgnoredAny;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_: LambdaEvent<IgnoredAny>| async {
        Ok::<_, Error>(serde_json::json!({
            "statusCode": 200,
            "headers": { "content-type": "application/json" },
            "body": "{\"status\":\"received\"}",
        }))
    }))
    .await
}
