//! `cargo xtask bootstrap`: prepares an account and region for the CDK (`cdk bootstrap`), once,
//! with admin credentials; and the check every `deploy` makes, before it builds anything, that
//! this was done with a recent enough version.
//!
//! `deploy` never bootstraps: the bootstrap stack (`CDKToolkit`) is account-wide, so a role that
//! may update it lets any pull request change what every deploy of the account runs with, and a
//! least-privilege CI role cannot even read it.

use anyhow::{Result, bail};
use aws_config::SdkConfig;
use aws_sdk_ssm::error::{DisplayErrorContext, ProvideErrorMetadata};

use crate::aws::{AwsEnv, cdk, sdk};
use crate::cmd::{Plan, RealExec};
use crate::project;

/// The CDK's default bootstrap qualifier (`DefaultStackSynthesizer`'s `qualifier`).
pub const QUALIFIER: &str = "hnb659fds";

/// The oldest bootstrap version the pinned aws-cdk-lib accepts: the synthesized template's
/// `CheckBootstrapVersion` rule refuses every version below it (checked against a synthesized
/// template in `lambda_build_tests`).
pub const MIN_BOOTSTRAP_VERSION: u32 = 6;

/// The SSM parameter that holds the bootstrap stack's version.
pub fn version_parameter() -> String {
    format!("/cdk-bootstrap/{QUALIFIER}/version")
}

#[derive(clap::Args)]
pub struct Args {
    /// A managed policy ARN for the role CloudFormation deploys with, instead of
    /// AdministratorAccess (cdk bootstrap --cloudformation-execution-policies); repeatable.
    #[arg(long = "execution-policy", value_name = "ARN")]
    pub execution_policies: Vec<String>,
    /// Print the calls and commands instead of running them.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: Args) -> Result<()> {
    let root = project::root();
    let manifest = project::manifest()?;
    let env = AwsEnv::from_process();
    let region = crate::aws::region(&env, &manifest.project.region);
    for arn in &args.execution_policies {
        if !arn.starts_with("arn:") || !arn.contains(":iam::") || !arn.contains(":policy/") {
            bail!(
                "--execution-policy `{arn}` is not an IAM policy ARN (arn:aws:iam::aws:policy/...)"
            );
        }
    }
    let account = if args.dry_run {
        "<account>".to_owned()
    } else {
        let runtime = sdk::runtime()?;
        runtime
            .block_on(async {
                let config = sdk::connect(&env, &region).await;
                sdk::preflight(&env, &config).await
            })?
            .account
    };
    let plan = plan(&root, &account, &region, &args.execution_policies)?;
    if args.dry_run {
        print!(
            "# sts:GetCallerIdentity: the account to bootstrap\n{}",
            plan.render()
        );
        return Ok(());
    }
    plan.execute(&mut RealExec::new(&root))
}

fn plan(root: &std::path::Path, account: &str, region: &str, policies: &[String]) -> Result<Plan> {
    let mut plan = Plan::default();
    cdk::npm_ci_if_needed(&mut plan, root)?;
    // From the repository root, where there is no cdk.json: in cdk/ the CLI would synthesize
    // the app first (to find the environments it names), which needs a stage.
    let mut bootstrap = cdk::cli_outside_the_app().env("AWS_REGION", region).args([
        "bootstrap",
        "--no-notices",
        &format!("aws://{account}/{region}"),
    ]);
    if !policies.is_empty() {
        bootstrap = bootstrap.args(["--cloudformation-execution-policies", &policies.join(",")]);
    }
    plan.run(bootstrap);
    Ok(plan)
}

/// What `deploy` checks before it builds: the bootstrap version of the account and region.
pub async fn check(config: &SdkConfig, account: &str) -> Result<u32> {
    let name = version_parameter();
    let region = config.region().map(ToString::to_string).unwrap_or_default();
    let fix =
        "run `cargo xtask bootstrap` once for this account and region, with admin credentials";
    let answer = aws_sdk_ssm::Client::new(config)
        .get_parameter()
        .name(&name)
        .send()
        .await;
    let value = match answer {
        Ok(out) => out
            .parameter()
            .and_then(|p| p.value())
            .unwrap_or_default()
            .to_owned(),
        Err(err) if err.code() == Some("ParameterNotFound") => bail!(
            "account {account} is not bootstrapped for the CDK in {region} (there is no SSM parameter {name}): {fix}. Nothing was built or deployed."
        ),
        Err(err) => bail!(
            "cannot read the SSM parameter {name} in {region}: {}. The deploying role needs ssm:GetParameter on it (docs/ci-role.md). Nothing was built or deployed.",
            DisplayErrorContext(&err)
        ),
    };
    let Ok(version) = value.trim().parse::<u32>() else {
        bail!("the SSM parameter {name} holds `{value}`, not a bootstrap version: {fix}");
    };
    if version < MIN_BOOTSTRAP_VERSION {
        bail!(
            "account {account} is bootstrapped in {region} with version {version}, older than the {MIN_BOOTSTRAP_VERSION} that this CDK needs: {fix}. Nothing was built or deployed."
        );
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dry_run_bootstraps_the_account_and_region_with_the_given_policies() {
        let root = project::root();
        let policies = ["arn:aws:iam::123456789012:policy/hookline-previews".to_owned()];
        let text = plan(&root, "123456789012", "eu-west-1", &policies)
            .unwrap()
            .render();
        assert_eq!(
            text.lines().last().unwrap(),
            "AWS_REGION=eu-west-1 cdk/node_modules/.bin/cdk bootstrap --no-notices aws://123456789012/eu-west-1 --cloudformation-execution-policies arn:aws:iam::123456789012:policy/hookline-previews"
        );
        // Run where no cdk.json names an app, the CLI bootstraps without synthesizing one.
        assert!(!root.join("cdk.json").exists());
        assert!(root.join("cdk/cdk.json").exists());
        let default = plan(&root, "1", "eu-west-1", &[]).unwrap().render();
        assert!(!default.contains("--cloudformation-execution-policies"));
    }
}

/// The bootstrap-version check against moto's SSM.
#[cfg(test)]
mod check_tests {
    use super::*;
    use crate::aws::env::fixtures;
    use crate::aws::moto::{self, Moto};

    async fn with_version(moto: &Moto, version: Option<&str>) -> Result<u32> {
        let config = sdk::connect(&moto::env(moto), fixtures::REGION).await;
        if let Some(version) = version {
            aws_sdk_ssm::Client::new(&config)
                .put_parameter()
                .name(version_parameter())
                .value(version)
                .r#type(aws_sdk_ssm::types::ParameterType::String)
                .overwrite(true)
                .send()
                .await
                .unwrap();
        }
        check(&config, "123456789012").await
    }

    #[tokio::test]
    async fn missing_too_old_and_current_bootstrap_versions() {
        let moto = Moto::start();
        let err = with_version(&moto, None).await.unwrap_err().to_string();
        assert_eq!(
            err,
            "account 123456789012 is not bootstrapped for the CDK in eu-west-1 (there is no SSM parameter /cdk-bootstrap/hnb659fds/version): run `cargo xtask bootstrap` once for this account and region, with admin credentials. Nothing was built or deployed."
        );
        let err = with_version(&moto, Some("5"))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "is bootstrapped in eu-west-1 with version 5, older than the 6 that this CDK needs"
            ),
            "{err}"
        );
        let err = with_version(&moto, Some("six"))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("holds `six`, not a bootstrap version"),
            "{err}"
        );
        assert_eq!(with_version(&moto, Some("29")).await.unwrap(), 29);
    }
}
