//! The queue and event source settings of a provider: kind, batching, visibility, retention,
//! and for FIFO queues the message group.

use hookline::queue::GroupBy;
use toml::Spanned;

use super::{Ctx, u32_of};
use crate::limits::*;
use crate::raw::RawQueue;
use crate::{ManifestError, Queue, QueueKind};

/// `[providers.queue]`, checked, with its defaults; `at` names a field of the provider.
pub(super) fn queue(
    ctx: &Ctx<'_>,
    q: &RawQueue,
    at: &dyn Fn(&str) -> String,
    processor_timeout_secs: u32,
) -> Result<Queue, ManifestError> {
    let kind = match ctx.choice(
        &q.kind,
        &at("queue.kind"),
        "standard",
        &["standard", "fifo"],
    )? {
        "fifo" => QueueKind::Fifo,
        _ => QueueKind::Standard,
    };
    let fifo = kind == QueueKind::Fifo;
    let batch_size = ctx.int(
        &q.batch_size,
        &at("queue.batch_size"),
        DEFAULT_BATCH_SIZE,
        if fifo {
            FIFO_BATCH_SIZE
        } else {
            STANDARD_BATCH_SIZE
        },
    )?;
    let window = ctx
        .int(
            &q.max_batching_window_secs,
            &at("queue.max_batching_window_secs"),
            0,
            if fifo {
                FIFO_BATCHING_WINDOW_SECS
            } else {
                STANDARD_BATCHING_WINDOW_SECS
            },
        )
        .map_err(|mut e| {
            if fifo {
                e.message
                    .push_str(" (Lambda has no batching window for FIFO queues)");
            }
            e
        })?;
    if batch_size > BATCH_SIZE_WITHOUT_WINDOW && window < 1 {
        let span = q.batch_size.as_ref().map(Spanned::span);
        return Err(ctx.error(span, &at("queue.batch_size"), format!("a batch size of {batch_size} (over {BATCH_SIZE_WITHOUT_WINDOW}) needs queue.max_batching_window_secs of at least 1")));
    }
    let min_visibility = min_visibility_timeout_secs(u64::from(processor_timeout_secs), window);
    let visibility = ctx.int(
        &q.visibility_timeout_secs,
        &at("queue.visibility_timeout_secs"),
        min_visibility.min(*VISIBILITY_TIMEOUT_SECS.end()),
        VISIBILITY_TIMEOUT_SECS,
    )?;
    if visibility < min_visibility {
        let span = q.visibility_timeout_secs.as_ref().map(Spanned::span);
        return Err(ctx.error(span, &at("queue.visibility_timeout_secs"), format!("{visibility} s is less than {VISIBILITY_TIMEOUT_FACTOR} × the processor timeout ({} s) + the batching window ({window} s), as AWS recommends: use at least {min_visibility}", processor_timeout_secs)));
    }
    let group_by = match &q.group_by {
        None => fifo.then(GroupBy::default),
        Some(text) if !fifo => {
            return Err(ctx.error(
                Some(text.span()),
                &at("queue.group_by"),
                "only applies to FIFO queues (kind = \"fifo\"): a standard queue has no message groups and no order to keep",
            ));
        }
        Some(text) => Some(
            text.get_ref()
                .parse::<GroupBy>()
                .map_err(|e| ctx.error(Some(text.span()), &at("queue.group_by"), e.to_string()))?,
        ),
    };
    Ok(Queue {
        kind,
        group_by,
        batch_size: u32_of(batch_size),
        max_batching_window_secs: u32_of(window),
        max_receive_count: u32_of(ctx.int(
            &q.max_receive_count,
            &at("queue.max_receive_count"),
            DEFAULT_MAX_RECEIVE_COUNT,
            MAX_RECEIVE_COUNT,
        )?),
        visibility_timeout_secs: u32_of(visibility),
        retention_secs: u32_of(retention(
            ctx,
            &q.retention_secs,
            &at("queue.retention_secs"),
            fifo,
        )?),
    })
}

/// A queue's retention: the whole SQS range for FIFO queues, below the DLQ's for standard ones.
fn retention(
    ctx: &Ctx<'_>,
    value: &Option<Spanned<i64>>,
    field: &str,
    fifo: bool,
) -> Result<u64, ManifestError> {
    if fifo {
        return ctx.int(value, field, DEFAULT_RETENTION_SECS, RETENTION_SECS);
    }
    ctx.int(value, field, DEFAULT_RETENTION_SECS, STANDARD_RETENTION_SECS)
        .map_err(|mut e| {
            e.message.push_str(&format!(
                " for a standard queue: a message moved to its dead-letter queue keeps the time it was first queued, and the DLQ keeps messages {} days from then, so the queue's retention must leave at least {} days there (FIFO queues, which reset that time, allow up to {})",
                DLQ_RETENTION_SECS / 86_400,
                DLQ_MIN_DWELL_SECS / 86_400,
                RETENTION_SECS.end()
            ));
            e
        })
}
