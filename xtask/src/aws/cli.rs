//! The project-local AWS CLI (`awscli` from xtask/python-requirements.txt) and what the stage
//! commands ask it: a stack's outputs, and whether there are credentials at all.

use anyhow::{Result, bail};
use hookline_manifest::Stage;

use crate::aws::{self, AwsEnv};
use crate::cmd::{Cmd, Exec};
use crate::project;
use crate::stage::StageStack;

/// The project-local AWS CLI (`awscli` from xtask/python-requirements.txt).
pub fn aws_cli(target: &StageStack) -> Cmd {
    Cmd::new(project::venv_bin("aws")).env("AWS_REGION", &target.region)
}

/// The AWS CLI command that prints one output of the stage's stack (`None` when absent).
pub fn describe_output(target: &StageStack, output: &str) -> Cmd {
    aws_cli(target).args([
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        target.stack.as_str(),
        "--query",
        &format!("Stacks[0].Outputs[?OutputKey=='{output}'].OutputValue | [0]"),
        "--output",
        "text",
    ])
}

/// Reads one output of the stage's stack, or explains that the stage is not deployed.
pub fn read_output(
    exec: &mut dyn Exec,
    target: &StageStack,
    stage: &Stage,
    output: &str,
) -> Result<String> {
    let found = exec.capture(&describe_output(target, output))?;
    let value = found.stdout.trim();
    if !found.success || value.is_empty() || value == "None" {
        bail!(
            "found no output {output} of the stack {} in {}: is the stage deployed (`cargo xtask deploy --stage {}`)? {}",
            target.stack,
            target.region,
            stage.name,
            found.stderr.trim()
        );
    }
    Ok(value.to_owned())
}

/// Fails unless the AWS chain has credentials; says which ones are used.
pub fn require_credentials(env: &AwsEnv, target: &StageStack) -> Result<()> {
    let credentials = aws::credentials(env)?;
    eprintln!(
        "AWS: {credentials}, region {} (stack {})",
        target.region, target.stack
    );
    Ok(())
}
