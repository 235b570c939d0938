//! A provider's sample deliveries: `fixtures/events.toml` in its crate lists them (`type`,
//! `file`, `content_type`, extra `headers`). `cargo xtask send` and the local console's Send
//! page send the same ones.

use std::path::{Path, PathBuf};

/// One sample delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The event type it is.
    pub event_type: String,
    /// The body.
    pub body: Vec<u8>,
    /// Its `Content-Type`.
    pub content_type: String,
    /// Headers the provider sends with it, beside the signature.
    pub headers: Vec<(String, String)>,
}

/// Why the samples could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `events.toml` is not TOML.
    #[error("parsing {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// An entry lacks a field.
    #[error("{path}: a sample has no `{field}`")]
    Missing {
        /// The file.
        path: PathBuf,
        /// The field.
        field: &'static str,
    },
}

/// The fixtures folder of a provider's crate under the project root.
pub fn fixtures_dir(project_root: &Path, provider: &hookline_manifest::Provider) -> PathBuf {
    project_root.join(provider.crate_dir()).join("fixtures")
}

/// Every sample listed in `<fixtures>/events.toml`, in file order.
pub fn load(fixtures: &Path) -> Result<Vec<Sample>, SampleError> {
    let index = fixtures.join("events.toml");
    let text = std::fs::read_to_string(&index).map_err(|source| SampleError::Read {
        path: index.clone(),
        source,
    })?;
    let doc: toml::Table = toml::from_str(&text).map_err(|e| SampleError::Parse {
        path: index.clone(),
        message: e.to_string(),
    })?;
    let events = doc
        .get("events")
        .and_then(|e| e.as_array())
        .cloned()
        .unwrap_or_default();
    let missing = |field| SampleError::Missing {
        path: index.clone(),
        field,
    };
    events
        .iter()
        .map(|event| {
            let event_type = event
                .get("type")
                .and_then(|t| t.as_str())
                .ok_or_else(|| missing("type"))?;
            let file = event
                .get("file")
                .and_then(|f| f.as_str())
                .ok_or_else(|| missing("file"))?;
            let path = fixtures.join(file);
            let body = std::fs::read(&path).map_err(|source| SampleError::Read { path, source })?;
            let content_type = event
                .get("content_type")
                .and_then(|c| c.as_str())
                .unwrap_or("application/json")
                .to_owned();
            let headers = event
                .get("headers")
                .and_then(|h| h.as_table())
                .map(|t| {
                    t.iter()
                        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                        .collect()
                })
                .unwrap_or_default();
            Ok(Sample {
                event_type: event_type.to_owned(),
                body,
                content_type,
                headers,
            })
        })
        .collect()
}
