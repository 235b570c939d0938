//! The history's tests: the join in either order, errors finding their attempt, bounds, reopen.
#![allow(clippy::unwrap_used)] // test code: failing loudly is the point

use super::*;
use crate::console::query::{self, Filter, Processing};

fn delivery(id: &str, trace: &str, body: usize) -> Record {
    Record::Delivery(Box::new(DeliveryRecord {
        id: id.into(),
        received_ms: 1_000,
        provider: Some("stripe".into()),
        method: "POST".into(),
        target: "/webhooks/stripe".into(),
        body: vec![b'x'; body],
        status: 200,
        trace_id: Some(trace.into()),
        ..DeliveryRecord::default()
    }))
}

fn sent(message: &str, trace: &str) -> Record {
    Record::Sent {
        queue: "stripe".into(),
        message_id: message.into(),
        body: "{}".into(),
        trace_id: Some(trace.into()),
        event_type: Some("invoice.paid".into()),
        delivery_id: Some(format!("evt_{message}")),
        at_ms: 1_000,
    }
}

/// Every delivery, read right after the records were handed over: a read waits for them.
fn all(history: &History) -> Vec<query::Summary> {
    let filter = Filter {
        limit: 100,
        ..Filter::default()
    };
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            history
                .read(move |c| query::list(c, &filter))
                .await
                .unwrap()
        })
}

#[test]
fn a_delivery_and_its_message_join_in_either_order_and_errors_find_their_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let history = History::open(&dir.path().join("c.db"), Limits::default()).unwrap();
    // The send is seen before the gateway's answer for one, after it for the other.
    history.record(sent("m1", "t1"));
    history.record(delivery("d1", "t1", 2));
    history.record(delivery("d2", "t2", 2));
    history.record(sent("m2", "t2"));
    history.record(Record::HandlerError {
        message_id: "m2".into(),
        error: "boom".into(),
    });
    history.record(Record::Timeline(TimelineRecord {
        message_id: "m2".into(),
        at_ms: 2_000,
        kind: "attempt",
        queue: "stripe".into(),
        receive_count: Some(1),
        outcome: Some("failed"),
        ..TimelineRecord::default()
    }));
    let listed = all(&history);
    assert_eq!(listed.len(), 2);
    for d in &listed {
        let n = &d.id[1..];
        assert_eq!(d.message_id.as_deref(), Some(format!("m{n}").as_str()));
        assert_eq!(d.event_type.as_deref(), Some("invoice.paid"));
        assert_eq!(d.delivery_id.as_deref(), Some(format!("evt_m{n}").as_str()));
    }
    assert_eq!(listed[0].processing, Processing::Retrying);
    assert_eq!(listed[1].processing, Processing::Queued);
    let detail = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(history.read(|c| query::detail(c, "d2")))
        .unwrap()
        .unwrap();
    assert_eq!(detail.timeline[1].error.as_deref(), Some("boom"));
}

#[test]
fn the_history_is_bounded_and_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let limits = Limits {
        deliveries: 5,
        body_bytes: 1_000,
    };
    {
        let history = History::open(&path, limits).unwrap();
        for n in 0..(PRUNE_EVERY + 10) {
            history.record(delivery(&format!("d{n}"), &format!("t{n}"), 10));
        }
        let kept = all(&history);
        assert!(kept.len() <= 5 + 10, "pruned as it goes: {}", kept.len());
    }
    // Reopened: pruned to the limits at once, the newest kept.
    let history = History::open(&path, limits).unwrap();
    let kept: Vec<String> = all(&history).into_iter().map(|d| d.id).collect();
    let newest: Vec<String> = (PRUNE_EVERY + 5..PRUNE_EVERY + 10)
        .rev()
        .map(|n| format!("d{n}"))
        .collect();
    assert_eq!(kept, newest);
    // The byte budget: two bodies of 600 bytes do not both fit in 1,000.
    history.record(delivery("big1", "tb1", 600));
    history.record(delivery("big2", "tb2", 600));
    all(&history);
    drop(history);
    let history = History::open(&path, limits).unwrap();
    let kept: Vec<String> = all(&history).into_iter().map(|d| d.id).collect();
    assert_eq!(kept, ["big2"]);
}

#[test]
fn a_read_sees_every_record_handed_over_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let history = History::open(&dir.path().join("c.db"), Limits::default()).unwrap();
    for n in 0..100 {
        history.record(delivery(&format!("d{n}"), &format!("t{n}"), 10));
    }
    assert_eq!(all(&history).len(), 100);
}
