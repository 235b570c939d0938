//! Talking to the local console over HTTP: its pages, its JSON API and its forms.

use std::time::Duration;

use serde_json::Value;

use crate::request;

/// A manifest for the console's tests: `stripe` (its crate's samples), `chat` (Slack, whose
/// answers name no message id) and `acme` (GitHub signatures, no samples) whose failed messages
/// come back after 6 s and go to the DLQ on their second receive.
pub const CONSOLE_MANIFEST: &str = r#"
[project]
name = "e2e"

[[providers]]
name = "stripe"
template = "stripe"

[[providers]]
name = "chat"
template = "slack"

[[providers]]
name = "acme"
template = "github"
[providers.queue]
visibility_timeout_secs = 6
max_receive_count = 1
[providers.processor]
timeout_secs = 1
"#;

/// The console of a stack at `gateway` (its URL).
#[derive(Clone)]
pub struct ConsoleClient {
    /// `http://127.0.0.1:<port>`.
    pub gateway: String,
}

/// An answer: status, head, body.
pub type Answer = (u16, String, Vec<u8>);

impl ConsoleClient {
    /// The URL of a console path (`/deliveries`).
    pub fn url(&self, path: &str) -> String {
        format!("{}/_hookline{path}", self.gateway)
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Answer {
        request("GET", &self.url(path), &[], b"").await.unwrap()
    }

    /// GET, as text.
    pub async fn page(&self, path: &str) -> (u16, String) {
        let (status, _, body) = self.get(path).await;
        (status, String::from_utf8(body).unwrap())
    }

    /// GET, as JSON.
    pub async fn json(&self, path: &str) -> (u16, Value) {
        let (status, head, body) = self.get(path).await;
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{path}: {head}"
        );
        (status, serde_json::from_slice(&body).unwrap())
    }

    /// A request with a JSON body.
    pub async fn send_json(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let headers = [("content-type".to_owned(), "application/json".to_owned())];
        let (status, _, answer) = request(
            method,
            &self.url(path),
            &headers,
            body.to_string().as_bytes(),
        )
        .await
        .unwrap();
        (
            status,
            serde_json::from_slice(&answer).unwrap_or(Value::Null),
        )
    }

    /// POSTs a form as the console's own page does (its origin); the answer.
    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let headers = [
            (
                "content-type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ),
            ("origin".to_owned(), self.gateway.clone()),
        ];
        request("POST", &self.url(path), &headers, body.as_bytes())
            .await
            .unwrap()
    }

    /// The deliveries the API lists for `query` (`?provider=stripe`).
    pub async fn deliveries(&self, query: &str) -> Vec<Value> {
        let (status, list) = self.json(&format!("/api/deliveries{query}")).await;
        assert_eq!(status, 200, "{list}");
        list["deliveries"].as_array().unwrap().clone()
    }

    /// A delivery's JSON.
    pub async fn delivery(&self, id: &str) -> Value {
        let (status, detail) = self.json(&format!("/api/deliveries/{id}")).await;
        assert_eq!(status, 200, "{detail}");
        detail
    }

    /// Waits (up to `within`) until `check` holds for delivery `id`; the delivery then.
    pub async fn wait_delivery(
        &self,
        id: &str,
        within: Duration,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let detail = self.delivery(id).await;
            if check(&detail) || tokio::time::Instant::now() > deadline {
                return detail;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits (up to `within`) until `check` holds for the queues' JSON; the queues then.
    pub async fn wait_queues(&self, within: Duration, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let (_, queues) = self.json("/api/queues").await;
            if check(&queues) || tokio::time::Instant::now() > deadline {
                return queues;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The `Location` of a redirect.
pub fn location(head: &str) -> String {
    head.lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("location")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default()
}

/// A provider's entry in the queues' JSON.
pub fn queues_of<'a>(queues: &'a Value, provider: &str) -> &'a Value {
    queues["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["provider"] == provider)
        .unwrap()
}
