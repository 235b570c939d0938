//! `kill -9` of the whole dev stack in the middle of a burst, five times over: after a restart,
//! every delivery that was answered 200 is processed at least once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::collections::BTreeSet;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hookline::Scheme;
use hookline::sign::Signer;
use hookline_e2e::*;

const MANIFEST: &str = r#"
[project]
name = "e2e"

[[providers]]
name = "stripe"
template = "stripe"
# Messages a killed stack had received come back after the visibility timeout: keep it short.
[providers.queue]
visibility_timeout_secs = 6
[providers.processor]
timeout_secs = 1
"#;

/// Sends a burst of signed deliveries from 6 concurrent senders, kills the stack with SIGKILL once
/// 150 are under way, and returns the ids that were answered 200.
async fn burst_then_kill(
    h: &Harness,
    stack: &mut Child,
    port: u16,
    round: usize,
) -> BTreeSet<String> {
    let secret = std::fs::read_to_string(h.data.join("secrets/stripe")).unwrap();
    let signer = Signer::new("stripe".parse::<Scheme>().unwrap(), secret.trim()).unwrap();
    let url = format!("http://127.0.0.1:{port}/webhooks/stripe");
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut senders = Vec::new();
    for worker in 0..6 {
        let (signer, url, acked, sent) = (
            signer.clone(),
            url.clone(),
            Arc::clone(&acked),
            Arc::clone(&sent),
        );
        senders.push(tokio::spawn(async move {
            for n in 0..200 {
                let id = format!("evt_r{round}_{worker}_{n}");
                let body = format!(r#"{{"id":"{id}","object":"event","type":"invoice.paid","created":1764400000,"livemode":false,"data":{{"object":{{"id":"in_1"}}}}}}"#);
                let headers = signer
                    .headers(body.as_bytes(), chrono::Utc::now().timestamp(), "")
                    .unwrap();
                sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                match post(&url, &headers, body.as_bytes()).await {
                    Ok((200, _, _)) => {
                        acked.lock().unwrap().insert(id);
                    }
                    Ok(_) => {}
                    Err(_) => return, // the stack is gone
                }
            }
        }));
    }
    while sent.load(std::sync::atomic::Ordering::SeqCst) < 150 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stack.kill().unwrap();
    stack.wait().unwrap();
    for sender in senders {
        sender.await.unwrap();
    }
    acked.lock().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_burst_five_times_loses_no_acknowledged_delivery() {
    let h = harness(MANIFEST);
    let (port, sqs_port) = (free_port(), free_port());
    let mut acked = BTreeSet::new();
    for round in 0..5 {
        let mut stack = dev(&h, port, sqs_port);
        wait_ready(port).await;
        let round_acked = burst_then_kill(&h, &mut stack, port, round).await;
        assert!(
            round_acked.len() >= 20,
            "round {round}: the burst should be acknowledged in part before the kill ({} acks)",
            round_acked.len()
        );
        acked.extend(round_acked);
    }

    let mut stack = dev(&h, port, sqs_port);
    wait_ready(port).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let missing = loop {
        let processed: BTreeSet<String> = h
            .recorded("stripe")
            .iter()
            .filter_map(|l| l["delivery_id"].as_str().map(str::to_owned))
            .collect();
        let missing: Vec<&String> = acked.difference(&processed).collect();
        if missing.is_empty() || tokio::time::Instant::now() > deadline {
            break missing.len();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let _ = Command::new("kill")
        .arg("-INT")
        .arg(stack.id().to_string())
        .status();
    let _ = stack.wait();
    assert_eq!(
        missing,
        0,
        "{missing} of {} acknowledged deliveries were never processed",
        acked.len()
    );
}
