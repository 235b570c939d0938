//! `cargo xtask deploy --stage <s>`: checks the AWS credentials, builds every function (release,
//! the manifest's architecture), bootstraps the account/region for the CDK when needed, deploys
//! `<project>-<stage>` and prints the webhook URLs (`--json`: everything, for CI).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use hookline_manifest::Manifest;
use serde_json::{Map, Value, json};

use crate::aws::AwsEnv;
use crate::build::{self, Arch, Machine, Options};
use crate::cdk::{self, Stage, Target};
use crate::cmd::{Exec, Plan, RealExec};
use crate::tools;

#[derive(clap::Args)]
pub struct Args {
    /// The stage: prod, staging, pr-42, ... (the stack is <project>-<stage>).
    #[arg(long)]
    pub stage: String,
    /// Remove everything on destroy, queues, secrets and logs included (pr-* stages always are).
    #[arg(long)]
    pub ephemeral: bool,
    /// The ttl tag of an ephemeral stage: 30m, 24h, 7d (default 24h).
    #[arg(long)]
    pub ttl: Option<String>,
    /// Deploy without asking to approve IAM or security-group changes.
    #[arg(long)]
    pub yes: bool,
    /// Print the stack's outputs as JSON, one line at the end of stdout (progress goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Subscribe this address to the alarms (pass it on every deploy to keep it).
    #[arg(long)]
    pub alarm_email: Option<String>,
    /// Print the commands instead of running them.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: Args) -> Result<()> {
    let root = tools::project_root();
    let mut exec = RealExec {
        root: root.clone(),
        stdout_to_stderr: args.json,
    };
    let manifest = cdk::manifest(&root)?;
    let machine = Machine::inspect(&root, manifest.project.architecture.into());
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
    let manifest = cdk::manifest(root)?;
    let stage = Stage::new(&args.stage, args.ephemeral, args.ttl.as_deref())?;
    let target = Target::new(&manifest, &stage, env);
    let outputs_file = format!("cdk.out/{}.outputs.json", target.stack);
    let plan = plan(
        root,
        &manifest,
        &stage,
        &target,
        args,
        machine,
        &outputs_file,
    )?;
    if args.dry_run {
        return Ok(plan.render());
    }
    // Before anything is built: a missing credential fails here, not after minutes of compiling.
    cdk::require_credentials(env, &target)?;
    plan.execute(exec)?;
    let path = root.join("cdk").join(&outputs_file);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading the stack outputs {}", path.display()))?;
    let outputs: Value = serde_json::from_str(&text)
        .with_context(|| format!("parsing the stack outputs {}", path.display()))?;
    let summary = summary(&manifest, &stage, &target, &outputs)?;
    Ok(if args.json {
        // One line, the last of stdout: `| tail -n 1` gets it whatever a tool printed before.
        format!("{}\n", serde_json::to_string(&summary)?)
    } else {
        human(&manifest, &stage, &summary)
    })
}

fn plan(
    root: &Path,
    manifest: &Manifest,
    stage: &Stage,
    target: &Target,
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
    build::add_steps(&mut plan, root, manifest, &options, machine)?;
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
    cdk::npm_ci_if_needed(&mut plan, root)?;
    let with_email = |cmd: crate::cmd::Cmd| match &args.alarm_email {
        Some(email) => cmd.args(["-c", &format!("alarmEmail={email}")]),
        None => cmd,
    };
    // Idempotent: creates or updates the CDK's staging resources of the account and region.
    plan.run(with_email(cdk::cdk("bootstrap", target, stage)));
    let mut deploy = with_email(cdk::cdk("deploy", target, stage)).arg(target.stack.as_str());
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

/// The stack's outputs, by provider.
fn summary(manifest: &Manifest, stage: &Stage, target: &Target, outputs: &Value) -> Result<Value> {
    let stack = outputs
        .get(&target.stack)
        .with_context(|| format!("the outputs have no stack {}", target.stack))?;
    let get = |key: &str| -> Result<String> {
        stack
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("the stack {} has no output {key}", target.stack))
    };
    let mut providers = Map::new();
    for provider in &manifest.providers {
        let prefix = cdk::output_prefix(&provider.name);
        providers.insert(
            provider.name.clone(),
            json!({
                "route": provider.route,
                "webhookUrl": get(&format!("{prefix}WebhookUrl"))?,
                "queueUrl": get(&format!("{prefix}QueueUrl"))?,
                "dlqUrl": get(&format!("{prefix}DlqUrl"))?,
                "secretArn": get(&format!("{prefix}SecretArn"))?,
                "secretCreated": provider.signing.secret_arn.is_none(),
            }),
        );
    }
    Ok(json!({
        "stack": target.stack,
        "stage": stage.name,
        "region": target.region,
        "ephemeral": stage.ephemeral,
        "ttl": stage.ttl,
        "apiEndpoint": get("ApiEndpoint")?,
        "alarmTopicArn": get("AlarmTopicArn")?,
        "providers": providers,
    }))
}

fn human(manifest: &Manifest, stage: &Stage, summary: &Value) -> String {
    let mut out = format!(
        "{} deployed in {}{}. Webhook URLs:\n",
        summary["stack"].as_str().unwrap_or_default(),
        summary["region"].as_str().unwrap_or_default(),
        if stage.ephemeral {
            " (ephemeral: `cargo xtask destroy` removes everything)"
        } else {
            ""
        }
    );
    let width = manifest
        .providers
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0);
    for provider in &manifest.providers {
        let url = summary["providers"][&provider.name]["webhookUrl"]
            .as_str()
            .unwrap_or_default();
        out.push_str(&format!("  {:<width$}  {url}\n", provider.name));
    }
    let created: Vec<&str> = manifest
        .providers
        .iter()
        .filter(|p| p.signing.secret_arn.is_none())
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
            stage: stage.to_owned(),
            ephemeral: false,
            ttl: None,
            yes: false,
            json: false,
            alarm_email: None,
            dry_run: true,
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
    fn dry_run_prints_build_bootstrap_and_deploy() {
        let root = tools::project_root();
        let manifest = cdk::manifest(&root).unwrap();
        let (env, _home) = no_credentials();
        let mut a = args("pr-42");
        a.yes = true;
        a.ttl = Some("2h".to_owned());
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
        let context = format!("-c stage=pr-42 -c region={region} -c ephemeral=true -c ttl=2h");
        expected.push(format!(
            "cd cdk && AWS_REGION={region} node_modules/.bin/cdk bootstrap --no-notices {context}"
        ));
        expected.push(format!("cd cdk && AWS_REGION={region} node_modules/.bin/cdk deploy --no-notices {context} {stack} --require-approval never --outputs-file cdk.out/{stack}.outputs.json"));
        expected.push(format!(
            "# then prints the webhook URLs from cdk/cdk.out/{stack}.outputs.json"
        ));
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.contains("npm") && !l.starts_with("# cdk/node_modules"))
            .collect();
        assert_eq!(lines, expected);
    }

    #[test]
    fn dry_run_of_a_retained_stage_asks_for_approval_and_passes_the_alarm_email() {
        let root = tools::project_root();
        let (env, _home) = no_credentials();
        let mut a = args("prod");
        a.alarm_email = Some("ops@example.com".to_owned());
        let text = deploy(&root, &a, &env, READY, &mut Recorder::default()).unwrap();
        let deploy_line = text.lines().find(|l| l.contains("cdk deploy")).unwrap();
        assert!(
            deploy_line.contains("-c stage=prod -c region="),
            "{deploy_line}"
        );
        assert!(deploy_line.contains("-c alarmEmail=ops@example.com"));
        assert!(!deploy_line.contains("ephemeral"));
        assert!(!deploy_line.contains("--require-approval"));
    }

    #[test]
    fn without_credentials_it_fails_before_building_anything() {
        let root = tools::project_root();
        let (env, _home) = no_credentials();
        let mut a = args("pr-42");
        a.dry_run = false;
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
        let stage = Stage::new("pr-7", false, None).unwrap();
        let target = Target::new(&manifest, &stage, &AwsEnv::default());
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
        let summary = summary(&manifest, &stage, &target, &outputs).unwrap();
        assert_eq!(
            summary["providers"]["billing-eu"]["webhookUrl"],
            "https://abc.execute-api.eu-west-1.amazonaws.com/webhooks/billing-eu"
        );
        assert_eq!(summary["providers"]["stripe"]["secretCreated"], true);
        assert_eq!(summary["providers"]["billing-eu"]["secretCreated"], false);
        assert_eq!(summary["ephemeral"], true);
        assert_eq!(summary["ttl"], "24h");
        let text = human(&manifest, &stage, &summary);
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
        assert!(summary_err(&manifest, &stage, &target, &missing).contains("has no output"));
    }

    fn summary_err(m: &Manifest, s: &Stage, t: &Target, o: &Value) -> String {
        summary(m, s, t, o).unwrap_err().to_string()
    }
}

/// `.github/workflows/preview.yml`, read with the venv's PyYAML (no YAML crate in the workspace).
#[cfg(test)]
mod preview_workflow_tests {
    use serde_json::Value;

    use crate::tools;

    fn workflow() -> Value {
        let python = std::env::var_os("HOOKLINE_TEST_PYTHON")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(tools::venv_python);
        let file = tools::project_root().join(".github/workflows/preview.yml");
        let out = std::process::Command::new(python)
            .args([
                "-c",
                "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
            ])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn runs(job: &Value) -> Vec<String> {
        job["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["run"].as_str().map(str::to_owned))
            .collect()
    }

    #[test]
    fn deploys_pr_number_on_pushes_and_destroys_it_on_close() {
        let w = workflow();
        // YAML 1.1 reads the key `on` as true.
        let on = if w["on"].is_null() {
            &w["true"]
        } else {
            &w["on"]
        };
        let types: Vec<&str> = on["pull_request"]["types"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for t in ["opened", "synchronize", "reopened", "closed"] {
            assert!(types.contains(&t), "{t} missing from {types:?}");
        }
        assert_eq!(
            w["env"]["STAGE"],
            "pr-${{ github.event.pull_request.number }}"
        );
        assert_eq!(w["permissions"]["id-token"], "write");

        let deploy = &w["jobs"]["deploy"];
        assert!(deploy["if"].as_str().unwrap().contains("!= 'closed'"));
        assert!(
            runs(deploy)
                .iter()
                .any(|r| r.contains("cargo xtask deploy --stage \"$STAGE\" --yes --json"))
        );
        let destroy = &w["jobs"]["destroy"];
        assert!(destroy["if"].as_str().unwrap().contains("== 'closed'"));
        assert!(
            runs(destroy)
                .iter()
                .any(|r| r.contains("cargo xtask destroy --stage \"$STAGE\" --yes"))
        );
        for job in [deploy, destroy] {
            let credentials = job["steps"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| {
                    s["uses"]
                        .as_str()
                        .is_some_and(|u| u.starts_with("aws-actions/configure-aws-credentials"))
                })
                .expect("OIDC credentials step");
            assert_eq!(
                credentials["with"]["role-to-assume"],
                "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
            );
        }
    }
}
