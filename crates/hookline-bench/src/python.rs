//! The Python baseline of section 1: `python/stripe_ingest.py`, a minimal Stripe ingest as
//! AWS's documentation writes a Python Lambda handler, run by the official Runtime Interface
//! Client (`python -m awslambdaric`, the program inside AWS's Python base images) in the same
//! Runtime API emulator and against the same local SQS endpoint as hookline's ingest, so that
//! its cold start, warm duration, CPU and memory are measured the same way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// What the baseline needs: an interpreter and the function's file.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// A Python with `awslambdaric` and `boto3` (`.tools/venv/bin/python`, from
    /// `xtask/python-requirements.txt`).
    pub python: PathBuf,
    /// `python/stripe_ingest.py`.
    pub function: PathBuf,
}

/// How to get what is missing.
const INSTALL: &str = "`cargo xtask bench` installs it into .tools/venv (xtask/python-requirements.txt); \
     by hand: .tools/venv/bin/pip install -r xtask/python-requirements.txt";

impl Baseline {
    /// Fails, saying how to install them, unless the interpreter runs and has awslambdaric and
    /// boto3, and the function file exists.
    pub fn check(&self) -> Result<()> {
        if !self.function.is_file() {
            bail!("the Python baseline {} is missing", self.function.display());
        }
        let out = Command::new(&self.python)
            .args(["-c", "import awslambdaric, boto3"])
            .output()
            .with_context(|| format!("running {}: {INSTALL}", self.python.display()))?;
        if !out.status.success() {
            bail!(
                "{} lacks awslambdaric or boto3 ({}): {INSTALL}",
                self.python.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }

    /// An executable for the emulator (which clears the environment and runs one path): a
    /// script in `scratch` that runs the function under awslambdaric from its own folder.
    pub fn executable(&self, scratch: &Path) -> Result<PathBuf> {
        let dir = self
            .function
            .parent()
            .context("the baseline has no folder")?;
        let module = self
            .function
            .file_stem()
            .and_then(|s| s.to_str())
            .context("the baseline's file name")?;
        let quote = |p: &Path| format!("'{}'", p.to_string_lossy().replace('\'', r"'\''"));
        let script = scratch.join("python-stripe-ingest");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\ncd {} || exit 1\nexec {} -m awslambdaric {module}.lambda_handler\n",
                quote(dir),
                quote(&self.python)
            ),
        )?;
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
        Ok(script)
    }
}

/// The baseline's environment: the AWS variables of `ingest_env` (region, the local endpoint,
/// local credentials), its queue and its secret under the names the function reads.
pub fn env(
    ingest_env: &BTreeMap<String, String>,
    queue_url: &str,
    secret: &str,
) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = ingest_env
        .iter()
        .filter(|(k, _)| k.starts_with("AWS_") || k.as_str() == "PATH")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    env.insert("QUEUE_URL".into(), queue_url.into());
    env.insert("STRIPE_WEBHOOK_SECRET".into(), secret.into());
    // No __pycache__ in the repository (on Lambda the function's folder is read-only anyway).
    env.insert("PYTHONDONTWRITEBYTECODE".into(), "1".into());
    env
}
