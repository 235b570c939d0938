//! `cargo xtask fuzz [--seconds N] [--target T]`: runs the cargo-fuzz targets of `fuzz/`,
//! seeded from the fixtures, and reports executions and crashes per target.
//!
//! Needs the nightly toolchain and cargo-fuzz; both are installed when missing (cargo-fuzz
//! into `.tools/cargo`, so nothing outside the project changes but rustup's toolchains).

mod seeds;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::project;
use crate::tools;

/// The cargo-fuzz release `cargo xtask fuzz` installs.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// How long `cargo xtask test` runs each target.
pub const SMOKE_SECONDS: u64 = 3;

#[derive(clap::Args)]
pub struct Args {
    /// Seconds to fuzz each target.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    seconds: u64,
    /// Fuzz only this target (repeatable); `--list` shows them.
    #[arg(long = "target", value_name = "TARGET")]
    targets: Vec<String>,
    /// Build without optimizations: much quicker to build, several times slower to run.
    /// `cargo xtask test` uses it for its smoke runs.
    #[arg(long)]
    dev: bool,
    /// List the targets and exit.
    #[arg(long)]
    list: bool,
}

/// How the targets are built.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// Optimized, with debug assertions and the address sanitizer: for fuzzing hours.
    Release,
    /// Unoptimized, same sanitizer: for smoke runs.
    Dev,
}

/// What one target's run did.
pub struct TargetRun {
    pub target: String,
    pub executions: u64,
    pub seconds: f64,
    /// The failing input libFuzzer saved, when the target crashed.
    pub crash: Option<String>,
}

pub fn run(args: Args) -> Result<()> {
    let all = targets()?;
    if args.list {
        for target in &all {
            println!("{target}");
        }
        return Ok(());
    }
    let targets = select(all, args.targets)?;
    let cargo_fuzz = ensure_tools()?;
    let build = if args.dev { Build::Dev } else { Build::Release };
    let runs = fuzz(&cargo_fuzz, &targets, args.seconds, build)?;
    println!(
        "\n{:<26} {:>12} {:>10}  result",
        "target", "executions", "exec/s"
    );
    for run in &runs {
        println!(
            "{:<26} {:>12} {:>10.0}  {}",
            run.target,
            run.executions,
            run.executions as f64 / run.seconds.max(0.001),
            run.crash.as_deref().unwrap_or("ok")
        );
    }
    let executions: u64 = runs.iter().map(|r| r.executions).sum();
    let seconds: f64 = runs.iter().map(|r| r.seconds).sum();
    println!(
        "{executions} executions in {:.1} target-hours ({seconds:.0} s)",
        seconds / 3600.0
    );
    let crashed: Vec<&TargetRun> = runs.iter().filter(|r| r.crash.is_some()).collect();
    if !crashed.is_empty() {
        bail!(
            "{} target(s) crashed; reproduce with `{}`, then add the input to fuzz/regressions/<target>/ and a regression test",
            crashed.len(),
            reproduce_hint(&crashed[0].target)
        );
    }
    Ok(())
}

/// Builds every target once, then runs each of `targets` for `seconds`.
pub fn fuzz(
    cargo_fuzz: &Path,
    targets: &[String],
    seconds: u64,
    build: Build,
) -> Result<Vec<TargetRun>> {
    let root = project::root();
    let work = root.join("target/fuzz");
    let seed_dir = work.join("seeds");
    // Fresh seeds each run, from the fixtures as they are now.
    let _ = std::fs::remove_dir_all(&seed_dir);
    let count = seeds::write(&seed_dir)?;
    eprintln!("fuzz: {count} seeds written to {}", seed_dir.display());

    eprintln!("fuzz: building the targets (nightly, address sanitizer)...");
    tools::run(&mut cargo_fuzz_command(cargo_fuzz, &root, "build", build))
        .context("building the fuzz targets")?;

    targets
        .iter()
        .map(|target| fuzz_one(cargo_fuzz, &root, target, seconds, build))
        .collect()
}

fn fuzz_one(
    cargo_fuzz: &Path,
    root: &Path,
    target: &str,
    seconds: u64,
    build: Build,
) -> Result<TargetRun> {
    let work = root.join("target/fuzz");
    // The first folder is where libFuzzer keeps what it learns; the others are read only.
    let corpus = work.join("corpus").join(target);
    let seeds = work.join("seeds").join(target);
    let regressions = root.join("fuzz/regressions").join(target);
    let artifacts = work.join("artifacts").join(target);
    let logs = work.join("logs");
    for dir in [&corpus, &seeds, &artifacts, &logs] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let log_path = logs.join(format!("{target}.log"));
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("creating {}", log_path.display()))?;
    let mut command = cargo_fuzz_command(cargo_fuzz, root, "run", build);
    command.arg(target).arg(&corpus).arg(&seeds);
    if regressions.is_dir() {
        command.arg(&regressions);
    }
    command
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-timeout=10")
        .arg("-rss_limit_mb=2048")
        .arg("-print_final_stats=1")
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .stdout(log.try_clone().context("opening the fuzz log")?)
        .stderr(log);
    eprintln!(
        "fuzz: {target} for {seconds} s (log: {})",
        log_path.display()
    );
    let started = Instant::now();
    let status = command
        .status()
        .with_context(|| format!("starting cargo fuzz run {target}"))?;
    let elapsed = started.elapsed().as_secs_f64();
    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
    let executions = executions(&output);
    let crash = if status.success() {
        None
    } else {
        let tail: Vec<&str> = output.lines().rev().take(40).collect();
        for line in tail.iter().rev() {
            eprintln!("  {line}");
        }
        Some(
            artifact(&output)
                .unwrap_or_else(|| format!("failed ({status}); see {}", log_path.display())),
        )
    };
    Ok(TargetRun {
        target: target.to_owned(),
        executions,
        seconds: elapsed.min(seconds as f64 + 1.0),
        crash,
    })
}

/// The target names: the `[[bin]]` entries of `fuzz/Cargo.toml`, as cargo-fuzz reads them.
pub fn targets() -> Result<Vec<String>> {
    let path = project::root().join("fuzz/Cargo.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let manifest: toml::Table =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let mut names: Vec<String> = manifest
        .get("bin")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|bin| bin.get("name").and_then(toml::Value::as_str))
        .map(str::to_owned)
        .collect();
    names.sort();
    if names.is_empty() {
        bail!("{} declares no fuzz targets ([[bin]])", path.display());
    }
    Ok(names)
}

/// The targets to run: all of them, or the ones asked for, each of which must exist.
fn select(all: Vec<String>, wanted: Vec<String>) -> Result<Vec<String>> {
    if let Some(unknown) = wanted.iter().find(|w| !all.contains(w)) {
        bail!(
            "no fuzz target `{unknown}`: the targets are {}",
            all.join(", ")
        );
    }
    Ok(if wanted.is_empty() { all } else { wanted })
}

/// `cargo fuzz <subcommand>` on `fuzz/`, building into `target/fuzz` (ignored by git, and
/// beside the other build output).
fn cargo_fuzz_command(cargo_fuzz: &Path, root: &Path, subcommand: &str, build: Build) -> Command {
    let mut command = Command::new(cargo_fuzz);
    command
        .current_dir(root)
        .env("RUSTUP_TOOLCHAIN", "nightly")
        .args(["fuzz", subcommand, "--fuzz-dir", "fuzz"]);
    command.args(["--target-dir", "target/fuzz"]);
    if build == Build::Dev {
        command.arg("--dev");
    }
    command
}

/// Checks for the nightly toolchain and cargo-fuzz, installing what is missing; returns the
/// cargo-fuzz binary.
pub fn ensure_tools() -> Result<PathBuf> {
    tools::require(
        "rustup",
        "install rustup (https://rustup.rs): fuzzing needs the nightly toolchain",
    )?;
    let nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !nightly {
        eprintln!("installing the nightly toolchain (cargo fuzz needs it)...");
        tools::run(Command::new("rustup").args([
            "toolchain",
            "install",
            "nightly",
            "--profile",
            "minimal",
        ]))
        .context("installing nightly: run `rustup toolchain install nightly` yourself")?;
    }
    let root = project::root();
    let install_root = root.join(".tools/cargo");
    let cargo_fuzz = install_root.join("bin/cargo-fuzz");
    let installed = Command::new(&cargo_fuzz)
        .arg("--version")
        .output()
        .map(|o| {
            o.status.success() && String::from_utf8_lossy(&o.stdout).contains(CARGO_FUZZ_VERSION)
        })
        .unwrap_or(false);
    if !installed {
        eprintln!("installing cargo-fuzz {CARGO_FUZZ_VERSION} into .tools/cargo...");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        tools::run(
            Command::new(cargo)
                .args([
                    "install",
                    "--locked",
                    "--quiet",
                    "cargo-fuzz",
                    "--version",
                    CARGO_FUZZ_VERSION,
                    "--root",
                ])
                .arg(&install_root),
        )
        .context("installing cargo-fuzz: run `cargo install cargo-fuzz` yourself and retry")?;
    }
    Ok(cargo_fuzz)
}

fn reproduce_hint(target: &str) -> String {
    format!(
        "RUSTUP_TOOLCHAIN=nightly .tools/cargo/bin/cargo-fuzz fuzz run --fuzz-dir fuzz --target-dir target/fuzz {target} target/fuzz/artifacts/{target}/<crash file>"
    )
}

/// libFuzzer's final count of executed inputs (`-print_final_stats=1`).
fn executions(log: &str) -> u64 {
    log.lines()
        .rev()
        .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// The path of the input libFuzzer saved for a crash.
fn artifact(log: &str) -> Option<String> {
    log.lines().find_map(|l| {
        l.split_once("Test unit written to ")
            .map(|(_, p)| p.trim().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_file_is_declared_and_unknown_targets_are_refused() {
        let declared = targets().unwrap();
        let dir = project::root().join("fuzz/fuzz_targets");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(
            declared, files,
            "fuzz/Cargo.toml and fuzz/fuzz_targets/ differ"
        );

        let all = vec!["envelope".to_owned(), "manifest".to_owned()];
        let err = select(all.clone(), vec!["envelop".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no fuzz target `envelop`: the targets are envelope, manifest"
        );
        assert_eq!(select(all.clone(), Vec::new()).unwrap(), all);
        assert_eq!(
            select(all, vec!["manifest".into()]).unwrap(),
            vec!["manifest".to_owned()]
        );
    }

    #[test]
    fn executions_and_artifacts_are_read_from_libfuzzer_output() {
        let log = "#1024\tpulse  cov: 10\nDone 5120 runs in 3 second(s)\nstat::number_of_executed_units: 5120\nstat::average_exec_per_sec:     1706\n";
        assert_eq!(executions(log), 5120);
        assert_eq!(executions("no stats"), 0);
        let crash = "==1== ERROR: libFuzzer: deadly signal\nartifact_prefix='a/'; Test unit written to a/crash-da39a3\nBase64: AA==\n";
        assert_eq!(artifact(crash).as_deref(), Some("a/crash-da39a3"));
        assert_eq!(artifact(log), None);
    }
}
