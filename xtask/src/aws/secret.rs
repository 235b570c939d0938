//! `cargo xtask secret set <provider> --stage <s>`: writes a provider's signing secret to the
//! stage's Secrets Manager secret. The value is read from stdin, never from the command line
//! (argv is visible to every process of the machine and kept in shell history), and never
//! printed. One secret per line; several lines (rotation: the new secret and the old one) are
//! written as the JSON array the runtime accepts, so both verify during the switch.

use std::io::{IsTerminal, Read};

use anyhow::{Context, Result, bail};

use crate::aws::{AwsEnv, sdk, stack};
use crate::project;
use crate::stage::{StageArgs, StageStack};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: SecretAction,
}

#[derive(clap::Subcommand)]
pub enum SecretAction {
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
    let SecretAction::Set(args) = args.action;
    let out = set(&args, &AwsEnv::from_process(), &mut read_stdin)?;
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

/// The value to store and how many secrets it holds, each checked to be a key of `scheme` (a
/// public key for Discord and SendGrid). Errors never quote the input.
pub fn secret_value(input: &str, scheme: &hookline::Scheme) -> Result<(String, usize)> {
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
    let keys: Vec<hookline::SigningSecret> = secrets
        .iter()
        .map(|s| hookline::SigningSecret::new(s.as_str()))
        .collect();
    hookline::Verifier::new(scheme.clone(), &keys, std::time::Duration::from_secs(1))
        .map_err(|e| anyhow::anyhow!("{e} (the {scheme} scheme's form); nothing was written"))?;
    Ok(match secrets.as_slice() {
        [one] => (one.clone(), 1),
        many => (serde_json::to_string(many)?, many.len()),
    })
}

/// Writes the secret (or, with `--dry-run`, returns the calls); returns what to print.
pub fn set(
    args: &SetArgs,
    env: &AwsEnv,
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
    let scheme = provider.scheme().map_err(|e| anyhow::anyhow!("{e}"))?;
    let stage = args.stage.stage()?;
    let target = StageStack::new(&manifest, &stage, env);
    let output = hookline_manifest::provider_outputs(&provider.name).secret_arn;

    if args.stage.dry_run {
        let mut out = format!(
            "# in {}\nsts:GetCallerIdentity\n# reads the secret from stdin: one per line; several (rotation) are written as a JSON array\n",
            target.region
        );
        let arn = match &provider.signing.secret_arn {
            Some(arn) => {
                out.push_str(&format!(
                    "# hookline.toml names the secret of {}\n",
                    provider.name
                ));
                arn.clone()
            }
            None => {
                out.push_str(&format!(
                    "cloudformation:DescribeStacks StackName={} (its output {output})\n",
                    target.stack
                ));
                format!("<{output}>")
            }
        };
        out.push_str(&format!(
            "secretsmanager:PutSecretValue SecretId={arn} SecretString=<stdin>\n"
        ));
        return Ok(out);
    }

    sdk::runtime()?.block_on(async {
        let config = sdk::connect(env, &target.region).await;
        // Before stdin is read: refused credentials cost the user nothing.
        sdk::preflight(env, &config).await?;
        let (value, count) = secret_value(&read()?, &scheme)?;
        let arn = match &provider.signing.secret_arn {
            Some(arn) => arn.clone(),
            None => {
                let cfn = aws_sdk_cloudformation::Client::new(&config);
                let [arn] = stack::outputs(&cfn, &target.stack, &stage.name, [&output]).await?;
                arn
            }
        };
        aws_sdk_secretsmanager::Client::new(&config)
            .put_secret_value()
            .secret_id(&arn)
            .secret_string(value)
            .send()
            .await
            .map_err(|err| {
                anyhow::anyhow!(
                    "writing the secret {arn}: {}",
                    aws_sdk_secretsmanager::error::DisplayErrorContext(&err)
                )
            })?;
        Ok(format!(
            "wrote {} to {arn}. New ingest instances use it at once; running ones read it again after a signature mismatch, at most once every {interval} s each, and until then refuse (401) a delivery signed with a secret they do not have: GitHub does not retry those. To rotate, write the new and the old secret together, wait {interval} s, then switch the provider to the new one.\n",
            if count == 1 {
                "the secret".to_owned()
            } else {
                format!("{count} secrets (all accepted: rotation)")
            },
            interval = hookline::ingest::SECRET_REFRESH_INTERVAL.as_secs(),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::env::fixtures;
    use crate::aws::moto::{self, Moto};

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

    fn stripe() -> hookline::Scheme {
        "stripe".parse().unwrap()
    }

    #[test]
    fn a_public_key_scheme_refuses_what_is_no_public_key() {
        let discord: hookline::Scheme = "discord".parse().unwrap();
        let err = secret_value("MTIzNDU2Nzg5.bot-token-s3cr3t", &discord)
            .unwrap_err()
            .to_string();
        assert!(err.contains("Ed25519 public key"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
        let public = discord.local_credentials(&[9; 32]).verify;
        assert_eq!(
            secret_value(&public, &discord).unwrap(),
            (public.clone(), 1)
        );
    }

    #[test]
    fn one_secret_is_stored_as_is_several_as_a_json_array() {
        assert_eq!(
            secret_value("whsec_abc\n", &stripe()).unwrap(),
            ("whsec_abc".to_owned(), 1)
        );
        assert_eq!(
            secret_value("new\r\nold\n\n", &stripe()).unwrap(),
            (r#"["new","old"]"#.to_owned(), 2)
        );
        assert_eq!(
            secret_value(r#" ["a", "b"] "#, &stripe()).unwrap(),
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
            let err = secret_value(input, &stripe()).unwrap_err().to_string();
            assert!(err.contains(message), "{input:?}: {err}");
            assert!(
                !err.contains("s3cr3t") && !err.contains("not json"),
                "{err}"
            );
        }
    }

    #[test]
    fn dry_run_prints_the_calls_and_reads_nothing() {
        let name = provider();
        let output = hookline_manifest::provider_outputs(&name).secret_arn;
        let mut read = || -> Result<String> { panic!("read stdin in a dry run") };
        let text = set(&args(&name, "prod", true), &fixtures::keys(), &mut read).unwrap();
        assert!(
            text.contains(
                "sts:GetCallerIdentity
# reads the secret from stdin"
            ),
            "{text}"
        );
        assert!(
            text.ends_with(&format!(
                "cloudformation:DescribeStacks StackName={}-prod (its output {output})\nsecretsmanager:PutSecretValue SecretId=<{output}> SecretString=<stdin>\n",
                project()
            )),
            "{text}"
        );
    }

    /// Against moto: the secret named by the stack's output gets the value, read back.
    #[tokio::test(flavor = "multi_thread")]
    async fn the_secret_is_written_and_reads_back() {
        let moto = Moto::start();
        let env = moto::env(&moto);
        let config = sdk::connect(&env, fixtures::REGION).await;
        let secrets = aws_sdk_secretsmanager::Client::new(&config);
        let created = secrets
            .create_secret()
            .name("hookline/stripe")
            .secret_string("placeholder")
            .send()
            .await
            .unwrap();
        let arn = created.arn().unwrap().to_owned();
        let output = hookline_manifest::provider_outputs(&provider()).secret_arn;
        let template = serde_json::json!({
            "Resources": { "Queue": { "Type": "AWS::SQS::Queue" } },
            "Outputs": { output.clone(): { "Value": arn } },
        });
        aws_sdk_cloudformation::Client::new(&config)
            .create_stack()
            .stack_name(format!("{}-prod", project()))
            .template_body(template.to_string())
            .send()
            .await
            .unwrap();
        let a = args(&provider(), "prod", false);
        let out = tokio::task::spawn_blocking(move || {
            let mut read = || Ok("n3w-secret\n0ld-secret\n".to_owned());
            set(&a, &env, &mut read)
        })
        .await
        .unwrap()
        .unwrap();
        assert!(
            out.starts_with(&format!(
                "wrote 2 secrets (all accepted: rotation) to {arn}."
            )),
            "{out}"
        );
        assert!(!out.contains("n3w-secret"));
        let stored = secrets
            .get_secret_value()
            .secret_id(&arn)
            .send()
            .await
            .unwrap();
        assert_eq!(
            stored.secret_string(),
            Some(r#"["n3w-secret","0ld-secret"]"#)
        );
    }

    #[test]
    fn an_undeployed_stage_is_explained_and_nothing_is_written() {
        let moto = Moto::start();
        let mut read = || Ok("s".to_owned());
        let err = set(
            &args(&provider(), "pr-5", false),
            &moto::env(&moto),
            &mut read,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("is the stage deployed (`cargo xtask deploy --stage pr-5`)?"),
            "{err}"
        );
    }

    #[test]
    fn without_credentials_nothing_is_read() {
        let mut read = || -> Result<String> { panic!("read stdin without credentials") };
        // AWS_PROFILE names a profile that no shared file has.
        let err = set(&args(&provider(), "prod", false), &credentials(), &mut read)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("AWS_PROFILE is `default`, but no such profile is in"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_provider_lists_the_known_ones() {
        let mut read = || Ok(String::new());
        let err = set(&args("nope", "prod", true), &fixtures::keys(), &mut read)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("no provider `nope` in hookline.toml (providers: "),
            "{err}"
        );
    }
}
