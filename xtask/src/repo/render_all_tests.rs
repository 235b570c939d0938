//! Every built-in template, rendered into one temporary workspace, must build, pass its own
//! tests, and be fmt- and clippy-clean. The rendered crates share one target directory
//! (`target/template-check`), so after the first run only they are compiled.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::project;
use crate::repo::{new, templates};

fn cargo(workspace: &Path, target_dir: &Path, args: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    // Captured, so that the inner `test result:` lines do not mix with the outer run's.
    let output = Command::new(cargo)
        .current_dir(workspace)
        .env("CARGO_TARGET_DIR", target_dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "`cargo {}` failed in the rendered workspace:\n{}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A workspace beside the real one: same dependencies and lints, hookline by absolute path.
fn workspace(root: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let mut doc: toml_edit::DocumentMut = manifest.parse().unwrap();
    doc["workspace"]["members"] = toml_edit::value(toml_edit::Array::from_iter(["functions/*"]));
    for (name, path) in [
        ("hookline", "crates/hookline"),
        ("hookline-manifest", "crates/hookline-manifest"),
    ] {
        let mut dep = toml_edit::InlineTable::new();
        dep.insert("path", root.join(path).display().to_string().into());
        doc["workspace"]["dependencies"][name] = toml_edit::value(dep);
    }
    std::fs::write(dir.path().join("Cargo.toml"), doc.to_string()).unwrap();
    for file in ["Cargo.lock", "clippy.toml"] {
        std::fs::copy(root.join(file), dir.path().join(file)).unwrap();
    }
    std::fs::write(
        dir.path().join("hookline.toml"),
        "[project]\nname = \"template-check\"\n",
    )
    .unwrap();
    dir
}

#[test]
fn every_template_renders_to_a_crate_that_builds_tests_and_lints_clean() {
    let root = project::root();
    let ws = workspace(&root);
    // The templates are read from the real repository, so this checks what ships.
    let copy = |from: &Path, to: &Path| {
        let status = Command::new("cp")
            .arg("-R")
            .arg(from)
            .arg(to)
            .status()
            .unwrap();
        assert!(status.success());
    };
    copy(&root.join("templates"), &ws.path().join("templates"));
    let all = templates::list(&root).unwrap();
    assert!(
        all.len() >= 16,
        "the sixteen built-in templates are expected"
    );
    let mut fmt = vec!["fmt".to_owned(), "--check".to_owned()];
    for template in &all {
        let name = format!("check-{}", template.name);
        new::create(ws.path(), &name, &template.name, None, &BTreeMap::new()).unwrap();
        fmt.extend(["-p".to_owned(), format!("{name}-webhooks")]);
    }
    let target = root.join("target/template-check");
    // Only the generated packages: `--all` would also check hookline through its path.
    cargo(
        ws.path(),
        &target,
        &fmt.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    cargo(
        ws.path(),
        &target,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--quiet",
            "--",
            "-D",
            "warnings",
        ],
    );
    cargo(ws.path(), &target, &["test", "--workspace", "--quiet"]);
}
