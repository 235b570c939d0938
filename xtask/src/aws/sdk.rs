//! The AWS SDK for Rust, as every command that talks to AWS uses it: one config per command from
//! the standard chain, and the preflight that proves the credentials work before anything else
//! happens.
//!
//! In tests the `AwsEnv` carries static keys and `AWS_ENDPOINT_URL` (a moto server on loopback);
//! they are given to the SDK explicitly, so no test reads the developer's own profiles.

use anyhow::{Result, bail};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::error::DisplayErrorContext;

use crate::aws::{AwsEnv, Credentials, credentials};

/// An SDK config for `region`: the standard credential chain, or the environment's static keys.
pub async fn connect(env: &AwsEnv, region: &str) -> SdkConfig {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_owned()));
    if let (Some(id), Some(secret)) = (
        env.var("AWS_ACCESS_KEY_ID"),
        env.var("AWS_SECRET_ACCESS_KEY"),
    ) {
        loader = loader.credentials_provider(aws_sdk_sts::config::Credentials::new(
            id,
            secret,
            env.var("AWS_SESSION_TOKEN").map(str::to_owned),
            None,
            "environment",
        ));
    }
    if let Some(endpoint) = env.var("AWS_ENDPOINT_URL") {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

/// Who the credentials belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The account id.
    pub account: String,
    /// The principal's ARN (user, assumed role, ...).
    pub arn: String,
    /// The region the command works in.
    pub region: String,
}

/// STS `GetCallerIdentity`: fails with one error that names the fix when the credentials are
/// missing, expired or refused, and says on stderr which account, principal and region the
/// command works with.
pub async fn preflight(env: &AwsEnv, config: &SdkConfig) -> Result<Identity> {
    let source = credentials(env)?;
    let region = config.region().map(ToString::to_string).unwrap_or_default();
    let answer = aws_sdk_sts::Client::new(config)
        .get_caller_identity()
        .send()
        .await;
    let identity = match answer {
        Ok(out) => Identity {
            account: out.account().unwrap_or_default().to_owned(),
            arn: out.arn().unwrap_or_default().to_owned(),
            region,
        },
        Err(err) => bail!(
            "the AWS credentials ({source}) do not work: {}. {} Nothing was changed.",
            DisplayErrorContext(&err),
            fix(&source)
        ),
    };
    eprintln!(
        "AWS: account {}, {}, region {} (credentials: {source})",
        identity.account, identity.arn, identity.region
    );
    Ok(identity)
}

/// What to do about credentials that were refused or could not be loaded.
fn fix(source: &Credentials) -> String {
    match source {
        Credentials::Profile(profile) => format!(
            "Refresh them: `aws sso login --profile {profile}` for an SSO profile, else `aws configure --profile {profile}`."
        ),
        Credentials::EnvKeys => "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys) are wrong or expired: get new ones.".to_owned(),
        Credentials::WebIdentity => "The web identity token was refused: check AWS_ROLE_ARN and the role's trust policy (for GitHub Actions, the OIDC provider and the `sub` condition).".to_owned(),
        Credentials::Container | Credentials::InstanceRole => {
            "The role of this container or instance was refused: check that it is attached and allowed to call STS.".to_owned()
        }
    }
}

/// A current-thread runtime for one command's AWS calls.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::env::fixtures;
    use crate::aws::moto::{self, Moto};

    #[tokio::test]
    async fn working_credentials_name_the_account_principal_and_region() {
        let moto = Moto::start();
        let env = moto::env(&moto);
        let config = connect(&env, fixtures::REGION).await;
        let identity = preflight(&env, &config).await.unwrap();
        // moto's fixed account.
        assert_eq!(identity.account, "123456789012");
        assert!(identity.arn.starts_with("arn:aws:"), "{identity:?}");
        assert_eq!(identity.region, fixtures::REGION);
    }

    #[tokio::test]
    async fn refused_credentials_stop_with_the_fix() {
        let moto = Moto::start_checking_credentials();
        let env = moto::env(&moto);
        let config = connect(&env, fixtures::REGION).await;
        let err = preflight(&env, &config).await.unwrap_err().to_string();
        assert!(
            err.starts_with("the AWS credentials (AWS_ACCESS_KEY_ID) do not work: "),
            "{err}"
        );
        assert!(err.contains("InvalidClientTokenId"), "{err}");
        assert!(
            err.contains("are wrong or expired: get new ones. Nothing was changed."),
            "{err}"
        );
        assert!(
            !err.contains("testing"),
            "the secret key must not appear: {err}"
        );
    }

    #[test]
    fn each_source_of_credentials_has_its_fix() {
        assert_eq!(
            fix(&Credentials::Profile("dev".to_owned())),
            "Refresh them: `aws sso login --profile dev` for an SSO profile, else `aws configure --profile dev`."
        );
        assert!(fix(&Credentials::WebIdentity).contains("trust policy"));
    }
}
