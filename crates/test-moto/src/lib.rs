//! Tests only: a moto server, a real AWS-protocol endpoint (SQS, Secrets Manager, CloudFormation,
//! STS, SSM, ...) on a free loopback port, stopped on drop. The runtime library's SQS tests and
//! the tests of xtask's AWS commands use it.
#![allow(clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The Python that has moto: `HOOKLINE_TEST_PYTHON`, else the venv `cargo xtask test` creates.
fn python() -> PathBuf {
    if let Some(path) = std::env::var_os("HOOKLINE_TEST_PYTHON") {
        return PathBuf::from(path);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/venv/bin/python")
}

const INSTALL_HINT: &str = "moto is required for these tests: run `cargo xtask test` (it \
    installs moto into .tools/venv), or `python3 -m venv .tools/venv && \
    .tools/venv/bin/pip install 'moto[server]'`";

/// A running moto server.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
}

impl Moto {
    /// moto as it answers by default: any keys are accepted.
    pub fn start() -> Moto {
        Moto::start_with(&[])
    }

    /// moto that checks credentials as IAM would, refusing unknown keys
    /// (`INITIAL_NO_AUTH_ACTION_COUNT=0`: moto's "IAM-like access control").
    pub fn start_checking_credentials() -> Moto {
        Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")])
    }

    /// moto with these variables in its environment. Panics with how to install moto when it
    /// cannot start.
    pub fn start_with(vars: &[(&str, &str)]) -> Moto {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("moto_server.py");
        let python = python();
        let mut child = Command::new(&python)
            .arg(&script)
            .envs(vars.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}\n{INSTALL_HINT}", python.display()));
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read moto's port");
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("moto did not start (printed {line:?})\n{INSTALL_HINT}"));
        Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Closing stdin lets the server stop itself; kill in case it does not.
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
