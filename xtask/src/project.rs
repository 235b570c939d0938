//! The repository: where its root is, the one manifest loader, and where the project-local
//! tools live (`.tools/venv`, `cdk/node_modules`).

use std::path::{Path, PathBuf};

use anyhow::Result;
use hookline_manifest::{MANIFEST_FILE, Manifest};

/// The variable that names another manifest than the workspace's `hookline.toml`.
pub const MANIFEST_VAR: &str = "HOOKLINE_MANIFEST";

/// The project-local Python environment, relative to the root.
pub const VENV: &str = ".tools/venv";

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The manifest's path: `HOOKLINE_MANIFEST`, or the workspace's `hookline.toml`.
pub fn manifest_path() -> PathBuf {
    std::env::var_os(MANIFEST_VAR)
        .filter(|path| !path.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(MANIFEST_FILE))
}

/// Reads and validates the manifest (errors name the file, line and field). Every command
/// loads it here.
pub fn manifest() -> Result<Manifest> {
    Ok(hookline_manifest::load(&manifest_path())?)
}

/// A binary of the project-local Python environment, relative to the root (as plans print it).
pub fn venv_bin(binary: &str) -> String {
    format!("{VENV}/bin/{binary}")
}

/// The project-local Python environment's `bin/`, absolute.
pub fn venv_bin_dir() -> PathBuf {
    root().join(VENV).join("bin")
}

/// `target/`, honouring `CARGO_TARGET_DIR`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}
