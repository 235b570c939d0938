//! `cargo xtask test`: every test suite of the repository, then a summary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::cmd::Plan;
use crate::project;
use crate::tools;

#[derive(clap::Args)]
pub struct Args {
    /// Stop at the first failing step.
    #[arg(long)]
    fail_fast: bool,
}

/// One step of the run; its `Ok` text is shown in the summary.
type Action<'a> = Box<dyn FnMut() -> Result<String> + 'a>;

struct StepOutcome {
    name: &'static str,
    outcome: Result<String>,
    seconds: f64,
}

pub fn run(args: Args) -> Result<()> {
    let root = project::root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut steps: Vec<StepOutcome> = Vec::new();
    let mut tests = Counts::default();
    let mut jest = Counts::default();
    let mut fuzz = Counts::default();

    let plan: Vec<(&'static str, Action<'_>)> = vec![
        (
            "cargo fmt --check",
            Box::new(|| {
                tools::run(
                    Command::new(&cargo)
                        .current_dir(&root)
                        .args(["fmt", "--all", "--", "--check"]),
                )
                .context("formatting differs: run `cargo fmt --all`")?;
                // The fuzz targets are a workspace of their own.
                tools::run(
                    Command::new(&cargo)
                        .current_dir(root.join("fuzz"))
                        .args(["fmt", "--all", "--", "--check"]),
                )
                .context("formatting differs in fuzz/: run `cargo fmt --all` there")?;
                Ok(String::new())
            }),
        ),
        (
            "cargo clippy -D warnings",
            Box::new(|| {
                tools::run(Command::new(&cargo).current_dir(&root).args([
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--quiet",
                    "--",
                    "-D",
                    "warnings",
                ]))?;
                Ok(String::new())
            }),
        ),
        (
            "python test tools (.tools/venv)",
            Box::new(|| tools::ensure_python_tools().map(|p| p.display().to_string())),
        ),
        (
            "chromium (console browser test)",
            Box::new(|| tools::ensure_chromium().map(|p| p.display().to_string())),
        ),
        (
            "cdk: jest, cdk-nag, cfn-lint",
            Box::new(|| {
                let (passed, failed) = run_jest(&root)?;
                jest = Counts {
                    passed,
                    failed,
                    ignored: 0,
                };
                let summary = format!("{passed} passed, {failed} failed");
                if failed > 0 {
                    bail!(summary);
                }
                Ok(summary)
            }),
        ),
        (
            "cargo test --workspace",
            Box::new(|| {
                let counts = cargo_test(&cargo, &root)?;
                let summary = format!(
                    "{} passed, {} failed, {} ignored",
                    counts.passed, counts.failed, counts.ignored
                );
                tests = counts;
                if tests.failed > 0 {
                    bail!(summary);
                }
                Ok(summary)
            }),
        ),
        (
            "cargo fuzz: every target, smoke run",
            Box::new(|| {
                let targets = crate::repo::fuzz::targets()?;
                let cargo_fuzz = crate::repo::fuzz::ensure_tools()?;
                let runs = crate::repo::fuzz::fuzz(
                    &cargo_fuzz,
                    &targets,
                    crate::repo::fuzz::SMOKE_SECONDS,
                    crate::repo::fuzz::Build::Dev,
                )?;
                let crashed: Vec<&str> = runs
                    .iter()
                    .filter(|r| r.crash.is_some() || r.executions == 0)
                    .map(|r| r.target.as_str())
                    .collect();
                let executions: u64 = runs.iter().map(|r| r.executions).sum();
                fuzz = Counts {
                    passed: (runs.len() - crashed.len()) as u64,
                    failed: crashed.len() as u64,
                    ignored: 0,
                };
                if !crashed.is_empty() {
                    bail!("crashed or never ran: {}", crashed.join(", "));
                }
                Ok(format!(
                    "{} targets, {executions} executions, 0 crashes",
                    runs.len()
                ))
            }),
        ),
    ];

    for (name, mut action) in plan {
        println!("\n==> {name}");
        let started = Instant::now();
        let outcome = action();
        let failed = outcome.is_err();
        steps.push(StepOutcome {
            name,
            outcome,
            seconds: started.elapsed().as_secs_f64(),
        });
        if failed && args.fail_fast {
            break;
        }
    }

    println!("\nxtask test summary");
    for step in &steps {
        match &step.outcome {
            Ok(detail) => println!(
                "  ok    {:<34} {:>6.1} s  {detail}",
                step.name, step.seconds
            ),
            Err(err) => println!("  FAIL  {:<34} {:>6.1} s  {err:#}", step.name, step.seconds),
        }
    }
    let failed_steps = steps.iter().filter(|s| s.outcome.is_err()).count();
    // The closing line counts tests; failed steps are listed above and fail the exit code.
    println!(
        "{} passed, {} failed",
        tests.passed + jest.passed + fuzz.passed,
        tests.failed + jest.failed + fuzz.failed
    );
    if failed_steps > 0 {
        bail!("{failed_steps} step(s) failed");
    }
    Ok(())
}

#[derive(Default, Clone, Copy)]
struct Counts {
    passed: u64,
    failed: u64,
    ignored: u64,
}

/// Runs `cargo test --workspace`, echoing its output and adding up its `test result:` lines.
fn cargo_test(cargo: &str, root: &std::path::Path) -> Result<Counts> {
    let mut child = Command::new(cargo)
        .current_dir(root)
        .args(["test", "--workspace", "--no-fail-fast"])
        .env("HOOKLINE_TEST_PYTHON", tools::venv_python())
        .env("HOOKLINE_CHROMIUM", tools::CHROMIUM)
        .stdout(Stdio::piped())
        .spawn()
        .context("starting cargo test")?;
    let mut counts = Counts::default();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.context("reading cargo test output")?;
            println!("{line}");
            if let Some(rest) = line.strip_prefix("test result: ") {
                counts.passed += count(rest, "passed");
                counts.failed += count(rest, "failed");
                counts.ignored += count(rest, "ignored");
            }
        }
    }
    let status = child.wait().context("waiting for cargo test")?;
    if !status.success() && counts.failed == 0 {
        bail!("cargo test failed with {status} (a build error?)");
    }
    Ok(counts)
}

/// The number before `word` in `ok. 12 passed; 0 failed; ...`.
fn count(summary: &str, word: &str) -> u64 {
    summary
        .split(';')
        .find_map(|part| {
            part.trim()
                .trim_start_matches("ok. ")
                .trim_start_matches("FAILED. ")
                .strip_suffix(word)
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Runs the CDK app's test suite (`npm test` in cdk/: type check, then jest with cdk-nag and
/// cfn-lint), installing its npm packages first when needed; returns jest's (passed, failed).
fn run_jest(root: &std::path::Path) -> Result<(u64, u64)> {
    let mut plan = Plan::default();
    crate::aws::cdk::npm_ci_if_needed(&mut plan, root)?;
    plan.execute(&mut crate::cmd::RealExec::new(root))?;
    let mut child = std::process::Command::new("npm")
        .current_dir(root.join("cdk"))
        .args(["test", "--", "--ci"])
        .env(
            "HOOKLINE_CFN_LINT",
            project::venv_bin_dir().join("cfn-lint"),
        )
        // The tests resolve their manifests with this very binary (`xtask resolve`).
        .env(
            "HOOKLINE_XTASK",
            std::env::current_exe().context("finding the xtask binary")?,
        )
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
    use super::{count, jest_counts};

    #[test]
    fn counts_are_read_from_cargo_summaries() {
        let line =
            "ok. 80 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.17s";
        assert_eq!(
            (
                count(line, "passed"),
                count(line, "failed"),
                count(line, "ignored")
            ),
            (80, 0, 2)
        );
        let failed = "FAILED. 79 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out";
        assert_eq!((count(failed, "passed"), count(failed, "failed")), (79, 1));
    }

    #[test]
    fn jest_summaries_are_counted() {
        assert_eq!(jest_counts("       50 passed, 50 total"), (50, 0));
        assert_eq!(
            jest_counts("       1 failed, 2 skipped, 49 passed, 52 total"),
            (49, 1)
        );
    }
}
