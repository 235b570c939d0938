//! The ingest case file (`tests/fixtures/bad/ingest.toml`): its shape, and the checks that
//! every case says what each provider answers or why it does not apply.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use hookline_e2e::root;
use serde::Deserialize;

use crate::schemes::{Requirement, Scheme};
use crate::wire::Size;

/// hyper's limit on header lines per request (the gateway answers 431 above it).
pub(crate) const HEADER_COUNT_LIMIT: i64 = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Corpus {
    /// Provider → the event type (of its template's `fixtures/events.toml`) cases start from.
    pub(crate) samples: BTreeMap<String, String>,
    pub(crate) case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Case {
    pub(crate) name: String,
    /// Providers the case does not apply to, each with the reason.
    #[serde(default)]
    pub(crate) skip: BTreeMap<String, String>,
    /// What the case needs of a scheme: providers whose scheme lacks it are skipped, the
    /// reason derived from the scheme (`schemes::Requirement`).
    #[serde(default)]
    pub(crate) requires: Vec<Requirement>,
    /// The only providers the case is about (their own headers or handshakes).
    #[serde(default)]
    pub(crate) only: Vec<String>,
    /// Only providers that keep bodies too large for a queue message in the body bucket
    /// (`true`), or only those that keep every body in its message (`false`).
    #[serde(default)]
    pub(crate) body_bucket: Option<bool>,
    #[serde(default)]
    pub(crate) method: Option<String>,
    /// The provider's sample when absent.
    #[serde(default)]
    pub(crate) body: Option<Body>,
    #[serde(default)]
    pub(crate) sign: Sign,
    /// `now`, `now-tolerance-10`, ... (evaluated) or literal text (`abc`, `-5`, `${now}.5`),
    /// signed as it is sent.
    #[serde(default)]
    pub(crate) timestamp: Option<String>,
    #[serde(default)]
    pub(crate) signature: Option<Mutation>,
    #[serde(default)]
    pub(crate) headers: Vec<HeaderOp>,
    /// Send the delivery (it must be accepted), wait until it is older than the tolerance, and
    /// send the same bytes again: `expect` is for the second one.
    #[serde(default)]
    pub(crate) replay: bool,
    pub(crate) expect: Expect,
    #[serde(default)]
    pub(crate) expect_for: BTreeMap<String, Expect>,
}

impl Case {
    /// Why the case does not apply to a provider, or `None` when it does.
    pub(crate) fn skipped(
        &self,
        provider: &str,
        scheme: &Scheme,
        body_bucket: bool,
    ) -> Option<String> {
        if !self.only.is_empty() && !self.only.iter().any(|p| p == provider) {
            return Some(format!("a case about {} only", self.only.join(", ")));
        }
        match self.body_bucket {
            Some(true) if !body_bucket => {
                return Some("the provider keeps every body in its queue message".to_owned());
            }
            Some(false) if body_bucket => {
                return Some("the provider keeps large bodies in the body bucket".to_owned());
            }
            _ => {}
        }
        if let Some(missing) = self.requires.iter().find(|r| !scheme.has(**r)) {
            return Some(Scheme::lacks(*missing).to_owned());
        }
        self.skip.get(provider).cloned()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Expect {
    pub(crate) status: u16,
    /// The ingest function's error code.
    #[serde(default)]
    pub(crate) error: Option<String>,
    /// The gateway's own `{"message": ...}` (the request never reached the function).
    #[serde(default)]
    pub(crate) gateway: Option<String>,
}

pub(crate) const ACCEPTED: Expect = Expect {
    status: 200,
    error: None,
    gateway: None,
};

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Body {
    Named(NamedBody),
    Text {
        text: String,
    },
    /// A JSON object of exactly this many bytes.
    Json {
        json: Size,
    },
    /// Bytes that are not UTF-8, exactly this many.
    Binary {
        binary: Size,
    },
    /// A JSON object of this many bytes, nearly all backslash escapes (its envelope is twice as
    /// large).
    EscapedJson {
        escaped_json: Size,
    },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum NamedBody {
    Sample,
    Empty,
    TruncatedJson,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Sign {
    /// Signed with the provider's secret.
    #[default]
    Valid,
    /// None of the scheme's headers.
    None,
    /// Signed with another secret.
    OtherSecret,
    /// Signed, then one byte of the body changed.
    TamperedBody,
    /// Signed for another URL (schemes that sign it).
    OtherUrl,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Mutation {
    Named(NamedMutation),
    /// A well-formed value, this many characters of the encoding's alphabet.
    Oversized {
        oversized: usize,
    },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum NamedMutation {
    WrongLengthShort,
    WrongLengthLong,
    WrongEncoding,
    InvalidCharacters,
    WrongPrefix,
    NoPrefix,
    BitFlip,
    NonAscii,
    Empty,
}

/// One change to the request's headers. Names are header names or roles (`signature`,
/// `timestamp`, `id`); values are corpus strings (`${byte:ff}`, `${repeat:a:8192}`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum HeaderOp {
    Drop {
        drop: String,
    },
    Duplicate {
        duplicate: String,
        #[serde(default)]
        value: Option<String>,
    },
    Set {
        set: String,
        value: String,
    },
    Add {
        add: String,
        value: String,
    },
    Uppercase {
        uppercase: String,
    },
    /// A header line sent as is (no `name: value` shape needed).
    Raw {
        raw: String,
    },
    /// Pads the request head (request line to the blank line) to exactly this many bytes.
    PadHeadTo {
        pad_head_to: Size,
    },
    /// Adds header lines until the request has exactly this many.
    PadCountTo {
        pad_count_to: Size,
    },
}

pub(crate) fn fixtures() -> PathBuf {
    root().join("tests").join("fixtures").join("bad")
}

/// Reads and checks the case file: every case says, for every provider, what it expects or
/// why it does not apply.
pub(crate) fn load(providers: &[String]) -> Corpus {
    let path = fixtures().join("ingest.toml");
    let corpus: Corpus = toml::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let known: BTreeSet<&String> = providers.iter().collect();
    let mut names = BTreeSet::new();
    for provider in providers {
        assert!(
            corpus.samples.contains_key(provider),
            "ingest.toml: no sample for provider {provider}"
        );
    }
    for case in &corpus.case {
        let name = &case.name;
        assert!(
            names.insert(name),
            "ingest.toml: two cases are named {name:?}"
        );
        for (provider, reason) in &case.skip {
            assert!(
                known.contains(provider),
                "{name:?}: skip names {provider}, not a provider of hookline.toml"
            );
            assert!(
                !reason.trim().is_empty(),
                "{name:?}: say why it does not apply to {provider}"
            );
            assert!(
                !case.expect_for.contains_key(provider),
                "{name:?}: {provider} is both skipped and expected"
            );
        }
        for provider in &case.only {
            assert!(
                known.contains(provider),
                "{name:?}: only names {provider}, not a provider of hookline.toml"
            );
        }
        for provider in case.expect_for.keys() {
            assert!(
                known.contains(provider),
                "{name:?}: expect_for names {provider}, not a provider of hookline.toml"
            );
        }
        for expect in std::iter::once(&case.expect).chain(case.expect_for.values()) {
            assert!(
                !(expect.error.is_some() && expect.gateway.is_some()),
                "{name:?}: an answer comes from the function (error) or the gateway, not both"
            );
            assert!(
                expect.status != 200 || (expect.error.is_none() && expect.gateway.is_none()),
                "{name:?}: a 200 has no error"
            );
        }
    }
    corpus
}

/// The sample event of a template: body, content type and headers from `events.toml`.
pub(crate) fn sample(template: &str, event_type: &str) -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
    let dir = root().join("templates").join(template).join("fixtures");
    let events: toml::Table =
        toml::from_str(&std::fs::read_to_string(dir.join("events.toml")).unwrap()).unwrap();
    let event = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"].as_str() == Some(event_type))
        .unwrap_or_else(|| panic!("{template} has no sample event {event_type}"));
    let body = std::fs::read(dir.join(event["file"].as_str().unwrap())).unwrap();
    let mut headers = vec![(
        "content-type".to_owned(),
        event["content_type"].as_str().unwrap().as_bytes().to_vec(),
    )];
    if let Some(extra) = event.get("headers").and_then(toml::Value::as_table) {
        for (k, v) in extra {
            headers.push((
                k.to_ascii_lowercase(),
                v.as_str().unwrap().as_bytes().to_vec(),
            ));
        }
    }
    (body, headers)
}
