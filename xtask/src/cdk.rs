//! What `synth`, `deploy`, `destroy` and `secret` share: stages, the CDK app in `cdk/`, its npm
//! packages, the project-local AWS CLI, and the names the CDK app gives stacks and outputs.
//! The stage rules are those of `cdk/lib/stage.ts`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use hookline_manifest::Manifest;

use crate::aws::{self, AwsEnv};
use crate::cmd::{Cmd, Exec, Plan};
use crate::tools;

/// The time to live of an ephemeral stage when `--ttl` is not given.
pub const DEFAULT_TTL: &str = "24h";

/// The CDK CLI, relative to `cdk/`.
const CDK: &str = "node_modules/.bin/cdk";

/// A stage of the project and how it is deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub name: String,
    /// Removed without leftovers on destroy (`--ephemeral`, or a `pr-*` name).
    pub ephemeral: bool,
    /// The `ttl` tag of an ephemeral stage.
    pub ttl: Option<String>,
}

impl Stage {
    /// Checks the name (`[a-z][a-z0-9-]*`, at most 32 characters) and the ttl (only for
    /// ephemeral stages; `30m`, `24h`, `7d`).
    pub fn new(name: &str, ephemeral: bool, ttl: Option<&str>) -> Result<Self> {
        if !hookline_manifest::is_valid_name(name) {
            bail!(
                "stage `{name}` is not a stage name: use [a-z][a-z0-9-]*, at most 32 characters, e.g. prod or pr-42"
            );
        }
        let ephemeral = ephemeral || name.starts_with("pr-");
        if let Some(ttl) = ttl {
            if !ephemeral {
                bail!(
                    "--ttl only applies to ephemeral stages (pr-*, or --ephemeral); `{name}` is not one"
                );
            }
            check_ttl(ttl)?;
        }
        let ttl = ephemeral.then(|| ttl.unwrap_or(DEFAULT_TTL).to_owned());
        Ok(Stage {
            name: name.to_owned(),
            ephemeral,
            ttl,
        })
    }

    /// `<project>-<stage>`.
    pub fn stack(&self, manifest: &Manifest) -> String {
        format!("{}-{}", manifest.project.name, self.name)
    }
}

fn check_ttl(ttl: &str) -> Result<()> {
    let (number, unit) = ttl.split_at(ttl.len().saturating_sub(1));
    let valid = matches!(unit, "m" | "h" | "d")
        && (1..=5).contains(&number.len())
        && !number.starts_with('0')
        && number.chars().all(|c| c.is_ascii_digit());
    if !valid {
        bail!("--ttl `{ttl}` is not a duration: use a number and m, h or d, e.g. 24h or 7d");
    }
    Ok(())
}

/// The prefix of a provider's stack outputs: `billing-eu` → `BillingEu` (`BillingEuWebhookUrl`).
pub fn output_prefix(provider: &str) -> String {
    provider
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// Reads and validates `hookline.toml` (errors name the file, line and field).
pub fn manifest(root: &Path) -> Result<Manifest> {
    Ok(hookline_manifest::load(
        &root.join(hookline_manifest::MANIFEST_FILE),
    )?)
}

/// Where the AWS work happens, once resolved from the environment and the manifest.
pub struct Target {
    pub stack: String,
    pub region: String,
}

impl Target {
    pub fn new(manifest: &Manifest, stage: &Stage, env: &AwsEnv) -> Self {
        Target {
            stack: stage.stack(manifest),
            region: aws::region(env, &manifest.project.region),
        }
    }
}

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

/// `cdk <subcommand> <stack> ... -c stage=... -c region=...` in `cdk/`.
pub fn cdk(subcommand: &str, target: &Target, stage: &Stage) -> Cmd {
    let mut cmd = Cmd::new(CDK)
        .dir("cdk")
        .env("AWS_REGION", &target.region)
        .args([subcommand, "--no-notices"]);
    for context in context_args(target, stage) {
        cmd = cmd.args(["-c", &context]);
    }
    cmd
}

fn context_args(target: &Target, stage: &Stage) -> Vec<String> {
    let mut context = vec![
        format!("stage={}", stage.name),
        format!("region={}", target.region),
    ];
    if stage.ephemeral {
        context.push("ephemeral=true".to_owned());
    }
    if let Some(ttl) = &stage.ttl {
        context.push(format!("ttl={ttl}"));
    }
    context
}

/// The project-local AWS CLI (`awscli` from xtask/python-requirements.txt).
pub fn aws_cli(target: &Target) -> Cmd {
    Cmd::new(".tools/venv/bin/aws").env("AWS_REGION", &target.region)
}

/// The AWS CLI command that prints one output of the stage's stack (`None` when absent).
pub fn describe_output(target: &Target, output: &str) -> Cmd {
    aws_cli(target).args([
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        target.stack.as_str(),
        "--query",
        &format!("Stacks[0].Outputs[?OutputKey=='{output}'].OutputValue | [0]"),
        "--output",
        "text",
    ])
}

/// Reads one output of the stage's stack, or explains that the stage is not deployed.
pub fn read_output(
    exec: &mut dyn Exec,
    target: &Target,
    stage: &Stage,
    output: &str,
) -> Result<String> {
    let found = exec.capture(&describe_output(target, output))?;
    let value = found.stdout.trim();
    if !found.success || value.is_empty() || value == "None" {
        bail!(
            "found no output {output} of the stack {} in {}: is the stage deployed (`cargo xtask deploy --stage {}`)? {}",
            target.stack,
            target.region,
            stage.name,
            found.stderr.trim()
        );
    }
    Ok(value.to_owned())
}

/// Whether `.tools/venv` has these binaries, and whether it exists at all.
pub fn venv_has(root: &Path, binaries: &[&str]) -> (bool, bool) {
    let bin = root.join(".tools/venv/bin");
    (
        binaries.iter().all(|b| bin.join(b).exists()),
        bin.join("python").exists(),
    )
}

/// Makes sure `.tools/venv` has the Python tools (cargo-lambda, zig, cfn-lint, the AWS CLI).
/// When `what` is not `installed`, says that it installs it project-locally, and how.
pub fn python_tools(plan: &mut Plan, what: &str, installed: bool, venv_exists: bool) {
    if installed {
        // Still re-syncs the venv when xtask/python-requirements.txt changed.
        plan.call(vec![], || tools::ensure_python_tools().map(|_| ()));
        return;
    }
    plan.note(format!(
        "{what} not installed: installing them project-locally into .tools/venv with pip (xtask/python-requirements.txt)"
    ));
    let mut shown = Vec::new();
    if !venv_exists {
        shown.push("python3 -m venv .tools/venv".to_owned());
    }
    shown.push(
        ".tools/venv/bin/python -m pip install --quiet --disable-pip-version-check -r xtask/python-requirements.txt"
            .to_owned(),
    );
    plan.call(shown, || tools::ensure_python_tools().map(|_| ()));
}

/// Fails unless the AWS chain has credentials; says which ones are used.
pub fn require_credentials(env: &AwsEnv, target: &Target) -> Result<()> {
    let credentials = aws::credentials(env)?;
    eprintln!(
        "AWS: {credentials}, region {} (stack {})",
        target.region, target.stack
    );
    Ok(())
}

/// Runs the CDK app's test suite (`npm test` in cdk/: type check, then jest with cdk-nag and
/// cfn-lint), installing its npm packages first when needed; returns jest's (passed, failed).
pub fn jest(root: &Path) -> Result<(u64, u64)> {
    let mut plan = Plan::default();
    npm_ci_if_needed(&mut plan, root)?;
    plan.execute(&mut crate::cmd::RealExec::new(root))?;
    let mut child = std::process::Command::new("npm")
        .current_dir(root.join("cdk"))
        .args(["test", "--", "--ci"])
        .env("HOOKLINE_CFN_LINT", root.join(".tools/venv/bin/cfn-lint"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("starting npm test in cdk/")?;
    let mut counts = None;
    if let Some(stderr) = child.stderr.take() {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr).lines() {
            let line = line.context("reading jest's output")?;
            eprintln!("{line}");
            if let Some(rest) = line.strip_prefix("Tests:") {
                counts = Some(jest_counts(rest));
            }
        }
    }
    let status = child.wait().context("waiting for npm test")?;
    match counts {
        Some(counts) => Ok(counts),
        None => bail!("npm test in cdk/ failed with {status} before jest reported (a type error?)"),
    }
}

/// `1 failed, 49 passed, 50 total` → (49, 1).
fn jest_counts(summary: &str) -> (u64, u64) {
    let number = |word: &str| {
        summary
            .split(',')
            .find_map(|part| part.trim().strip_suffix(word))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    };
    (number("passed"), number("failed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_pr_star_are_ephemeral_with_a_default_ttl() {
        let pr = Stage::new("pr-42", false, None).unwrap();
        assert!(pr.ephemeral);
        assert_eq!(pr.ttl.as_deref(), Some("24h"));
        let prod = Stage::new("prod", false, None).unwrap();
        assert!(!prod.ephemeral);
        assert_eq!(prod.ttl, None);
        let demo = Stage::new("demo", true, Some("7d")).unwrap();
        assert!(demo.ephemeral);
        assert_eq!(demo.ttl.as_deref(), Some("7d"));
    }

    #[test]
    fn stage_errors() {
        let err = |name: &str, eph: bool, ttl: Option<&str>| {
            Stage::new(name, eph, ttl).unwrap_err().to_string()
        };
        assert_eq!(
            err("PR_1", false, None),
            "stage `PR_1` is not a stage name: use [a-z][a-z0-9-]*, at most 32 characters, e.g. prod or pr-42"
        );
        assert_eq!(
            err("prod", false, Some("24h")),
            "--ttl only applies to ephemeral stages (pr-*, or --ephemeral); `prod` is not one"
        );
        for bad in ["0h", "24", "h", "1.5h", "1w", "123456h"] {
            assert!(
                err("pr-1", false, Some(bad)).contains("is not a duration"),
                "{bad}"
            );
        }
        for good in ["30m", "24h", "7d", "99999d"] {
            assert!(Stage::new("pr-1", false, Some(good)).is_ok(), "{good}");
        }
    }

    #[test]
    fn jest_summaries_are_counted() {
        assert_eq!(jest_counts("       50 passed, 50 total"), (50, 0));
        assert_eq!(
            jest_counts("       1 failed, 2 skipped, 49 passed, 52 total"),
            (49, 1)
        );
    }

    #[test]
    fn output_prefixes_match_the_cdk_app() {
        // The same cases as cdk/test/hookline-stack.test.ts.
        assert_eq!(output_prefix("stripe"), "Stripe");
        assert_eq!(output_prefix("billing-eu"), "BillingEu");
        assert_eq!(output_prefix("a1-b2"), "A1B2");
    }
}
