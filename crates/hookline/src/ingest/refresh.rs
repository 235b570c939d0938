//! Re-reading the signing secrets after a signature mismatch. Secrets are read at cold start;
//! after one is changed (`cargo xtask secret set`), warm instances would refuse every delivery
//! signed with the new one until Lambda recycles them, and GitHub never retries what was refused.
//! So a mismatch re-reads the secrets, at most once per [`SECRET_REFRESH_INTERVAL`] per instance
//! (a flood of forged requests costs at most one read a minute), and never on the happy path.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;

use crate::secrets::SecretError;
use crate::verify::{SigningSecret, Verifier};

/// The shortest time between two reads of the secrets by one instance.
pub const SECRET_REFRESH_INTERVAL: Duration = Duration::from_secs(60);

/// Reads the current secrets (Secrets Manager on AWS).
pub type SecretLoader =
    Box<dyn Fn() -> BoxFuture<'static, Result<Vec<SigningSecret>, SecretError>> + Send + Sync>;

/// The verifier in force, and how to renew it.
pub(crate) struct Verifiers {
    current: RwLock<Arc<Verifier>>,
    refresh: Option<Refresh>,
}

struct Refresh {
    load: SecretLoader,
    interval: Duration,
    /// When the secrets were last read (the cold start counts).
    last: Mutex<Instant>,
}

impl Verifiers {
    pub(crate) fn new(verifier: Verifier) -> Verifiers {
        Verifiers {
            current: RwLock::new(Arc::new(verifier)),
            refresh: None,
        }
    }

    pub(crate) fn with_refresh(mut self, load: SecretLoader, interval: Duration) -> Verifiers {
        self.refresh = Some(Refresh {
            load,
            interval,
            last: Mutex::new(Instant::now()),
        });
        self
    }

    /// The verifier in force.
    pub(crate) fn current(&self) -> Arc<Verifier> {
        match self.current.read() {
            Ok(current) => Arc::clone(&current),
            // A panic while replacing it cannot leave a half-written Arc: use what is there.
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// After a mismatch: a verifier with freshly read secrets, when a read is due; `None`
    /// otherwise (no refresh configured, read less than an interval ago, or unreadable). A
    /// delivery signed with a new secret that arrives within the interval after a read (the
    /// cold start, or a re-read forged requests can trigger) is refused: a provider that retries
    /// a 401 gets it through on a later attempt, but GitHub retries nothing and HubSpot no 401
    /// (docs/providers.md), so those are lost unless redelivered by hand. Writing the new secret
    /// beside the old one a minute before the provider switches avoids it.
    pub(crate) async fn refreshed(&self, provider: &str) -> Option<Arc<Verifier>> {
        let refresh = self.refresh.as_ref()?;
        {
            let mut last = refresh.last.lock().ok()?;
            if last.elapsed() < refresh.interval {
                return None;
            }
            *last = Instant::now();
        }
        let current = self.current();
        let secrets = match (refresh.load)().await {
            Ok(secrets) => secrets,
            Err(err) => {
                tracing::warn!(provider, error = %err, "re-reading the signing secrets failed; keeping the ones in use");
                return None;
            }
        };
        let fresh = match Verifier::new(current.scheme().clone(), &secrets, current.tolerance()) {
            Ok(fresh) => Arc::new(fresh),
            Err(err) => {
                tracing::warn!(provider, error = %err, "the re-read signing secrets cannot be used; keeping the ones in use");
                return None;
            }
        };
        tracing::info!(
            provider,
            secrets = secrets.len(),
            "signing secrets re-read after a signature mismatch"
        );
        if let Ok(mut slot) = self.current.write() {
            *slot = Arc::clone(&fresh);
        }
        Some(fresh)
    }
}

#[cfg(test)]
impl Verifiers {
    /// Pretends the secrets were last read `ago` (tests).
    pub(crate) fn backdate_last_read(&self, ago: Duration) {
        if let Some(refresh) = &self.refresh
            && let Ok(mut last) = refresh.last.lock()
            && let Some(earlier) = Instant::now().checked_sub(ago)
        {
            *last = earlier;
        }
    }
}

impl std::fmt::Debug for Verifiers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifiers")
            .field("current", &self.current())
            .field("refresh", &self.refresh.as_ref().map(|r| r.interval))
            .finish()
    }
}
