//! `cargo xtask build`: every provider's `<name>-ingest` and `<name>-process`, cross-compiled
//! with cargo-lambda (zig links them) into `target/lambda/<arch>/<binary>/bootstrap.zip`, the
//! layout the CDK app reads. cargo-lambda and zig are installed project-locally into
//! `.tools/venv` when missing; the Rust target is added with rustup when missing.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use hookline_manifest::{Architecture, Manifest};

use crate::aws::lambda_zip::{self, EM_AARCH64, EM_X86_64};
use crate::cmd::{Cmd, Exec, Plan, RealExec};
use crate::project;
use crate::tools;

#[derive(clap::Args)]
pub struct Args {
    /// Target architecture (default: the manifest's project.architecture).
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    /// Build without optimizations: faster to compile, slower to run. Not for production.
    #[arg(long)]
    pub debug: bool,
    /// Print the commands instead of running them.
    #[arg(long)]
    pub dry_run: bool,
    /// Where the zips go: <dir>/<arch>/<binary>/bootstrap.zip (default target/lambda).
    #[arg(long, hide = true)]
    pub out_dir: Option<PathBuf>,
    /// Cargo's target directory for the build (default: cargo's own).
    #[arg(long, hide = true)]
    pub target_dir: Option<PathBuf>,
}

/// A Lambda architecture, spelled as in the manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Arch {
    #[value(name = "arm64")]
    Arm64,
    #[value(name = "x86_64")]
    X86_64,
}

impl Arch {
    pub fn name(self) -> &'static str {
        Architecture::from(self).as_str()
    }

    /// The Rust target triple cargo-lambda builds for.
    pub fn triple(self) -> &'static str {
        match self {
            Arch::Arm64 => "aarch64-unknown-linux-gnu",
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
        }
    }

    fn cargo_lambda_flag(self) -> &'static str {
        match self {
            Arch::Arm64 => "--arm64",
            Arch::X86_64 => "--x86-64",
        }
    }

    /// ELF `e_machine` of the binaries.
    pub fn elf_machine(self) -> u16 {
        match self {
            Arch::Arm64 => EM_AARCH64,
            Arch::X86_64 => EM_X86_64,
        }
    }
}

impl From<Arch> for Architecture {
    fn from(arch: Arch) -> Self {
        match arch {
            Arch::Arm64 => Architecture::Arm64,
            Arch::X86_64 => Architecture::X86_64,
        }
    }
}

impl From<Architecture> for Arch {
    fn from(arch: Architecture) -> Self {
        match arch {
            Architecture::Arm64 => Arch::Arm64,
            Architecture::X86_64 => Arch::X86_64,
        }
    }
}

/// The default folder of the zips, relative to the workspace root.
pub const DEFAULT_OUT_DIR: &str = "target/lambda";

/// What a build needs to know about the machine: read once, so that plans are testable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine {
    /// `.tools/venv` has cargo-lambda and zig.
    pub tools_installed: bool,
    /// `.tools/venv` exists at all.
    pub venv_exists: bool,
    /// rustup reports the target installed (`None`: rustup is not there to ask).
    pub target_installed: Option<bool>,
}

impl Machine {
    pub fn inspect(arch: Arch) -> Self {
        let (tools_installed, venv_exists) = tools::venv_has(&["cargo-lambda", "python-zig"]);
        let target_installed = std::process::Command::new("rustup")
            .args(["target", "list", "--installed"])
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| {
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .any(|l| l.trim() == arch.triple())
            });
        Machine {
            tools_installed,
            venv_exists,
            target_installed,
        }
    }
}

/// How to build.
#[derive(Debug, Clone)]
pub struct Options {
    pub arch: Arch,
    pub release: bool,
    /// Relative to the workspace root, or absolute.
    pub out_dir: PathBuf,
    pub target_dir: Option<PathBuf>,
    /// Debug builds without debug info (`CARGO_PROFILE_DEV_DEBUG=0`): smaller and faster (tests).
    pub no_debuginfo: bool,
}

pub fn run(args: Args) -> Result<()> {
    let root = project::root();
    let manifest = project::manifest()?;
    let options = Options {
        arch: args
            .arch
            .unwrap_or_else(|| manifest.project.architecture.into()),
        release: !args.debug,
        out_dir: args
            .out_dir
            .unwrap_or_else(|| PathBuf::from(DEFAULT_OUT_DIR)),
        target_dir: args.target_dir,
        no_debuginfo: false,
    };
    let machine = Machine::inspect(options.arch);
    if args.dry_run {
        let mut plan = Plan::default();
        add_steps(&mut plan, &manifest, &options, machine)?;
        print!("{}", plan.render());
        return Ok(());
    }
    build(
        &root,
        &manifest,
        &options,
        machine,
        &mut RealExec::new(&root),
    )?;
    Ok(())
}

/// Builds every function and checks the zips; returns them.
pub fn build(
    root: &Path,
    manifest: &Manifest,
    options: &Options,
    machine: Machine,
    exec: &mut dyn Exec,
) -> Result<Vec<PathBuf>> {
    let mut plan = Plan::default();
    add_steps(&mut plan, manifest, options, machine)?;
    plan.execute(exec)?;
    report(root, manifest, options)
}

/// The binaries of every provider, in manifest order.
pub fn binaries(manifest: &Manifest) -> Vec<String> {
    manifest
        .providers
        .iter()
        .flat_map(|p| [p.ingest_binary(), p.process_binary()])
        .collect()
}

/// The zip of one binary.
pub fn zip_path(root: &Path, out_dir: &Path, arch: Arch, binary: &str) -> PathBuf {
    root.join(out_dir)
        .join(hookline_manifest::lambda_zip(arch.into(), binary))
}

/// Adds the build's steps: tools, Rust target, one cargo-lambda build per binary, the check
/// of the zips.
pub fn add_steps(
    plan: &mut Plan,
    manifest: &Manifest,
    options: &Options,
    machine: Machine,
) -> Result<()> {
    let binaries = binaries(manifest);
    if binaries.is_empty() {
        bail!(
            "hookline.toml has no providers: add one with `cargo xtask new <name> --template <template>`"
        );
    }
    tools::python_tools(
        plan,
        "cargo-lambda and zig are",
        machine.tools_installed,
        machine.venv_exists,
    );
    let triple = options.arch.triple();
    match machine.target_installed {
        Some(true) => {}
        Some(false) => {
            plan.note(format!(
                "the Rust target {triple} is not installed: adding it with rustup"
            ));
            plan.run(Cmd::new("rustup").args(["target", "add", triple]));
        }
        None => plan.note(format!(
            "rustup is not available to check that the Rust target {triple} is installed"
        )),
    }

    let venv_bin = project::venv_bin_dir();
    let path = match std::env::var_os("PATH") {
        Some(path) => format!("{}:{}", venv_bin.display(), path.to_string_lossy()),
        None => venv_bin.display().to_string(),
    };
    let profile = if options.release { "release" } else { "debug" };
    let out = options.out_dir.join(options.arch.name());
    let total = binaries.len();
    for (index, binary) in binaries.iter().enumerate() {
        // cargo-lambda finds zig through the venv's `python3 -m ziglang`.
        let shown = format!("{}/bin:$PATH", project::VENV);
        let mut cmd = Cmd::new("cargo").env_shown("PATH", &path, &shown);
        if let Some(dir) = &options.target_dir {
            cmd = cmd.env("CARGO_TARGET_DIR", &dir.display().to_string());
        }
        if options.no_debuginfo && !options.release {
            cmd = cmd.env("CARGO_PROFILE_DEV_DEBUG", "0");
        }
        cmd = cmd.args(["lambda", "build"]);
        if options.release {
            cmd = cmd.arg("--release");
        }
        cmd = cmd
            .args([options.arch.cargo_lambda_flag(), "--output-format", "zip"])
            .args(["--lambda-dir", &out.display().to_string(), "--bin", binary]);
        plan.run_labelled(
            format!(
                "[{}/{total}] {binary} ({}, {profile})",
                index + 1,
                options.arch.name()
            ),
            cmd,
        );
    }
    plan.note(format!(
        "checks that each {}/<binary>/bootstrap.zip holds an executable {} bootstrap",
        out.display(),
        options.arch.name()
    ));
    Ok(())
}

/// Checks every zip and says where they are.
fn report(root: &Path, manifest: &Manifest, options: &Options) -> Result<Vec<PathBuf>> {
    let mut zips = Vec::new();
    for binary in binaries(manifest) {
        let zip = zip_path(root, &options.out_dir, options.arch, &binary);
        let bootstrap = check_zip(&zip, options.arch)?;
        let zip_size = std::fs::metadata(&zip).map(|m| m.len()).unwrap_or(0);
        eprintln!(
            "  {binary:<28} {} ({:.1} MB zipped, {:.1} MB bootstrap)",
            zip.strip_prefix(root).unwrap_or(&zip).display(),
            zip_size as f64 / 1e6,
            bootstrap.size as f64 / 1e6
        );
        zips.push(zip);
    }
    eprintln!("built {} functions for {}", zips.len(), options.arch.name());
    Ok(zips)
}

/// Fails unless the zip holds an executable `bootstrap` for `arch`.
pub fn check_zip(zip: &Path, arch: Arch) -> Result<lambda_zip::Bootstrap> {
    let bootstrap = lambda_zip::inspect(zip)?;
    if bootstrap.machine != arch.elf_machine() {
        bail!(
            "{}: the bootstrap is built for ELF machine {}, not {} ({})",
            zip.display(),
            bootstrap.machine,
            arch.name(),
            arch.elf_machine()
        );
    }
    if !bootstrap.executable {
        bail!("{}: the bootstrap is not executable", zip.display());
    }
    Ok(bootstrap)
}

#[cfg(test)]
mod tests;
