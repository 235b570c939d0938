//! The limit of the machine for the gateway's job: an axum server that reads the request body
//! and answers `200 {"status":"received"}`. Usage: `bare-axum [addr]`.

use axum::body::Bytes;

async fn answer(_body: Bytes) -> ([(&'static str, &'static str); 1], &'static str) {
    (
        [("content-type", "application/json")],
        "{\"status\":\"received\"}",
    )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = hookline_bench::bind_from_args().await?;
    let app = axum::Router::new().fallback(answer);
    axum::serve(listener, app).await
}
