//! `cargo xtask build` for real: every function of hookline.toml cross-compiled with
//! cargo-lambda and zig for arm64 (the default architecture), each zip checked for an
//! executable aarch64 `bootstrap`, then `cargo xtask synth` with those zips and cfn-lint on the
//! template.
//!
//! The build uses its own cargo target directory (`target/lambda-check`, kept between runs so
//! only the first one compiles the dependencies) and writes its zips there too, never into
//! target/lambda where a developer's release zips live. It builds in debug without debug info:
//! the release profile (thin LTO, one codegen unit) adds minutes per function on a 2-core CI
//! machine and differs only in the flag, which the dry-run tests of build and deploy check. The nested commands' output
//! is kept and shown only on failure, so it does not mix with the outer test run.

use std::path::Path;
use std::process::Command;

use crate::aws::AwsEnv;
use crate::aws::build::{self, Arch, Machine, Options};
use crate::aws::lambda_zip::{self, EM_AARCH64};
use crate::aws::logs::{Function, groups};
use crate::aws::synth;
use crate::cmd::QuietExec;
use crate::project;

fn assets_of(template_dir: &Path, stack: &str) -> Vec<std::path::PathBuf> {
    let assets: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(template_dir.join(format!("{stack}.assets.json"))).unwrap(),
    )
    .unwrap();
    assets["files"]
        .as_object()
        .unwrap()
        .values()
        .map(|file| template_dir.join(file["source"]["path"].as_str().unwrap()))
        .filter(|p| p.extension().is_some_and(|e| e == "zip"))
        .collect()
}

#[test]
fn build_writes_arm64_bootstrap_zips_that_synthesize_into_a_lint_clean_stack() {
    let root = project::root();
    let manifest = crate::project::manifest().unwrap();
    let check = root.join("target/lambda-check");
    let out_dir = check.join("zips");
    if out_dir.exists() {
        std::fs::remove_dir_all(&out_dir).unwrap();
    }
    let options = Options {
        arch: Arch::Arm64,
        release: false,
        out_dir: out_dir.clone(),
        target_dir: Some(check.join("target")),
        no_debuginfo: true,
    };
    // Installs cargo-lambda/zig and the Rust target when missing, as the command does.
    let machine = Machine::inspect(Arch::Arm64);
    let zips = build::build(
        &root,
        &manifest,
        &options,
        machine,
        &mut QuietExec { root: root.clone() },
    )
    .unwrap();

    let binaries = build::binaries(&manifest);
    assert_eq!(zips.len(), binaries.len());
    assert!(zips.len() >= 2);
    for (zip, binary) in zips.iter().zip(&binaries) {
        assert_eq!(
            zip,
            &out_dir.join("arm64").join(binary).join("bootstrap.zip")
        );
        let bootstrap = lambda_zip::inspect(zip).unwrap();
        assert_eq!(bootstrap.machine, EM_AARCH64, "{binary} is not aarch64");
        assert!(
            bootstrap.executable,
            "{binary}'s bootstrap is not executable"
        );
        assert!(
            bootstrap.size > 100_000,
            "{binary}'s bootstrap is too small"
        );
    }

    // Synthesize the repository's stack with exactly these zips.
    let args = synth::Args {
        stage: crate::stage::StageArgs::new("ci-check", false),
        lifetime: crate::stage::LifetimeArgs::default(),
        assets: Some(out_dir.clone()),
    };
    let template = synth::synth(
        &root,
        &args,
        &AwsEnv::default(),
        &mut QuietExec { root: root.clone() },
    )
    .unwrap()
    .unwrap();
    let stack = format!("{}-ci-check", manifest.project.name);
    assert_eq!(
        template,
        root.join("cdk/cdk.out")
            .join(format!("{stack}.template.json"))
    );
    let text = std::fs::read_to_string(&template).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let functions: Vec<&serde_json::Value> = json["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::Lambda::Function")
        .collect();
    assert_eq!(functions.len(), binaries.len());
    for function in &functions {
        assert_eq!(function["Properties"]["Architectures"][0], "arm64");
        assert_eq!(function["Properties"]["Runtime"], "provided.al2023");
    }
    // `cargo xtask logs` finds each function's log group by its CDK path in the template.
    for provider in &manifest.providers {
        for function in [Function::Ingest, Function::Process] {
            let path = groups::cdk_path(&stack, &provider.name, function);
            assert!(
                groups::logical_id(&json, &path).is_some(),
                "no log group at {path}"
            );
        }
    }
    // The synthesized stack refuses exactly the bootstrap versions below the one `deploy`
    // checks for (aws-cdk-lib's CheckBootstrapVersion rule lists them).
    let refused = &json["Rules"]["CheckBootstrapVersion"]["Assertions"][0]["Assert"]["Fn::Not"][0]
        ["Fn::Contains"][0];
    let refused: Vec<u32> = refused
        .as_array()
        .unwrap_or_else(|| panic!("no CheckBootstrapVersion rule: {}", json["Rules"]))
        .iter()
        .map(|v| v.as_str().unwrap().parse().unwrap())
        .collect();
    let min = crate::aws::bootstrap::MIN_BOOTSTRAP_VERSION;
    assert_eq!(refused, (1..min).collect::<Vec<u32>>());
    // The cloud assembly carries the very zips that were built.
    let staged = assets_of(template.parent().unwrap(), &stack);
    assert_eq!(staged.len(), zips.len());
    for zip in &zips {
        let built = std::fs::read(zip).unwrap();
        assert!(
            staged.iter().any(|s| std::fs::read(s).unwrap() == built),
            "{} is not among the stack's assets",
            zip.display()
        );
    }

    // The staged copies of the debug zips are large; nothing else uses them.
    for file in &staged {
        std::fs::remove_file(file).unwrap();
    }

    let lint = Command::new(crate::project::venv_bin_dir().join("cfn-lint"))
        .arg("--")
        .arg(&template)
        .output()
        .unwrap();
    // cfn-lint's exit code is a bit mask: 2 = errors (4 = warnings, 8 = informational).
    assert_eq!(
        lint.status.code().unwrap_or(2) & 2,
        0,
        "cfn-lint errors:\n{}",
        String::from_utf8_lossy(&lint.stdout)
    );
}
