//! `cargo xtask secret set <provider> --stage <s>`: writes a provider's signing secret to the
//! stage's Secrets Manager secret. The value is read from stdin, never from the command line
//! (argv is visible to every process of the machine and kept in shell history), and never
//! printed. One secret per line; several lines (rotation: the new secret and the old one) are
//! written as the JSON array the runtime accepts, so both verify during the switch.

use std::io::{IsTerminal, Read};

use anyhow::{Context, Result, bail};

use crate::aws::AwsEnv;
use crate::aws::cli;
use crate::cmd::{Cmd, Exec, Plan, RealExec};
use crate::project;
use crate::stage::{StageArgs, StageStack};
use crate::tools;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand)]
pub enum Action {
    /// Write a provider's signing secret, read from stdin: one per line, several for rotation.
    Set(SetArgs),
}

#[derive(clap::Args)]
pub struct SetArgs {
    /// The provider, as named in hookline.toml.
    pub provider: String,
    /// The stage whose secret to write; with --dry-run, reads nothing from stdin.
    #[command(flatten)]
    pub stage: StageArgs,
}

pub fn run(args: Args) -> Result<()> {
    let Action::Set(args) = args.action;
    let root = project::root();
    let mut exec = RealExec {
        root: root.clone(),
        stdout_to_stderr: true,
    };
    let out = set(&args, &AwsEnv::from_process(), &mut exec, &mut read_stdin)?;
    print!("{out}");
    Ok(())
}

/// Reads all of stdin; on a terminal, says what to type and turns the echo off.
fn read_stdin() -> Result<String> {
    let mut input = String::new();
    let terminal = std::io::stdin().is_terminal();
    if terminal {
        eprintln!(
            "Paste the signing secret (several lines for rotation: the new one, then the old one), then press Ctrl-D:"
        );
        // Best effort: without stty the input is echoed, but still never stored.
        let _ = std::process::Command::new("stty").arg("-echo").status();
    }
    let read = std::io::stdin().read_to_string(&mut input);
    if terminal {
        let _ = std::process::Command::new("stty").arg("echo").status();
        eprintln!();
    }
    read.context("reading the secret from stdin")?;
    Ok(input)
}

/// The value to store and how many secrets it holds. Errors never quote the input.
pub fn secret_value(input: &str) -> Result<(String, usize)> {
    let trimmed = input.trim();
    let secrets: Vec<String> = if trimmed.starts_with('[') {
        let list: Vec<String> = serde_json::from_str(trimmed).map_err(|_| {
            anyhow::anyhow!("stdin starts with `[` but is not a JSON array of strings")
        })?;
        if list.iter().any(|s| s.trim().is_empty()) {
            bail!("the JSON array on stdin has an empty secret");
        }
        list
    } else {
        trimmed
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    };
    if secrets.is_empty() {
        bail!(
            "no secret on stdin: pipe it in, e.g. `printf '%s' \"$SECRET\" | cargo xtask secret set ...`"
        );
    }
    for (i, secret) in secrets.iter().enumerate() {
        if secrets[..i].contains(secret) {
            bail!("secret {} on stdin repeats an earlier one", i + 1);
        }
    }
    Ok(match secrets.as_slice() {
        [one] => (one.clone(), 1),
        many => (serde_json::to_string(many)?, many.len()),
    })
}

/// Writes the secret (or, with `--dry-run`, returns the commands); returns what to print.
pub fn set(
    args: &SetArgs,
    env: &AwsEnv,
    exec: &mut dyn Exec,
    read: &mut dyn FnMut() -> Result<String>,
) -> Result<String> {
    let manifest = project::manifest()?;
    let Some(provider) = manifest.provider(&args.provider) else {
        let names: Vec<&str> = manifest.providers.iter().map(|p| p.name.as_str()).collect();
        bail!(
            "no provider `{}` in hookline.toml (providers: {})",
            args.provider,
            names.join(", ")
        );
    };
    let stage = args.stage.stage()?;
    let target = StageStack::new(&manifest, &stage, env);
    let output = hookline_manifest::provider_outputs(&provider.name).secret_arn;
    let describe = cli::describe_output(&target, &output);
    let put = |arn: &str| -> Cmd {
        cli::aws_cli(&target).args([
            "secretsmanager",
            "put-secret-value",
            "--secret-id",
            arn,
            "--secret-string",
            "file:///dev/stdin",
            "--query",
            "VersionId",
            "--output",
            "text",
        ])
    };
    let mut tools_plan = Plan::default();
    let (installed, venv) = tools::venv_has(&["aws"]);
    tools::python_tools(&mut tools_plan, "the AWS CLI is", installed, venv);

    if args.stage.dry_run {
        let mut plan = tools_plan;
        plan.note("reads the secret from stdin: one per line; several (rotation) are written as a JSON array");
        let arn = match &provider.signing.secret_arn {
            Some(arn) => {
                plan.note(format!(
                    "hookline.toml names the secret of {}",
                    provider.name
                ));
                arn.clone()
            }
            None => {
                plan.run(describe);
                format!("<{output}>")
            }
        };
        plan.note("the value goes to the command's stdin, never to its arguments");
        plan.run(put(&arn));
        return Ok(plan.render());
    }

    cli::require_credentials(env, &target)?;
    let (value, count) = secret_value(&read()?)?;
    tools_plan.execute(exec)?;
    let arn = match &provider.signing.secret_arn {
        Some(arn) => arn.clone(),
        None => cli::read_output(exec, &target, &stage, &output)?,
    };
    exec.feed(&put(&arn), value.as_bytes())?;
    Ok(format!(
        "wrote {} to {arn}. New ingest instances use it at once; running ones keep the previous value until they are recycled, so rotate by writing the new and the old secret together.\n",
        if count == 1 {
            "the secret".to_owned()
        } else {
            format!("{count} secrets (all accepted: rotation)")
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::env::fixtures;
    use crate::cmd::{Captured, Recorder};

    fn args(provider: &str, stage: &str, dry_run: bool) -> SetArgs {
        SetArgs {
            provider: provider.to_owned(),
            stage: StageArgs::new(stage, dry_run),
        }
    }

    /// A profile whose credentials file does not exist.
    fn credentials() -> AwsEnv {
        fixtures::with(&[
            ("AWS_PROFILE", "default"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"),
        ])
    }

    fn project() -> String {
        project::manifest().unwrap().project.name
    }

    fn provider() -> String {
        project::manifest().unwrap().providers[0].name.clone()
    }

    #[test]
    fn one_secret_is_stored_as_is_several_as_a_json_array() {
        assert_eq!(
            secret_value("whsec_abc\n").unwrap(),
            ("whsec_abc".to_owned(), 1)
        );
        assert_eq!(
            secret_value("new\r\nold\n\n").unwrap(),
            (r#"["new","old"]"#.to_owned(), 2)
        );
        assert_eq!(
            secret_value(r#" ["a", "b"] "#).unwrap(),
            (r#"["a","b"]"#.to_owned(), 2)
        );
    }

    #[test]
    fn bad_input_is_refused_without_echoing_it() {
        for (input, message) in [
            ("", "no secret on stdin"),
            ("\n \n", "no secret on stdin"),
            ("[not json", "not a JSON array of strings"),
            (r#"["ok", ""]"#, "has an empty secret"),
            (
                "s3cr3t\ns3cr3t\n",
                "secret 2 on stdin repeats an earlier one",
            ),
        ] {
            let err = secret_value(input).unwrap_err().to_string();
            assert!(err.contains(message), "{input:?}: {err}");
            assert!(
                !err.contains("s3cr3t") && !err.contains("not json"),
                "{err}"
            );
        }
    }

    #[test]
    fn dry_run_prints_the_lookup_and_the_write_and_reads_nothing() {
        let _root = project::root();
        let name = provider();
        let output = hookline_manifest::provider_outputs(&name).secret_arn;
        let mut read = || -> Result<String> { panic!("read stdin in a dry run") };
        let text = set(
            &args(&name, "prod", true),
            &AwsEnv::default(),
            &mut Recorder::default(),
            &mut read,
        )
        .unwrap();
        let region = project::manifest().unwrap().project.region;
        let commands: Vec<&str> = text
            .lines()
            .filter(|l| l.contains(".tools/venv/bin/aws"))
            .collect();
        assert_eq!(
            commands,
            [
                format!(
                    "AWS_REGION={region} .tools/venv/bin/aws cloudformation describe-stacks --stack-name {}-prod --query 'Stacks[0].Outputs[?OutputKey=='\\''{output}'\\''].OutputValue | [0]' --output text",
                    project()
                ),
                format!(
                    "AWS_REGION={region} .tools/venv/bin/aws secretsmanager put-secret-value --secret-id '<{output}>' --secret-string file:///dev/stdin --query VersionId --output text"
                ),
            ]
        );
    }

    #[test]
    fn the_value_goes_to_stdin_never_to_argv() {
        let _root = project::root();
        let mut recorder = Recorder::default();
        recorder.outputs.push_back(Captured {
            success: true,
            stdout: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbC123\n".to_owned(),
            stderr: String::new(),
        });
        let mut read = || Ok("n3w-secret\n0ld-secret\n".to_owned());
        let out = set(
            &args(&provider(), "prod", false),
            &fixtures::keys(),
            &mut recorder,
            &mut read,
        )
        .unwrap();
        assert!(out.starts_with("wrote 2 secrets (all accepted: rotation) to arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbC123."), "{out}");
        assert!(!out.contains("n3w-secret"));
        assert_eq!(recorder.fed.len(), 1);
        let (command, input) = &recorder.fed[0];
        assert!(command.contains("put-secret-value --secret-id arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbC123 --secret-string file:///dev/stdin"));
        assert_eq!(input, br#"["n3w-secret","0ld-secret"]"#);
        for line in &recorder.ran {
            assert!(
                !line.contains("n3w-secret") && !line.contains("0ld-secret"),
                "{line}"
            );
        }
    }

    #[test]
    fn an_undeployed_stage_is_explained() {
        let _root = project::root();
        let mut recorder = Recorder::default();
        recorder.outputs.push_back(Captured {
            success: false,
            stdout: String::new(),
            stderr: "Stack with id x does not exist".to_owned(),
        });
        let mut read = || Ok("s".to_owned());
        let err = set(
            &args(&provider(), "pr-5", false),
            &fixtures::keys(),
            &mut recorder,
            &mut read,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("is the stage deployed (`cargo xtask deploy --stage pr-5`)?"),
            "{err}"
        );
        assert!(recorder.fed.is_empty());
    }

    #[test]
    fn without_credentials_nothing_is_read_or_run() {
        let _root = project::root();
        let mut recorder = Recorder::default();
        let mut read = || -> Result<String> { panic!("read stdin without credentials") };
        // AWS_PROFILE names a profile that no shared file has.
        let err = set(
            &args(&provider(), "prod", false),
            &credentials(),
            &mut recorder,
            &mut read,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("AWS_PROFILE is `default`, but no such profile is in"),
            "{err}"
        );
        assert!(recorder.ran.is_empty());
    }

    #[test]
    fn an_unknown_provider_lists_the_known_ones() {
        let _root = project::root();
        let mut read = || Ok(String::new());
        let err = set(
            &args("nope", "prod", true),
            &fixtures::keys(),
            &mut Recorder::default(),
            &mut read,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("no provider `nope` in hookline.toml (providers: "),
            "{err}"
        );
    }
}
