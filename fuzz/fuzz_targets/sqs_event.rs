//! The processor's side: an SQS event as the Lambda runtime hands it over. Every record is
//! either handled or reported failed, and only records of the batch are reported.
#![no_main]

use std::collections::HashSet;

use aws_lambda_events::sqs::SqsEvent;
use hookline::Delivery;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = serde_json::from_slice::<SqsEvent>(data) else {
        return;
    };
    let ids: Vec<Option<String>> = event.records.iter().map(|r| r.message_id.clone()).collect();
    let handled = std::sync::Mutex::new(Vec::new());
    let response =
        hookline_fuzz::block_on(hookline::process_batch(event, &|delivery: Delivery| {
            let fail = delivery.envelope.body.first() == Some(&b'!');
            if let Ok(mut handled) = handled.lock() {
                handled.push(delivery.message_id.clone());
            }
            async move { if fail { Err("refused") } else { Ok(()) } }
        }));
    let known: HashSet<&str> = ids.iter().flatten().map(String::as_str).collect();
    for failure in &response.batch_item_failures {
        assert!(
            known.contains(failure.item_identifier.as_str()) || failure.item_identifier.is_empty(),
            "reported a message that is not in the batch"
        );
    }
    let reported: HashSet<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    let handled = handled.into_inner().unwrap_or_default();
    for id in ids.iter().flatten() {
        let was_handled = handled.iter().any(|h| h == id);
        assert!(
            was_handled || reported.contains(id.as_str()),
            "a record was neither handled nor reported failed"
        );
    }
});
