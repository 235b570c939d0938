//! An ingest function for the failure-injection tests: the first instance that gets an
//! invocation dies without answering it (as if killed mid-request); every later one is the
//! real ingest. The marker file `$RECORDER_DIR/ingest-crashed` says the crash happened.

use std::path::PathBuf;

use hookline::lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let marker = PathBuf::from(std::env::var("RECORDER_DIR")?).join("ingest-crashed");
    if marker.exists() {
        return hookline::lambda::run_ingest().await;
    }
    hookline::lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| {
        let marker = marker.clone();
        async move {
            std::fs::write(&marker, "")?;
            std::process::abort();
            #[allow(unreachable_code)]
            Ok::<serde_json::Value, Error>(serde_json::Value::Null)
        }
    }))
    .await
}
