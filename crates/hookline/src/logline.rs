//! The functions' log lines: one JSON object per line (tracing-subscriber's JSON format), which
//! the stack's CloudWatch Logs metric filters and anyone's Logs Insights queries read. The names
//! here are that contract; `hookline-manifest` builds the filters from them.
//!
//! ```json
//! {"timestamp":"…","level":"WARN","fields":{"message":"webhook rejected","provider":"stripe","status":401,"code":"invalid_signature",…},"span":{"provider":"stripe","stage":"prod","name":"invocation"}}
//! ```
//!
//! Every line written while an invocation runs carries its provider and stage under `span`
//! (the invocation span that `lambda::run_ingest` and `lambda::run_processor` enter), the
//! handler's own lines included.

use tracing_subscriber::fmt::format::{Format, Json, JsonFields};
use tracing_subscriber::fmt::{Layer, MakeWriter};

/// The object of an event's own fields: its `message` and the fields given to the macro.
pub const FIELDS: &str = "fields";
/// The object of the current span's fields.
pub const SPAN: &str = "span";
/// The name of the span of one invocation.
pub const INVOCATION_SPAN: &str = "invocation";
/// The event's message, in [`FIELDS`].
pub const MESSAGE: &str = "message";
/// The provider's name, in [`SPAN`] (and in ingest's request line's [`FIELDS`]).
pub const PROVIDER: &str = "provider";
/// The stage, in [`SPAN`].
pub const STAGE: &str = "stage";
/// Ingest's request line: the HTTP status answered, a number, in [`FIELDS`].
pub const STATUS: &str = "status";
/// Ingest's request line: the error code of a refused request, in [`FIELDS`].
pub const CODE: &str = "code";
/// The processor's line for each message its handler completed, or had completed before (then
/// with `duplicate: true`) ([`MESSAGE`]); `cargo xtask send --stage --wait` looks for it.
pub const MESSAGE_PROCESSED: &str = "message processed";
/// The processor's line for each message it reports failed ([`MESSAGE`]), with the error's
/// code in [`CODE`] (`process::ItemError::code`).
pub const MESSAGE_FAILED: &str = "message failed";
/// The code of a message that failed only because another invocation is running its handler
/// now: it is handed out again, and is then a duplicate of that one or runs itself.
pub const IN_PROGRESS_ELSEWHERE: &str = "in_progress_elsewhere";

/// The JSON format of every line, writing to `writer`: the event's fields under [`FIELDS`],
/// the current span's under [`SPAN`], no target, no list of parent spans.
pub fn json_layer<S, W>(writer: W) -> Layer<S, JsonFields, Format<Json>, W>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    tracing_subscriber::fmt::layer()
        .json()
        .with_target(false)
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(writer)
}

/// The span of one invocation: every line inside carries `provider` and `stage`.
pub fn invocation_span(provider: &str, stage: &str) -> tracing::Span {
    tracing::info_span!("invocation", provider = provider, stage = stage)
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use serde_json::Value;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Buffer {
            self.clone()
        }
    }

    fn logged(emit: impl FnOnce()) -> Vec<Value> {
        let buffer = Buffer::default();
        let subscriber = tracing_subscriber::registry().with(json_layer(buffer.clone()));
        tracing::subscriber::with_default(subscriber, emit);
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The paths the stack's metric filters select (`$.fields.status`, `$.span.provider`, ...)
    /// are where the format puts them.
    #[test]
    fn lines_carry_their_fields_and_the_invocations_provider_and_stage() {
        let lines = logged(|| {
            let _entered = invocation_span("stripe", "prod").entered();
            tracing::warn!(
                status = 401_i64,
                code = "invalid_signature",
                "webhook rejected"
            );
            tracing::error!(message_id = "m1", "message failed");
        });
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0][FIELDS][STATUS], 401);
        assert_eq!(lines[0][FIELDS][CODE], "invalid_signature");
        assert_eq!(lines[0][FIELDS][MESSAGE], "webhook rejected");
        assert_eq!(lines[1][FIELDS][MESSAGE], MESSAGE_FAILED);
        for line in &lines {
            assert_eq!(line[SPAN][PROVIDER], "stripe");
            assert_eq!(line[SPAN][STAGE], "prod");
            assert_eq!(line[SPAN]["name"], INVOCATION_SPAN);
            assert!(
                line.get("target").is_none() && line.get("spans").is_none(),
                "{line}"
            );
        }
        let outside = logged(|| tracing::info!("started"));
        assert!(outside[0].get(SPAN).is_none());
    }
}
