//! An ingest function that does what the request's `x-test-behaviour` header says, to show what
//! the gateway answers for each way a function can fail:
//!
//! - `echo`: 200 with the event it got as the body (what the gateway sends, seen from inside);
//! - `error`: returns an error (the runtime posts it to `/error`: a function error);
//! - `sleep`: outlives its timeout;
//! - `huge`: answers over Lambda's 6 MB response limit;
//! - `invalid`: answers JSON that is not a proxy response (a `statusCode` that is no status);
//! - anything else: 200 `ok`.

use std::time::Duration;

use hookline::lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let behaviour = event.payload["headers"]["x-test-behaviour"]
        .as_str()
        .unwrap_or_default();
    match behaviour {
        "echo" => Ok(json!({ "statusCode": 200, "body": event.payload.to_string() })),
        "error" => Err("the handler failed on purpose".into()),
        "sleep" => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(Value::Null)
        }
        "huge" => Ok(json!({ "statusCode": 200, "body": "a".repeat(7 * 1024 * 1024) })),
        "invalid" => Ok(json!({ "statusCode": "teapot" })),
        _ => Ok(json!({ "statusCode": 200, "body": "ok" })),
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    hookline::lambda_runtime::run(service_fn(handle)).await
}
