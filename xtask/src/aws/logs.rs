//! `cargo xtask logs <provider> --stage <s>`: a provider's function logs from CloudWatch Logs
//! (`FilterLogEvents` on each function's log group), printed readably (time, function, level,
//! message, status, delivery id, error code) from the JSON lines the functions write, or raw
//! with `--json`; `--follow` polls until Ctrl-C.

pub mod fetch;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod groups;
pub mod line;
#[cfg(test)]
mod tests;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};

use crate::aws::{AwsEnv, sdk};
use crate::project;
use crate::stage::{StageArgs, StageStack};

pub use fetch::{Event, FollowOptions};
pub use groups::Function;

#[derive(clap::Args)]
pub struct Args {
    /// The provider, as named in hookline.toml.
    pub provider: String,
    #[command(flatten)]
    pub stage: StageArgs,
    /// Only this function's logs [default: both].
    #[arg(long, value_enum)]
    pub function: Option<Function>,
    /// How far back: 30s, 15m, 2h, 7d, or an RFC 3339 time.
    #[arg(long, default_value = "15m")]
    pub since: String,
    /// Keep printing new lines until Ctrl-C.
    #[arg(long)]
    pub follow: bool,
    /// Only the lines with this status (ingest's answer: 401, 503, ...).
    #[arg(long)]
    pub status: Option<u16>,
    /// Print the log lines as the functions wrote them.
    #[arg(long)]
    pub json: bool,
}

/// The functions asked for: one, or both.
fn functions(function: Option<Function>) -> Vec<Function> {
    match function {
        Some(one) => vec![one],
        None => vec![Function::Ingest, Function::Process],
    }
}

/// A duration such as `30s`, `15m`, `2h` or `7d`, in seconds; `None` when it is not one or is
/// over a year.
pub fn duration_secs(text: &str) -> Option<i64> {
    let (number, unit_secs) = split_duration(text)?;
    number
        .parse::<i64>()
        .ok()
        .and_then(|n| n.checked_mul(unit_secs))
        .filter(|s| *s <= MAX_SECS)
}

/// The digits and the unit's seconds of something shaped like a duration (`15m`).
fn split_duration(text: &str) -> Option<(&str, i64)> {
    let unit = text.chars().last()?;
    let number = &text[..text.len() - unit.len_utf8()];
    let unit_secs = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    (!number.is_empty() && number.chars().all(|c| c.is_ascii_digit()))
        .then_some((number, unit_secs))
}

/// The longest duration taken: a year.
const MAX_SECS: i64 = 366 * 86_400;

/// `--since`: a duration back from `now` (`30s`, `15m`, `2h`, `7d`) or an RFC 3339 time.
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        let at = at.with_timezone(&Utc);
        if at > now {
            bail!("--since `{text}` is in the future");
        }
        return Ok(at);
    }
    match duration_secs(text) {
        Some(secs) => Ok(now - chrono::Duration::seconds(secs)),
        None if split_duration(text).is_some() => {
            bail!("--since `{text}` is too far back: at most a year (366d)")
        }
        None => bail!(
            "--since `{text}` is neither a duration (30s, 15m, 2h, 7d) nor an RFC 3339 time (2026-12-02T10:00:00Z)"
        ),
    }
}

/// The CloudWatch Logs filter pattern of `--status`: the JSON field the functions log it in
/// (CloudWatch Logs User Guide, "Filter pattern syntax for metric filters, subscription
/// filters, filter log events": `{ $.fields.status = 401 }`). `line::render` checks the status
/// again: moto does not evaluate JSON patterns (it matches every line), and text lines have none.
pub fn status_pattern(status: u16) -> String {
    format!("{{ $.fields.status = {status} }}")
}

pub fn run(args: Args) -> Result<()> {
    let manifest = project::manifest()?;
    let provider = manifest.provider(&args.provider).with_context(|| {
        let names: Vec<&str> = manifest.providers.iter().map(|p| p.name.as_str()).collect();
        format!(
            "no provider `{}` in hookline.toml (providers: {})",
            args.provider,
            names.join(", ")
        )
    })?;
    let now = Utc::now();
    let since = parse_since(&args.since, now)?;
    let env = AwsEnv::from_process();
    let stage = args.stage.stage()?;
    let target = StageStack::new(&manifest, &stage, &env);
    let functions = functions(args.function);
    let pattern = args.status.map(status_pattern);
    if args.stage.dry_run {
        print!(
            "{}",
            dry_run(
                &target,
                &provider.name,
                &functions,
                pattern.as_deref(),
                args.follow
            )
        );
        return Ok(());
    }
    sdk::runtime()?.block_on(async {
        let config = sdk::connect(&env, &target.region).await;
        sdk::preflight(&env, &config).await?;
        let cfn = aws_sdk_cloudformation::Client::new(&config);
        let groups =
            groups::find(&cfn, &target.stack, &stage.name, &provider.name, &functions).await?;
        let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
        let query = fetch::Query {
            groups,
            start_ms: since.timestamp_millis(),
            pattern,
            page_limit: None,
        };
        let mut print = |event: &Event| {
            if let Some(text) = line::render(event, args.status, args.json) {
                println!("{text}");
            }
        };
        if args.follow {
            eprintln!("following; Ctrl-C stops");
            let stop = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            fetch::follow(&logs, query, FollowOptions::default(), stop, &mut print).await
        } else {
            for event in fetch::all(&logs, &query).await? {
                print(&event);
            }
            Ok(())
        }
    })
}

/// What `--dry-run` prints: the calls, in order.
fn dry_run(
    target: &StageStack,
    provider: &str,
    functions: &[Function],
    pattern: Option<&str>,
    follow: bool,
) -> String {
    let stack = &target.stack;
    let paths: Vec<String> = functions
        .iter()
        .map(|f| groups::cdk_path(stack, provider, *f))
        .collect();
    let mut out = format!(
        "# in {}\nsts:GetCallerIdentity\ncloudformation:GetTemplate StackName={stack} (the log groups with the CDK paths {})\ncloudformation:ListStackResources StackName={stack} (their names)\nlogs:FilterLogEvents LogGroupName=<each> StartTime=<--since>{} (all pages)\n",
        target.region,
        paths.join(" and "),
        pattern
            .map(|p| format!(" FilterPattern='{p}'"))
            .unwrap_or_default()
    );
    if follow {
        let options = FollowOptions::default();
        out.push_str(&format!(
            "# --follow: the same again every {} s from the newest event seen less {} s (late events), each event printed once, until Ctrl-C\n",
            options.poll.as_secs(),
            options.overlap.as_secs()
        ));
    }
    out
}
