//! A moto server (a real AWS-protocol endpoint on loopback) for the integration tests, and an
//! SDK config that reaches it.

pub use hookline_test_moto::Moto;

/// An AWS SDK config for this moto server, with dummy credentials.
pub async fn sdk_config(moto: &Moto) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&moto.endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .load()
        .await
}
