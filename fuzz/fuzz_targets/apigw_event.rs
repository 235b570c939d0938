//! Ingest from the raw API Gateway payload-2.0 event: input `<scheme> <now> <secret> [fail]`
//! on the first line, the event JSON after it. See `hookline_fuzz::check_ingest`.
#![no_main]

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(newline) = data.iter().position(|&b| b == b'\n') else {
        return;
    };
    let Ok(config) = std::str::from_utf8(&data[..newline]) else {
        return;
    };
    let config: Vec<&str> = config.split_whitespace().collect();
    let Some(setup) = hookline_fuzz::ingest_setup(&config) else {
        return;
    };
    let Ok(request) = serde_json::from_slice::<ApiGatewayV2httpRequest>(&data[newline + 1..])
    else {
        return;
    };
    hookline_fuzz::check_ingest(&setup, request);
});
