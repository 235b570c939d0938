//! A moto server for the tests of the AWS commands: a real AWS-protocol endpoint (STS, SSM,
//! CloudFormation, Secrets Manager, SQS) on a free loopback port, stopped on drop. It is the same
//! launcher script the runtime library's SQS tests use.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::aws::AwsEnv;
use crate::aws::env::fixtures;
use crate::{project, tools};

const INSTALL_HINT: &str = "moto is required for the AWS command tests: run `cargo xtask test` \
    (it installs moto into .tools/venv)";

/// A running moto server.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
}

impl Moto {
    /// moto as AWS answers anyone with any keys.
    pub fn start() -> Moto {
        Moto::start_with(&[])
    }

    /// moto that checks credentials as IAM would: unknown keys are refused
    /// (`INITIAL_NO_AUTH_ACTION_COUNT=0`, moto's "IAM-like access control").
    pub fn start_checking_credentials() -> Moto {
        Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")])
    }

    fn start_with(vars: &[(&str, &str)]) -> Moto {
        let python = std::env::var_os("HOOKLINE_TEST_PYTHON")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(tools::venv_python);
        let script = project::root().join("crates/hookline/tests/support/moto_server.py");
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

    /// An AWS environment that reaches this server with static keys, in the fixtures' region.
    pub fn env(&self) -> AwsEnv {
        fixtures::with(&[
            ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_ENDPOINT_URL", &self.endpoint),
        ])
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

/// Creates a stack of one queue with these tags (a stand-in for a stage's stack).
pub async fn create_stack(cfn: &aws_sdk_cloudformation::Client, name: &str, tags: &[(&str, &str)]) {
    let template = r#"{"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}"#;
    cfn.create_stack()
        .stack_name(name)
        .template_body(template)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| {
                    aws_sdk_cloudformation::types::Tag::builder()
                        .key(*k)
                        .value(*v)
                        .build()
                })
                .collect(),
        ))
        .send()
        .await
        .expect("creating a stack on moto");
}
