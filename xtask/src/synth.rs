//! `cargo xtask synth --stage <s>`: the stage's CloudFormation template, from the zips that
//! `cargo xtask build` wrote. Needs no AWS credentials.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use hookline_manifest::Manifest;

use crate::aws::AwsEnv;
use crate::build::{self, Arch};
use crate::cdk::{self, Stage, Target};
use crate::cmd::{Exec, Plan, RealExec};
use crate::tools;

#[derive(clap::Args)]
pub struct Args {
    /// The stage: prod, staging, pr-42, ... (the stack is <project>-<stage>).
    #[arg(long)]
    pub stage: String,
    /// Synthesize as an ephemeral stage (pr-* stages always are).
    #[arg(long)]
    pub ephemeral: bool,
    /// The ttl tag of an ephemeral stage: 30m, 24h, 7d (default 24h).
    #[arg(long)]
    pub ttl: Option<String>,
    /// Print the commands instead of running them.
    #[arg(long)]
    pub dry_run: bool,
    /// The folder of the zips (default target/lambda).
    #[arg(long, hide = true)]
    pub assets: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let root = tools::project_root();
    let template = synth(
        &root,
        &args,
        &AwsEnv::from_process(),
        &mut RealExec::new(&root),
    )?;
    if let Some(template) = template {
        println!("{}", template.display());
    }
    Ok(())
}

/// Synthesizes (or prints the plan with `--dry-run`); returns the template's path.
pub fn synth(
    root: &Path,
    args: &Args,
    env: &AwsEnv,
    exec: &mut dyn Exec,
) -> Result<Option<PathBuf>> {
    let manifest = cdk::manifest(root)?;
    let stage = Stage::new(&args.stage, args.ephemeral, args.ttl.as_deref())?;
    let target = Target::new(&manifest, &stage, env);
    let assets = match &args.assets {
        Some(dir) => Some(
            std::fs::canonicalize(dir)
                .with_context(|| format!("the assets folder {}", dir.display()))?,
        ),
        None => None,
    };
    let plan = plan(root, &stage, &target, assets.as_deref())?;
    if args.dry_run {
        print!("{}", plan.render());
        return Ok(None);
    }
    check_zips(root, &manifest, assets.as_deref())?;
    plan.execute(exec)?;
    let template = root
        .join("cdk/cdk.out")
        .join(format!("{}.template.json", target.stack));
    if !template.exists() {
        bail!("cdk synth did not write {}", template.display());
    }
    Ok(Some(template))
}

fn plan(root: &Path, stage: &Stage, target: &Target, assets: Option<&Path>) -> Result<Plan> {
    let mut plan = Plan::default();
    cdk::npm_ci_if_needed(&mut plan, root)?;
    let mut synth = cdk::cdk("synth", target, stage).args([target.stack.as_str(), "--quiet"]);
    if let Some(dir) = assets {
        synth = synth.args(["-c", &format!("assets={}", dir.display())]);
    }
    plan.run(synth);
    Ok(plan)
}

/// The CDK app fails on a missing zip too; this says so before Node starts.
fn check_zips(root: &Path, manifest: &Manifest, assets: Option<&Path>) -> Result<()> {
    let arch = Arch::from(manifest.project.architecture);
    let dir = assets.map_or_else(|| PathBuf::from(build::DEFAULT_OUT_DIR), Path::to_path_buf);
    for binary in build::binaries(manifest) {
        let zip = build::zip_path(root, &dir, arch, &binary);
        if !zip.exists() {
            let flag = match arch {
                Arch::Arm64 => "",
                Arch::X86_64 => " --arch x86_64",
            };
            bail!(
                "the Lambda package of {binary} ({}) is missing: {}. Run `cargo xtask build{flag}` first (`cargo xtask deploy` builds by itself).",
                arch.name(),
                zip.display()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(stage: &str) -> Args {
        Args {
            stage: stage.to_owned(),
            ephemeral: false,
            ttl: None,
            dry_run: true,
            assets: None,
        }
    }

    #[test]
    fn dry_run_prints_the_cdk_synth_command() {
        let root = tools::project_root();
        let manifest = cdk::manifest(&root).unwrap();
        let env = AwsEnv::default();
        let stage = Stage::new("pr-42", false, None).unwrap();
        let target = Target::new(&manifest, &stage, &env);
        let text = plan(&root, &stage, &target, None).unwrap().render();
        let last = text.lines().last().unwrap();
        assert_eq!(
            last,
            format!(
                "cd cdk && AWS_REGION={region} node_modules/.bin/cdk synth --no-notices -c stage=pr-42 -c region={region} -c ephemeral=true -c ttl=24h {project}-pr-42 --quiet",
                region = manifest.project.region,
                project = manifest.project.name
            )
        );
    }

    #[test]
    fn the_region_comes_from_the_environment_first() {
        let root = tools::project_root();
        let manifest = cdk::manifest(&root).unwrap();
        let env = AwsEnv {
            vars: [("AWS_REGION".to_owned(), "ap-south-1".to_owned())].into(),
            home: None,
        };
        let stage = Stage::new("prod", false, None).unwrap();
        let target = Target::new(&manifest, &stage, &env);
        let text = plan(&root, &stage, &target, None).unwrap().render();
        assert!(
            text.contains("AWS_REGION=ap-south-1 node_modules/.bin/cdk synth --no-notices -c stage=prod -c region=ap-south-1 "),
            "{text}"
        );
        assert!(!text.contains("ephemeral"));
    }

    #[test]
    fn a_bad_stage_or_ttl_fails_before_anything_runs() {
        let root = tools::project_root();
        let env = AwsEnv::default();
        let mut recorder = crate::cmd::Recorder::default();
        let err = synth(&root, &args("Prod"), &env, &mut recorder).unwrap_err();
        assert!(err.to_string().contains("stage `Prod` is not a stage name"));
        let mut with_ttl = args("prod");
        with_ttl.ttl = Some("1h".to_owned());
        let err = synth(&root, &with_ttl, &env, &mut recorder).unwrap_err();
        assert!(
            err.to_string()
                .contains("--ttl only applies to ephemeral stages")
        );
    }
}
