//! External tools: checks before calling a tool, running one, the project-local Python
//! environment under `.tools/`, and Debian's Chromium for the console's browser test.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cmd::Plan;
use crate::project;

/// Fails with `install` as advice when `program --version` does not run.
pub fn require(program: &str, install: &str) -> Result<()> {
    match Command::new(program).arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        _ => bail!("{program} is required: {install}"),
    }
}

/// The project-local virtualenv that holds the Python test tools.
pub fn venv_dir() -> PathBuf {
    project::root().join(project::VENV)
}

/// The venv's Python interpreter.
pub fn venv_python() -> PathBuf {
    project::venv_bin_dir().join("python")
}

/// Creates `.tools/venv` and installs `xtask/python-requirements.txt` into it, unless the
/// installed set already matches that file (a copy is kept beside the venv).
pub fn ensure_python_tools() -> Result<PathBuf> {
    require(
        "python3",
        "install Python 3 (with the venv module), e.g. `apt-get install python3 python3-venv`",
    )?;
    let root = project::root();
    let requirements = root.join("xtask/python-requirements.txt");
    let wanted = std::fs::read_to_string(&requirements)
        .with_context(|| format!("reading {}", requirements.display()))?;
    let stamp = venv_dir().join("hookline-requirements.txt");
    let python = venv_python();
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(python);
    }
    // On stderr, so that stdout stays machine-readable (`deploy --json`).
    eprintln!(
        "installing Python test tools into {} (from xtask/python-requirements.txt)...",
        project::VENV
    );
    if !python.exists() {
        run(Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(venv_dir()))
        .with_context(|| {
            format!(
                "creating {}: is the Python venv module installed (python3-venv)?",
                project::VENV
            )
        })?;
    }
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements))
    .context("installing the Python test tools with pip")?;
    std::fs::write(&stamp, wanted).context("writing the venv's requirements stamp")?;
    Ok(python)
}

/// Where the console's browser test finds Chromium (Debian's `chromium` package).
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The command that installs it.
const CHROMIUM_INSTALL: &str = "apt-get update && apt-get install -y chromium";

/// Makes sure Debian's Chromium is installed (the console's browser test drives it), with
/// apt-get when it is missing; fails with the command to run when it cannot.
pub fn ensure_chromium() -> Result<PathBuf> {
    let chromium = PathBuf::from(CHROMIUM);
    if chromium.exists() {
        return Ok(chromium);
    }
    eprintln!("installing Chromium for the console's browser test: {CHROMIUM_INSTALL}");
    let install = || {
        run(Command::new("apt-get")
            .args(["install", "-y", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive"))
    };
    // A machine whose package lists are old or absent needs an update first.
    let installed = install().or_else(|_| {
        run(Command::new("apt-get")
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
        install()
    });
    match installed {
        Ok(()) if chromium.exists() => Ok(chromium),
        Ok(()) => bail!("apt-get installed chromium but {CHROMIUM} is missing"),
        Err(err) => bail!(
            "Chromium is required for the console's browser test and could not be installed \
             ({err:#}): run `{CHROMIUM_INSTALL}` as root"
        ),
    }
}

/// Runs a command to completion, failing on a non-zero exit.
pub fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("starting {:?}", command.get_program()))?;
    if !status.success() {
        bail!("{:?} failed with {status}", command.get_program());
    }
    Ok(())
}

/// Whether the project's venv has these binaries, and whether it exists at all.
pub fn venv_has(binaries: &[&str]) -> (bool, bool) {
    let bin = project::venv_bin_dir();
    (
        binaries.iter().all(|b| bin.join(b).exists()),
        bin.join("python").exists(),
    )
}

/// Makes sure the project's venv has the Python tools (cargo-lambda, zig, cfn-lint, the AWS
/// CLI). When `what` is not `installed`, says that it installs it project-locally, and how.
pub fn python_tools(plan: &mut Plan, what: &str, installed: bool, venv_exists: bool) {
    if installed {
        // Still re-syncs the venv when xtask/python-requirements.txt changed.
        plan.call(vec![], || ensure_python_tools().map(|_| ()));
        return;
    }
    let venv = project::VENV;
    plan.note(format!(
        "{what} not installed: installing them project-locally into {venv} with pip (xtask/python-requirements.txt)"
    ));
    let mut shown = Vec::new();
    if !venv_exists {
        shown.push(format!("python3 -m venv {venv}"));
    }
    shown.push(format!(
        "{} -m pip install --quiet --disable-pip-version-check -r xtask/python-requirements.txt",
        project::venv_bin("python")
    ));
    plan.call(shown, || ensure_python_tools().map(|_| ()));
}
