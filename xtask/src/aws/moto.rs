//! moto for the tests of the AWS commands (`hookline-test-moto`), and an AWS environment that
//! reaches it.

pub use hookline_test_moto::Moto;

use aws_sdk_cloudformation::types::Tag;

use crate::aws::AwsEnv;
use crate::aws::env::fixtures;

/// An AWS environment that reaches `moto` with static keys, in the fixtures' region.
pub fn env(moto: &Moto) -> AwsEnv {
    fixtures::with(&[
        ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_ENDPOINT_URL", &moto.endpoint),
    ])
}

/// Creates a stack of one queue with these tags (a stand-in for a stage's stack).
pub async fn create_stack(cfn: &aws_sdk_cloudformation::Client, name: &str, tags: &[(&str, &str)]) {
    let template = r#"{"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}"#;
    cfn.create_stack()
        .stack_name(name)
        .template_body(template)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
                .collect(),
        ))
        .send()
        .await
        .expect("creating a stack on moto");
}
