//! `deploy`: its plan (`--dry-run`), the refusals before anything is built, and its output.

use super::*;
use crate::cmd::Recorder;

const READY: Machine = Machine {
    tools_installed: true,
    venv_exists: true,
    target_installed: Some(true),
};

fn args(stage: &str) -> Args {
    Args {
        stage: StageArgs::new(stage, true),
        lifetime: LifetimeArgs::default(),
        yes: false,
        json: false,
        alarm_email: None,
        hotswap: false,
        force: false,
    }
}

fn no_credentials() -> (AwsEnv, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let env = AwsEnv {
        vars: Default::default(),
        home: Some(home.path().to_path_buf()),
    };
    (env, home)
}

#[test]
fn dry_run_prints_the_preflight_calls_the_build_and_the_deploy() {
    let root = project::root();
    let manifest = project::manifest().unwrap();
    let (env, _home) = no_credentials();
    let mut a = args("pr-42");
    a.yes = true;
    a.lifetime.ttl = Some("2h".to_owned());
    let mut recorder = Recorder::default();
    // No credentials are needed to print the plan.
    let text = deploy(&root, &a, &env, READY, &mut recorder).unwrap();
    assert!(recorder.ran.is_empty());
    let region = &manifest.project.region;
    let stack = format!("{}-pr-42", manifest.project.name);
    let arch = manifest.project.architecture.as_str();
    let flag = if arch == "arm64" {
        "--arm64"
    } else {
        "--x86-64"
    };
    let mut expected: Vec<String> = build::binaries(&manifest)
        .iter()
        .map(|b| format!("PATH=.tools/venv/bin:$PATH cargo lambda build --release {flag} --output-format zip --lambda-dir target/lambda/{arch} --bin {b}"))
        .collect();
    expected.push(format!("# checks that each target/lambda/{arch}/<binary>/bootstrap.zip holds an executable {arch} bootstrap"));
    let file = stage::resolved_path("pr-42");
    expected.push(format!(
        "# writes the resolved manifest to {} (what `cargo xtask resolve --stage pr-42` prints)",
        file.display()
    ));
    let context = format!("-c resolved={}", file.display());
    expected.push(format!("cd cdk && AWS_REGION={region} node_modules/.bin/cdk deploy --no-notices {context} {stack} --require-approval never --outputs-file cdk.out/{stack}.outputs.json"));
    expected.push(format!(
        "# then prints the webhook URLs from cdk/cdk.out/{stack}.outputs.json"
    ));
    let mut preflight = vec![
        format!("# in {region}, before anything is built:"),
        "sts:GetCallerIdentity".to_owned(),
        "ssm:GetParameter Name=/cdk-bootstrap/hnb659fds/version (bootstrapped with version 6 or later: `cargo xtask bootstrap`)".to_owned(),
    ];
    preflight.extend(expected);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("npm") && !l.starts_with("# cdk/node_modules"))
        .collect();
    assert_eq!(lines, preflight);
    assert!(!text.contains("cdk bootstrap"), "deploy never bootstraps");
    let written = stage::resolve_stage(
        &manifest,
        a.lifetime.stage("pr-42").unwrap(),
        None,
        &env,
        None,
    )
    .unwrap();
    assert_eq!(written.stage.ttl.as_deref(), Some("2h"));
}

#[test]
fn dry_run_of_a_retained_stage_asks_for_approval_and_passes_the_alarm_email() {
    let root = project::root();
    let (env, _home) = no_credentials();
    let mut a = args("prod");
    a.alarm_email = Some("ops@example.com".to_owned());
    let text = deploy(&root, &a, &env, READY, &mut Recorder::default()).unwrap();
    let deploy_line = text.lines().find(|l| l.contains("cdk deploy")).unwrap();
    assert!(
        deploy_line.contains(&format!(
            "-c resolved={}",
            stage::resolved_path("prod").display()
        )),
        "{deploy_line}"
    );
    assert!(!deploy_line.contains("--require-approval"));
    // The address reaches the app through the resolved manifest.
    let manifest = project::manifest().unwrap();
    let resolved = stage::resolve_stage(
        &manifest,
        a.lifetime.stage("prod").unwrap(),
        None,
        &env,
        a.alarm_email.as_deref(),
    )
    .unwrap();
    assert_eq!(
        resolved.stage.alarm_email.as_deref(),
        Some("ops@example.com")
    );
    assert!(!resolved.stage.ephemeral);
    a.alarm_email = Some("nobody".to_owned());
    let err = deploy(&root, &a, &env, READY, &mut Recorder::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "--alarm-email `nobody` is not an email address"
    );
}

#[test]
fn without_credentials_it_fails_before_building_anything() {
    let root = project::root();
    let (env, _home) = no_credentials();
    let mut a = args("pr-42");
    a.stage.dry_run = false;
    let mut recorder = Recorder::default();
    let err = deploy(&root, &a, &env, READY, &mut recorder).unwrap_err();
    assert!(
        err.to_string().starts_with("no AWS credentials found"),
        "{err}"
    );
    assert!(err.to_string().contains("Nothing was built or deployed."));
    assert_eq!(recorder.ran, Vec::<String>::new());
}

#[test]
fn outputs_become_urls_and_json() {
    let manifest = hookline_manifest::parse(
        "[project]\nname = \"shop\"\nregion = \"eu-west-1\"\n[[providers]]\nname = \"stripe\"\ntemplate = \"stripe\"\n[[providers]]\nname = \"billing-eu\"\ntemplate = \"github\"\n[providers.signing]\nsecret_arn = \"arn:aws:secretsmanager:eu-west-1:1:secret:x\"\n",
        "hookline.toml",
    )
    .unwrap();
    let stage = hookline_manifest::Stage::new("pr-7", false, None).unwrap();
    let resolved = stage::resolve_stage(&manifest, stage, None, &AwsEnv::default(), None).unwrap();
    let mut stack = Map::new();
    stack.insert(
        "ApiEndpoint".into(),
        "https://abc.execute-api.eu-west-1.amazonaws.com".into(),
    );
    stack.insert("AlarmTopicArn".into(), "arn:aws:sns:eu-west-1:1:t".into());
    for (prefix, route) in [
        ("Stripe", "/webhooks/stripe"),
        ("BillingEu", "/webhooks/billing-eu"),
    ] {
        stack.insert(
            format!("{prefix}WebhookUrl"),
            format!("https://abc.execute-api.eu-west-1.amazonaws.com{route}").into(),
        );
        stack.insert(
            format!("{prefix}QueueUrl"),
            format!("https://sqs/{prefix}").into(),
        );
        stack.insert(
            format!("{prefix}DlqUrl"),
            format!("https://sqs/{prefix}-dlq").into(),
        );
        stack.insert(format!("{prefix}SecretArn"), format!("arn:{prefix}").into());
    }
    let outputs = json!({ "shop-pr-7": stack });
    let found = summary(&resolved, &outputs).unwrap();
    assert_eq!(
        found["providers"]["billing-eu"]["webhookUrl"],
        "https://abc.execute-api.eu-west-1.amazonaws.com/webhooks/billing-eu"
    );
    assert_eq!(found["providers"]["stripe"]["secretCreated"], true);
    assert_eq!(found["providers"]["billing-eu"]["secretCreated"], false);
    assert_eq!(found["ephemeral"], true);
    assert_eq!(found["ttl"], "24h");
    let text = human(&resolved, &found);
    assert!(
        text.starts_with("shop-pr-7 deployed in eu-west-1 (ephemeral"),
        "{text}"
    );
    assert!(
        text.contains(
            "  stripe      https://abc.execute-api.eu-west-1.amazonaws.com/webhooks/stripe\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("cargo xtask secret set <stripe> --stage pr-7"),
        "{text}"
    );
    let missing = json!({ "shop-pr-7": { "ApiEndpoint": "x" } });
    let err = summary(&resolved, &missing).unwrap_err().to_string();
    assert!(err.contains("has no output"), "{err}");
}

#[test]
fn hotswap_is_cdk_deploy_hotswap_for_an_ephemeral_stage() {
    let root = project::root();
    let (env, _home) = no_credentials();
    let mut a = args("pr-42");
    a.hotswap = true;
    let text = deploy(&root, &a, &env, READY, &mut Recorder::default()).unwrap();
    let stack = format!("{}-pr-42", project::manifest().unwrap().project.name);
    let deploy_line = text.lines().find(|l| l.contains("cdk deploy")).unwrap();
    assert!(
        deploy_line.ends_with(&format!(
            "{stack} --hotswap --outputs-file cdk.out/{stack}.outputs.json"
        )),
        "{deploy_line}"
    );
    // The build is the same as a full deploy's.
    assert!(text.contains("cargo lambda build --release"), "{text}");
    a.hotswap = false;
    let full = deploy(&root, &a, &env, READY, &mut Recorder::default()).unwrap();
    assert_eq!(text.replace(" --hotswap", ""), full);
}

#[test]
fn hotswap_of_a_retained_stage_is_refused_unless_forced() {
    let root = project::root();
    let (env, _home) = no_credentials();
    let mut a = args("prod");
    a.hotswap = true;
    let mut recorder = Recorder::default();
    let err = deploy(&root, &a, &env, READY, &mut recorder)
        .unwrap_err()
        .to_string();
    let stack = format!("{}-prod", project::manifest().unwrap().project.name);
    assert_eq!(
        err,
        format!(
            "--hotswap is for ephemeral stages, and {stack} is not one: a hotswap changes the functions' code behind CloudFormation's back (the stack drifts until its next full deploy). Deploy without --hotswap, or pass --force to hotswap it anyway."
        )
    );
    // Refused before anything is planned, built or called, dry run or not.
    a.stage.dry_run = false;
    let err = deploy(&root, &a, &env, READY, &mut recorder)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("--hotswap is for ephemeral stages"),
        "{err}"
    );
    assert!(recorder.ran.is_empty());
    // --force: planned like any hotswap.
    a.stage.dry_run = true;
    a.force = true;
    let text = deploy(&root, &a, &env, READY, &mut recorder).unwrap();
    assert!(
        text.contains(&format!("{stack} --hotswap --outputs-file")),
        "{text}"
    );
    // And an ephemeral stage by flag is one too.
    let mut demo = args("demo");
    demo.hotswap = true;
    demo.lifetime.ephemeral = true;
    assert!(deploy(&root, &demo, &env, READY, &mut recorder).is_ok());
}
