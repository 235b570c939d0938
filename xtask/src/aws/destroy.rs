//! `cargo xtask destroy --stage <s>`: deletes the stack `<project>-<stage>` through
//! CloudFormation (no build, no synthesis: it works from any checkout, e.g. when a pull request
//! closes). Whether the stage is ephemeral is read from the deployed stack's `ttl` tag, which
//! only ephemeral stages carry: their resources, secrets and logs included, all go with the
//! stack. A stage without it keeps its queues, DLQs and secrets, and is only destroyed with
//! `--force`.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Result, bail};

use crate::aws::AwsEnv;
use crate::aws::cli;
use crate::cmd::{Exec, Plan, RealExec};
use crate::project;
use crate::stage::{StageArgs, StageStack};
use crate::tools;

#[derive(clap::Args)]
pub struct Args {
    /// The stage to remove: the stack <project>-<stage>.
    #[command(flatten)]
    pub stage: StageArgs,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Destroy a non-ephemeral stage too (its queues, DLQs and secrets are retained).
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args) -> Result<()> {
    let root = project::root();
    let mut exec = RealExec {
        root: root.clone(),
        stdout_to_stderr: false,
    };
    let out = destroy(&args, &AwsEnv::from_process(), &mut exec, &mut confirm)?;
    print!("{out}");
    Ok(())
}

/// Asks on the terminal; refuses without one.
fn confirm(question: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("{question}: no terminal to ask on; pass --yes");
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// Destroys (or, with `--dry-run`, returns the commands); returns what to print.
pub fn destroy(
    args: &Args,
    env: &AwsEnv,
    exec: &mut dyn Exec,
    confirm: &mut dyn FnMut(&str) -> Result<bool>,
) -> Result<String> {
    let manifest = project::manifest()?;
    let stage = args.stage.stage()?;
    let target = StageStack::new(&manifest, &stage, env);
    let stack = target.stack.as_str();

    let mut tools_plan = Plan::default();
    let (installed, venv) = tools::venv_has(&["aws"]);
    tools::python_tools(&mut tools_plan, "the AWS CLI is", installed, venv);
    let describe = cli::aws_cli(&target).args([
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        stack,
        "--query",
        "Stacks[0].Tags[?Key=='ttl'].Value | [0]",
        "--output",
        "text",
    ]);
    let delete =
        cli::aws_cli(&target).args(["cloudformation", "delete-stack", "--stack-name", stack]);
    let wait = cli::aws_cli(&target).args([
        "cloudformation",
        "wait",
        "stack-delete-complete",
        "--stack-name",
        stack,
    ]);

    if args.stage.dry_run {
        let mut plan = tools_plan;
        plan.note("reads the stack's ttl tag: only ephemeral stages have one");
        plan.run(describe);
        plan.note(if args.force {
            "destroys the stage even if it is not ephemeral (--force)"
        } else {
            "refuses a stage without the tag (not ephemeral) unless --force"
        });
        plan.run(delete);
        plan.run(wait);
        return Ok(plan.render());
    }

    // Before any AWS call: a missing credential gets the clear explanation.
    cli::require_credentials(env, &target)?;
    tools_plan.execute(exec)?;
    let found = exec.capture(&describe)?;
    if !found.success {
        if found.stderr.contains("does not exist") {
            return Ok(format!(
                "{stack} does not exist in {}: nothing to destroy\n",
                target.region
            ));
        }
        bail!("could not read the stack {stack}: {}", found.stderr.trim());
    }
    let ttl = found.stdout.trim();
    let ephemeral = !ttl.is_empty() && ttl != "None";
    if !ephemeral && !args.force {
        bail!(
            "{stack} is not an ephemeral stage (deployed without --ephemeral and not named pr-*): destroying it removes its API and functions, and keeps its queues, DLQs and secrets. Pass --force to destroy it anyway."
        );
    }
    let question = format!("Destroy {stack} in {}?", target.region);
    if !args.yes && !confirm(&question)? {
        bail!("not destroyed");
    }
    exec.run(&delete)?;
    eprintln!("waiting for CloudFormation to delete {stack}...");
    exec.run(&wait)?;
    Ok(if ephemeral {
        format!("{stack} destroyed: every resource is gone (ephemeral stage, ttl {ttl})\n")
    } else {
        format!(
            "{stack} destroyed; its queues, DLQs and secrets are retained (delete them in the console or with the AWS CLI when no longer needed)\n"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::env::fixtures;
    use crate::cmd::{Captured, Recorder};

    fn args(stage: &str) -> Args {
        Args {
            stage: StageArgs::new(stage, false),
            yes: true,
            force: false,
        }
    }

    fn stack() -> String {
        let manifest = project::manifest().unwrap();
        manifest.project.name
    }

    fn never(_: &str) -> Result<bool> {
        panic!("asked for confirmation")
    }

    #[test]
    fn dry_run_prints_the_cloudformation_commands() {
        let mut a = args("pr-42");
        a.stage.dry_run = true;
        let text = destroy(&a, &fixtures::keys(), &mut Recorder::default(), &mut never).unwrap();
        let project = stack();
        let commands: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("cloudformation"))
            .collect();
        assert_eq!(
            commands,
            [
                format!(
                    "AWS_REGION=eu-west-1 .tools/venv/bin/aws cloudformation describe-stacks --stack-name {project}-pr-42 --query 'Stacks[0].Tags[?Key=='\\''ttl'\\''].Value | [0]' --output text"
                ),
                format!(
                    "AWS_REGION=eu-west-1 .tools/venv/bin/aws cloudformation delete-stack --stack-name {project}-pr-42"
                ),
                format!(
                    "AWS_REGION=eu-west-1 .tools/venv/bin/aws cloudformation wait stack-delete-complete --stack-name {project}-pr-42"
                ),
            ]
        );
        assert!(text.contains("# refuses a stage without the tag (not ephemeral) unless --force"));
    }

    #[test]
    fn without_credentials_nothing_runs() {
        let home = tempfile::tempdir().unwrap();
        let env = AwsEnv {
            vars: Default::default(),
            home: Some(home.path().to_path_buf()),
        };
        let mut recorder = Recorder::default();
        let err = destroy(&args("pr-1"), &env, &mut recorder, &mut never).unwrap_err();
        assert!(err.to_string().starts_with("no AWS credentials found"));
        assert!(recorder.ran.is_empty());
    }

    #[test]
    fn an_ephemeral_stage_is_deleted_and_waited_for() {
        let mut recorder = Recorder::default();
        recorder.outputs.push_back(Captured {
            success: true,
            stdout: "24h\n".to_owned(),
            stderr: String::new(),
        });
        let out = destroy(&args("pr-1"), &fixtures::keys(), &mut recorder, &mut never).unwrap();
        assert!(out.contains("every resource is gone"), "{out}");
        let verbs: Vec<&str> = recorder
            .ran
            .iter()
            .filter_map(|l| l.split(" cloudformation ").nth(1))
            .map(|rest| rest.split(' ').next().unwrap_or_default())
            .collect();
        assert_eq!(verbs, ["describe-stacks", "delete-stack", "wait"]);
    }

    #[test]
    fn a_retained_stage_needs_force() {
        let retained = || Captured {
            success: true,
            stdout: "None\n".to_owned(),
            stderr: String::new(),
        };
        let mut recorder = Recorder::default();
        recorder.outputs.push_back(retained());
        let err = destroy(&args("prod"), &fixtures::keys(), &mut recorder, &mut never).unwrap_err();
        assert!(
            err.to_string().contains("is not an ephemeral stage"),
            "{err}"
        );
        assert!(err.to_string().contains("Pass --force"));
        assert!(!recorder.ran.iter().any(|l| l.contains("delete-stack")));

        let mut forced = args("prod");
        forced.force = true;
        let mut recorder = Recorder::default();
        recorder.outputs.push_back(retained());
        let out = destroy(&forced, &fixtures::keys(), &mut recorder, &mut never).unwrap();
        assert!(
            out.contains("queues, DLQs and secrets are retained"),
            "{out}"
        );
        assert!(recorder.ran.iter().any(|l| l.contains("delete-stack")));
    }

    #[test]
    fn without_yes_it_asks_and_stops_on_no() {
        let mut recorder = Recorder::default();
        recorder.outputs.push_back(Captured {
            success: true,
            stdout: "24h".to_owned(),
            stderr: String::new(),
        });
        let mut a = args("pr-3");
        a.yes = false;
        let mut asked = Vec::new();
        let mut no = |q: &str| {
            asked.push(q.to_owned());
            Ok(false)
        };
        let err = destroy(&a, &fixtures::keys(), &mut recorder, &mut no).unwrap_err();
        assert_eq!(err.to_string(), "not destroyed");
        assert_eq!(asked.len(), 1);
        assert!(asked[0].starts_with("Destroy ") && asked[0].ends_with("-pr-3 in eu-west-1?"));
        assert!(!recorder.ran.iter().any(|l| l.contains("delete-stack")));
    }

    #[test]
    fn a_missing_stack_is_nothing_to_destroy() {
        let mut recorder = Recorder::default();
        recorder.outputs.push_back(Captured {
            success: false,
            stdout: String::new(),
            stderr: "An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id x does not exist".to_owned(),
        });
        let out = destroy(&args("pr-9"), &fixtures::keys(), &mut recorder, &mut never).unwrap();
        assert!(out.contains("nothing to destroy"), "{out}");
    }
}
