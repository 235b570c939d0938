use super::*;

fn manifest() -> Manifest {
    hookline_manifest::parse(
        "[project]\nname = \"shop\"\n[[providers]]\nname = \"stripe\"\ntemplate = \"stripe\"\n[[providers]]\nname = \"github\"\ntemplate = \"github\"\n",
        "hookline.toml",
    )
    .unwrap()
}

fn render(options: &Options, machine: Machine) -> String {
    let mut plan = Plan::default();
    add_steps(&mut plan, &manifest(), options, machine).unwrap();
    plan.render()
}

const READY: Machine = Machine {
    tools_installed: true,
    venv_exists: true,
    target_installed: Some(true),
};

#[test]
fn dry_run_prints_one_cargo_lambda_build_per_function() {
    let options = Options {
        arch: Arch::Arm64,
        release: true,
        out_dir: PathBuf::from(DEFAULT_OUT_DIR),
        target_dir: None,
        no_debuginfo: false,
    };
    let expected = [
        "stripe-ingest",
        "stripe-process",
        "github-ingest",
        "github-process",
    ]
    .iter()
    .map(|bin| format!("PATH=.tools/venv/bin:$PATH cargo lambda build --release --arm64 --output-format zip --lambda-dir target/lambda/arm64 --bin {bin}\n"))
    .collect::<String>()
        + "# checks that each target/lambda/arm64/<binary>/bootstrap.zip holds an executable arm64 bootstrap\n";
    assert_eq!(render(&options, READY), expected);
}

#[test]
fn dry_run_for_x86_64_debug_with_a_target_dir() {
    let options = Options {
        arch: Arch::X86_64,
        release: false,
        out_dir: PathBuf::from("/tmp/zips"),
        target_dir: Some(PathBuf::from("/tmp/t")),
        no_debuginfo: true,
    };
    let text = render(&options, READY);
    assert!(text.starts_with("PATH=.tools/venv/bin:$PATH CARGO_TARGET_DIR=/tmp/t CARGO_PROFILE_DEV_DEBUG=0 cargo lambda build --x86-64 --output-format zip --lambda-dir /tmp/zips/x86_64 --bin stripe-ingest\n"), "{text}");
    assert!(!text.contains("--release"));
}

#[test]
fn dry_run_says_what_it_installs_first() {
    let options = Options {
        arch: Arch::Arm64,
        release: true,
        out_dir: PathBuf::from(DEFAULT_OUT_DIR),
        target_dir: None,
        no_debuginfo: false,
    };
    let text = render(
        &options,
        Machine {
            tools_installed: false,
            venv_exists: false,
            target_installed: Some(false),
        },
    );
    let head: Vec<&str> = text.lines().take(5).collect();
    assert_eq!(
        head,
        [
            "# cargo-lambda and zig are not installed: installing them project-locally into .tools/venv with pip (xtask/python-requirements.txt)",
            "python3 -m venv .tools/venv",
            ".tools/venv/bin/python -m pip install --quiet --disable-pip-version-check -r xtask/python-requirements.txt",
            "# the Rust target aarch64-unknown-linux-gnu is not installed: adding it with rustup",
            "rustup target add aarch64-unknown-linux-gnu",
        ]
    );
}

#[test]
fn no_providers_is_an_error() {
    let empty = hookline_manifest::parse("[project]\nname = \"x\"\n", "hookline.toml").unwrap();
    let mut plan = Plan::default();
    let options = Options {
        arch: Arch::Arm64,
        release: true,
        out_dir: PathBuf::from(DEFAULT_OUT_DIR),
        target_dir: None,
        no_debuginfo: false,
    };
    let err = add_steps(&mut plan, &empty, &options, READY).unwrap_err();
    assert!(err.to_string().contains("has no providers"));
}
