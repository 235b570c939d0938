//! `.github/workflows/preview.yml` and `.github/workflows/reap.yml`, read with the venv's PyYAML
//! (no YAML crate in the workspace): what CI does with a pull request's stage, what it builds,
//! what its token may do, and what runs when.

use serde_json::{Map, Value};

use crate::{project, tools};

/// The hidden marker of preview.yml's comment with the webhook URLs.
const MARKER: &str = "<!-- hookline-preview -->";

/// `.github/workflows/<name>` as JSON.
fn workflow(name: &str) -> Value {
    let python = std::env::var_os("HOOKLINE_TEST_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(tools::venv_python);
    let file = project::root().join(".github/workflows").join(name);
    let out = std::process::Command::new(python)
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Both workflows, with their file names.
fn both() -> [(&'static str, Value); 2] {
    [
        ("preview.yml", workflow("preview.yml")),
        ("reap.yml", workflow("reap.yml")),
    ]
}

/// A workflow's triggers: YAML 1.1 reads the key `on` as true.
fn on(w: &Value) -> &Value {
    if w["on"].is_null() {
        &w["true"]
    } else {
        &w["on"]
    }
}

fn jobs(w: &Value) -> &Map<String, Value> {
    w["jobs"].as_object().expect("a mapping of jobs")
}

fn steps(job: &Value) -> &[Value] {
    job["steps"]
        .as_array()
        .expect("a job with steps")
        .as_slice()
}

fn runs(job: &Value) -> Vec<&str> {
    steps(job)
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect()
}

fn uses(job: &Value) -> Vec<&str> {
    steps(job)
        .iter()
        .filter_map(|s| s["uses"].as_str())
        .collect()
}

/// The first step that uses `action` (`owner/name`, any version).
fn step_using<'a>(job: &'a Value, action: &str) -> &'a Value {
    steps(job)
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(action)))
        .unwrap_or_else(|| panic!("no step uses {action}: {:?}", uses(job)))
}

/// The first step whose script contains `text`.
fn step_running<'a>(job: &'a Value, text: &str) -> &'a Value {
    steps(job)
        .iter()
        .find(|s| s["run"].as_str().is_some_and(|r| r.contains(text)))
        .unwrap_or_else(|| panic!("no step runs `{text}`: {:?}", runs(job)))
}

/// The region as xtask resolves it (repository variable AWS_REGION, else the manifest's), then
/// OIDC credentials of the role in AWS_DEPLOY_ROLE_ARN for that region.
fn assert_credentials_of_the_deploy_role(what: &str, job: &Value) {
    let region = step_running(job, "cargo xtask resolve --stage");
    let script = region["run"].as_str().unwrap();
    assert!(script.contains("| jq -r .stage.region"), "{what}: {script}");
    // A failed resolve must stop the job, not pass on an empty region.
    assert_eq!(region["shell"], "bash", "{what}: pipefail");
    assert!(script.contains("test -n \"$region\""), "{what}: {script}");
    assert_eq!(region["id"], "region", "{what}");
    assert_eq!(
        region["env"]["AWS_REGION"], "${{ vars.AWS_REGION }}",
        "{what}"
    );
    // Not a second reading of the manifest.
    assert!(runs(job).iter().all(|r| !r.contains("tomllib")), "{what}");
    let credentials = step_using(job, "aws-actions/configure-aws-credentials");
    assert_eq!(
        credentials["with"]["role-to-assume"], "${{ vars.AWS_DEPLOY_ROLE_ARN }}",
        "{what}"
    );
    assert_eq!(
        credentials["with"]["aws-region"], "${{ steps.region.outputs.region }}",
        "{what}"
    );
}

/// A job that builds xtask and nothing else: no function, no CDK app, nothing from PyPI or npm.
fn assert_builds_only_xtask(what: &str, job: &Value) {
    const ALLOWED: [&str; 4] = [
        "actions/checkout",
        "dtolnay/rust-toolchain",
        "Swatinem/rust-cache",
        "aws-actions/configure-aws-credentials",
    ];
    for u in uses(job) {
        assert!(
            ALLOWED.iter().any(|a| u.starts_with(*a)),
            "{what} uses {u}; it needs only {ALLOWED:?}"
        );
    }
    assert!(
        uses(job)
            .iter()
            .any(|u| u.starts_with("Swatinem/rust-cache")),
        "{what}: the xtask build is cached"
    );
    assert!(
        runs(job).iter().any(|r| r.contains("cargo build -p xtask")),
        "{what}: {:?}",
        runs(job)
    );
    for r in runs(job) {
        for forbidden in [
            "cargo xtask build",
            "cargo xtask deploy",
            "cargo xtask synth",
            "cargo lambda",
            "pip install",
            "-m pip",
            "npm ",
            "npx ",
        ] {
            assert!(!r.contains(forbidden), "{what} runs `{forbidden}`: {r}");
        }
        assert!(
            !r.split_whitespace()
                .any(|word| word == "pip" || word == "pip3" || word == "aws"),
            "{what} runs pip or the AWS CLI: {r}"
        );
    }
}

#[test]
fn deploys_pr_number_on_pushes_and_destroys_it_on_close() {
    let w = workflow("preview.yml");
    let types: Vec<&str> = on(&w)["pull_request"]["types"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for t in ["opened", "synchronize", "reopened", "closed"] {
        assert!(types.contains(&t), "{t} missing from {types:?}");
    }
    assert_eq!(
        w["env"]["STAGE"],
        "pr-${{ github.event.pull_request.number }}"
    );

    let deploy = &w["jobs"]["deploy"];
    assert!(deploy["if"].as_str().unwrap().contains("!= 'closed'"));
    // The stack is tagged with the pull request, which reap compares with the closed ones.
    assert!(
        runs(deploy).iter().any(|r| r.contains(
            "cargo xtask deploy --stage \"$STAGE\" --pr ${{ github.event.pull_request.number }} --yes --json"
        )),
        "{:?}",
        runs(deploy)
    );
    let destroy = &w["jobs"]["destroy"];
    assert!(destroy["if"].as_str().unwrap().contains("== 'closed'"));
    assert!(
        runs(destroy)
            .iter()
            .any(|r| r.contains("cargo xtask destroy --stage \"$STAGE\" --yes")),
        "{:?}",
        runs(destroy)
    );
    // A pr-* stage is ephemeral: destroying it never needs --force.
    assert!(
        runs(destroy).iter().all(|r| !r.contains("--force")),
        "{:?}",
        runs(destroy)
    );
    for (name, job) in [("deploy", deploy), ("destroy", destroy)] {
        // Forks get no credentials: skipped.
        assert!(
            job["if"]
                .as_str()
                .unwrap()
                .contains("github.event.pull_request.head.repo.full_name == github.repository"),
            "{name}: {}",
            job["if"]
        );
        assert!(
            runs(job)
                .iter()
                .any(|r| r.contains("cargo xtask resolve --stage \"$STAGE\" | jq -r .stage.region")),
            "{name}: {:?}",
            runs(job)
        );
        assert_credentials_of_the_deploy_role(name, job);
    }
}

/// After the deploy and its comment, a smoke test: every provider of the deploy's output gets
/// its sample through the deployed stage, and the run fails unless each was processed (or
/// skipped with its reason: a secret never set, a public key).
#[test]
fn the_deploy_ends_with_a_smoke_test_of_every_provider() {
    let w = workflow("preview.yml");
    let deploy = &w["jobs"]["deploy"];
    let names: Vec<&str> = steps(deploy)
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names.last(), Some(&"Smoke test"), "{names:?}");
    let smoke = step_running(deploy, "cargo xtask send");
    let run = smoke["run"].as_str().unwrap();
    assert!(
        run.contains("for provider in $(jq -r '.providers | keys[]' preview.json)"),
        "{run}"
    );
    assert!(
        run.contains("cargo xtask send \"$provider\" --stage \"$STAGE\" --wait --if-ready"),
        "{run}"
    );
    assert!(
        smoke.get("continue-on-error").is_none(),
        "a failed smoke test fails the run"
    );
    assert_eq!(
        smoke["shell"], "bash",
        "bash -e: the first failure stops the loop"
    );
}

#[test]
fn destroy_checks_out_the_base_branch_and_builds_only_xtask() {
    let w = workflow("preview.yml");
    let destroy = &w["jobs"]["destroy"];
    // Never the pull request's code: its merge ref may be gone once it is closed.
    let checkout = step_using(destroy, "actions/checkout");
    assert_eq!(
        checkout["with"]["ref"],
        "${{ github.event.pull_request.base.ref }}"
    );
    assert_builds_only_xtask("preview.yml's destroy", destroy);
    for action in ["actions/setup-python", "actions/setup-node"] {
        assert!(
            uses(destroy).iter().all(|u| !u.starts_with(action)),
            "destroy uses {action}"
        );
    }
}

#[test]
fn permissions_are_per_job_and_only_deploy_may_write_to_pull_requests() {
    for (file, w) in both() {
        let top = w["permissions"].as_object().unwrap_or_else(|| {
            panic!("{file}: set top-level permissions to {{}} (or contents: read only)")
        });
        for (key, value) in top {
            assert!(
                key == "contents" && value == "read",
                "{file}: top-level permission {key}: {value}"
            );
        }
        for (name, job) in jobs(&w) {
            let permissions = job["permissions"]
                .as_object()
                .unwrap_or_else(|| panic!("{file}: job {name} sets no permissions"));
            assert_eq!(
                permissions.get("id-token").and_then(Value::as_str),
                Some("write"),
                "{file}: job {name} needs id-token: write for OIDC"
            );
            for (key, value) in permissions {
                let may_write = key == "id-token"
                    || (file == "preview.yml" && name == "deploy" && key == "pull-requests");
                assert!(
                    value != "write" || may_write,
                    "{file}: job {name} may write {key}"
                );
            }
        }
    }
    let w = workflow("preview.yml");
    assert_eq!(w["jobs"]["deploy"]["permissions"]["pull-requests"], "write");
    assert_ne!(
        w["jobs"]["destroy"]["permissions"]["pull-requests"],
        "write"
    );
}

#[test]
fn the_webhook_comment_is_found_by_its_marker_and_edited() {
    let w = workflow("preview.yml");
    let deploy = &w["jobs"]["deploy"];
    let comment = step_running(deploy, "gh api");
    let script = comment["run"].as_str().unwrap();
    // In the body it writes, and in the search for the comment to edit.
    assert!(
        script.matches(MARKER).count() >= 2,
        "the marker {MARKER} in the body and in the search: {script}"
    );
    // Only github-actions[bot]'s own comment is edited, never another bot's or a person's.
    assert!(script.contains("github-actions[bot]"), "{script}");
    assert!(
        script.contains("--paginate"),
        "every page of comments: {script}"
    );
    assert!(
        script.contains("--method PATCH") && script.contains("issues/comments/"),
        "edits the comment it found: {script}"
    );
    assert!(
        script.contains("--method POST"),
        "creates it when there is none: {script}"
    );
    assert_eq!(comment["env"]["GH_TOKEN"], "${{ github.token }}");
    for (name, job) in jobs(&w) {
        for r in runs(job) {
            assert!(!r.contains("--edit-last"), "{name}: {r}");
        }
    }
    // Only deploy comments.
    let destroy = &w["jobs"]["destroy"];
    assert!(
        runs(destroy)
            .iter()
            .all(|r| r.split_whitespace().all(|word| word != "gh")),
        "{:?}",
        runs(destroy)
    );
}

#[test]
fn a_newer_push_cancels_the_older_deploy_and_destroy_is_never_cancelled() {
    let w = workflow("preview.yml");
    // Runs: a deploy run cancels the older deploy run of its pull request; destroy runs have a
    // group of their own and cancel nothing.
    let run_group = w["concurrency"]["group"].as_str().unwrap();
    assert!(
        run_group.contains("github.event.pull_request.number"),
        "{run_group}"
    );
    assert!(
        run_group.contains("'destroy'") && run_group.contains("'deploy'"),
        "deploy and destroy runs in separate groups: {run_group}"
    );
    assert_eq!(
        w["concurrency"]["cancel-in-progress"],
        "${{ github.event.action != 'closed' }}"
    );

    // Jobs: one group per pull request's stack, so a destroy waits for a running deploy, and
    // neither cancels the other.
    let deploy = &w["jobs"]["deploy"]["concurrency"];
    let destroy = &w["jobs"]["destroy"]["concurrency"];
    let stack_group = deploy["group"].as_str().unwrap();
    assert!(
        stack_group.contains("github.event.pull_request.number"),
        "{stack_group}"
    );
    assert_eq!(
        destroy["group"], deploy["group"],
        "destroy waits for a running deploy of the same pull request"
    );
    assert_ne!(
        stack_group, run_group,
        "a job in its own run's group would wait for itself"
    );
    for (name, concurrency) in [("deploy", deploy), ("destroy", destroy)] {
        assert!(
            matches!(
                concurrency["cancel-in-progress"],
                Value::Null | Value::Bool(false)
            ),
            "{name} must not cancel the job running in the stack's group: {concurrency}"
        );
    }
}

#[test]
fn every_job_has_a_timeout() {
    for (file, w) in both() {
        for (name, job) in jobs(&w) {
            assert!(
                job["timeout-minutes"]
                    .as_u64()
                    .is_some_and(|m| (1..=120).contains(&m)),
                "{file}: job {name} needs timeout-minutes (at most 120): {}",
                job["timeout-minutes"]
            );
        }
    }
}

#[test]
fn reap_runs_hourly_and_on_demand_and_passes_the_closed_pull_requests() {
    let w = workflow("reap.yml");
    let triggers = on(&w).as_object().expect("on: a mapping of triggers");
    // `workflow_dispatch:` with no settings is null: present, not indexed.
    assert!(triggers.contains_key("workflow_dispatch"), "{triggers:?}");
    for trigger in triggers.keys() {
        assert!(
            trigger == "schedule" || trigger == "workflow_dispatch",
            "reap runs on the default branch only, not on {trigger}"
        );
    }
    let crons: Vec<&str> = triggers["schedule"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["cron"].as_str())
        .collect();
    assert!(
        crons.iter().any(|cron| {
            let fields: Vec<&str> = cron.split_whitespace().collect();
            fields.len() == 5
                && fields[0].parse::<u8>().is_ok_and(|minute| minute < 60)
                && fields[1..] == ["*", "*", "*", "*"]
        }),
        "hourly at a fixed minute: {crons:?}"
    );

    let job = &w["jobs"]["reap"];
    let reap = step_running(job, "cargo xtask reap");
    let script = reap["run"].as_str().unwrap();
    assert!(
        script.contains("gh pr list --state closed"),
        "asks GitHub for the closed pull requests: {script}"
    );
    assert!(script.contains("--json number"), "{script}");
    assert!(
        script.contains("--pr-closed"),
        "each one as --pr-closed <n>: {script}"
    );
    assert!(!script.contains("--dry-run"), "{script}");
    assert_eq!(reap["env"]["GH_TOKEN"], "${{ github.token }}");
    assert_eq!(job["permissions"]["pull-requests"], "read");
}

#[test]
fn reap_builds_only_xtask_with_the_deploy_role_and_never_overlaps() {
    let w = workflow("reap.yml");
    let job = &w["jobs"]["reap"];
    assert_builds_only_xtask("reap.yml", job);
    assert_credentials_of_the_deploy_role("reap.yml", job);

    // The workflow's or the job's group; `concurrency: <group>` is a group without cancelling.
    let concurrency = if w["concurrency"].is_null() {
        &job["concurrency"]
    } else {
        &w["concurrency"]
    };
    let group = concurrency
        .as_str()
        .or_else(|| concurrency["group"].as_str())
        .unwrap_or_default();
    assert!(!group.is_empty(), "two reaps never overlap: {concurrency}");
    assert!(
        !group.contains("${{"),
        "one group for every run, not one per run: {group}"
    );
    assert!(
        matches!(
            concurrency["cancel-in-progress"],
            Value::Null | Value::Bool(false)
        ),
        "a running reap is never cancelled: {concurrency}"
    );
}
