//! The CDK CLI of the app in `cdk/`: its npm packages, and its command lines.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cmd::{Cmd, Plan};
use crate::stage::StageStack;
use crate::tools;

/// The CDK CLI, relative to `cdk/`.
const CDK: &str = "node_modules/.bin/cdk";

/// Adds `npm ci` in `cdk/` when its packages are missing or older than `package-lock.json`.
pub fn npm_ci_if_needed(plan: &mut Plan, root: &Path) -> Result<()> {
    let lock = root.join("cdk/package-lock.json");
    let wanted =
        std::fs::read_to_string(&lock).with_context(|| format!("reading {}", lock.display()))?;
    let stamp = npm_stamp(root);
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str())
        && root.join("cdk").join(CDK).exists()
    {
        return Ok(());
    }
    plan.note("cdk/node_modules is missing or stale: installing the CDK app's npm packages");
    plan.call(vec![], || {
        tools::require("npm", "install Node.js 20 or later (it comes with npm)")
    });
    plan.run(
        Cmd::new("npm")
            .dir("cdk")
            .args(["ci", "--no-audit", "--no-fund"]),
    );
    plan.call(vec![], move || {
        std::fs::write(&stamp, &wanted).context("writing cdk/node_modules' stamp")
    });
    Ok(())
}

/// A copy of the `package-lock.json` that `npm ci` installed.
fn npm_stamp(root: &Path) -> PathBuf {
    root.join("cdk/node_modules/.hookline-package-lock.json")
}

/// The CDK CLI run from the repository root, where no `cdk.json` names an app (`bootstrap`).
pub fn cli_outside_the_app() -> Cmd {
    Cmd::new(format!("cdk/{CDK}"))
}

/// `cdk <subcommand> ... -c resolved=<file>` in `cdk/`: the app reads the stage's resolved
/// manifest (`stage::write_resolved`) and nothing else.
pub fn cdk(subcommand: &str, target: &StageStack, resolved: &Path) -> Cmd {
    Cmd::new(CDK)
        .dir("cdk")
        .env("AWS_REGION", &target.region)
        .args([subcommand, "--no-notices"])
        .args(["-c", &format!("resolved={}", resolved.display())])
}
