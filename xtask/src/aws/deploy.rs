//! `cargo xtask deploy --stage <s>`: checks the AWS credentials (STS) and that the account and
//! region are bootstrapped (SSM, `cargo xtask bootstrap` otherwise), builds every function
//! (release, the manifest's architecture), deploys `<project>-<stage>` from its resolved manifest
//! and prints the webhook URLs (`--json`: everything, for CI). It never bootstraps.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use hookline_manifest::{Manifest, Resolved};
use serde_json::{Map, Value, json};

use crate::aws::AwsEnv;
use crate::aws::build::{self, Arch, Machine, Options};
use crate::aws::{bootstrap, cdk, sdk};
use crate::cmd::{Exec, Plan, RealExec};
use crate::project;
use crate::stage::{self, LifetimeArgs, StageArgs, StageStack};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub stage: StageArgs,
    #[command(flatten)]
    pub lifetime: LifetimeArgs,
    /// Deploy without asking to approve IAM or security-group changes.
    #[arg(long)]
    pub yes: bool,
    /// Print the stack's outputs as JSON, one line at the end of stdout (progress goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Subscribe this address to the alarms (pass it on every deploy to keep it).
    #[arg(long)]
    pub alarm_email: Option<String>,
}

pub fn run(args: Args) -> Result<()> {
    let root = project::root();
    let mut exec = RealExec {
        root: root.clone(),
        stdout_to_stderr: args.json,
    };
    let manifest = project::manifest()?;
    let machine = Machine::inspect(manifest.project.architecture.into());
    let out = deploy(&root, &args, &AwsEnv::from_process(), machine, &mut exec)?;
    print!("{out}");
    Ok(())
}

/// Deploys (or, with `--dry-run`, returns the plan); returns what to print on stdout.
pub fn deploy(
    root: &Path,
    args: &Args,
    env: &AwsEnv,
    machine: Machine,
    exec: &mut dyn Exec,
) -> Result<String> {
    let manifest = project::manifest()?;
    let stage = args.lifetime.stage(&args.stage.stage)?;
    let pr = args.lifetime.pull_request(&stage)?;
    let resolved = stage::resolve_stage(&manifest, stage, pr, env, args.alarm_email.as_deref())?;
    let target = StageStack::of(&resolved);
    let outputs_file = format!("cdk.out/{}.outputs.json", target.stack);
    let plan = plan(
        root,
        &manifest,
        &resolved,
        &target,
        args,
        machine,
        &outputs_file,
    )?;
    if args.stage.dry_run {
        return Ok(format!("{}{}", preflight_calls(&target), plan.render()));
    }
    // Before anything is built: credentials that do not work, or an account that is not
    // bootstrapped, fail here, not after minutes of compiling.
    sdk::runtime()?.block_on(async {
        let config = sdk::connect(env, &target.region).await;
        let identity = sdk::preflight(env, &config).await?;
        bootstrap::check(&config, &identity.account).await
    })?;
    plan.execute(exec)?;
    let path = root.join("cdk").join(&outputs_file);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading the stack outputs {}", path.display()))?;
    let outputs: Value = serde_json::from_str(&text)
        .with_context(|| format!("parsing the stack outputs {}", path.display()))?;
    let summary = summary(&resolved, &outputs)?;
    Ok(if args.json {
        // One line, the last of stdout: `| tail -n 1` gets it whatever a tool printed before.
        format!("{}\n", serde_json::to_string(&summary)?)
    } else {
        human(&resolved, &summary)
    })
}

fn plan(
    root: &Path,
    manifest: &Manifest,
    resolved: &Resolved,
    target: &StageStack,
    args: &Args,
    machine: Machine,
    outputs_file: &str,
) -> Result<Plan> {
    let mut plan = Plan::default();
    let options = Options {
        arch: Arch::from(manifest.project.architecture),
        release: true,
        out_dir: PathBuf::from(build::DEFAULT_OUT_DIR),
        target_dir: None,
        no_debuginfo: false,
    };
    build::add_steps(&mut plan, manifest, &options, machine)?;
    let arch = options.arch;
    let zips: Vec<PathBuf> = build::binaries(manifest)
        .iter()
        .map(|b| build::zip_path(root, &options.out_dir, arch, b))
        .collect();
    plan.call(vec![], move || {
        for zip in &zips {
            build::check_zip(zip, arch)?;
        }
        Ok(())
    });
    let file = stage::write_resolved(&mut plan, resolved);
    cdk::npm_ci_if_needed(&mut plan, root)?;
    let mut deploy = cdk::cdk("deploy", target, &file).arg(target.stack.as_str());
    if args.yes {
        deploy = deploy.args(["--require-approval", "never"]);
    }
    deploy = deploy.args(["--outputs-file", outputs_file]);
    plan.run(deploy);
    plan.note(format!(
        "then prints the webhook URLs from cdk/{outputs_file}"
    ));
    Ok(plan)
}

/// The AWS calls a deploy makes before it builds anything, as `--dry-run` shows them.
fn preflight_calls(target: &StageStack) -> String {
    format!(
        "# in {}, before anything is built:\nsts:GetCallerIdentity\nssm:GetParameter Name={} (bootstrapped with version {} or later: `cargo xtask bootstrap`)\n",
        target.region,
        bootstrap::version_parameter(),
        bootstrap::MIN_BOOTSTRAP_VERSION
    )
}

/// The stack's outputs, by provider.
fn summary(resolved: &Resolved, outputs: &Value) -> Result<Value> {
    let stack_name = &resolved.stage.stack_name;
    let stack = outputs
        .get(stack_name)
        .with_context(|| format!("the outputs have no stack {stack_name}"))?;
    let get = |key: &str| -> Result<String> {
        stack
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("the stack {stack_name} has no output {key}"))
    };
    let mut providers = Map::new();
    for provider in &resolved.providers {
        let names = &provider.outputs;
        providers.insert(
            provider.name.clone(),
            json!({
                "route": provider.route,
                "webhookUrl": get(&names.webhook_url)?,
                "queueUrl": get(&names.queue_url)?,
                "dlqUrl": get(&names.dlq_url)?,
                "secretArn": get(&names.secret_arn)?,
                "secretCreated": provider.secret_arn.is_none(),
            }),
        );
    }
    let stage = &resolved.stage;
    Ok(json!({
        "stack": stack_name,
        "stage": stage.name,
        "region": stage.region,
        "ephemeral": stage.ephemeral,
        "ttl": stage.ttl,
        "apiEndpoint": get(&stage.outputs.api_endpoint)?,
        "alarmTopicArn": get(&stage.outputs.alarm_topic_arn)?,
        "providers": providers,
    }))
}

fn human(resolved: &Resolved, summary: &Value) -> String {
    let stage = &resolved.stage;
    let mut out = format!(
        "{} deployed in {}{}. Webhook URLs:\n",
        stage.stack_name,
        stage.region,
        if stage.ephemeral {
            " (ephemeral: `cargo xtask destroy` removes everything)"
        } else {
            ""
        }
    );
    let width = resolved
        .providers
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0);
    for provider in &resolved.providers {
        let url = summary["providers"][&provider.name]["webhookUrl"]
            .as_str()
            .unwrap_or_default();
        out.push_str(&format!("  {:<width$}  {url}\n", provider.name));
    }
    let created: Vec<&str> = resolved
        .providers
        .iter()
        .filter(|p| p.secret_arn.is_none())
        .map(|p| p.name.as_str())
        .collect();
    if !created.is_empty() {
        out.push_str(&format!(
            "Until its signing secret is set, a provider's deliveries are rejected (401):\n  printf '%s' \"$SECRET\" | cargo xtask secret set <{}> --stage {}\n",
            created.join("|"),
            stage.name
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::Recorder;

    const READY: Machine = Machine {
        tools_installed: true,
        venv_exists: true,
        target_installed: Some(true),
    };

    fn args(stage: &str) -> Args {
        Args {
            stage: StageArgs::new(stage, true),
            lifetime: LifetimeArgs::default(),
            yes: false,
            json: false,
            alarm_email: None,
        }
    }

    fn no_credentials() -> (AwsEnv, tempfile::TempDir) {
        let home = tempfile::tempdir().unwrap();
        let env = AwsEnv {
            vars: Default::default(),
            home: Some(home.path().to_path_buf()),
        };
        (env, home)
    }

    #[test]
    fn dry_run_prints_the_preflight_calls_the_build_and_the_deploy() {
        let root = project::root();
        let manifest = project::manifest().unwrap();
        let (env, _home) = no_credentials();
        let mut a = args("pr-42");
        a.yes = true;
        a.lifetime.ttl = Some("2h".to_owned());
        let mut recorder = Recorder::default();
        // No credentials are needed to print the plan.
        let text = deploy(&root, &a, &env, READY, &mut recorder).unwrap();
        assert!(recorder.ran.is_empty());
        let region = &manifest.project.region;
        let stack = format!("{}-pr-42", manifest.project.name);
        let arch = manifest.project.architecture.as_str();
        let flag = if arch == "arm64" {
            "--arm64"
        } else {
            "--x86-64"
        };
        let mut expected: Vec<String> = build::binaries(&manifest)
            .iter()
            .map(|b| format!("PATH=.tools/venv/bin:$PATH cargo lambda build --release {flag} --output-format zip --lambda-dir target/lambda/{arch} --bin {b}"))
            .collect();
        expected.push(format!("# checks that each target/lambda/{arch}/<binary>/bootstrap.zip holds an executable {arch} bootstrap"));
        let file = stage::resolved_path("pr-42");
        expected.push(format!(
            "# writes the resolved manifest to {} (what `cargo xtask resolve --stage pr-42` prints)",
            file.display()
        ));
        let context = format!("-c resolved={}", file.display());
        expected.push(format!("cd cdk && AWS_REGION={region} node_modules/.bin/cdk deploy --no-notices {context} {stack} --require-approval never --outputs-file cdk.out/{stack}.outputs.json"));
        expected.push(format!(
            "# then prints the webhook URLs from cdk/cdk.out/{stack}.outputs.json"
        ));
        let mut preflight = vec![
            format!("# in {region}, before anything is built:"),
            "sts:GetCallerIdentity".to_owned(),
            "ssm:GetParameter Name=/cdk-bootstrap/hnb659fds/version (bootstrapped with version 6 or later: `cargo xtask bootstrap`)".to_owned(),
        ];
        preflight.extend(expected);
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.contains("npm") && !l.starts_with("# cdk/node_modules"))
            .collect();
        assert_eq!(lines, preflight);
        assert!(!text.contains("cdk bootstrap"), "deploy never bootstraps");
        let written = stage::resolve_stage(
            &manifest,
            a.lifetime.stage("pr-42").unwrap(),
            None,
            &env,
            None,
        )
        .unwrap();
        assert_eq!(written.stage.ttl.as_deref(), Some("2h"));
    }

    #[test]
    fn dry_run_of_a_retained_stage_asks_for_approval_and_passes_the_alarm_email() {
        let root = project::root();
        let (env, _home) = no_credentials();
        let mut a = args("prod");
        a.alarm_email = Some("ops@example.com".to_owned());
        let text = deploy(&root, &a, &env, READY, &mut Recorder::default()).unwrap();
        let deploy_line = text.lines().find(|l| l.contains("cdk deploy")).unwrap();
        assert!(
            deploy_line.contains(&format!(
                "-c resolved={}",
                stage::resolved_path("prod").display()
            )),
            "{deploy_line}"
        );
        assert!(!deploy_line.contains("--require-approval"));
        // The address reaches the app through the resolved manifest.
        let manifest = project::manifest().unwrap();
        let resolved = stage::resolve_stage(
            &manifest,
            a.lifetime.stage("prod").unwrap(),
            None,
            &env,
            a.alarm_email.as_deref(),
        )
        .unwrap();
        assert_eq!(
            resolved.stage.alarm_email.as_deref(),
            Some("ops@example.com")
        );
        assert!(!resolved.stage.ephemeral);
        a.alarm_email = Some("nobody".to_owned());
        let err = deploy(&root, &a, &env, READY, &mut Recorder::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--alarm-email `nobody` is not an email address"
        );
    }

    #[test]
    fn without_credentials_it_fails_before_building_anything() {
        let root = project::root();
        let (env, _home) = no_credentials();
        let mut a = args("pr-42");
        a.stage.dry_run = false;
        let mut recorder = Recorder::default();
        let err = deploy(&root, &a, &env, READY, &mut recorder).unwrap_err();
        assert!(
            err.to_string().starts_with("no AWS credentials found"),
            "{err}"
        );
        assert!(err.to_string().contains("Nothing was built or deployed."));
        assert_eq!(recorder.ran, Vec::<String>::new());
    }

    #[test]
    fn outputs_become_urls_and_json() {
        let manifest = hookline_manifest::parse(
            "[project]\nname = \"shop\"\nregion = \"eu-west-1\"\n[[providers]]\nname = \"stripe\"\ntemplate = \"stripe\"\n[[providers]]\nname = \"billing-eu\"\ntemplate = \"github\"\n[providers.signing]\nsecret_arn = \"arn:aws:secretsmanager:eu-west-1:1:secret:x\"\n",
            "hookline.toml",
        )
        .unwrap();
        let stage = hookline_manifest::Stage::new("pr-7", false, None).unwrap();
        let resolved =
            stage::resolve_stage(&manifest, stage, None, &AwsEnv::default(), None).unwrap();
        let mut stack = Map::new();
        stack.insert(
            "ApiEndpoint".into(),
            "https://abc.execute-api.eu-west-1.amazonaws.com".into(),
        );
        stack.insert("AlarmTopicArn".into(), "arn:aws:sns:eu-west-1:1:t".into());
        for (prefix, route) in [
            ("Stripe", "/webhooks/stripe"),
            ("BillingEu", "/webhooks/billing-eu"),
        ] {
            stack.insert(
                format!("{prefix}WebhookUrl"),
                format!("https://abc.execute-api.eu-west-1.amazonaws.com{route}").into(),
            );
            stack.insert(
                format!("{prefix}QueueUrl"),
                format!("https://sqs/{prefix}").into(),
            );
            stack.insert(
                format!("{prefix}DlqUrl"),
                format!("https://sqs/{prefix}-dlq").into(),
            );
            stack.insert(format!("{prefix}SecretArn"), format!("arn:{prefix}").into());
        }
        let outputs = json!({ "shop-pr-7": stack });
        let found = summary(&resolved, &outputs).unwrap();
        assert_eq!(
            found["providers"]["billing-eu"]["webhookUrl"],
            "https://abc.execute-api.eu-west-1.amazonaws.com/webhooks/billing-eu"
        );
        assert_eq!(found["providers"]["stripe"]["secretCreated"], true);
        assert_eq!(found["providers"]["billing-eu"]["secretCreated"], false);
        assert_eq!(found["ephemeral"], true);
        assert_eq!(found["ttl"], "24h");
        let text = human(&resolved, &found);
        assert!(
            text.starts_with("shop-pr-7 deployed in eu-west-1 (ephemeral"),
            "{text}"
        );
        assert!(
            text.contains(
                "  stripe      https://abc.execute-api.eu-west-1.amazonaws.com/webhooks/stripe\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("cargo xtask secret set <stripe> --stage pr-7"),
            "{text}"
        );
        let missing = json!({ "shop-pr-7": { "ApiEndpoint": "x" } });
        let err = summary(&resolved, &missing).unwrap_err().to_string();
        assert!(err.contains("has no output"), "{err}");
    }
}
