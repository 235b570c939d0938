//! A function that fails its init as a runtime does when it cannot start: it posts the error to
//! the Runtime API's `/runtime/init/error` ("Using the Lambda runtime API for custom runtimes")
//! and exits, without ever asking for an invocation. With `RECORDER_DIR` set, only its first
//! instance fails (it leaves `$RECORDER_DIR/init-failed`); every later one is the real ingest.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;

/// What it reports, as the runtime API's error document.
const INIT_ERROR: &str =
    r#"{"errorMessage":"HOOKLINE_TEST_SETTING is not set","errorType":"Runtime.InitError"}"#;

#[tokio::main]
async fn main() -> Result<(), hookline::lambda_runtime::Error> {
    if let Some(dir) = std::env::var_os("RECORDER_DIR") {
        let marker = PathBuf::from(dir).join("init-failed");
        if marker.exists() {
            return hookline::lambda::run_ingest().await;
        }
        std::fs::write(&marker, "")?;
    }
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").unwrap_or_default();
    match std::net::TcpStream::connect(&api) {
        Ok(mut stream) => {
            let request = format!(
                "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: {api}\r\n\
                 Lambda-Runtime-Function-Error-Type: Runtime.InitError\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{INIT_ERROR}",
                INIT_ERROR.len()
            );
            let _ = stream.write_all(request.as_bytes());
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            eprintln!(
                "init error posted: {}",
                answer.lines().next().unwrap_or("no answer")
            );
        }
        Err(err) => eprintln!("cannot reach the runtime API at {api:?}: {err}"),
    }
    std::process::exit(1)
}
