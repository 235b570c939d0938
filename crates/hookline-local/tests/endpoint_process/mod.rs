//! What the local endpoint's DynamoDB and S3 tests share: the endpoint in a child process that
//! a durability test kills with SIGKILL, and boto3 run against an endpoint.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use hookline_local::endpoint::AwsEndpoint;

/// Where the child process is told to keep its data.
const DIR_VAR: &str = "HOOKLINE_TEST_ENDPOINT_DIR";

/// The body of a test binary's `endpoint_child_process` test: serves the endpoint on the folder
/// [`spawn`] gave it until it is killed; does nothing when run as a plain test.
pub async fn serve_until_killed() {
    let Some(dir) = std::env::var_os(DIR_VAR) else {
        return;
    };
    let server = AwsEndpoint::start("127.0.0.1:0".parse().unwrap(), &PathBuf::from(dir))
        .await
        .unwrap();
    println!("LISTENING {}", server.endpoint());
    std::future::pending::<()>().await;
}

/// Runs this test binary's `endpoint_child_process` on `dir` and returns the child and the
/// endpoint it serves.
pub fn spawn(dir: &Path) -> (Child, String) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "endpoint_child_process",
            "--ignored",
            "--nocapture",
        ])
        .env(DIR_VAR, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let endpoint = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("LISTENING ").map(str::to_owned))
        .expect("the child process did not start the endpoint");
    (child, endpoint)
}

/// Runs `tests/python/<script>` with the endpoint's URL and checks it succeeded and printed
/// `done` (each script ends by printing what it checked).
pub async fn boto3(script: &str, endpoint: &str, done: &str) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var_os("HOOKLINE_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../../.tools/venv/bin/python"));
    let output = tokio::process::Command::new(&python)
        .arg(root.join("tests/python").join(script))
        .arg(endpoint)
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e}\nboto3 is required: run `cargo xtask test` (it installs it into .tools/venv)",
                python.display()
            )
        });
    assert!(
        output.status.success(),
        "boto3 check failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains(done));
}
