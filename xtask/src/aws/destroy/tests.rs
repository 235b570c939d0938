//! `destroy` against moto (CloudFormation over its real protocol), and, for what moto cannot do
//! (a deletion that fails), against SDK-level mocks (aws-smithy-mocks): the real client, with
//! canned responses in place of the HTTP exchange.

use std::time::Duration;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::Tag;

use super::*;
use crate::aws::moto::{self, Moto, create_stack};

fn args(force: bool, force_delete: bool) -> Args {
    Args {
        stage: StageArgs::new("pr-7", false),
        yes: true,
        force,
        force_delete,
        json: false,
    }
}

fn target() -> StageStack {
    StageStack {
        stack: "shop-pr-7".to_owned(),
        region: crate::aws::env::fixtures::REGION.to_owned(),
    }
}

fn fast() -> DeleteOptions {
    DeleteOptions {
        force_delete: false,
        poll: Duration::from_millis(50),
        timeout: Duration::from_secs(30),
    }
}

fn never(_: &str) -> Result<bool> {
    panic!("asked for confirmation")
}

async fn moto_client(moto: &Moto) -> Client {
    let env = moto::env(moto);
    Client::new(&sdk::connect(&env, &target().region).await)
}

#[tokio::test]
async fn a_missing_stack_is_nothing_to_destroy() {
    let moto = Moto::start();
    let cfn = moto_client(&moto).await;
    let outcome = destroy(&cfn, &target(), &args(false, false), fast(), &mut never)
        .await
        .unwrap();
    assert_eq!(outcome.deletion, Deletion::NotFound);
    assert_eq!(
        report(&target(), "pr-7", &outcome, false),
        "shop-pr-7 does not exist in eu-west-1: nothing to destroy\n"
    );
    let json: serde_json::Value =
        serde_json::from_str(&report(&target(), "pr-7", &outcome, true)).unwrap();
    assert_eq!(json["result"], "not-found");
}

#[tokio::test]
async fn an_ephemeral_stack_is_deleted_and_gone() {
    let moto = Moto::start();
    let cfn = moto_client(&moto).await;
    create_stack(
        &cfn,
        "shop-pr-7",
        &[(TAG_EXPIRES_AT, "2026-12-02T12:00:00Z")],
    )
    .await;
    let outcome = destroy(&cfn, &target(), &args(false, false), fast(), &mut never)
        .await
        .unwrap();
    assert_eq!(
        outcome.deletion,
        Deletion::Deleted {
            left_behind: vec![]
        }
    );
    assert_eq!(outcome.ephemeral, Some(true));
    assert_eq!(stack::describe(&cfn, "shop-pr-7").await.unwrap(), None);
    // Again: nothing left to destroy, and that is success.
    let again = destroy(&cfn, &target(), &args(false, false), fast(), &mut never)
        .await
        .unwrap();
    assert_eq!(again.deletion, Deletion::NotFound);
}

#[tokio::test]
async fn a_retained_stage_is_destroyed_only_with_force_and_after_asking() {
    let moto = Moto::start();
    let cfn = moto_client(&moto).await;
    create_stack(&cfn, "shop-pr-7", &[("hookline:stage", "pr-7")]).await;
    let err = destroy(&cfn, &target(), &args(false, false), fast(), &mut never)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("is not an ephemeral stage"),
        "{err}"
    );
    assert!(stack::describe(&cfn, "shop-pr-7").await.unwrap().is_some());

    let mut asking = args(true, false);
    asking.yes = false;
    let mut asked = Vec::new();
    let err = destroy(&cfn, &target(), &asking, fast(), &mut |q: &str| {
        asked.push(q.to_owned());
        Ok(false)
    })
    .await
    .unwrap_err();
    assert_eq!(err.to_string(), "not destroyed");
    assert_eq!(asked, ["Destroy shop-pr-7 (CREATE_COMPLETE) in eu-west-1?"]);
    assert!(stack::describe(&cfn, "shop-pr-7").await.unwrap().is_some());

    let outcome = destroy(&cfn, &target(), &args(true, false), fast(), &mut never)
        .await
        .unwrap();
    assert_eq!(outcome.ephemeral, Some(false));
    assert!(outcome.deletion.is_gone());
    assert!(
        report(&target(), "pr-7", &outcome, false).contains("retained"),
        "{outcome:?}"
    );
}

#[test]
fn dry_run_names_every_call() {
    let text = dry_run(&target(), &args(false, true));
    assert!(
        text.contains("sts:GetCallerIdentity\ncloudformation:DescribeStacks StackName=shop-pr-7\n"),
        "{text}"
    );
    assert!(text.contains("refused unless --force"), "{text}");
    assert!(text.contains("DeletionMode=FORCE_DELETE_STACK"), "{text}");
}

/// moto cannot make a deletion fail, so these use the real client with canned responses.
mod failing {
    use aws_sdk_cloudformation::operation::delete_stack::DeleteStackOutput;
    use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
    use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
    use aws_sdk_cloudformation::types::{
        DeletionMode, ResourceStatus, Stack, StackEvent, StackStatus,
    };
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;

    const ID: &str = "arn:aws:cloudformation:eu-west-1:123456789012:stack/shop-pr-7/1";

    fn stack_in(status: StackStatus) -> DescribeStacksOutput {
        DescribeStacksOutput::builder()
            .stacks(
                Stack::builder()
                    .stack_name("shop-pr-7")
                    .stack_id(ID)
                    .stack_status(status)
                    .creation_time(aws_smithy_types::DateTime::from_secs(0))
                    .tags(
                        Tag::builder()
                            .key(TAG_EXPIRES_AT)
                            .value("2026-12-02T12:00:00Z")
                            .build(),
                    )
                    .build(),
            )
            .build()
    }

    fn events(status: ResourceStatus) -> DescribeStackEventsOutput {
        let event = |id: &str, logical: &str, kind: &str, status: ResourceStatus, reason: &str| {
            StackEvent::builder()
                .event_id(id)
                .stack_id(ID)
                .stack_name("shop-pr-7")
                .logical_resource_id(logical)
                .resource_type(kind)
                .physical_resource_id(format!("{logical}-physical"))
                .resource_status(status)
                .resource_status_reason(reason)
                .timestamp(aws_smithy_types::DateTime::from_secs(1))
                .build()
        };
        DescribeStackEventsOutput::builder()
            .stack_events(event(
                "2",
                "Queue",
                "AWS::SQS::Queue",
                status.clone(),
                "the queue is in use",
            ))
            .stack_events(event(
                "1",
                "shop-pr-7",
                "AWS::CloudFormation::Stack",
                ResourceStatus::DeleteInProgress,
                "",
            ))
            .build()
    }

    #[tokio::test]
    async fn delete_failed_is_explained_and_retried_once_then_not_gone() {
        let describe = mock!(Client::describe_stacks)
            .sequence()
            .output(|| stack_in(StackStatus::CreateComplete))
            .output(|| stack_in(StackStatus::DeleteFailed))
            .times(10)
            .build();
        let events = mock!(Client::describe_stack_events)
            .then_output(|| events(ResourceStatus::DeleteFailed));
        let delete =
            mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build());
        let cfn = mock_client!(
            aws_sdk_cloudformation,
            RuleMode::MatchAny,
            [&describe, &events, &delete]
        );
        let mut lines = Vec::new();
        let deletion = stack::delete(&cfn, "shop-pr-7", fast(), &mut |l| lines.push(l.to_owned()))
            .await
            .unwrap();
        let Deletion::Failed { status, failed } = &deletion else {
            panic!("{deletion:?}")
        };
        assert_eq!(status, "DELETE_FAILED");
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert_eq!(failed[0].logical_id, "Queue");
        assert_eq!(failed[0].reason, "the queue is in use");
        // The first deletion and one retry.
        assert_eq!(delete.num_calls(), 2);
        assert!(
            lines
                .iter()
                .any(|l| l == "Queue (AWS::SQS::Queue) could not be deleted: the queue is in use"),
            "{lines:?}"
        );
        assert!(
            lines.iter().any(|l| l == "retrying the deletion once"),
            "{lines:?}"
        );
        let outcome = Outcome {
            ephemeral: Some(true),
            deletion,
        };
        let text = report(&target(), "pr-7", &outcome, false);
        assert!(text.starts_with("shop-pr-7 is still there (DELETE_FAILED). What failed:\n  AWS::SQS::Queue Queue-physical (Queue): the queue is in use\n"), "{text}");
        assert!(
            text.contains("cargo xtask destroy --stage pr-7 --yes"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn force_delete_retries_with_force_delete_stack_and_lists_what_it_skipped() {
        let describe = mock!(Client::describe_stacks)
            .sequence()
            .output(|| stack_in(StackStatus::DeleteFailed))
            .output(|| DescribeStacksOutput::builder().build())
            .times(10)
            .build();
        let events = mock!(Client::describe_stack_events)
            .then_output(|| events(ResourceStatus::DeleteSkipped));
        let forced = mock!(Client::delete_stack)
            .match_requests(|r| r.deletion_mode() == Some(&DeletionMode::ForceDeleteStack))
            .then_output(|| DeleteStackOutput::builder().build());
        let cfn = mock_client!(
            aws_sdk_cloudformation,
            RuleMode::MatchAny,
            [&describe, &events, &forced]
        );
        let options = DeleteOptions {
            force_delete: true,
            ..fast()
        };
        let deletion = stack::delete(&cfn, "shop-pr-7", options, &mut |_| {})
            .await
            .unwrap();
        let Deletion::Deleted { left_behind } = &deletion else {
            panic!("{deletion:?}")
        };
        assert_eq!(forced.num_calls(), 1);
        assert_eq!(left_behind.len(), 1);
        assert_eq!(left_behind[0].physical_id, "Queue-physical");
    }

    /// A deploy cancelled between its change set and its execution leaves REVIEW_IN_PROGRESS,
    /// which never ends by itself and which DeleteStack accepts: no waiting for it.
    #[tokio::test]
    async fn review_in_progress_is_deleted_at_once() {
        let describe = mock!(Client::describe_stacks)
            .sequence()
            .output(|| stack_in(StackStatus::ReviewInProgress))
            .output(|| DescribeStacksOutput::builder().build())
            .times(10)
            .build();
        let events = mock!(Client::describe_stack_events)
            .then_output(|| DescribeStackEventsOutput::builder().build());
        let delete =
            mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build());
        let cfn = mock_client!(
            aws_sdk_cloudformation,
            RuleMode::MatchAny,
            [&describe, &events, &delete]
        );
        let mut lines = Vec::new();
        let deletion = stack::delete(&cfn, "shop-pr-7", fast(), &mut |l| lines.push(l.to_owned()))
            .await
            .unwrap();
        assert!(deletion.is_gone(), "{deletion:?}");
        assert_eq!(delete.num_calls(), 1);
        assert!(
            lines.iter().all(|l| !l.contains("waiting for it to end")),
            "{lines:?}"
        );
        // Looked at once before deleting and once after: no polling for it to change.
        assert_eq!(describe.num_calls(), 2);
    }

    /// Only the latest deletion's failures are reported: a resource that failed before and went
    /// on the retry is not.
    #[tokio::test]
    async fn only_the_latest_deletions_failures_are_reported() {
        let describe =
            mock!(Client::describe_stacks).then_output(|| stack_in(StackStatus::DeleteFailed));
        let history = || {
            let event = |id: &str, logical: &str, kind: &str, status: ResourceStatus| {
                StackEvent::builder()
                    .event_id(id)
                    .stack_id(ID)
                    .stack_name("shop-pr-7")
                    .logical_resource_id(logical)
                    .resource_type(kind)
                    .resource_status(status)
                    .resource_status_reason("in use")
                    .timestamp(aws_smithy_types::DateTime::from_secs(1))
                    .build()
            };
            // Newest first: the second deletion failed on Topic; the first failed on Queue.
            DescribeStackEventsOutput::builder()
                .stack_events(event(
                    "4",
                    "Topic",
                    "AWS::SNS::Topic",
                    ResourceStatus::DeleteFailed,
                ))
                .stack_events(event(
                    "3",
                    "shop-pr-7",
                    "AWS::CloudFormation::Stack",
                    ResourceStatus::DeleteInProgress,
                ))
                .stack_events(event(
                    "2",
                    "Queue",
                    "AWS::SQS::Queue",
                    ResourceStatus::DeleteFailed,
                ))
                .stack_events(event(
                    "1",
                    "shop-pr-7",
                    "AWS::CloudFormation::Stack",
                    ResourceStatus::DeleteInProgress,
                ))
                .build()
        };
        let events = mock!(Client::describe_stack_events).then_output(history);
        let delete =
            mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build());
        let cfn = mock_client!(
            aws_sdk_cloudformation,
            RuleMode::MatchAny,
            [&describe, &events, &delete]
        );
        let deletion = stack::delete(&cfn, "shop-pr-7", fast(), &mut |_| {})
            .await
            .unwrap();
        let Deletion::Failed { failed, .. } = &deletion else {
            panic!("{deletion:?}")
        };
        let names: Vec<&str> = failed.iter().map(|f| f.logical_id.as_str()).collect();
        assert_eq!(names, ["Topic"]);
    }
}
