//! Stages: their names, which ones are ephemeral, their time to live, and the names derived
//! from them (the stack, its outputs). These rules exist here only; xtask and the CDK app take
//! their results from the [`Resolved`](crate::Resolved) document.

/// Stages whose names start with this are ephemeral (pull-request previews).
pub const EPHEMERAL_PREFIX: &str = "pr-";

/// The stage the local stack (`cargo xtask dev`) names its resources for.
pub const LOCAL_STAGE: &str = "local";

/// The time to live of an ephemeral stage when none is given.
pub const DEFAULT_TTL: &str = "24h";

/// Tag of every stack: the project (`project.name`).
pub const TAG_PROJECT: &str = "hookline:project";
/// Tag of every stack: the stage.
pub const TAG_STAGE: &str = "hookline:stage";
/// Tag of an ephemeral stage's stack only: when it may be reaped (RFC 3339, the deploy time plus
/// the ttl; every deploy pushes it forward). A stack is ephemeral exactly when it carries it.
pub const TAG_EXPIRES_AT: &str = "hookline:expires-at";
/// Tag of a preview's stack: its pull request, when known.
pub const TAG_PR: &str = "hookline:pr";

/// A stage of the project: its name, whether it is ephemeral, and its time to live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// `prod`, `staging`, `pr-42`, ...
    pub name: String,
    /// Removed without leftovers on destroy (asked for, or a `pr-*` name).
    pub ephemeral: bool,
    /// The time to live of an ephemeral stage (`24h`); `None` for a retained one.
    pub ttl: Option<String>,
}

/// Why a stage cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageError {
    /// The name breaks the naming rule.
    #[error(
        "stage `{0}` is not a stage name: use [a-z][a-z0-9-]*, at most 32 characters, e.g. prod or pr-42"
    )]
    Name(String),
    /// A ttl was given for a stage that is kept.
    #[error("--ttl only applies to ephemeral stages (pr-*, or --ephemeral); `{0}` is not one")]
    TtlOfRetained(String),
    /// A pull request was given for a stage that is kept.
    #[error("--pr only applies to ephemeral stages (pr-*, or --ephemeral); `{0}` is not one")]
    PrOfRetained(String),
    /// The ttl is no duration.
    #[error("--ttl `{0}` is not a duration: use a number and m, h or d, e.g. 24h or 7d")]
    Ttl(String),
}

impl Stage {
    /// Checks the name (`[a-z][a-z0-9-]*`, at most 32 characters) and the ttl (only for
    /// ephemeral stages; `30m`, `24h`, `7d`).
    pub fn new(name: &str, ephemeral: bool, ttl: Option<&str>) -> Result<Stage, StageError> {
        if !crate::is_valid_name(name) {
            return Err(StageError::Name(name.to_owned()));
        }
        let ephemeral = ephemeral || name.starts_with(EPHEMERAL_PREFIX);
        if let Some(ttl) = ttl {
            if !ephemeral {
                return Err(StageError::TtlOfRetained(name.to_owned()));
            }
            ttl_secs(ttl)?;
        }
        Ok(Stage {
            name: name.to_owned(),
            ephemeral,
            ttl: ephemeral.then(|| ttl.unwrap_or(DEFAULT_TTL).to_owned()),
        })
    }

    /// `<project>-<stage>`: the stack's name.
    pub fn stack_name(&self, project: &str) -> String {
        format!("{project}-{}", self.name)
    }

    /// The time to live in seconds (`None` for a retained stage).
    pub fn ttl_secs(&self) -> Option<u64> {
        self.ttl.as_deref().and_then(|ttl| ttl_secs(ttl).ok())
    }
}

/// `<project>-<stage>-idempotency`: the idempotency store's DynamoDB table, on AWS (the CDK app
/// reads it from the resolved document) and in the local stack (stage [`LOCAL_STAGE`]).
pub fn idempotency_table_name(project: &str, stage: &str) -> String {
    format!("{project}-{stage}-idempotency")
}

/// `<project>-<stage>-bodies`: the body bucket of the local stack (stage [`LOCAL_STAGE`]) only.
/// On AWS, CloudFormation names the bucket and the CDK app passes the name to the functions:
/// bucket names are global across every account, so a fixed name would collide between two
/// accounts deploying the same project (or with anyone's bucket), and a deploy would fail. The
/// local endpoint is the developer's own: a fixed name is stable and readable there. With the
/// local stage, any project name makes a valid bucket name (S3's naming rules; tested).
pub fn body_bucket_name(project: &str, stage: &str) -> String {
    format!("{project}-{stage}-bodies")
}

/// A time to live such as `30m`, `24h` or `7d`, in seconds.
pub fn ttl_secs(ttl: &str) -> Result<u64, StageError> {
    let (number, unit) = ttl.split_at(ttl.len().saturating_sub(1));
    let unit_secs = match unit {
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(StageError::Ttl(ttl.to_owned())),
    };
    let valid = (1..=5).contains(&number.len())
        && !number.starts_with('0')
        && number.chars().all(|c| c.is_ascii_digit());
    match number.parse::<u64>() {
        Ok(n) if valid => Ok(n * unit_secs),
        _ => Err(StageError::Ttl(ttl.to_owned())),
    }
}

/// The prefix of a provider's stack outputs: `billing-eu` → `BillingEu` (`BillingEuWebhookUrl`).
pub fn output_prefix(provider: &str) -> String {
    provider
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_pr_star_are_ephemeral_with_a_default_ttl() {
        let pr = Stage::new("pr-42", false, None).unwrap();
        assert!(pr.ephemeral);
        assert_eq!(pr.ttl.as_deref(), Some("24h"));
        assert_eq!(pr.ttl_secs(), Some(86_400));
        let prod = Stage::new("prod", false, None).unwrap();
        assert!(!prod.ephemeral);
        assert_eq!((prod.ttl_secs(), prod.ttl), (None, None));
        let demo = Stage::new("demo", true, Some("7d")).unwrap();
        assert!(demo.ephemeral);
        assert_eq!(demo.ttl.as_deref(), Some("7d"));
        assert_eq!(demo.stack_name("shop"), "shop-demo");
        assert_eq!(
            idempotency_table_name("shop", &demo.name),
            "shop-demo-idempotency"
        );
        assert_eq!(
            idempotency_table_name("shop", LOCAL_STAGE),
            "shop-local-idempotency"
        );
    }

    #[test]
    fn the_local_body_bucket_has_a_valid_s3_name_for_any_project() {
        assert_eq!(body_bucket_name("shop", LOCAL_STAGE), "shop-local-bodies");
        let longest = "a".repeat(crate::limits::MAX_NAME_LEN);
        let name = body_bucket_name(&longest, LOCAL_STAGE);
        // S3 user guide, "General purpose bucket naming rules".
        assert!((3..=63).contains(&name.len()), "{name}");
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
    }

    #[test]
    fn stage_errors() {
        let err = |name: &str, eph: bool, ttl: Option<&str>| {
            Stage::new(name, eph, ttl).unwrap_err().to_string()
        };
        assert_eq!(
            err("PR_1", false, None),
            "stage `PR_1` is not a stage name: use [a-z][a-z0-9-]*, at most 32 characters, e.g. prod or pr-42"
        );
        assert_eq!(
            err("prod", false, Some("24h")),
            "--ttl only applies to ephemeral stages (pr-*, or --ephemeral); `prod` is not one"
        );
        for bad in ["0h", "24", "h", "1.5h", "1w", "123456h", "", "+1h"] {
            assert!(
                err("pr-1", false, Some(bad)).contains("is not a duration"),
                "{bad}"
            );
        }
        for (good, secs) in [("30m", 1800), ("24h", 86_400), ("7d", 604_800)] {
            assert_eq!(ttl_secs(good), Ok(secs), "{good}");
        }
        assert_eq!(ttl_secs("99999d"), Ok(99_999 * 86_400));
    }

    #[test]
    fn output_prefixes_are_pascal_case() {
        assert_eq!(output_prefix("stripe"), "Stripe");
        assert_eq!(output_prefix("billing-eu"), "BillingEu");
        assert_eq!(output_prefix("a1-b2"), "A1B2");
    }
}
