//! `cargo xtask send <provider>`: signs a sample (or your) delivery exactly as the provider
//! would, posts it, and prints the answer. With `--stage`, to a deployed stage, signed with its
//! secret (`aws/send_stage.rs`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use hookline::sign::Signer;
use hookline::verify::Outgoing;
use hookline_local::fresh;
use hookline_manifest::Provider;

use crate::http;
use crate::project;

#[cfg(test)]
mod fresh_tests;
mod size;

#[derive(clap::Args)]
pub struct Args {
    /// Provider name from hookline.toml.
    pub provider: String,
    /// Sample event type from the crate's fixtures/events.toml [default: the first one].
    #[arg(long)]
    pub event: Option<String>,
    /// Send this file as the body instead of a sample.
    #[arg(long)]
    pub body: Option<PathBuf>,
    /// Pad the body to this size (3MB, 5.5MB, 512KiB, ...) with a `hookline_padding` field (JSON)
    /// or parameter (forms): to try large deliveries.
    #[arg(long, value_parser = size::parse)]
    pub size: Option<usize>,
    /// How many deliveries to send, each a new event (its id renewed, so that the processor's
    /// idempotency does not take it for a duplicate).
    #[arg(long, default_value_t = 1)]
    pub count: u32,
    /// Change the body after signing: the stack must answer 401.
    #[arg(long)]
    pub tamper: bool,
    /// Webhook URL [default: the local gateway's route].
    #[arg(long)]
    pub url: Option<String>,
    /// Local gateway port (when --url is not given).
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// Signing secret [default: the local one in --data-dir].
    #[arg(long)]
    pub secret: Option<String>,
    /// Where `cargo xtask dev` keeps the local secrets.
    #[arg(long, default_value = ".hookline")]
    pub data_dir: PathBuf,
    /// A deployed stage instead of the local stack: its webhook URL (stack outputs), signed
    /// with its current secret (Secrets Manager, with your credentials; never printed).
    #[arg(long, conflicts_with_all = ["url", "secret"])]
    pub stage: Option<String>,
    /// With --stage: then wait until the processor logged each message as processed or failed.
    #[arg(long, requires = "stage")]
    pub wait: bool,
    /// How long --wait waits: 30s, 2m, ...
    #[arg(long, requires = "wait", default_value = "2m")]
    pub timeout: String,
    /// With --stage: print the AWS calls and what would be posted, and do nothing.
    #[arg(long, requires = "stage")]
    pub dry_run: bool,
    /// With --stage: skip (and say why) a provider that cannot be smoke-tested yet: its secret
    /// is a public key, or still the placeholder the stack was created with (never set).
    #[arg(long, requires = "stage")]
    pub if_ready: bool,
}

pub use hookline_local::samples::Sample;

/// Every sample listed in `<fixtures>/events.toml`, in file order.
pub fn samples(fixtures: &Path) -> Result<Vec<Sample>> {
    Ok(hookline_local::samples::load(fixtures)?)
}

pub fn sample(provider: &Provider, event: Option<&str>) -> Result<Sample> {
    let fixtures = hookline_local::samples::fixtures_dir(&project::root(), provider);
    let mut all = samples(&fixtures)?;
    let index = match event {
        None => (!all.is_empty()).then_some(0),
        Some(wanted) => all.iter().position(|s| s.event_type == wanted),
    };
    match index {
        Some(i) => Ok(all.swap_remove(i)),
        None => {
            let types: Vec<&str> = all.iter().map(|s| s.event_type.as_str()).collect();
            bail!(
                "no sample event `{}` for {}: the samples are {}",
                event.unwrap_or("(any)"),
                provider.name,
                types.join(", ")
            )
        }
    }
}

/// The provider named on the command line, or an error that lists the providers.
pub fn provider<'a>(manifest: &'a hookline_manifest::Manifest, name: &str) -> Result<&'a Provider> {
    manifest.provider(name).with_context(|| {
        let names: Vec<&str> = manifest.providers.iter().map(|p| p.name.as_str()).collect();
        format!(
            "no provider `{name}` in hookline.toml (providers: {})",
            names.join(", ")
        )
    })
}

/// The body to send: `--body`, else the sample `--event`; padded to `--size`.
pub fn body(args: &Args, provider: &Provider) -> Result<Sample> {
    let sample = unpadded(args, provider)?;
    match args.size {
        Some(size) => size::pad(sample, size),
        None => Ok(sample),
    }
}

fn unpadded(args: &Args, provider: &Provider) -> Result<Sample> {
    match &args.body {
        Some(path) => Ok(Sample {
            event_type: String::new(),
            body: std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
            content_type: "application/json".into(),
            headers: Vec::new(),
        }),
        None => sample(provider, args.event.as_deref()),
    }
}

pub fn run(args: Args) -> Result<()> {
    if args.stage.is_some() {
        return crate::aws::send_stage::run(&args);
    }
    let manifest = crate::project::manifest()?;
    let provider = provider(&manifest, &args.provider)?;
    let scheme = provider.scheme().map_err(|e| anyhow::anyhow!("{e}"))?;
    let secret = match &args.secret {
        Some(secret) => secret.clone(),
        None => {
            let data_dir = project::root().join(&args.data_dir);
            hookline_local::credentials::load(&data_dir, &provider.name)
                .map(|credentials| credentials.sign)
                .with_context(|| {
                    format!(
                        "no local secret at {}: start `cargo xtask dev` once, or pass --secret",
                        hookline_local::credentials::secret_path(&data_dir, &provider.name)
                            .display()
                    )
                })?
        }
    };
    let signer = Signer::new(scheme.clone(), &secret).map_err(|e| anyhow::anyhow!("{e}"))?;
    let sample = body(&args, provider)?;
    let url = args
        .url
        .clone()
        .unwrap_or_else(|| format!("http://127.0.0.1:{}{}", args.port, provider.route));
    deliver(
        &signer,
        &provider.name,
        &sample,
        &url,
        args.count,
        args.tamper,
    )?;
    Ok(())
}

/// One delivery, signed: where to post it, its headers and body, and the dedup id ingest will
/// give it (when the scheme describes it).
pub(crate) struct SignedDelivery {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub dedup_id: Option<String>,
}

/// `body` of `sample` signed now for `url`, with the sample's content type and headers.
pub(crate) fn sign_body(
    signer: &Signer,
    provider: &str,
    sample: &Sample,
    url: &str,
    body: &[u8],
) -> Result<SignedDelivery> {
    let delivery_id = uuid::Uuid::new_v4().to_string();
    let signed = signer
        .sign(&Outgoing {
            url,
            body,
            timestamp: chrono::Utc::now().timestamp(),
            delivery_id: &delivery_id,
        })
        .with_context(|| format!("signing the sample for {provider}"))?;
    let mut headers = vec![("Content-Type".to_owned(), sample.content_type.clone())];
    headers.extend(sample.headers.iter().cloned());
    headers.extend(signed.headers);
    let dedup_id = fresh::dedup_id(signer.scheme(), &signed.url, &headers, &signed.body);
    Ok(SignedDelivery {
        url: signed.url,
        headers,
        body: signed.body,
        dedup_id,
    })
}

/// `sample` as a new event ([`fresh`]), signed: `sample_dedup_id` is the dedup id of the sample
/// as it is, which a scheme that takes it from the body gets renewed.
pub(crate) fn sign_new_event(
    signer: &Signer,
    provider: &str,
    sample: &Sample,
    url: &str,
    sample_dedup_id: Option<&str>,
) -> Result<SignedDelivery> {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let body = fresh::fresh_body(&sample.body, &sample.content_type, sample_dedup_id, &nonce)
        .unwrap_or_else(|| sample.body.clone());
    sign_body(signer, provider, sample, url, &body)
}

/// Signs and posts `count` deliveries of `sample` to `url`, each a new event ([`fresh`]),
/// printing each answer; returns the message ids of the queued ones. Fails when any answer is
/// not the one expected (2xx, or 401 with `tamper`).
pub fn deliver(
    signer: &Signer,
    provider: &str,
    sample: &Sample,
    url: &str,
    count: u32,
    tamper: bool,
) -> Result<Vec<String>> {
    let mut failures = 0;
    let mut queued = Vec::new();
    // Each delivery a new event, unless the sample keeps its dedup id whatever changes: then
    // said once.
    let sample_dedup_id = sign_body(signer, provider, sample, url, &sample.body)?.dedup_id;
    let mut dedup_ids = std::collections::BTreeSet::new();
    let mut said = false;
    for _ in 0..count {
        let SignedDelivery {
            url: signed_url,
            headers,
            mut body,
            dedup_id,
        } = sign_new_event(signer, provider, sample, url, sample_dedup_id.as_deref())?;
        if let Some(id) = dedup_id
            && (sample_dedup_id.as_deref() == Some(id.as_str()) || !dedup_ids.insert(id))
            && !std::mem::replace(&mut said, true)
        {
            println!(
                "note: {provider}'s sample keeps its dedup id whatever `send` changes: the processor takes these deliveries (and any earlier send of it) for one event and runs the handler once (idempotency)"
            );
        }
        if tamper {
            match body.first_mut() {
                Some(first) => *first ^= 0x20,
                None => body.push(b' '),
            }
        }
        let response = http::post(&signed_url, &headers, &body)?;
        let text = String::from_utf8_lossy(&response.body);
        let message_id = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                v.get("message_id")
                    .and_then(|m| m.as_str())
                    .map(str::to_owned)
            });
        match &message_id {
            Some(id) => println!("{} {provider}  message_id {id}", response.status),
            None => println!("{} {provider}  {}", response.status, text.trim()),
        }
        let ok = if tamper {
            response.status == 401
        } else {
            (200..300).contains(&response.status)
        };
        if !ok {
            failures += 1;
        }
        queued.extend(message_id);
    }
    if failures > 0 {
        bail!(
            "{failures} of {count} deliveries were not answered as expected ({})",
            if tamper { "401" } else { "2xx" }
        );
    }
    Ok(queued)
}
