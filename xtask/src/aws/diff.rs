//! `cargo xtask diff --stage <s>`: what a deploy would change. It builds every function as
//! `deploy` does (the CDK app needs the zips), then runs `cdk diff` of the stage's stack against
//! the deployed one; `--fail` makes it exit non-zero when they differ (cdk diff's own `--fail`).
//!
//! Every deploy of an ephemeral stage pushes its expiry tag forward, and the stack tags every
//! resource with it: resolved "now", every resource would show a changed tag. So the diff
//! resolves the stage with the expiry the deployed stack has, and shows only what the code and
//! the manifest change.

use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use hookline_manifest::stage::TAG_EXPIRES_AT;

use crate::aws::build::Machine;
use crate::aws::{AwsEnv, cdk, deploy, sdk, stack};
use crate::cmd::{Exec, Plan, RealExec};
use crate::project;
use crate::stage::{self, LifetimeArgs, StageArgs, StageStack};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub stage: StageArgs,
    /// The stage's lifetime, as it would be deployed.
    #[command(flatten)]
    pub lifetime: LifetimeArgs,
    /// The address subscribed to the alarms, as it would be deployed.
    #[arg(long)]
    pub alarm_email: Option<String>,
    /// Exit non-zero when the stage differs (cdk diff --fail).
    #[arg(long)]
    pub fail: bool,
}

pub fn run(args: Args) -> Result<()> {
    let root = project::root();
    let manifest = project::manifest()?;
    let machine = Machine::inspect(manifest.project.architecture.into());
    let out = diff(
        &root,
        &args,
        &AwsEnv::from_process(),
        machine,
        &mut RealExec::new(&root),
    )?;
    print!("{out}");
    Ok(())
}

/// The deploy time that gives the deployed expiry again: the expiry less the ttl. Without a
/// readable expiry (a retained stage, or not deployed yet), `now`.
pub fn deployed_now(
    expires_at: Option<&str>,
    ttl_secs: Option<u64>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let expiry = expires_at
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|t| t.with_timezone(&Utc));
    match (expiry, ttl_secs.and_then(|s| i64::try_from(s).ok())) {
        (Some(at), Some(ttl)) => at - chrono::Duration::seconds(ttl),
        _ => now,
    }
}

/// Runs the diff (or, with `--dry-run`, returns the plan); returns what to print on stdout.
pub fn diff(
    root: &Path,
    args: &Args,
    env: &AwsEnv,
    machine: Machine,
    exec: &mut dyn Exec,
) -> Result<String> {
    let manifest = project::manifest()?;
    let stage = args.lifetime.stage(&args.stage.stage)?;
    let pr = args.lifetime.pull_request(&stage)?;
    let target = StageStack::new(&manifest, &stage, env);
    // Before anything is built: credentials that do not work fail here, and the deployed
    // expiry is read.
    let expires_at = if args.stage.dry_run {
        None
    } else {
        sdk::runtime()?.block_on(async {
            let config = sdk::connect(env, &target.region).await;
            sdk::preflight(env, &config).await?;
            let cfn = aws_sdk_cloudformation::Client::new(&config);
            let found = stack::describe(&cfn, &target.stack).await?;
            anyhow::Ok(found.and_then(|s| s.tags.get(TAG_EXPIRES_AT).cloned()))
        })?
    };
    let now = deployed_now(expires_at.as_deref(), stage.ttl_secs(), Utc::now());
    let resolved =
        stage::resolve_stage_at(&manifest, stage, pr, env, args.alarm_email.as_deref(), now)?;
    let target = StageStack::of(&resolved);
    let mut plan = Plan::default();
    let file = deploy::build_steps(&mut plan, root, &manifest, &resolved, machine)?;
    let mut cmd = cdk::cdk("diff", &target, &file).arg(target.stack.as_str());
    if args.fail {
        cmd = cmd.arg("--fail");
    }
    plan.run(cmd);
    if args.stage.dry_run {
        return Ok(format!(
            "# in {}, before anything is built:\nsts:GetCallerIdentity\ncloudformation:DescribeStacks StackName={} (its {TAG_EXPIRES_AT} tag: the diff keeps the deployed expiry)\n{}",
            target.region,
            target.stack,
            plan.render()
        ));
    }
    if args.fail {
        plan.execute(exec).with_context(|| {
            format!(
                "{} differs from what a deploy would make (cdk diff --fail), or could not be compared: see above",
                target.stack
            )
        })?;
        Ok(format!("{}: no differences\n", target.stack))
    } else {
        plan.execute(exec)?;
        Ok(String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::build;
    use crate::cmd::Recorder;

    const READY: Machine = Machine {
        tools_installed: true,
        venv_exists: true,
        target_installed: Some(true),
    };

    fn args(stage: &str, fail: bool) -> Args {
        Args {
            stage: StageArgs::new(stage, true),
            lifetime: LifetimeArgs::default(),
            alarm_email: None,
            fail,
        }
    }

    #[test]
    fn dry_run_builds_like_deploy_then_diffs_the_stack() {
        let root = project::root();
        let manifest = project::manifest().unwrap();
        let mut recorder = Recorder::default();
        let text = diff(
            &root,
            &args("pr-42", true),
            &AwsEnv::default(),
            READY,
            &mut recorder,
        )
        .unwrap();
        assert!(recorder.ran.is_empty());
        let region = &manifest.project.region;
        let stack = format!("{}-pr-42", manifest.project.name);
        let arch = manifest.project.architecture.as_str();
        let mut expected = vec![
            format!("# in {region}, before anything is built:"),
            "sts:GetCallerIdentity".to_owned(),
            format!(
                "cloudformation:DescribeStacks StackName={stack} (its hookline:expires-at tag: the diff keeps the deployed expiry)"
            ),
        ];
        expected.extend(build::binaries(&manifest).iter().map(|b| {
            format!("PATH=.tools/venv/bin:$PATH cargo lambda build --release --{} --output-format zip --lambda-dir target/lambda/{arch} --bin {b}", if arch == "arm64" { "arm64" } else { "x86-64" })
        }));
        expected.push(format!("# checks that each target/lambda/{arch}/<binary>/bootstrap.zip holds an executable {arch} bootstrap"));
        let file = stage::resolved_path("pr-42");
        expected.push(format!(
            "# writes the resolved manifest to {} (what `cargo xtask resolve --stage pr-42` prints)",
            file.display()
        ));
        expected.push(format!(
            "cd cdk && AWS_REGION={region} node_modules/.bin/cdk diff --no-notices -c resolved={} {stack} --fail",
            file.display()
        ));
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.contains("npm") && !l.starts_with("# cdk/node_modules"))
            .collect();
        assert_eq!(lines, expected);
        // Without --fail, the same command without it.
        let text = diff(
            &root,
            &args("pr-42", false),
            &AwsEnv::default(),
            READY,
            &mut recorder,
        )
        .unwrap();
        let last = text.lines().last().unwrap();
        assert!(last.ends_with(&format!(" {stack}")), "{last}");
    }

    #[test]
    fn the_deployed_expiry_is_kept() {
        let now = DateTime::parse_from_rfc3339("2026-12-02T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let deployed = "2026-12-03T09:30:00Z";
        let at = deployed_now(Some(deployed), Some(86_400), now);
        assert_eq!(at.to_rfc3339(), "2026-12-02T09:30:00+00:00");
        // Resolved at that time, the stage has the deployed expiry, tag included.
        let manifest = project::manifest().unwrap();
        let stage = hookline_manifest::Stage::new("pr-3", false, None).unwrap();
        let resolved =
            stage::resolve_stage_at(&manifest, stage, None, &AwsEnv::default(), None, at).unwrap();
        assert_eq!(resolved.stage.expires_at.as_deref(), Some(deployed));
        assert_eq!(resolved.stage.tags[TAG_EXPIRES_AT], deployed);
        // Nothing deployed, a retained stage, an unreadable tag: now.
        assert_eq!(deployed_now(None, Some(86_400), now), now);
        assert_eq!(deployed_now(Some(deployed), None, now), now);
        assert_eq!(deployed_now(Some("soon"), Some(86_400), now), now);
    }

    #[test]
    fn without_credentials_it_fails_before_building_anything() {
        let home = tempfile::tempdir().unwrap();
        let env = AwsEnv {
            vars: Default::default(),
            home: Some(home.path().to_path_buf()),
        };
        let mut a = args("pr-42", false);
        a.stage.dry_run = false;
        let mut recorder = Recorder::default();
        let err = diff(&project::root(), &a, &env, READY, &mut recorder)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("no AWS credentials found"), "{err}");
        assert!(recorder.ran.is_empty());
    }
}
