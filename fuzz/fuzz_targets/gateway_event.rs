//! The local gateway's HTTP → payload-2.0 conversion, end to end through ingest and back:
//! every event the gateway makes must parse as aws_lambda_events does, carry the body byte
//! for byte, and every ingest answer must map back to the same HTTP status.
//!
//! Input: `<scheme> <now> <secret> [fail]`, then `METHOD /path?query`, headers, empty line,
//! body.
#![no_main]

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use hookline_local::gateway;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(parts) = hookline_fuzz::split(data) else {
        return;
    };
    let Some(setup) = hookline_fuzz::ingest_setup(&parts.config) else {
        return;
    };
    let (request_line, head) = match parts.head.iter().position(|&b| b == b'\n') {
        Some(i) => (&parts.head[..i], &parts.head[i + 1..]),
        None => (parts.head, &[][..]),
    };
    let mut words = request_line.split(|&b| b == b' ');
    let (Some(Ok(method)), Some(Ok(uri))) = (
        words.next().map(http::Method::from_bytes),
        words.next().map(http::Uri::try_from),
    ) else {
        return;
    };
    let headers = hookline_fuzz::headers(head);
    let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 40000));
    let event = gateway::event(&method, &uri, &headers, parts.body, peer).to_string();
    let request: ApiGatewayV2httpRequest = match serde_json::from_str(&event) {
        Ok(request) => request,
        Err(err) => panic!("the gateway made an event aws_lambda_events cannot read: {err}"),
    };
    assert_eq!(
        hookline_fuzz::request_body(&request).as_deref(),
        Some(parts.body),
        "the event changed the body"
    );

    let response = hookline_fuzz::check_ingest(&setup, request);
    let payload = match serde_json::to_vec(&response) {
        Ok(payload) => payload,
        Err(err) => panic!("an ingest response did not serialise: {err}"),
    };
    match gateway::proxy_response(&payload) {
        Some(http) => assert_eq!(
            i64::from(http.status().as_u16()),
            response.status_code,
            "the gateway changed the status"
        ),
        None => panic!("the gateway could not map an ingest response"),
    }
});
