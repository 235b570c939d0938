// Generated once by `cargo xtask new` from templates/github. This file is yours: hookline never overwrites it.
//! GitHub webhook handlers for `github`: one function per event, routed by the
//! `X-GitHub-Event` header (`delivery.event_type()`).
//!
//! Configure the webhook with content type `application/json`. The ingest function has already
//! verified `X-Hub-Signature-256`; `delivery.body()` holds the exact bytes GitHub sent.
//! hookline runs the handler at most once to completion per `delivery.dedup_id()`, the body's
//! SHA-256 (README, "Exactly-once effects"): GitHub signs no timestamp and not its `X-GitHub-Delivery` header
//! (`delivery.delivery_id()`), so a captured delivery replayed under a fresh header is the same.
//! Return an error to have the message retried; after the queue's `max_receive_count` it moves
//! to the dead-letter queue.

use hookline::{BoxError, Delivery};
use serde::Deserialize;

/// A repository, as embedded in most events.
#[derive(Debug, Deserialize)]
pub struct Repository {
    /// Numeric id.
    pub id: u64,
    /// `owner/name`.
    pub full_name: String,
    /// Private or public.
    pub private: bool,
    /// Web page.
    pub html_url: String,
    /// e.g. `main`.
    pub default_branch: Option<String>,
}

/// A user or bot.
#[derive(Debug, Deserialize)]
pub struct User {
    /// Login name.
    pub login: String,
    /// Numeric id.
    pub id: u64,
}

/// `ping`: sent when the webhook is created.
#[derive(Debug, Deserialize)]
pub struct Ping {
    /// A line of GitHub zen.
    pub zen: String,
    /// The webhook's id.
    pub hook_id: u64,
}

/// `push`: commits pushed to a branch or tag.
#[derive(Debug, Deserialize)]
pub struct Push {
    /// e.g. `refs/heads/main`.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// SHA before the push.
    pub before: String,
    /// SHA after the push.
    pub after: String,
    /// The pushed commits (at most 20 in the payload).
    pub commits: Vec<Commit>,
    /// Whether the ref was created, deleted or force-pushed.
    #[serde(default)]
    pub created: bool,
    /// See `created`.
    #[serde(default)]
    pub deleted: bool,
    /// See `created`.
    #[serde(default)]
    pub forced: bool,
    /// Where.
    pub repository: Repository,
    /// Who.
    pub sender: User,
}

/// A commit in a push.
#[derive(Debug, Deserialize)]
pub struct Commit {
    /// SHA.
    pub id: String,
    /// Commit message.
    pub message: String,
    /// Web page.
    pub url: String,
    /// Author.
    pub author: CommitAuthor,
}

/// A commit's author.
#[derive(Debug, Deserialize)]
pub struct CommitAuthor {
    /// Name.
    pub name: String,
    /// Email.
    pub email: Option<String>,
}

/// `pull_request`: opened, closed, synchronize, ...
#[derive(Debug, Deserialize)]
pub struct PullRequestEvent {
    /// What happened.
    pub action: String,
    /// The pull request number.
    pub number: u64,
    /// The pull request.
    pub pull_request: PullRequest,
    /// Where.
    pub repository: Repository,
    /// Who.
    pub sender: User,
}

/// A pull request.
#[derive(Debug, Deserialize)]
pub struct PullRequest {
    /// `open` or `closed`.
    pub state: String,
    /// Title.
    pub title: String,
    /// Web page.
    pub html_url: String,
    /// Author.
    pub user: User,
    /// Source branch.
    pub head: GitRef,
    /// Target branch.
    pub base: GitRef,
    /// Merged (for `closed`).
    #[serde(default)]
    pub merged: bool,
    /// Draft.
    #[serde(default)]
    pub draft: bool,
}

/// A branch and commit.
#[derive(Debug, Deserialize)]
pub struct GitRef {
    /// Branch name.
    #[serde(rename = "ref")]
    pub name: String,
    /// Commit SHA.
    pub sha: String,
}

/// `issues`: opened, edited, closed, ...
#[derive(Debug, Deserialize)]
pub struct IssuesEvent {
    /// What happened.
    pub action: String,
    /// The issue.
    pub issue: Issue,
    /// Where.
    pub repository: Repository,
    /// Who.
    pub sender: User,
}

/// An issue.
#[derive(Debug, Deserialize)]
pub struct Issue {
    /// Number.
    pub number: u64,
    /// Title.
    pub title: String,
    /// `open` or `closed`.
    pub state: String,
    /// Web page.
    pub html_url: String,
    /// Author.
    pub user: User,
    /// Labels.
    #[serde(default)]
    pub labels: Vec<Label>,
}

/// A label.
#[derive(Debug, Deserialize)]
pub struct Label {
    /// Name.
    pub name: String,
}

/// `issue_comment`: a comment on an issue or pull request.
#[derive(Debug, Deserialize)]
pub struct IssueCommentEvent {
    /// `created`, `edited`, `deleted`.
    pub action: String,
    /// The issue (or pull request).
    pub issue: Issue,
    /// The comment.
    pub comment: Comment,
    /// Where.
    pub repository: Repository,
}

/// A comment.
#[derive(Debug, Deserialize)]
pub struct Comment {
    /// Numeric id.
    pub id: u64,
    /// Markdown text.
    pub body: String,
    /// Author.
    pub user: User,
    /// Web page.
    pub html_url: String,
}

/// `release`: published, created, ...
#[derive(Debug, Deserialize)]
pub struct ReleaseEvent {
    /// What happened.
    pub action: String,
    /// The release.
    pub release: Release,
    /// Where.
    pub repository: Repository,
}

/// A release.
#[derive(Debug, Deserialize)]
pub struct Release {
    /// e.g. `v1.2.0`.
    pub tag_name: String,
    /// Title.
    pub name: Option<String>,
    /// Draft.
    pub draft: bool,
    /// Pre-release.
    pub prerelease: bool,
    /// Web page.
    pub html_url: String,
}

/// `workflow_run`: a GitHub Actions run was requested, is in progress, or completed.
#[derive(Debug, Deserialize)]
pub struct WorkflowRunEvent {
    /// `requested`, `in_progress`, `completed`.
    pub action: String,
    /// The run.
    pub workflow_run: WorkflowRun,
    /// Where.
    pub repository: Repository,
}

/// A workflow run.
#[derive(Debug, Deserialize)]
pub struct WorkflowRun {
    /// Numeric id.
    pub id: u64,
    /// Workflow name.
    pub name: Option<String>,
    /// Branch.
    pub head_branch: Option<String>,
    /// Commit.
    pub head_sha: String,
    /// `queued`, `in_progress`, `completed`.
    pub status: Option<String>,
    /// `success`, `failure`, ... once completed.
    pub conclusion: Option<String>,
    /// Web page.
    pub html_url: String,
}

/// Which handler took a delivery (what the tests check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// `ping`.
    Ping,
    /// `push`.
    Push,
    /// `pull_request`.
    PullRequest,
    /// `issues`.
    Issues,
    /// `issue_comment`.
    IssueComment,
    /// `release`.
    Release,
    /// `workflow_run`.
    WorkflowRun,
    /// Any other event: logged and acknowledged.
    Unhandled,
}

/// The processor's entry point (see `src/bin/process.rs`).
pub async fn handle(delivery: Delivery) -> Result<(), BoxError> {
    dispatch(&delivery).await.map(|_| ())
}

/// Routes a delivery to the handler of its event.
pub async fn dispatch(delivery: &Delivery) -> Result<Handled, BoxError> {
    match delivery.event_type().unwrap_or_default() {
        "ping" => ping(delivery, delivery.json()?).await,
        "push" => push(delivery, delivery.json()?).await,
        "pull_request" => pull_request(delivery, delivery.json()?).await,
        "issues" => issues(delivery, delivery.json()?).await,
        "issue_comment" => issue_comment(delivery, delivery.json()?).await,
        "release" => release(delivery, delivery.json()?).await,
        "workflow_run" => workflow_run(delivery, delivery.json()?).await,
        _ => unhandled(delivery).await,
    }
}

async fn ping(delivery: &Delivery, ping: Ping) -> Result<Handled, BoxError> {
    tracing::info!(delivery = ?delivery.delivery_id(), hook_id = ping.hook_id, zen = %ping.zen, "webhook pinged");
    Ok(Handled::Ping)
}

async fn push(delivery: &Delivery, push: Push) -> Result<Handled, BoxError> {
    tracing::info!(delivery = ?delivery.delivery_id(), repository = %push.repository.full_name, git_ref = %push.git_ref, after = %push.after, commits = push.commits.len(), forced = push.forced, by = %push.sender.login, "push");
    // Your code: trigger a build or deploy for push.git_ref at push.after.
    Ok(Handled::Push)
}

async fn pull_request(delivery: &Delivery, event: PullRequestEvent) -> Result<Handled, BoxError> {
    let pr = &event.pull_request;
    tracing::info!(delivery = ?delivery.delivery_id(), repository = %event.repository.full_name, number = event.number, action = %event.action, head = %pr.head.name, base = %pr.base.name, merged = pr.merged, "pull request");
    // Your code: run checks on opened/synchronize, clean up on closed.
    Ok(Handled::PullRequest)
}

async fn issues(delivery: &Delivery, event: IssuesEvent) -> Result<Handled, BoxError> {
    let labels: Vec<&str> = event.issue.labels.iter().map(|l| l.name.as_str()).collect();
    tracing::info!(delivery = ?delivery.delivery_id(), repository = %event.repository.full_name, number = event.issue.number, action = %event.action, labels = ?labels, by = %event.sender.login, "issue");
    // Your code: triage, label, notify.
    Ok(Handled::Issues)
}

async fn issue_comment(delivery: &Delivery, event: IssueCommentEvent) -> Result<Handled, BoxError> {
    tracing::info!(delivery = ?delivery.delivery_id(), repository = %event.repository.full_name, number = event.issue.number, action = %event.action, comment = event.comment.id, by = %event.comment.user.login, "issue comment");
    // Your code: react to commands in comments (e.g. "/deploy").
    Ok(Handled::IssueComment)
}

async fn release(delivery: &Delivery, event: ReleaseEvent) -> Result<Handled, BoxError> {
    tracing::info!(delivery = ?delivery.delivery_id(), repository = %event.repository.full_name, tag = %event.release.tag_name, action = %event.action, prerelease = event.release.prerelease, "release");
    // Your code: publish artifacts, announce the release.
    Ok(Handled::Release)
}

async fn workflow_run(delivery: &Delivery, event: WorkflowRunEvent) -> Result<Handled, BoxError> {
    let run = &event.workflow_run;
    tracing::info!(delivery = ?delivery.delivery_id(), repository = %event.repository.full_name, run = run.id, workflow = ?run.name, action = %event.action, conclusion = ?run.conclusion, "workflow run");
    // Your code: report failures, promote successful builds.
    Ok(Handled::WorkflowRun)
}

async fn unhandled(delivery: &Delivery) -> Result<Handled, BoxError> {
    tracing::info!(delivery = ?delivery.delivery_id(), event = ?delivery.event_type(), "event not handled; acknowledged");
    Ok(Handled::Unhandled)
}

#[cfg(test)]
mod tests {
    use hookline::{Delivery, Envelope};

    use super::*;

    const PROVIDER: &str = "github";

    fn delivery(event: &str, body: &[u8]) -> Delivery {
        let envelope = Envelope::new(PROVIDER, body.to_vec())
            .with_event_type(event)
            .with_delivery_id("72d3162e-cc78-11e3-81ab-4c9367dc0958")
            .with_header("x-github-event", event);
        Delivery::new(envelope)
    }

    async fn handled(event: &str, body: &[u8]) -> Handled {
        dispatch(&delivery(event, body)).await.unwrap()
    }

    #[tokio::test]
    async fn repository_events_are_routed() {
        assert_eq!(
            handled("ping", include_bytes!("../fixtures/ping.json")).await,
            Handled::Ping
        );
        assert_eq!(
            handled("push", include_bytes!("../fixtures/push.json")).await,
            Handled::Push
        );
        assert_eq!(
            handled("release", include_bytes!("../fixtures/release.json")).await,
            Handled::Release
        );
        assert_eq!(
            handled(
                "workflow_run",
                include_bytes!("../fixtures/workflow_run.json")
            )
            .await,
            Handled::WorkflowRun
        );
    }

    #[tokio::test]
    async fn collaboration_events_are_routed() {
        assert_eq!(
            handled(
                "pull_request",
                include_bytes!("../fixtures/pull_request.json")
            )
            .await,
            Handled::PullRequest
        );
        assert_eq!(
            handled("issues", include_bytes!("../fixtures/issues.json")).await,
            Handled::Issues
        );
        assert_eq!(
            handled(
                "issue_comment",
                include_bytes!("../fixtures/issue_comment.json")
            )
            .await,
            Handled::IssueComment
        );
    }

    #[tokio::test]
    async fn sample_payloads_parse_into_their_types() {
        let push: Push = serde_json::from_slice(include_bytes!("../fixtures/push.json")).unwrap();
        assert!(push.git_ref.starts_with("refs/") && !push.commits.is_empty());
        let pr: PullRequestEvent =
            serde_json::from_slice(include_bytes!("../fixtures/pull_request.json")).unwrap();
        assert_eq!(
            (pr.action.as_str(), pr.pull_request.state.as_str()),
            ("opened", "open")
        );
    }

    #[tokio::test]
    async fn other_events_are_acknowledged() {
        assert_eq!(
            handled("star", br#"{"action":"created"}"#).await,
            Handled::Unhandled
        );
    }

    #[tokio::test]
    async fn a_payload_of_the_wrong_shape_fails_so_it_is_retried() {
        assert!(dispatch(&delivery("push", br#"{"ref":5}"#)).await.is_err());
        assert!(
            dispatch(&delivery("pull_request", b"payload=%7B%7D"))
                .await
                .is_err()
        );
    }
}
