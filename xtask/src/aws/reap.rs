//! `cargo xtask reap`: removes the preview stages that outlived their purpose. It finds this
//! project's stacks by their tags and deletes, as `destroy` does, those whose
//! `hookline:expires-at` has passed and those of the pull requests given as closed. It never
//! touches a stack without `hookline:expires-at` (a retained stage) or of another project; one
//! failure does not stop the others; it exits non-zero when any deletion failed.

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use hookline_manifest::stage::{TAG_EXPIRES_AT, TAG_PR, TAG_PROJECT, TAG_STAGE};
use serde_json::json;

use crate::aws::stack::{self, DeleteOptions, Deletion, StackInfo};
use crate::aws::{AwsEnv, sdk};
use crate::project;

#[derive(clap::Args)]
pub struct Args {
    /// List what would be deleted, and delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The time to compare expiries with, RFC 3339 (default: now).
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// A closed pull request: its preview goes whatever its expiry (repeatable).
    #[arg(long = "pr-closed", value_name = "N")]
    pub pr_closed: Vec<u64>,
    /// Print the table as JSON (one line, on stdout).
    #[arg(long)]
    pub json: bool,
}

/// Why a stack is reaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reapable {
    /// The stack.
    pub stack: String,
    /// Its stage (`hookline:stage`).
    pub stage: String,
    /// Its pull request (`hookline:pr`).
    pub pr: Option<u64>,
    /// How long ago it expired (`None`: not yet; reaped because its pull request closed).
    pub expired_secs: Option<i64>,
}

/// What happened to one stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reaped {
    /// `--dry-run`.
    WouldDelete,
    /// Gone.
    Deleted,
    /// Still there, in this status.
    Failed(String),
}

pub fn run(args: Args) -> Result<()> {
    let manifest = project::manifest()?;
    let env = AwsEnv::from_process();
    let region = crate::aws::region(&env, &manifest.project.region);
    let now = match &args.now {
        Some(text) => DateTime::parse_from_rfc3339(text)
            .with_context(|| {
                format!("--now `{text}` is not an RFC 3339 time such as 2026-12-02T10:00:00Z")
            })?
            .with_timezone(&Utc),
        None => Utc::now(),
    };
    let closed: BTreeSet<u64> = args.pr_closed.iter().copied().collect();
    let results = sdk::runtime()?.block_on(async {
        let config = sdk::connect(&env, &region).await;
        sdk::preflight(&env, &config).await?;
        let cfn = aws_sdk_cloudformation::Client::new(&config);
        reap(
            &cfn,
            &manifest.project.name,
            now,
            &closed,
            args.dry_run,
            DeleteOptions::default(),
        )
        .await
    })?;
    print!("{}", table(&results, args.json));
    let failed = results
        .iter()
        .filter(|(_, r)| matches!(r, Reaped::Failed(_)))
        .count();
    if failed > 0 {
        bail!(
            "{failed} of {} stack(s) could not be deleted",
            results.len()
        );
    }
    Ok(())
}

/// The stacks of `project` to reap at `now`, oldest expiry first.
pub fn select(
    stacks: &[StackInfo],
    project: &str,
    now: DateTime<Utc>,
    closed: &BTreeSet<u64>,
) -> Vec<Reapable> {
    let mut found: Vec<(DateTime<Utc>, Reapable)> = stacks
        .iter()
        .filter(|s| s.tags.get(TAG_PROJECT).map(String::as_str) == Some(project))
        .filter_map(|s| {
            // An unreadable expiry is no expiry: such a stack is never reaped by time.
            let expires = s.tags.get(TAG_EXPIRES_AT)?;
            let expires = DateTime::parse_from_rfc3339(expires)
                .ok()
                .map(|t| t.with_timezone(&Utc));
            let pr = s.tags.get(TAG_PR).and_then(|p| p.parse::<u64>().ok());
            let expired = expires.filter(|t| *t <= now);
            let closed_pr = pr.is_some_and(|p| closed.contains(&p));
            if expired.is_none() && !closed_pr {
                return None;
            }
            Some((
                expires.unwrap_or(now),
                Reapable {
                    stack: s.name.clone(),
                    stage: s.tags.get(TAG_STAGE).cloned().unwrap_or_default(),
                    pr,
                    expired_secs: expired.map(|t| (now - t).num_seconds()),
                },
            ))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.stack.cmp(&b.1.stack)));
    found.into_iter().map(|(_, r)| r).collect()
}

/// Finds and (unless `dry_run`) deletes; one failure does not stop the others.
pub async fn reap(
    cfn: &aws_sdk_cloudformation::Client,
    project: &str,
    now: DateTime<Utc>,
    closed: &BTreeSet<u64>,
    dry_run: bool,
    options: DeleteOptions,
) -> Result<Vec<(Reapable, Reaped)>> {
    let stacks = stack::list(cfn).await?;
    let mut results = Vec::new();
    for candidate in select(&stacks, project, now, closed) {
        if dry_run {
            results.push((candidate, Reaped::WouldDelete));
            continue;
        }
        eprintln!("reaping {}...", candidate.stack);
        let stack_name = candidate.stack.clone();
        let outcome = stack::delete(cfn, &stack_name, options, &mut |line| {
            eprintln!("  {stack_name}: {line}")
        })
        .await;
        let reaped = match outcome {
            Ok(Deletion::NotFound | Deletion::Deleted { .. }) => Reaped::Deleted,
            Ok(Deletion::Failed { status, .. }) => Reaped::Failed(status),
            Err(err) => Reaped::Failed(format!("{err:#}")),
        };
        results.push((candidate, reaped));
    }
    Ok(results)
}

/// `1d 2h`, `3h 4m`, `5m`, `0m`.
pub(crate) fn age(secs: i64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// The table (or JSON) of what was reaped.
fn table(results: &[(Reapable, Reaped)], as_json: bool) -> String {
    if as_json {
        let rows: Vec<_> = results
            .iter()
            .map(|(r, outcome)| {
                let (result, status) = match outcome {
                    Reaped::WouldDelete => ("would-delete", None),
                    Reaped::Deleted => ("deleted", None),
                    Reaped::Failed(status) => ("failed", Some(status.as_str())),
                };
                json!({
                    "stack": r.stack,
                    "stage": r.stage,
                    "pr": r.pr,
                    "expiredSecs": r.expired_secs,
                    "result": result,
                    "status": status,
                })
            })
            .collect();
        return format!("{}\n", json!(rows));
    }
    if results.is_empty() {
        return "nothing to reap\n".to_owned();
    }
    let rows: Vec<[String; 5]> = results
        .iter()
        .map(|(r, outcome)| {
            [
                r.stack.clone(),
                r.stage.clone(),
                r.pr.map_or_else(|| "-".to_owned(), |p| format!("#{p}")),
                r.expired_secs
                    .map_or_else(|| "pr closed".to_owned(), |s| format!("{} ago", age(s))),
                match outcome {
                    Reaped::WouldDelete => "would delete".to_owned(),
                    Reaped::Deleted => "deleted".to_owned(),
                    Reaped::Failed(status) => format!("FAILED ({status})"),
                },
            ]
        })
        .collect();
    let header = ["stack", "stage", "pr", "expired", "result"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 5]| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i == 4 {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        out.push('\n');
        out
    };
    let mut out = line(header);
    for row in &rows {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3], &row[4]]));
    }
    out
}

#[cfg(test)]
mod tests;
