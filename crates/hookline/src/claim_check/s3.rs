//! [`S3Bodies`]: the [`BodyStore`] on aws-sdk-s3 (feature `aws`).

use std::time::Duration;

use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use base64::Engine as _;

use super::{BodyRef, BodyStore, BodyStoreError, BoxFuture};

/// Per-attempt and total time allowed for a call. Ingest puts the body before it queues the
/// message, inside the provider's patience (GitHub and Stripe wait 10 s, and ingest's own
/// timeout is 10 s by default): a slow bucket must end in a 503 the provider retries.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(6);

/// An S3 bucket of bodies (or anything that speaks S3's REST protocol: the local stack's
/// endpoint, with `AWS_ENDPOINT_URL_S3`).
#[derive(Debug, Clone)]
pub struct S3Bodies {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Bodies {
    /// A store on a client from the standard AWS configuration chain (`AWS_REGION`,
    /// credentials, `AWS_ENDPOINT_URL_S3`).
    pub async fn from_env(bucket: impl Into<String>) -> S3Bodies {
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .operation_timeout(OPERATION_TIMEOUT)
            .build();
        let config = aws_config::from_env().timeout_config(timeouts).load().await;
        S3Bodies::new(aws_sdk_s3::Client::new(&config), bucket)
    }

    /// A store on a given client.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> S3Bodies {
        S3Bodies {
            client,
            bucket: bucket.into(),
        }
    }
}

fn unavailable(err: impl std::error::Error) -> BodyStoreError {
    BodyStoreError::Unavailable(DisplayErrorContext(err).to_string())
}

impl BodyStore for S3Bodies {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    fn put<'a>(
        &'a self,
        body_ref: &'a BodyRef,
        body: &'a [u8],
    ) -> BoxFuture<'a, Result<(), BodyStoreError>> {
        Box::pin(async move {
            let sha256 = hex::decode(&body_ref.sha256).map_err(unavailable)?;
            // S3 checks the body against this digest and refuses the put when they differ
            // (S3 user guide, "Checking object integrity"): what is stored is what was hashed.
            self.client
                .put_object()
                .bucket(&body_ref.bucket)
                .key(&body_ref.key)
                .checksum_sha256(base64::engine::general_purpose::STANDARD.encode(sha256))
                .body(ByteStream::from(body.to_vec()))
                .send()
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }

    fn get<'a>(&'a self, body_ref: &'a BodyRef) -> BoxFuture<'a, Result<Vec<u8>, BodyStoreError>> {
        Box::pin(async move {
            let object = self
                .client
                .get_object()
                .bucket(&body_ref.bucket)
                .key(&body_ref.key)
                .send()
                .await
                .map_err(|err| match err.as_service_error() {
                    Some(e) if e.is_no_such_key() => BodyStoreError::Missing {
                        key: body_ref.key.clone(),
                    },
                    // "If you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP
                    // status code 403 Access Denied error" for a missing key (S3 API reference,
                    // GetObject): a processor may only get and delete, so say both causes.
                    Some(e) if e.meta().code() == Some("AccessDenied") => {
                        BodyStoreError::Unavailable(format!(
                            "AccessDenied reading `{}`: the body is gone (processed already, or expired), or this role may not read it",
                            body_ref.key
                        ))
                    }
                    _ => unavailable(err),
                })?;
            let body = object.body.collect().await.map_err(unavailable)?;
            body_ref.check(body.into_bytes().to_vec())
        })
    }

    fn delete<'a>(&'a self, body_ref: &'a BodyRef) -> BoxFuture<'a, Result<(), BodyStoreError>> {
        Box::pin(async move {
            self.client
                .delete_object()
                .bucket(&body_ref.bucket)
                .key(&body_ref.key)
                .send()
                .await
                .map_err(unavailable)?;
            Ok(())
        })
    }
}
