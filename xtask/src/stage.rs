//! Stages as the commands take them (`--stage`, `--dry-run`, and `--ephemeral`/`--ttl` where a
//! stage is made), and a stage's resolved manifest: `cargo xtask resolve` prints it, `synth` and
//! `deploy` write it to `target/hookline/<stage>.json` for the CDK app. The stage rules
//! themselves are `hookline_manifest::stage`'s.

use std::path::PathBuf;

use anyhow::{Context, Result};
use hookline_manifest::{Manifest, Resolved, Stage, StageOptions};

use crate::aws::{self, AwsEnv};
use crate::cmd::Plan;
use crate::project;

/// `--stage` and `--dry-run`: every command that works on a deployed stage has them.
#[derive(clap::Args, Debug, Clone)]
pub struct StageArgs {
    /// The stage: prod, staging, pr-42, ... (the stack is <project>-<stage>).
    #[arg(long)]
    pub stage: String,
    /// Print the commands instead of running them.
    #[arg(long)]
    pub dry_run: bool,
}

/// `--ephemeral` and `--ttl`: what the commands that make a stage (synth, deploy) add.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LifetimeArgs {
    /// Remove everything on destroy, queues, secrets and logs included (pr-* stages always are).
    #[arg(long)]
    pub ephemeral: bool,
    /// The time to live of an ephemeral stage: 30m, 24h, 7d (default 24h).
    #[arg(long)]
    pub ttl: Option<String>,
}

impl StageArgs {
    /// `--stage <stage>`, with `--dry-run` or not.
    #[cfg(test)]
    pub fn new(stage: &str, dry_run: bool) -> Self {
        StageArgs {
            stage: stage.to_owned(),
            dry_run,
        }
    }

    /// The stage, its name checked (a deployed stage's lifetime is read from its stack).
    pub fn stage(&self) -> Result<Stage> {
        Ok(Stage::new(&self.stage, false, None)?)
    }
}

impl LifetimeArgs {
    /// The stage `name` with this lifetime, checked.
    pub fn stage(&self, name: &str) -> Result<Stage> {
        Ok(Stage::new(name, self.ephemeral, self.ttl.as_deref())?)
    }
}

/// Where a stage lives on AWS: its stack and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageStack {
    /// `<project>-<stage>`.
    pub stack: String,
    /// The region: the AWS environment's, else the manifest's.
    pub region: String,
}

impl StageStack {
    /// The stack of `stage`, in the region the AWS environment or the manifest names.
    pub fn new(manifest: &Manifest, stage: &Stage, env: &AwsEnv) -> Self {
        StageStack {
            stack: stage.stack_name(&manifest.project.name),
            region: aws::region(env, &manifest.project.region),
        }
    }
}

/// Resolves the manifest for a stage, in the region the AWS environment names (else the
/// manifest's), with `alarm_email` winning over the manifest's.
pub fn resolve_stage(
    manifest: &Manifest,
    stage: Stage,
    env: &AwsEnv,
    alarm_email: Option<&str>,
) -> Result<Resolved> {
    let options = StageOptions {
        stage,
        region: Some(aws::region(env, &manifest.project.region)),
        alarm_email: alarm_email.map(str::to_owned),
    };
    let file = project::manifest_path();
    Ok(hookline_manifest::resolve(
        manifest,
        &file.display().to_string(),
        &options,
    )?)
}

/// Where a stage's resolved manifest is written: `target/hookline/<stage>.json`.
pub fn resolved_path(stage: &str) -> PathBuf {
    project::target_dir()
        .join("hookline")
        .join(format!("{stage}.json"))
}

/// Adds the step that writes the resolved manifest where the CDK app reads it; returns the path.
pub fn write_resolved(plan: &mut Plan, resolved: &Resolved) -> PathBuf {
    let path = resolved_path(&resolved.stage.name);
    let json = resolved.to_json();
    let target = path.clone();
    plan.call(
        vec![format!(
            "# writes the resolved manifest to {} (what `cargo xtask resolve --stage {}` prints)",
            path.display(),
            resolved.stage.name
        )],
        move || {
            if let Some(dir) = target.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(&target, &json).with_context(|| format!("writing {}", target.display()))
        },
    );
    path
}

/// `cargo xtask resolve`.
#[derive(clap::Args)]
pub struct ResolveArgs {
    /// The stage: prod, staging, pr-42, ...
    #[arg(long)]
    pub stage: String,
    #[command(flatten)]
    pub lifetime: LifetimeArgs,
    /// The address subscribed to the alarms, instead of the manifest's.
    #[arg(long)]
    pub alarm_email: Option<String>,
}

/// Prints a stage's resolved manifest.
pub fn resolve(args: ResolveArgs) -> Result<()> {
    let manifest = project::manifest()?;
    let stage = args.lifetime.stage(&args.stage)?;
    let resolved = resolve_stage(
        &manifest,
        stage,
        &AwsEnv::from_process(),
        args.alarm_email.as_deref(),
    )?;
    print!("{}", resolved.to_json());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_comes_from_the_environment_first() {
        let manifest = project::manifest().unwrap();
        let stage = Stage::new("pr-3", false, None).unwrap();
        let env = AwsEnv {
            vars: [("AWS_REGION".to_owned(), "ap-south-1".to_owned())].into(),
            home: None,
        };
        let resolved = resolve_stage(&manifest, stage.clone(), &env, None).unwrap();
        assert_eq!(resolved.stage.region, "ap-south-1");
        assert_eq!(
            StageStack::new(&manifest, &stage, &env),
            StageStack {
                stack: format!("{}-pr-3", manifest.project.name),
                region: "ap-south-1".to_owned()
            }
        );
        let resolved = resolve_stage(&manifest, stage, &AwsEnv::default(), None).unwrap();
        assert_eq!(resolved.stage.region, manifest.project.region);
    }

    #[test]
    fn the_resolved_manifest_is_written_under_target() {
        let manifest = project::manifest().unwrap();
        let stage = Stage::new("pr-9", false, None).unwrap();
        let resolved = resolve_stage(&manifest, stage, &AwsEnv::default(), None).unwrap();
        let mut plan = Plan::default();
        let path = write_resolved(&mut plan, &resolved);
        assert!(path.ends_with("hookline/pr-9.json"), "{}", path.display());
        assert!(
            plan.render().contains("cargo xtask resolve --stage pr-9"),
            "{}",
            plan.render()
        );
        plan.execute(&mut crate::cmd::RealExec::new(&project::root()))
            .unwrap();
        let written: Resolved =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(written, resolved);
    }
}
