//! The local gateway's mapping of whatever a function answers (any bytes) to an HTTP
//! response: never a panic, and a `statusCode` it keeps is the status it answers.
#![no_main]

use hookline_local::gateway;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(response) = gateway::proxy_response(data) {
        let declared = serde_json::from_slice::<serde_json::Value>(data)
            .ok()
            .and_then(|v| v.get("statusCode").and_then(serde_json::Value::as_u64));
        if let Some(declared) = declared {
            assert_eq!(u64::from(response.status().as_u16()), declared);
        }
    }
});
