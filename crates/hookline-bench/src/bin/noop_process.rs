//! hookline's processor with a handler that does nothing: what the processor pipeline itself
//! costs (envelope parsing, batch bookkeeping, the Runtime API round trip).

async fn handle(_: hookline::Delivery) -> Result<(), hookline::BoxError> {
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), hookline::lambda_runtime::Error> {
    hookline::lambda::run_processor(handle).await
}
