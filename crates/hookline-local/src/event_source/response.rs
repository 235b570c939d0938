//! What a processor's answer means for its batch, with `ReportBatchItemFailures` ("Using Lambda
//! with Amazon SQS", "Implementing partial batch responses").

use std::collections::HashSet;

use serde_json::Value;

/// What a processor's answer means for its batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Delete everything.
    Succeeded,
    /// Delete everything but these message ids.
    PartiallyFailed(Vec<String>),
    /// Delete nothing.
    Failed(String),
}

/// Reads a processor's response as Lambda does with `ReportBatchItemFailures`: empty, null or
/// an empty list is success; an unknown, empty or missing `itemIdentifier`, or a response that
/// is not JSON, fails the whole batch.
pub fn interpret(response: &[u8], batch_ids: &[String]) -> BatchOutcome {
    let text = String::from_utf8_lossy(response);
    if text.trim().is_empty() {
        return BatchOutcome::Succeeded;
    }
    let value: Value = match serde_json::from_str(&text) {
        Ok(value) => value,
        Err(_) => return BatchOutcome::Failed("the response is not valid JSON".into()),
    };
    let failures = match value.get("batchItemFailures") {
        None | Some(Value::Null) => return BatchOutcome::Succeeded,
        Some(Value::Array(items)) if items.is_empty() => return BatchOutcome::Succeeded,
        Some(Value::Array(items)) => items,
        Some(_) => return BatchOutcome::Failed("batchItemFailures is not a list".into()),
    };
    let known: HashSet<&str> = batch_ids.iter().map(String::as_str).collect();
    let mut failed = Vec::new();
    for item in failures {
        match item.get("itemIdentifier").and_then(Value::as_str) {
            Some(id) if !id.is_empty() && known.contains(id) => failed.push(id.to_owned()),
            Some(id) if !id.is_empty() => {
                return BatchOutcome::Failed(format!("itemIdentifier {id} is not in the batch"));
            }
            _ => return BatchOutcome::Failed("an itemIdentifier is empty, null or missing".into()),
        }
    }
    BatchOutcome::PartiallyFailed(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        vec!["m1".into(), "m2".into()]
    }

    #[test]
    fn success_shapes() {
        for response in [
            "",
            "null",
            "{}",
            r#"{"batchItemFailures":[]}"#,
            r#"{"batchItemFailures":null}"#,
        ] {
            assert_eq!(
                interpret(response.as_bytes(), &ids()),
                BatchOutcome::Succeeded,
                "{response}"
            );
        }
    }

    #[test]
    fn partial_failures_name_their_messages() {
        let response = br#"{"batchItemFailures":[{"itemIdentifier":"m2"}]}"#;
        assert_eq!(
            interpret(response, &ids()),
            BatchOutcome::PartiallyFailed(vec!["m2".into()])
        );
    }

    #[test]
    fn invalid_responses_fail_the_whole_batch() {
        for response in [
            "not json",
            r#"{"batchItemFailures":[{"itemIdentifier":""}]}"#,
            r#"{"batchItemFailures":[{"itemIdentifier":null}]}"#,
            r#"{"batchItemFailures":[{"itemId":"m1"}]}"#,
            r#"{"batchItemFailures":[{"itemIdentifier":"m9"}]}"#,
            r#"{"batchItemFailures":"m1"}"#,
        ] {
            assert!(
                matches!(
                    interpret(response.as_bytes(), &ids()),
                    BatchOutcome::Failed(_)
                ),
                "{response}"
            );
        }
    }
}
