//! An instance's process: the function binary, started with the environment Lambda gives a
//! custom runtime, its output forwarded to the log line by line.

use std::net::SocketAddr;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::FunctionSpec;
use crate::logs::LogSink;

/// Starts `spec`'s binary against the Runtime API at `api`.
pub(super) fn spawn(spec: &FunctionSpec, api: SocketAddr) -> std::io::Result<Child> {
    Command::new(&spec.binary)
        .env_clear()
        .envs(&spec.env)
        .env("AWS_LAMBDA_RUNTIME_API", api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", &spec.name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", spec.name),
        )
        .env(
            "AWS_LAMBDA_LOG_STREAM_NAME",
            uuid::Uuid::new_v4().simple().to_string(),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
}

/// Forwards the process's standard output and error to `logs`, a line at a time, as `name`.
pub(super) fn forward_output(child: &mut Child, logs: &LogSink, name: &str) {
    for stream in [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
        child.stderr.take().map(|s| Box::new(s) as _),
    ]
    .into_iter()
    .flatten()
    {
        let logs = logs.clone();
        let name = name.to_owned();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                logs.line(&name, &line);
            }
        });
    }
}
