//! `cargo xtask send <provider>`: signs a sample (or your) delivery exactly as the provider
//! would, posts it, and prints the answer.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use hookline::sign::Signer;
use hookline::verify::Outgoing;
use hookline_manifest::Provider;

use crate::http;
use crate::project;

#[derive(clap::Args)]
pub struct Args {
    /// Provider name from hookline.toml.
    provider: String,
    /// Sample event type from the crate's fixtures/events.toml [default: the first one].
    #[arg(long)]
    event: Option<String>,
    /// Send this file as the body instead of a sample.
    #[arg(long)]
    body: Option<PathBuf>,
    /// How many deliveries to send.
    #[arg(long, default_value_t = 1)]
    count: u32,
    /// Change the body after signing: the stack must answer 401.
    #[arg(long)]
    tamper: bool,
    /// Webhook URL [default: the local gateway's route].
    #[arg(long)]
    url: Option<String>,
    /// Local gateway port (when --url is not given).
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Signing secret [default: the local one in --data-dir].
    #[arg(long)]
    secret: Option<String>,
    /// Where `cargo xtask dev` keeps the local secrets.
    #[arg(long, default_value = ".hookline")]
    data_dir: PathBuf,
}

pub use hookline_local::samples::Sample;

/// Every sample listed in `<fixtures>/events.toml`, in file order.
pub fn samples(fixtures: &Path) -> Result<Vec<Sample>> {
    Ok(hookline_local::samples::load(fixtures)?)
}

fn sample(provider: &Provider, event: Option<&str>) -> Result<Sample> {
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

pub fn run(args: Args) -> Result<()> {
    let manifest = crate::project::manifest()?;
    let provider = manifest.provider(&args.provider).with_context(|| {
        let names: Vec<&str> = manifest.providers.iter().map(|p| p.name.as_str()).collect();
        format!(
            "no provider `{}` in hookline.toml (providers: {})",
            args.provider,
            names.join(", ")
        )
    })?;
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
    let sample = match &args.body {
        Some(path) => Sample {
            event_type: String::new(),
            body: std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
            content_type: "application/json".into(),
            headers: Vec::new(),
        },
        None => sample(provider, args.event.as_deref())?,
    };
    let url = args
        .url
        .clone()
        .unwrap_or_else(|| format!("http://127.0.0.1:{}{}", args.port, provider.route));
    let mut failures = 0;
    for _ in 0..args.count {
        let delivery_id = uuid::Uuid::new_v4().to_string();
        let signed = signer
            .sign(&Outgoing {
                url: &url,
                body: &sample.body,
                timestamp: chrono::Utc::now().timestamp(),
                delivery_id: &delivery_id,
            })
            .with_context(|| format!("signing the sample for {}", provider.name))?;
        let mut headers = vec![("Content-Type".to_owned(), sample.content_type.clone())];
        headers.extend(sample.headers.iter().cloned());
        headers.extend(signed.headers);
        let mut body = signed.body;
        if args.tamper {
            match body.first_mut() {
                Some(first) => *first ^= 0x20,
                None => body.push(b' '),
            }
        }
        let response = http::post(&signed.url, &headers, &body)?;
        let text = String::from_utf8_lossy(&response.body);
        let message_id = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                v.get("message_id")
                    .and_then(|m| m.as_str())
                    .map(str::to_owned)
            });
        match message_id {
            Some(id) => println!("{} {}  message_id {id}", response.status, provider.name),
            None => println!("{} {}  {}", response.status, provider.name, text.trim()),
        }
        let ok = if args.tamper {
            response.status == 401
        } else {
            (200..300).contains(&response.status)
        };
        if !ok {
            failures += 1;
        }
    }
    if failures > 0 {
        bail!(
            "{failures} of {} deliveries were not answered as expected ({})",
            args.count,
            if args.tamper { "401" } else { "2xx" }
        );
    }
    Ok(())
}
