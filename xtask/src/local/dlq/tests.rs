//! `dlq` against moto (the stack outputs, the listing) and the local endpoint (redrive: moto
//! does not implement the message move task actions).

use aws_sdk_sqs::types::QueueAttributeName;
use hookline_local::sqs::SqsServer;

use super::*;
use crate::aws::env::fixtures;
use crate::aws::moto::{self, Moto};

/// The local endpoint, and a client on it as `dlq` makes one.
async fn local(dir: &std::path::Path) -> (SqsServer, Client) {
    let server = SqsServer::start("127.0.0.1:0".parse().unwrap(), dir)
        .await
        .unwrap();
    let client = local_client(&server.endpoint()).await;
    (server, client)
}

/// A queue `q` whose dead-letter queue `q-dlq` holds `n` messages; returns their URLs.
async fn queues_with_dead_letters(client: &Client, n: usize) -> (String, String) {
    let dlq = client
        .create_queue()
        .queue_name("q-dlq")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let dlq_arn = redrive::queue_arn(client, &dlq).await.unwrap();
    let queue = client
        .create_queue()
        .queue_name("q")
        .attributes(
            QueueAttributeName::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"3"}}"#),
        )
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    for i in 0..n {
        client
            .send_message()
            .queue_url(&dlq)
            .message_body(format!("dead {i}"))
            .send()
            .await
            .unwrap();
    }
    (queue, dlq)
}

async fn visible(client: &Client, url: &str) -> u64 {
    list::depth(client, url).await.unwrap().0
}

/// The listing reads past the first ten messages, says how many are in flight, and leaves every
/// message visible: against moto, and against the local endpoint.
#[tokio::test]
async fn list_reads_every_message_and_leaves_them_visible() {
    let moto = Moto::start();
    let config = sdk::connect(&moto::env(&moto), fixtures::REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let (_server, local_client) = local(dir.path()).await;
    for client in [Client::new(&config), local_client] {
        let (_, dlq) = queues_with_dead_letters(&client, 25).await;
        // Two received elsewhere: in flight, not listable.
        let taken = client
            .receive_message()
            .queue_url(&dlq)
            .max_number_of_messages(2)
            .visibility_timeout(300)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap();
        assert_eq!(taken.len(), 2);
        let listing = list::collect(&client, &dlq).await.unwrap();
        assert_eq!(listing.messages.len(), 23);
        assert_eq!(listing.in_flight, 2);
        assert!(
            list::render(&listing).ends_with(
                "23 message(s); 2 more in flight (being received elsewhere), not listed\n"
            ),
            "{}",
            list::render(&listing)
        );
        assert_eq!(
            visible(&client, &dlq).await,
            23,
            "visible again after the listing"
        );
    }
}

/// A FIFO DLQ returns at most one batch of a message group while the batch is in flight: the
/// listing says how many it could not see.
#[tokio::test]
async fn a_fifo_listing_says_what_it_could_not_see() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = local(dir.path()).await;
    let dlq = client
        .create_queue()
        .queue_name("q-dlq.fifo")
        .attributes(QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    for i in 0..15 {
        client
            .send_message()
            .queue_url(&dlq)
            .message_body(format!("dead {i}"))
            .message_group_id("acme")
            .message_deduplication_id(format!("d{i}"))
            .send()
            .await
            .unwrap();
    }
    let listing = list::collect(&client, &dlq).await.unwrap();
    assert_eq!(listing.messages.len(), 10);
    assert!(
        list::render(&listing).ends_with("10 message(s); 5 more not returned (a FIFO queue hides the rest of a message group while part of it is being read)\n"),
        "{}",
        list::render(&listing)
    );
    assert_eq!(visible(&client, &dlq).await, 15, "all visible again");
}

/// `redrive` is an SQS message move task (ListMessageMoveTasks shows it), run to its end: on the
/// local endpoint, since moto does not implement the move task actions.
#[tokio::test]
async fn redrive_moves_the_dead_letters_back_with_a_move_task() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = local(dir.path()).await;
    let (queue, dlq) = queues_with_dead_letters(&client, 12).await;
    let outcome = redrive::redrive(&client, &dlq, &queue).await.unwrap();
    assert_eq!(
        outcome,
        redrive::Outcome {
            status: "COMPLETED".to_owned(),
            moved: 12,
            to_move: Some(12)
        }
    );
    assert_eq!(visible(&client, &dlq).await, 0);
    assert_eq!(visible(&client, &queue).await, 12);
    let dlq_arn = redrive::queue_arn(&client, &dlq).await.unwrap();
    let tasks = client
        .list_message_move_tasks()
        .source_arn(&dlq_arn)
        .send()
        .await
        .unwrap()
        .results
        .unwrap();
    assert_eq!(tasks[0].status.as_deref(), Some("COMPLETED"));
    assert_eq!(
        tasks[0].destination_arn,
        Some(redrive::queue_arn(&client, &queue).await.unwrap())
    );
}

/// A second redrive reports its own task, not the one listed before it.
#[tokio::test]
async fn each_redrive_reports_its_own_task() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = local(dir.path()).await;
    let (queue, dlq) = queues_with_dead_letters(&client, 4).await;
    assert_eq!(
        redrive::redrive(&client, &dlq, &queue).await.unwrap().moved,
        4
    );
    for i in 0..2 {
        client
            .send_message()
            .queue_url(&dlq)
            .message_body(format!("again {i}"))
            .send()
            .await
            .unwrap();
    }
    let second = redrive::redrive(&client, &dlq, &queue).await.unwrap();
    assert_eq!((second.moved, second.to_move), (2, Some(2)));
}

/// A redrive while another runs says how to stop it; `cancel` stops the running one and then
/// finds none.
#[tokio::test]
async fn a_running_redrive_is_reported_and_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, client) = local(dir.path()).await;
    let (queue, dlq) = queues_with_dead_letters(&client, 5).await;
    // One message a second: still running while the test goes on. (These messages were sent to
    // the DLQ directly, so they have no source queue to return to: the task names one.)
    client
        .start_message_move_task()
        .source_arn(redrive::queue_arn(&client, &dlq).await.unwrap())
        .destination_arn(redrive::queue_arn(&client, &queue).await.unwrap())
        .max_number_of_messages_per_second(1)
        .send()
        .await
        .unwrap();
    let err = redrive::redrive(&client, &dlq, &queue).await.unwrap_err();
    assert!(
        format!("{err:#}")
            .contains("already running: wait for it, or stop it with `cargo xtask dlq cancel`"),
        "{err:#}"
    );
    let moved = redrive::cancel(&client, &dlq).await.unwrap().unwrap();
    assert!(moved < 5, "{moved}");
    assert_eq!(redrive::cancel(&client, &dlq).await.unwrap(), None);
}

fn manifest() -> hookline_manifest::Manifest {
    hookline_manifest::parse("[project]\nname = \"hookline\"\nregion = \"eu-west-1\"\n[[providers]]\nname = \"billing-eu\"\ntemplate = \"stripe\"\n", "hookline.toml").unwrap()
}

#[test]
fn stage_dry_run_prints_how_the_queues_are_found() {
    let plan = stage_dry_run(&manifest(), "billing-eu", "pr-42", &AwsEnv::default()).unwrap();
    assert_eq!(
        plan,
        "# in eu-west-1\nsts:GetCallerIdentity\ncloudformation:DescribeStacks StackName=hookline-pr-42 (its outputs BillingEuQueueUrl and BillingEuDlqUrl)\n# then, with aws-sdk-sqs on those queues: GetQueueAttributes, and ReceiveMessage (list) or StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask (redrive, cancel)\n"
    );
}

#[tokio::test]
async fn stage_queues_come_from_the_stack_outputs() {
    let moto = Moto::start();
    let env = moto::env(&moto);
    let config = sdk::connect(&env, fixtures::REGION).await;
    let template = serde_json::json!({
        "Resources": { "Queue": { "Type": "AWS::SQS::Queue" } },
        "Outputs": {
            "BillingEuQueueUrl": { "Value": "https://sqs.eu-west-1.amazonaws.com/1/q" },
            "BillingEuDlqUrl": { "Value": "https://sqs.eu-west-1.amazonaws.com/1/dlq" },
        },
    });
    aws_sdk_cloudformation::Client::new(&config)
        .create_stack()
        .stack_name("hookline-pr-42")
        .template_body(template.to_string())
        .send()
        .await
        .unwrap();
    let (_, queue, dlq) = stage_queues(&manifest(), "billing-eu", "pr-42", &env)
        .await
        .unwrap();
    assert_eq!(queue, "https://sqs.eu-west-1.amazonaws.com/1/q");
    assert_eq!(dlq, "https://sqs.eu-west-1.amazonaws.com/1/dlq");
    let err = stage_queues(&manifest(), "billing-eu", "pr-43", &env)
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("is the stage deployed (`cargo xtask deploy --stage pr-43`)?"),
        "{err}"
    );
}

#[tokio::test]
async fn stage_without_credentials_fails_before_any_call() {
    let home = tempfile::tempdir().unwrap();
    let env = AwsEnv {
        vars: Default::default(),
        home: Some(home.path().to_path_buf()),
    };
    let err = stage_queues(&manifest(), "billing-eu", "pr-42", &env)
        .await
        .err()
        .unwrap();
    assert!(
        format!("{err:#}").starts_with("no AWS credentials found"),
        "{err:#}"
    );
}

/// Each dead letter says how large its body is and where it lives: in the message, or in the
/// body bucket (where it stays until the message is processed, so a redrive finds it).
#[test]
fn a_listing_says_where_each_body_lives() {
    use aws_sdk_sqs::types::Message;
    let inline = hookline::Envelope::new("stripe", b"{}".to_vec());
    let mut stored = hookline::Envelope::new("github", vec![b'x'; 3_000_000]);
    let key = hookline::claim_check::object_key("github", stored.received_at, &stored.id);
    stored.body_ref = Some(hookline::claim_check::BodyRef::to(
        "hookline-local-bodies",
        key.clone(),
        &stored.body,
    ));
    let message = |id: &str, e: &hookline::Envelope| {
        Message::builder().message_id(id).body(e.to_json()).build()
    };
    let listing = list::Listing {
        messages: vec![message("m1", &inline), message("m2", &stored)],
        expected: 2,
        in_flight: 0,
    };
    let rendered = list::render(&listing);
    let lines: Vec<&str> = rendered.lines().collect();
    assert!(lines[0].ends_with("  2 bytes in the message"), "{rendered}");
    assert!(
        lines[1].ends_with(&format!(
            "  3000000 bytes in s3://hookline-local-bodies/{key}"
        )),
        "{rendered}"
    );
}
