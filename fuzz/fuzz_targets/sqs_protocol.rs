//! The local SQS endpoint's JSON protocol: input `<Action>` on the first line, the request
//! body after it, run against one durable store per fuzz process (on tmpfs when there is one).
//!
//! Every answer is a result or an error the caller is blamed for (`SenderFault`), never an
//! internal error, and the store keeps answering afterwards.
#![no_main]

use std::sync::OnceLock;

use hookline_local::sqs::{StoreHandle, dispatch};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    store: StoreHandle,
    runtime: tokio::runtime::Runtime,
    _dir: std::path::PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            std::path::PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("hookline-fuzz-sqs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {dir:?}: {e}"));
        let store = StoreHandle::start(&dir.join("sqs.db"), "127.0.0.1:9324")
            .unwrap_or_else(|e| panic!("opening the store: {e}"));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap_or_else(|e| panic!("starting tokio: {e}"));
        for body in [
            r#"{"QueueName":"fuzz"}"#,
            r#"{"QueueName":"fuzz.fifo","Attributes":{"FifoQueue":"true"}}"#,
        ] {
            runtime
                .block_on(dispatch(&store, "CreateQueue", body.as_bytes()))
                .unwrap_or_else(|e| panic!("creating the fuzz queues: {e}"));
        }
        Fixture {
            store,
            runtime,
            _dir: dir,
        }
    })
}

/// A receive that would wait for messages (up to 20 s, by request or by queue attribute) asks
/// not to: the long poll is tested elsewhere, and waiting would stall the fuzzer. Invalid wait
/// values are left alone, so their validation is still fuzzed.
fn without_long_poll(action: &str, body: &[u8]) -> Vec<u8> {
    if action != "ReceiveMessage" {
        return body.to_vec();
    }
    let Ok(serde_json::Value::Object(mut request)) = serde_json::from_slice(body) else {
        return body.to_vec();
    };
    let valid_wait = match request.get("WaitTimeSeconds") {
        None => true,
        Some(wait) => wait.as_u64().is_some_and(|w| w <= 20),
    };
    if valid_wait {
        request.insert("WaitTimeSeconds".into(), 0.into());
    }
    serde_json::Value::Object(request).to_string().into_bytes()
}

fuzz_target!(|data: &[u8]| {
    let (action, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(action) = std::str::from_utf8(action) else {
        return;
    };
    let action = action.trim();
    let body = without_long_poll(action, body);
    let fixture = fixture();
    let result = fixture
        .runtime
        .block_on(dispatch(&fixture.store, action, &body));
    if let Err(err) = result {
        assert!(
            err.sender_fault,
            "an internal error for {action}: {} {}",
            err.code, err.message
        );
        assert!(
            !err.code.is_empty() && !err.message.is_empty(),
            "an empty error"
        );
    }
    let alive = fixture
        .runtime
        .block_on(dispatch(&fixture.store, "ListQueues", b"{}"));
    assert!(alive.is_ok(), "the store stopped answering: {alive:?}");
});
