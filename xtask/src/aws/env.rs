//! AWS credentials and region, from the standard chain, checked before anything is built.
//!
//! This first check looks at what the chain reads (variables and the shared files): it is
//! instant, works offline, and says how to provide credentials when there are none. Whether they
//! are *valid* is the preflight's question (STS `GetCallerIdentity`, `sdk.rs`), which runs next.
//! On an EC2 instance whose role provides the credentials (instance metadata, which only a
//! network call can see), set `HOOKLINE_AWS_INSTANCE_ROLE=1`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Result, bail};

/// The environment the AWS chain reads: variables and the home directory.
#[derive(Debug, Clone, Default)]
pub struct AwsEnv {
    pub vars: BTreeMap<String, String>,
    pub home: Option<PathBuf>,
}

impl AwsEnv {
    /// This process's environment.
    pub fn from_process() -> Self {
        AwsEnv {
            vars: std::env::vars().collect(),
            home: std::env::var_os("HOME").map(PathBuf::from),
        }
    }

    pub fn var(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    fn shared_file(&self, var: &str, name: &str) -> Option<PathBuf> {
        match self.var(var) {
            Some(path) => Some(PathBuf::from(path)),
            None => self.home.as_ref().map(|h| h.join(".aws").join(name)),
        }
    }

    /// The section names of the shared config and credentials files, as profile names.
    fn profiles(&self) -> Vec<String> {
        let mut profiles = Vec::new();
        for (var, name, prefixed) in [
            ("AWS_CONFIG_FILE", "config", true),
            ("AWS_SHARED_CREDENTIALS_FILE", "credentials", false),
        ] {
            let Some(text) = self
                .shared_file(var, name)
                .and_then(|p| std::fs::read_to_string(p).ok())
            else {
                continue;
            };
            for line in text.lines() {
                let line = line.trim();
                if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                    let section = section.trim();
                    // The config file names profiles `[profile NAME]`, except `[default]`.
                    let profile = if prefixed {
                        section.strip_prefix("profile ").unwrap_or(section).trim()
                    } else {
                        section
                    };
                    profiles.push(profile.to_owned());
                }
            }
        }
        profiles
    }
}

/// Where the credentials will come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (CI, assumed roles).
    EnvKeys,
    /// A named profile of the shared files (`AWS_PROFILE`, or `default`).
    Profile(String),
    /// `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (EKS, OIDC).
    WebIdentity,
    /// The ECS/CodeBuild container endpoint.
    Container,
    /// EC2 instance metadata, declared with `HOOKLINE_AWS_INSTANCE_ROLE=1`.
    InstanceRole,
}

impl std::fmt::Display for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::EnvKeys => f.write_str("AWS_ACCESS_KEY_ID"),
            Credentials::Profile(p) => write!(f, "profile `{p}`"),
            Credentials::WebIdentity => f.write_str("web identity (AWS_WEB_IDENTITY_TOKEN_FILE)"),
            Credentials::Container => f.write_str("container credentials"),
            Credentials::InstanceRole => f.write_str("the EC2 instance role"),
        }
    }
}

/// Finds the credentials the AWS chain would use, in the chain's order, or explains how to
/// provide them.
pub fn credentials(env: &AwsEnv) -> Result<Credentials> {
    match (
        env.var("AWS_ACCESS_KEY_ID"),
        env.var("AWS_SECRET_ACCESS_KEY"),
    ) {
        (Some(_), Some(_)) => return Ok(Credentials::EnvKeys),
        (Some(_), None) => bail!("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"),
        (None, Some(_)) => bail!("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"),
        (None, None) => {}
    }
    let profiles = env.profiles();
    if let Some(profile) = env.var("AWS_PROFILE") {
        if profiles.iter().any(|p| p == profile) {
            return Ok(Credentials::Profile(profile.to_owned()));
        }
        bail!(
            "AWS_PROFILE is `{profile}`, but no such profile is in {} or {} (run `aws configure --profile {profile}` or `aws configure sso`)",
            shown(env.shared_file("AWS_CONFIG_FILE", "config")),
            shown(env.shared_file("AWS_SHARED_CREDENTIALS_FILE", "credentials")),
        );
    }
    if env.var("AWS_WEB_IDENTITY_TOKEN_FILE").is_some() && env.var("AWS_ROLE_ARN").is_some() {
        return Ok(Credentials::WebIdentity);
    }
    if env.var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").is_some()
        || env.var("AWS_CONTAINER_CREDENTIALS_FULL_URI").is_some()
    {
        return Ok(Credentials::Container);
    }
    if profiles.iter().any(|p| p == "default") {
        return Ok(Credentials::Profile("default".to_owned()));
    }
    if env.var("HOOKLINE_AWS_INSTANCE_ROLE") == Some("1") {
        return Ok(Credentials::InstanceRole);
    }
    bail!(
        "no AWS credentials found. Provide them the standard way, one of:\n  \
         - AWS_PROFILE=<profile> (a profile in ~/.aws/config or ~/.aws/credentials; `aws configure` or `aws configure sso` creates one)\n  \
         - AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)\n  \
         - AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (OIDC, e.g. GitHub Actions)\n  \
         - on EC2 with an instance role: HOOKLINE_AWS_INSTANCE_ROLE=1\n\
         Nothing was built or deployed."
    )
}

fn shown(path: Option<PathBuf>) -> String {
    path.map_or_else(|| "~/.aws/config".to_owned(), |p| p.display().to_string())
}

/// The region: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the manifest's `project.region`.
pub fn region(env: &AwsEnv, manifest_region: &str) -> String {
    env.var("AWS_REGION")
        .or_else(|| env.var("AWS_DEFAULT_REGION"))
        .unwrap_or(manifest_region)
        .to_owned()
}

/// AWS environments for tests: a fixed region and no home folder to read profiles from.
#[cfg(test)]
pub mod fixtures {
    use super::AwsEnv;

    /// The region the fixtures name.
    pub const REGION: &str = "eu-west-1";

    /// An environment with these variables and `AWS_REGION`.
    pub fn with(vars: &[(&str, &str)]) -> AwsEnv {
        let mut all: std::collections::BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        all.insert("AWS_REGION".to_owned(), REGION.to_owned());
        AwsEnv {
            vars: all,
            home: None,
        }
    }

    /// Static keys in the environment.
    pub fn keys() -> AwsEnv {
        with(&[
            ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "x"),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)], home: Option<&std::path::Path>) -> AwsEnv {
        AwsEnv {
            vars: vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            home: home.map(std::path::Path::to_path_buf),
        }
    }

    #[test]
    fn nothing_at_all_is_a_clear_error() {
        let home = tempfile::tempdir().unwrap();
        let err = credentials(&env(&[], Some(home.path()))).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("no AWS credentials found"), "{text}");
        for hint in [
            "AWS_PROFILE",
            "AWS_ACCESS_KEY_ID",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "Nothing was built",
        ] {
            assert!(text.contains(hint), "{hint} missing from: {text}");
        }
        assert!(credentials(&env(&[("AWS_ACCESS_KEY_ID", " ")], None)).is_err());
    }

    #[test]
    fn environment_keys_need_both_halves() {
        assert_eq!(
            credentials(&env(
                &[
                    ("AWS_ACCESS_KEY_ID", "AKIA"),
                    ("AWS_SECRET_ACCESS_KEY", "x")
                ],
                None
            ))
            .unwrap(),
            Credentials::EnvKeys
        );
        let err = credentials(&env(&[("AWS_ACCESS_KEY_ID", "AKIA")], None)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
        );
    }

    #[test]
    fn profiles_come_from_the_shared_files() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".aws")).unwrap();
        std::fs::write(
            home.path().join(".aws/config"),
            "[default]\nregion = eu-west-1\n[profile deploy]\nsso_session = x\n",
        )
        .unwrap();
        std::fs::write(
            home.path().join(".aws/credentials"),
            "[ci]\naws_access_key_id = x\n",
        )
        .unwrap();
        let with = |vars: &[(&str, &str)]| credentials(&env(vars, Some(home.path())));
        assert_eq!(
            with(&[]).unwrap(),
            Credentials::Profile("default".to_owned())
        );
        assert_eq!(
            with(&[("AWS_PROFILE", "deploy")]).unwrap(),
            Credentials::Profile("deploy".to_owned())
        );
        assert_eq!(
            with(&[("AWS_PROFILE", "ci")]).unwrap(),
            Credentials::Profile("ci".to_owned())
        );
        let err = with(&[("AWS_PROFILE", "prod")]).unwrap_err().to_string();
        assert!(
            err.starts_with("AWS_PROFILE is `prod`, but no such profile is in"),
            "{err}"
        );
    }

    #[test]
    fn web_identity_container_and_instance_role() {
        assert_eq!(
            credentials(&env(
                &[
                    ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
                    ("AWS_ROLE_ARN", "arn:aws:iam::1:role/x")
                ],
                None
            ))
            .unwrap(),
            Credentials::WebIdentity
        );
        assert_eq!(
            credentials(&env(
                &[("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/x")],
                None
            ))
            .unwrap(),
            Credentials::Container
        );
        assert_eq!(
            credentials(&env(&[("HOOKLINE_AWS_INSTANCE_ROLE", "1")], None)).unwrap(),
            Credentials::InstanceRole
        );
    }

    #[test]
    fn region_prefers_the_environment_over_the_manifest() {
        assert_eq!(region(&env(&[], None), "eu-west-1"), "eu-west-1");
        assert_eq!(
            region(
                &env(&[("AWS_DEFAULT_REGION", "us-west-2")], None),
                "eu-west-1"
            ),
            "us-west-2"
        );
        assert_eq!(
            region(
                &env(
                    &[
                        ("AWS_DEFAULT_REGION", "us-west-2"),
                        ("AWS_REGION", "ap-south-1")
                    ],
                    None
                ),
                "eu-west-1"
            ),
            "ap-south-1"
        );
    }
}
