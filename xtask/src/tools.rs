//! External tools: where the project root is, checks before calling a tool, and the
//! project-local Python environment under `.tools/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The workspace root (the parent of `xtask/`).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Fails with `install` as advice when `program --version` does not run.
pub fn require(program: &str, install: &str) -> Result<()> {
    match Command::new(program).arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        _ => bail!("{program} is required: {install}"),
    }
}

/// The project-local virtualenv that holds the Python test tools.
pub fn venv_dir() -> PathBuf {
    project_root().join(".tools/venv")
}

/// The venv's Python interpreter.
pub fn venv_python() -> PathBuf {
    venv_dir().join("bin/python")
}

/// Creates `.tools/venv` and installs `xtask/python-requirements.txt` into it, unless the
/// installed set already matches that file (a copy is kept beside the venv).
pub fn ensure_python_tools() -> Result<PathBuf> {
    require(
        "python3",
        "install Python 3 (with the venv module), e.g. `apt-get install python3 python3-venv`",
    )?;
    let root = project_root();
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
        "installing Python test tools into .tools/venv (from xtask/python-requirements.txt)..."
    );
    if !python.exists() {
        run(Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(venv_dir()))
        .context("creating .tools/venv: is the Python venv module installed (python3-venv)?")?;
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
