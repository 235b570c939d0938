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
    /// The pull request of a preview, tagged on its stack (default: the one a GitHub Actions
    /// pull_request run is for).
    #[arg(long, value_name = "N")]
    pub pr: Option<u64>,
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

    /// The pull request of a preview: `--pr`, else the `<n>` of a `pr-<n>` stage, else, for an
    /// ephemeral stage, the one a GitHub Actions run is for. `--pr` must agree with the name:
    /// `reap --pr-closed <n>` removes what is tagged `<n>`.
    pub fn pull_request(&self, stage: &Stage) -> Result<Option<u64>> {
        let from_name = stage
            .name
            .strip_prefix(hookline_manifest::stage::EPHEMERAL_PREFIX)
            .and_then(|n| n.parse::<u64>().ok());
        Ok(match (self.pr, from_name) {
            (Some(pr), Some(n)) if pr != n => anyhow::bail!(
                "--pr {pr} does not match the stage {}: a pr-<n> stage is the preview of pull request n",
                stage.name
            ),
            (Some(pr), _) => Some(pr),
            (None, Some(n)) => Some(n),
            (None, None) => stage
                .ephemeral
                .then(|| github_pull_request(|var| std::env::var(var).ok()))
                .flatten(),
        })
    }
}

/// The pull request of a GitHub Actions run: `GITHUB_REF` is `refs/pull/<n>/merge` on
/// `pull_request` events, and the event payload (`GITHUB_EVENT_PATH`) has `pull_request.number`
/// (GitHub docs, "Events that trigger workflows" and "Variables").
pub fn github_pull_request(var: impl Fn(&str) -> Option<String>) -> Option<u64> {
    let from_ref = var("GITHUB_REF").and_then(|r| {
        r.strip_prefix("refs/pull/")?
            .split('/')
            .next()?
            .parse::<u64>()
            .ok()
    });
    from_ref.or_else(|| {
        let event = std::fs::read_to_string(var("GITHUB_EVENT_PATH")?).ok()?;
        let event: serde_json::Value = serde_json::from_str(&event).ok()?;
        event["pull_request"]["number"].as_u64()
    })
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
    /// Where a resolved stage lives: the resolved document already names both.
    pub fn of(resolved: &Resolved) -> Self {
        StageStack {
            stack: resolved.stage.stack_name.clone(),
            region: resolved.stage.region.clone(),
        }
    }

    /// The stack of `stage`, in the region the AWS environment or the manifest names.
    pub fn new(manifest: &Manifest, stage: &Stage, env: &AwsEnv) -> Self {
        StageStack {
            stack: stage.stack_name(&manifest.project.name),
            region: aws::region(env, &manifest.project.region),
        }
    }
}

/// Resolves the manifest for a stage deployed now, in the region the AWS environment names
/// (else the manifest's), with `alarm_email` winning over the manifest's.
pub fn resolve_stage(
    manifest: &Manifest,
    stage: Stage,
    pr: Option<u64>,
    env: &AwsEnv,
    alarm_email: Option<&str>,
) -> Result<Resolved> {
    resolve_stage_at(manifest, stage, pr, env, alarm_email, chrono::Utc::now())
}

/// [`resolve_stage`] for a deploy at `now` (an ephemeral stage expires its ttl after it).
pub fn resolve_stage_at(
    manifest: &Manifest,
    stage: Stage,
    pr: Option<u64>,
    env: &AwsEnv,
    alarm_email: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Resolved> {
    let options = StageOptions {
        stage,
        region: Some(aws::region(env, &manifest.project.region)),
        alarm_email: alarm_email.map(str::to_owned),
        pr,
        now,
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
    let pr = args.lifetime.pull_request(&stage)?;
    let resolved = resolve_stage(
        &manifest,
        stage,
        pr,
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
        let resolved = resolve_stage(&manifest, stage.clone(), None, &env, None).unwrap();
        assert_eq!(resolved.stage.region, "ap-south-1");
        assert_eq!(
            StageStack::new(&manifest, &stage, &env),
            StageStack {
                stack: format!("{}-pr-3", manifest.project.name),
                region: "ap-south-1".to_owned()
            }
        );
        let resolved = resolve_stage(&manifest, stage, None, &AwsEnv::default(), None).unwrap();
        assert_eq!(resolved.stage.region, manifest.project.region);
    }

    #[test]
    fn a_pr_stage_is_the_preview_of_its_pull_request() {
        let lifetime = |pr: Option<u64>| LifetimeArgs {
            ephemeral: false,
            ttl: None,
            pr,
        };
        let pr7 = Stage::new("pr-7", false, None).unwrap();
        assert_eq!(lifetime(None).pull_request(&pr7).unwrap(), Some(7));
        assert_eq!(lifetime(Some(7)).pull_request(&pr7).unwrap(), Some(7));
        assert_eq!(
            lifetime(Some(9))
                .pull_request(&pr7)
                .unwrap_err()
                .to_string(),
            "--pr 9 does not match the stage pr-7: a pr-<n> stage is the preview of pull request n"
        );
        let demo = Stage::new("demo", true, None).unwrap();
        assert_eq!(lifetime(Some(3)).pull_request(&demo).unwrap(), Some(3));
    }

    #[test]
    fn the_pull_request_comes_from_github_actions() {
        let dir = tempfile::tempdir().unwrap();
        let event = dir.path().join("event.json");
        std::fs::write(
            &event,
            r#"{"action": "closed", "pull_request": {"number": 7}}"#,
        )
        .unwrap();
        let event = event.display().to_string();
        let github = |pairs: &[(&str, &str)]| {
            let vars: std::collections::HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            github_pull_request(|var| vars.get(var).cloned())
        };
        assert_eq!(github(&[("GITHUB_REF", "refs/pull/42/merge")]), Some(42));
        assert_eq!(github(&[("GITHUB_REF", "refs/heads/main")]), None);
        assert_eq!(github(&[("GITHUB_EVENT_PATH", &event)]), Some(7));
        assert_eq!(github(&[]), None);
    }

    #[test]
    fn the_resolved_manifest_is_written_under_target() {
        let manifest = project::manifest().unwrap();
        let stage = Stage::new("pr-9", false, None).unwrap();
        let resolved = resolve_stage(&manifest, stage, None, &AwsEnv::default(), None).unwrap();
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
