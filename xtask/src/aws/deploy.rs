//! `cargo xtask deploy --stage <s>`: checks the AWS credentials (STS) and that the account and
//! region are bootstrapped (SSM, `cargo xtask bootstrap` otherwise), builds every function
//! (release, the manifest's architecture), deploys `<project>-<stage>` from its resolved manifest
//! and prints the webhook URLs (`--json`: everything, for CI). It never bootstraps.
//!
//! `--hotswap` is `cdk deploy --hotswap`: the functions' code is updated directly, not through
//! CloudFormation (seconds instead of minutes, and the stack drifts until the next full deploy),
//! so it is for ephemeral stages; another stage needs `--force`.

use std::path::{Path, PathBuf};

use std::time::Instant;

use anyhow::{Context, Result, bail};
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
    /// Update only the functions' code, directly (cdk deploy --hotswap): ephemeral stages only.
    #[arg(long)]
    pub hotswap: bool,
    /// With --hotswap: on a stage that is not ephemeral too.
    #[arg(long, requires = "hotswap")]
    pub force: bool,
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
    if args.hotswap && !resolved.stage.ephemeral && !args.force {
        bail!(
            "--hotswap is for ephemeral stages, and {} is not one: a hotswap changes the functions' code behind CloudFormation's back (the stack drifts until its next full deploy). Deploy without --hotswap, or pass --force to hotswap it anyway.",
            target.stack
        );
    }
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
    let started = Instant::now();
    plan.execute(exec)?;
    let seconds = started.elapsed().as_secs_f64();
    let path = root.join("cdk").join(&outputs_file);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading the stack outputs {}", path.display()))?;
    let outputs: Value = serde_json::from_str(&text)
        .with_context(|| format!("parsing the stack outputs {}", path.display()))?;
    let mut summary = summary(&resolved, &outputs)?;
    summary["hotswap"] = args.hotswap.into();
    summary["seconds"] = json!((seconds * 10.0).round() / 10.0);
    Ok(if args.json {
        // One line, the last of stdout: `| tail -n 1` gets it whatever a tool printed before.
        format!("{}\n", serde_json::to_string(&summary)?)
    } else if args.hotswap {
        format!(
            "hotswapped the functions of {} in {seconds:.1} s (build included). The stack's other changes, and its expiry tag, wait for a full deploy.\n{}",
            target.stack,
            human(&resolved, &summary)
        )
    } else {
        format!(
            "{}deployed in {seconds:.1} s (build included)\n",
            human(&resolved, &summary)
        )
    })
}

/// The steps a deploy and a diff share: build every function (release), check the zips, write
/// the resolved manifest and install the CDK app's packages; returns the resolved manifest's path.
pub fn build_steps(
    plan: &mut Plan,
    root: &Path,
    manifest: &Manifest,
    resolved: &Resolved,
    machine: Machine,
) -> Result<PathBuf> {
    let options = Options {
        arch: Arch::from(manifest.project.architecture),
        release: true,
        out_dir: PathBuf::from(build::DEFAULT_OUT_DIR),
        target_dir: None,
        no_debuginfo: false,
    };
    build::add_steps(plan, manifest, &options, machine)?;
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
    let file = stage::write_resolved(plan, resolved);
    cdk::npm_ci_if_needed(plan, root)?;
    Ok(file)
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
    let file = build_steps(&mut plan, root, manifest, resolved, machine)?;
    let mut deploy = cdk::cdk("deploy", target, &file).arg(target.stack.as_str());
    if args.yes {
        deploy = deploy.args(["--require-approval", "never"]);
    }
    if args.hotswap {
        deploy = deploy.arg("--hotswap");
    }
    deploy = deploy.args(["--outputs-file", outputs_file]);
    plan.run_labelled(
        format!(
            "{} {} with the CDK...",
            if args.hotswap {
                "hotswapping"
            } else {
                "deploying"
            },
            target.stack
        ),
        deploy,
    );
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
mod tests;
