//! The MD5 digests SQS returns, which SDKs (boto3 among them) check.

use md5::{Digest, Md5};

use super::message::AttributeValue;

/// Hex MD5 of a message body.
pub fn of_body(body: &str) -> String {
    hex(Md5::digest(body.as_bytes()).as_slice())
}

/// Hex MD5 of message attributes as SQS computes it: attributes sorted by name; for each, the
/// name, the data type and the value, each prefixed by its 4-byte big-endian length, with a
/// transport byte (1 string, 2 binary) between the type and the value.
pub fn of_attributes<'a>(
    attributes: impl IntoIterator<Item = (&'a String, &'a AttributeValue)>,
) -> Option<String> {
    let mut sorted: Vec<_> = attributes.into_iter().collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut md5 = Md5::new();
    let field = |md5: &mut Md5, bytes: &[u8]| {
        md5.update(u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
        md5.update(bytes);
    };
    for (name, value) in sorted {
        field(&mut md5, name.as_bytes());
        field(&mut md5, value.data_type.as_bytes());
        match &value.binary_value {
            Some(binary) => {
                md5.update([2u8]);
                field(&mut md5, binary);
            }
            None => {
                md5.update([1u8]);
                field(
                    &mut md5,
                    value.string_value.as_deref().unwrap_or_default().as_bytes(),
                );
            }
        }
    }
    Some(hex(md5.finalize().as_slice()))
}

/// Hex MD5 of the message system attributes sent with a message (`MD5OfMessageSystemAttributes`):
/// the only one SQS accepts is `AWSTraceHeader`, a String, digested as message attributes are.
pub fn of_trace_header(value: &str) -> String {
    let attribute = AttributeValue {
        data_type: "String".to_owned(),
        string_value: Some(value.to_owned()),
        binary_value: None,
    };
    let name = super::message::TRACE_HEADER.to_owned();
    of_attributes([(&name, &attribute)]).unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn digests_match_what_sqs_returns() {
        // Body and attribute digests as returned for SendMessage("hi", {a: String "v"}).
        assert_eq!(of_body("hi"), "49f68a5c8493ec2c0bf489821c21fc3b");
        let attrs = BTreeMap::from([(
            "a".to_owned(),
            AttributeValue {
                data_type: "String".into(),
                string_value: Some("v".into()),
                binary_value: None,
            },
        )]);
        assert_eq!(
            of_attributes(&attrs).as_deref(),
            Some("a18cbb58171ebf4ce88d9fb787f9210b")
        );
        assert_eq!(of_attributes(&BTreeMap::new()), None);
    }
}
