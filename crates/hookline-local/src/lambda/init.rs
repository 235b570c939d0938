//! Init failures: a function whose process dies (or posts `/runtime/init/error`) before asking
//! for its first invocation.
//!
//! Lambda does not keep an invocation waiting for an environment whose init failed: it answers
//! it with the init error as a function error, the `errorType` and `errorMessage` the runtime
//! posted ("Using the Lambda runtime API for custom runtimes", Initialization error: "If the
//! runtime encounters an error during initialization, it posts an error message to the
//! initialization error path"), or `Runtime.ExitError` ("Runtime exited with error: exit status
//! 1") when the process exits first. So do we: every invocation waiting for an instance fails
//! with that error when no other instance is alive to take it.
//!
//! Lambda starts a new environment for a later invocation. A local process that fails its init
//! deterministically (a missing variable) would then be started again for every webhook, and the
//! old code restarted it in a loop while an invocation waited. Restarts back off instead:
//! [`INIT_RETRY_FIRST`] after the first failure, doubling up to [`INIT_RETRY_MAX`]; until then an
//! invocation fails at once with the last init error, without a start. A quarter second lets a
//! passing failure (a dependency still starting) recover almost at once; doubling makes a
//! permanent one cost a handful of starts; ten seconds at most means a fixed binary (rebuilt
//! while `cargo xtask dev` runs) is tried again within ten seconds. The first init that succeeds
//! clears it all. This is the one place the local stack is stricter than Lambda, which tries an
//! init for every invocation.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{Function, InvokeError, lock};

/// The wait before the first restart after an init failure.
pub const INIT_RETRY_FIRST: Duration = Duration::from_millis(250);
/// The longest wait between restarts of a function that keeps failing its init.
pub const INIT_RETRY_MAX: Duration = Duration::from_secs(10);

/// Consecutive init failures, and what the last one said.
#[derive(Default)]
pub(super) struct InitState {
    failures: u32,
    last_error: Option<String>,
    retry_at: Option<Instant>,
}

/// The wait before the next start after `failures` consecutive init failures (at least one).
fn retry_delay(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    INIT_RETRY_FIRST
        .saturating_mul(1 << doublings)
        .min(INIT_RETRY_MAX)
}

/// Lambda's `errorType: errorMessage` of what a runtime posted to `/runtime/init/error` (the
/// runtime API's error document), or the text itself when it is not one.
pub(super) fn describe_posted_error(error_type: Option<&str>, body: &[u8]) -> String {
    let document: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        document
            .as_ref()
            .and_then(|d| d.get(name))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let kind = field("errorType")
        .or_else(|| error_type.map(str::to_owned))
        .unwrap_or_else(|| "Runtime.Unknown".to_owned());
    let message =
        field("errorMessage").unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned());
    format!("{kind}: {message}")
}

impl Function {
    /// Init failures in a row (none since the last init that succeeded).
    pub fn init_failures(&self) -> u32 {
        lock(&self.inner.init).failures
    }

    /// The last init error, while restarts back off after it.
    pub(super) fn init_backoff(&self) -> Option<String> {
        let init = lock(&self.inner.init);
        match (init.retry_at, &init.last_error) {
            (Some(at), Some(error)) if Instant::now() < at => Some(error.clone()),
            _ => None,
        }
    }

    /// Records an init failure, logs it, and fails the invocations waiting for an instance when
    /// no instance is alive to take them.
    pub(super) fn init_failed(&self, error: String) {
        let (failures, delay) = {
            let mut init = lock(&self.inner.init);
            init.failures = init.failures.saturating_add(1);
            let delay = retry_delay(init.failures);
            init.retry_at = Some(Instant::now() + delay);
            init.last_error = Some(error.clone());
            (init.failures, delay)
        };
        self.log(&format!(
            "init failed ({failures} in a row): {error}; waiting invocations fail with this \
             error, and the next start is in {} ms at the earliest",
            delay.as_millis()
        ));
        if self.inner.running.load(Ordering::SeqCst) == 0 {
            self.fail_queued(&error);
        }
    }

    /// The first `next` of an instance: its init succeeded.
    pub(super) fn init_succeeded(&self) {
        let mut init = lock(&self.inner.init);
        if init.failures > 0 {
            *init = InitState::default();
        }
    }

    /// Fails every invocation that waits for an instance with the init error.
    pub(super) fn fail_queued(&self, error: &str) {
        // Held only by an instance waiting in `next`, which will take the invocations itself.
        let Ok(mut queue) = self.inner.queue.try_lock() else {
            return;
        };
        while let Ok(invocation) = queue.try_recv() {
            self.inner.pending.fetch_sub(1, Ordering::SeqCst);
            let _ = invocation
                .reply
                .send(Err(InvokeError::Init(error.to_owned())));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restarts_back_off_exponentially_up_to_the_cap() {
        let delays: Vec<u128> = (1..=8).map(|n| retry_delay(n).as_millis()).collect();
        assert_eq!(delays, [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
        assert_eq!(retry_delay(u32::MAX), INIT_RETRY_MAX);
    }

    #[test]
    fn a_posted_init_error_reads_as_lambda_reports_it() {
        let posted =
            br#"{"errorMessage":"HOOKLINE_QUEUE_URL is not set","errorType":"Runtime.InitError"}"#;
        assert_eq!(
            describe_posted_error(None, posted),
            "Runtime.InitError: HOOKLINE_QUEUE_URL is not set"
        );
        assert_eq!(
            describe_posted_error(Some("Unhandled"), b"not json\n"),
            "Unhandled: not json"
        );
        assert_eq!(describe_posted_error(None, b""), "Runtime.Unknown: ");
    }
}
