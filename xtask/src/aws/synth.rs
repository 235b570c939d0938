//! `cargo xtask synth --stage <s>`: the stage's CloudFormation template, from the zips that
//! `cargo xtask build` wrote. Needs no AWS credentials.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use hookline_manifest::{Manifest, Resolved};

use crate::aws::AwsEnv;
use crate::aws::build::{self, Arch};
use crate::aws::cdk;
use crate::cmd::{Exec, Plan, RealExec};
use crate::project;
use crate::stage::{self, LifetimeArgs, StageArgs, StageStack};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub stage: StageArgs,
    #[command(flatten)]
    pub lifetime: LifetimeArgs,
    /// The folder of the zips (default target/lambda).
    #[arg(long, hide = true)]
    pub assets: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let root = project::root();
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
    let manifest = project::manifest()?;
    let stage = args.lifetime.stage(&args.stage.stage)?;
    let pr = args.lifetime.pull_request(&stage)?;
    let resolved = stage::resolve_stage(&manifest, stage, pr, env, None)?;
    let target = StageStack::of(&resolved);
    let assets = match &args.assets {
        Some(dir) => Some(
            std::fs::canonicalize(dir)
                .with_context(|| format!("the assets folder {}", dir.display()))?,
        ),
        None => None,
    };
    let plan = plan(root, &resolved, &target, assets.as_deref())?;
    if args.stage.dry_run {
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

fn plan(
    root: &Path,
    resolved: &Resolved,
    target: &StageStack,
    assets: Option<&Path>,
) -> Result<Plan> {
    let mut plan = Plan::default();
    let file = stage::write_resolved(&mut plan, resolved);
    cdk::npm_ci_if_needed(&mut plan, root)?;
    let mut synth = cdk::cdk("synth", target, &file).args([target.stack.as_str(), "--quiet"]);
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
            stage: StageArgs::new(stage, true),
            lifetime: LifetimeArgs::default(),
            assets: None,
        }
    }

    #[test]
    fn dry_run_writes_the_resolved_manifest_and_runs_cdk_synth_on_it() {
        let root = project::root();
        let manifest = project::manifest().unwrap();
        let env = AwsEnv::default();
        let stage = hookline_manifest::Stage::new("pr-42", false, None).unwrap();
        let resolved = stage::resolve_stage(&manifest, stage, None, &env, None).unwrap();
        let target = StageStack::of(&resolved);
        let text = plan(&root, &resolved, &target, None).unwrap().render();
        let file = stage::resolved_path("pr-42");
        assert!(
            text.starts_with(&format!(
                "# writes the resolved manifest to {}",
                file.display()
            )),
            "{text}"
        );
        let last = text.lines().last().unwrap();
        assert_eq!(
            last,
            format!(
                "cd cdk && AWS_REGION={region} node_modules/.bin/cdk synth --no-notices -c resolved={file} {project}-pr-42 --quiet",
                region = manifest.project.region,
                file = file.display(),
                project = manifest.project.name
            )
        );
    }

    #[test]
    fn a_bad_stage_or_ttl_fails_before_anything_runs() {
        let root = project::root();
        let env = AwsEnv::default();
        let mut recorder = crate::cmd::Recorder::default();
        let err = synth(&root, &args("Prod"), &env, &mut recorder).unwrap_err();
        assert!(err.to_string().contains("stage `Prod` is not a stage name"));
        let mut with_ttl = args("prod");
        with_ttl.lifetime.ttl = Some("1h".to_owned());
        let err = synth(&root, &with_ttl, &env, &mut recorder).unwrap_err();
        assert!(
            err.to_string()
                .contains("--ttl only applies to ephemeral stages")
        );
        assert!(recorder.ran.is_empty());
    }
}
