//! A processor for the idempotency-table test: writes one item per delivery (keyed by its body,
//! which the test makes unique and short; with its dedup id) to the table `HOOKLINE_IDEMPOTENCY_TABLE` names, with aws-sdk-dynamodb configured only by
//! the environment the stack gives it (`AWS_ENDPOINT_URL_DYNAMODB`, region, credentials), as a
//! deployed processor is.

use std::sync::OnceLock;

use aws_sdk_dynamodb::types::AttributeValue;
use hookline::config::{idempotency_table, vars};
use hookline::{BoxError, Delivery};

static CLIENT: OnceLock<aws_sdk_dynamodb::Client> = OnceLock::new();

async fn handle(delivery: Delivery) -> Result<(), BoxError> {
    let table = std::env::var(vars::IDEMPOTENCY_TABLE)?;
    let client = match CLIENT.get() {
        Some(client) => client,
        None => {
            let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            CLIENT.get_or_init(|| aws_sdk_dynamodb::Client::new(&config))
        }
    };
    client
        .put_item()
        .table_name(table)
        .item(
            idempotency_table::PARTITION_KEY,
            AttributeValue::S(String::from_utf8(delivery.body().to_vec())?),
        )
        .item(
            "dedup_id",
            AttributeValue::S(delivery.dedup_id().to_owned()),
        )
        .send()
        .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), hookline::lambda_runtime::Error> {
    hookline::lambda::run_processor(handle).await
}
