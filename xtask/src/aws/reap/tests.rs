//! `reap`: which stacks it selects (plain data), and what it deletes against moto.

use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::aws::moto::{self, Moto, create_stack};

const NOW: &str = "2026-12-02T12:00:00Z";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(NOW)
        .unwrap()
        .with_timezone(&Utc)
}

fn stack(name: &str, tags: &[(&str, &str)]) -> StackInfo {
    StackInfo {
        name: name.to_owned(),
        id: format!("arn:aws:cloudformation:eu-west-1:123456789012:stack/{name}/1"),
        status: "CREATE_COMPLETE".to_owned(),
        reason: None,
        tags: tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        outputs: BTreeMap::new(),
        deployed_at: None,
    }
}

/// Five stacks: shop's expired, closed, live and retained previews, and another project's.
fn fleet() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        (
            "shop-pr-1",
            vec![
                (TAG_PROJECT, "shop"),
                (TAG_STAGE, "pr-1"),
                (TAG_PR, "1"),
                (TAG_EXPIRES_AT, "2026-12-01T10:00:00Z"),
            ],
        ),
        (
            "shop-pr-2",
            vec![
                (TAG_PROJECT, "shop"),
                (TAG_STAGE, "pr-2"),
                (TAG_PR, "2"),
                (TAG_EXPIRES_AT, "2026-12-03T00:00:00Z"),
            ],
        ),
        (
            "shop-pr-3",
            vec![
                (TAG_PROJECT, "shop"),
                (TAG_STAGE, "pr-3"),
                (TAG_PR, "3"),
                (TAG_EXPIRES_AT, "2026-12-03T00:00:00Z"),
            ],
        ),
        (
            "shop-prod",
            vec![(TAG_PROJECT, "shop"), (TAG_STAGE, "prod"), (TAG_PR, "4")],
        ),
        (
            "other-pr-1",
            vec![
                (TAG_PROJECT, "other"),
                (TAG_STAGE, "pr-1"),
                (TAG_PR, "1"),
                (TAG_EXPIRES_AT, "2026-12-01T10:00:00Z"),
            ],
        ),
    ]
}

#[test]
fn only_this_projects_expired_or_closed_previews_are_selected() {
    let stacks: Vec<StackInfo> = fleet().iter().map(|(n, t)| stack(n, t)).collect();
    // #4 is closed too, but shop-prod has no expiry: it is never reaped.
    let closed = BTreeSet::from([2, 4]);
    let selected = select(&stacks, "shop", now(), &closed);
    assert_eq!(
        selected,
        vec![
            Reapable {
                stack: "shop-pr-1".into(),
                stage: "pr-1".into(),
                pr: Some(1),
                expired_secs: Some(26 * 3600)
            },
            Reapable {
                stack: "shop-pr-2".into(),
                stage: "pr-2".into(),
                pr: Some(2),
                expired_secs: None
            },
        ]
    );
    assert!(select(&stacks, "shop", now(), &BTreeSet::new()).len() == 1);
    let unreadable = [stack(
        "shop-pr-9",
        &[(TAG_PROJECT, "shop"), (TAG_EXPIRES_AT, "tomorrow")],
    )];
    assert!(select(&unreadable, "shop", now(), &BTreeSet::new()).is_empty());
}

#[test]
fn the_table_says_what_happened_to_each_stack() {
    let rows = vec![
        (
            Reapable {
                stack: "shop-pr-1".into(),
                stage: "pr-1".into(),
                pr: Some(1),
                expired_secs: Some(26 * 3600 + 120),
            },
            Reaped::Deleted,
        ),
        (
            Reapable {
                stack: "shop-pr-2".into(),
                stage: "pr-2".into(),
                pr: Some(2),
                expired_secs: None,
            },
            Reaped::Failed("DELETE_FAILED".into()),
        ),
    ];
    assert_eq!(
        table(&rows, false),
        "stack      stage  pr  expired    result\n\
         shop-pr-1  pr-1   #1  1d 2h ago  deleted\n\
         shop-pr-2  pr-2   #2  pr closed  FAILED (DELETE_FAILED)\n"
    );
    let json: serde_json::Value = serde_json::from_str(&table(&rows, true)).unwrap();
    assert_eq!(json[1]["result"], "failed");
    assert_eq!(json[1]["status"], "DELETE_FAILED");
    assert_eq!(table(&[], false), "nothing to reap\n");
}

#[tokio::test]
async fn reap_deletes_exactly_the_selected_stacks() {
    let moto = Moto::start();
    let env = moto::env(&moto);
    let cfn = aws_sdk_cloudformation::Client::new(&sdk::connect(&env, "eu-west-1").await);
    for (name, tags) in fleet() {
        create_stack(&cfn, name, &tags).await;
    }
    let closed = BTreeSet::from([2]);
    let options = DeleteOptions {
        force_delete: false,
        poll: Duration::from_millis(50),
        timeout: Duration::from_secs(30),
    };

    let planned = reap(&cfn, "shop", now(), &closed, true, options)
        .await
        .unwrap();
    let names: Vec<&str> = planned.iter().map(|(r, _)| r.stack.as_str()).collect();
    assert_eq!(names, ["shop-pr-1", "shop-pr-2"]);
    assert!(planned.iter().all(|(_, r)| *r == Reaped::WouldDelete));
    assert_eq!(
        stack::list(&cfn).await.unwrap().len(),
        5,
        "a dry run deleted something"
    );

    let done = reap(&cfn, "shop", now(), &closed, false, options)
        .await
        .unwrap();
    assert!(done.iter().all(|(_, r)| *r == Reaped::Deleted), "{done:?}");
    let mut left: Vec<String> = stack::list(&cfn)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    left.sort();
    assert_eq!(left, ["other-pr-1", "shop-pr-3", "shop-prod"]);
}
