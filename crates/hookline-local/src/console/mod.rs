//! The local console: what the dev stack received, what became of it, its queues and
//! dead-letter queues, replay and redrive, in a browser at `http://127.0.0.1:3000/_hookline/`.
//!
//! Served by the gateway's own listener under [`PATH`], to loopback clients only, and only for
//! a loopback `Host` (a page elsewhere cannot reach it through DNS rebinding); a form post must
//! come from the console's own origin. Pages are HTML rendered here ([`pages`]), readable
//! without JavaScript, with a small script ([`assets`]) that refreshes the live parts; every
//! page has a JSON twin under `/_hookline/api/` ([`api`]).
//!
//! What it shows comes from the stack's parts, told as things happen ([`record`]): the
//! gateway's requests and answers, the SQS endpoint's sends and moves, the event source's
//! attempts and the processors' log lines, kept in `.hookline/console.db` ([`history`]).

pub mod actions;
mod api;
mod assets;
mod errors;
mod filters;
pub mod history;
mod html;
mod pages;
pub mod query;
mod queues;
pub mod record;
mod show;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use hookline::Scheme;

use crate::event_source::AttemptObserver;
use crate::gateway::ExchangeObserver;
use crate::logs::Tap;
use crate::samples::Sample;
use crate::sqs::StoreHandle;
use crate::sqs::observe::Observer;

pub use errors::ConsoleError;
pub use history::History;

/// Where the console is served on the gateway's listener.
pub const PATH: &str = "/_hookline";

/// The history's file in the data folder.
pub const HISTORY_FILE: &str = "console.db";

/// A provider as the console knows it.
#[derive(Clone)]
pub struct ConsoleProvider {
    /// Its name.
    pub name: String,
    /// Its scheme (which headers to mask, how to sign).
    pub scheme: Scheme,
    /// Its route on the gateway.
    pub route: String,
    /// What a sender signs with (never shown).
    pub signing_key: String,
    /// Its queue.
    pub queue: String,
    /// Its dead-letter queue.
    pub dlq: String,
    /// Its sample deliveries, or why they could not be read.
    pub samples: Result<Vec<Sample>, String>,
}

/// The console of a running stack.
pub struct Console {
    history: History,
    providers: Vec<ConsoleProvider>,
    store: StoreHandle,
    /// The webhook routes (for sends and replays made in-process) and the gateway's address.
    ingress: OnceLock<(Router, SocketAddr)>,
}

/// Opens the history in `data_dir`.
pub fn open_history(data_dir: &Path) -> Result<History, String> {
    let path = data_dir.join(HISTORY_FILE);
    History::open(&path, history::Limits::default())
        .map_err(|e| format!("opening the console history {}: {e}", path.display()))
}

/// Records every processing attempt.
pub fn attempt_observer(history: &History) -> AttemptObserver {
    let history = history.clone();
    Arc::new(move |attempts| record::attempts(attempts).for_each(|r| history.record(r)))
}

/// Records what processors say about the messages they fail.
pub fn log_tap(history: &History) -> Tap {
    let history = history.clone();
    Arc::new(move |_function: &str, line: &str| {
        if let Some(record) = record::handler_error(line) {
            history.record(record);
        }
    })
}

/// A provider of the manifest as the console needs it: its scheme, route, signing key, queues
/// and samples (from its crate under `project_root`).
pub fn provider(
    provider: &hookline_manifest::Provider,
    signing_key: &str,
    queue: &str,
    dlq: &str,
    project_root: Option<&std::path::Path>,
) -> Result<ConsoleProvider, crate::stack::StackError> {
    let scheme = provider
        .scheme()
        .map_err(|e| crate::stack::StackError::Provider {
            provider: provider.name.clone(),
            message: e.to_string(),
        })?;
    let samples = match project_root {
        Some(root) => crate::samples::load(&crate::samples::fixtures_dir(root, provider))
            .map_err(|e| e.to_string()),
        None => Err("the stack was started without its project folder".to_owned()),
    };
    Ok(ConsoleProvider {
        name: provider.name.clone(),
        scheme,
        route: provider.route.clone(),
        signing_key: signing_key.to_owned(),
        queue: queue.to_owned(),
        dlq: dlq.to_owned(),
        samples,
    })
}

impl Console {
    /// The console over `history` for `providers`, whose queues live in `store`.
    pub fn new(
        history: History,
        providers: Vec<ConsoleProvider>,
        store: StoreHandle,
    ) -> Arc<Console> {
        Arc::new(Console {
            history,
            providers,
            store,
            ingress: OnceLock::new(),
        })
    }

    /// The providers.
    pub fn providers(&self) -> &[ConsoleProvider] {
        &self.providers
    }

    /// A provider by name.
    pub fn provider(&self, name: &str) -> Option<&ConsoleProvider> {
        self.providers.iter().find(|p| p.name == name)
    }

    /// The history.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Records every request the gateway answers.
    pub fn exchange_observer(self: &Arc<Self>) -> ExchangeObserver {
        let console = Arc::clone(self);
        Arc::new(move |exchange| {
            let provider = console
                .providers
                .iter()
                .find(|p| p.route == exchange.uri.path())
                .map(|p| p.name.clone());
            console.history.record(record::delivery(exchange, provider));
        })
    }

    /// Records the sends to the providers' queues and every move between queues.
    pub fn queue_observer(self: &Arc<Self>) -> Observer {
        let console = Arc::clone(self);
        Arc::new(move |events| {
            let watched = |queue: &str| console.providers.iter().any(|p| p.queue == queue);
            for record in record::queue_events(events, &watched) {
                console.history.record(record);
            }
        })
    }

    /// Gives the console the webhook routes it sends and replays through, once the gateway
    /// listens at `addr`.
    pub fn attach(&self, webhooks: Router, addr: SocketAddr) {
        let _ = self.ingress.set((webhooks, addr));
    }

    /// The console's routes, all under [`PATH`]; everything else is left to a fallback (the
    /// gateway's webhook routes).
    pub fn router(self: &Arc<Self>) -> Router {
        let at = |path: &str| format!("{PATH}{path}");
        Router::new()
            .route(PATH, get(pages::deliveries))
            .route(&at("/"), get(pages::deliveries))
            .route(&at("/deliveries"), get(pages::deliveries))
            .route(&at("/deliveries/{id}"), get(pages::delivery))
            .route(&at("/deliveries/{id}/replay"), post(pages::replay))
            .route(&at("/queues"), get(pages::queues))
            .route(&at("/queues/{provider}/redrive"), post(pages::redrive_all))
            .route(
                &at("/queues/{provider}/dlq/{message}/redrive"),
                post(pages::redrive_one),
            )
            .route(
                &at("/queues/{provider}/dlq/{message}/delete"),
                post(pages::delete_one),
            )
            .route(&at("/send"), get(pages::send_forms).post(pages::send))
            .route(&at("/assets/{file}"), get(assets::serve))
            .route(&at("/{*rest}"), any(pages::not_found))
            .merge(api::router())
            .method_not_allowed_fallback(method_not_allowed)
            .layer(axum::middleware::from_fn(guard))
            .with_state(Arc::clone(self))
    }
}

/// A known path asked with a method it does not take: as JSON under the API, else a page.
async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> Response {
    let err = ConsoleError::MethodNotAllowed(format!("{} does not take {method}", uri.path()));
    if uri.path().starts_with(&format!("{PATH}/api/")) {
        err.json()
    } else {
        err.into_response()
    }
}

/// Whether `host` (a `Host` header's value) names this machine's loopback.
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Loopback clients only, for a loopback `Host`; state changes only from the console's own
/// pages (their `Origin`, or a JSON body, which a page elsewhere cannot send without CORS).
async fn guard(request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| *peer);
    if !peer.is_some_and(|p| p.ip().is_loopback()) {
        return ConsoleError::Forbidden("the console answers loopback clients only".into())
            .into_response();
    }
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if !loopback_host(&host) {
        return ConsoleError::Forbidden(format!(
            "the console answers for 127.0.0.1 and localhost only, not for host `{host}`"
        ))
        .into_response();
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        // What a browser says of a request a page elsewhere made (Fetch Metadata).
        let site = headers.get("sec-fetch-site").and_then(|s| s.to_str().ok());
        if matches!(site, Some("cross-site" | "same-site")) {
            return ConsoleError::Forbidden(
                "a change to the console must come from its own pages".into(),
            )
            .into_response();
        }
        let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
        if let Some(origin) = origin
            && origin != format!("http://{host}")
        {
            return ConsoleError::Forbidden(format!(
                "a change to the console must come from its own pages, not from {origin}"
            ))
            .into_response();
        }
    }
    next.run(request).await
}

/// The console's state in handlers.
type Shared = State<Arc<Console>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_are_served() {
        for host in [
            "127.0.0.1:3000",
            "localhost:3000",
            "LOCALHOST",
            "[::1]:3000",
            "127.0.0.2",
        ] {
            assert!(loopback_host(host), "{host}");
        }
        for host in [
            "",
            "example.com",
            "evil.127.0.0.1.nip.io:3000",
            "10.0.0.1:3000",
            "[2001:db8::1]:80",
        ] {
            assert!(!loopback_host(host), "{host}");
        }
    }
}
