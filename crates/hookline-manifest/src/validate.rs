//! From the manifest as written to a [`Manifest`]: defaults filled in, AWS's limits checked.

use std::collections::BTreeMap;
use std::ops::{Range, RangeInclusive};

use toml::Spanned;

use crate::limits::*;
use crate::raw::{RawManifest, RawProvider};
use crate::{
    Architecture, Ingest, Manifest, ManifestError, Processor, Project, Provider, SCHEMES, Signing,
    is_valid_name, line_of,
};

mod queue;

pub(crate) struct Ctx<'a> {
    source: &'a str,
    file: &'a str,
}

impl Ctx<'_> {
    pub(crate) fn error(
        &self,
        span: Option<Range<usize>>,
        field: &str,
        message: impl Into<String>,
    ) -> ManifestError {
        ManifestError {
            file: self.file.to_owned(),
            line: span.map(|s| line_of(self.source, s.start)),
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }

    /// An integer field: its default when absent, else checked against `allowed`.
    pub(crate) fn int(
        &self,
        value: &Option<Spanned<i64>>,
        field: &str,
        default: u64,
        allowed: RangeInclusive<u64>,
    ) -> Result<u64, ManifestError> {
        let Some(value) = value else {
            return Ok(default);
        };
        let n = *value.get_ref();
        match u64::try_from(n) {
            Ok(n) if allowed.contains(&n) => Ok(n),
            _ => Err(self.error(
                Some(value.span()),
                field,
                format!(
                    "{n} is out of range: allowed {}–{}",
                    allowed.start(),
                    allowed.end()
                ),
            )),
        }
    }

    /// A string field restricted to `allowed`.
    pub(crate) fn choice<'v>(
        &self,
        value: &'v Option<Spanned<String>>,
        field: &str,
        default: &'v str,
        allowed: &[&str],
    ) -> Result<&'v str, ManifestError> {
        let Some(value) = value else {
            return Ok(default);
        };
        let text = value.get_ref().as_str();
        if allowed.contains(&text) {
            Ok(text)
        } else {
            Err(self.error(
                Some(value.span()),
                field,
                format!("`{text}` is not one of: {}", allowed.join(", ")),
            ))
        }
    }
}

/// Every range above fits a `u32`.
pub(crate) fn u32_of(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub(crate) fn resolve(
    raw: RawManifest,
    source: &str,
    file: &str,
) -> Result<Manifest, ManifestError> {
    let ctx = Ctx { source, file };
    let Some(project) = raw.project else {
        return Err(ManifestError {
            file: file.to_owned(),
            line: None,
            field: Some("project".to_owned()),
            message: "the [project] table is missing (it needs at least `name`)".to_owned(),
        });
    };
    let project_span = project.span();
    let project = project.into_inner();
    let name = project.name.ok_or_else(|| {
        ctx.error(
            Some(project_span.clone()),
            "project.name",
            "missing (the stack prefix, e.g. \"hookline\")",
        )
    })?;
    if !is_valid_name(name.get_ref()) {
        return Err(ctx.error(
            Some(name.span()),
            "project.name",
            format!(
                "`{}` is not a name: use [a-z][a-z0-9-]*, at most 32 characters",
                name.get_ref()
            ),
        ));
    }
    let region = match &project.region {
        None => DEFAULT_REGION.to_owned(),
        Some(region) if is_region(region.get_ref()) => region.get_ref().clone(),
        Some(region) => {
            return Err(ctx.error(
                Some(region.span()),
                "project.region",
                format!(
                    "`{}` is not an AWS region name such as eu-west-1",
                    region.get_ref()
                ),
            ));
        }
    };
    let architecture = match ctx.choice(
        &project.architecture,
        "project.architecture",
        "arm64",
        &["arm64", "x86_64"],
    )? {
        "x86_64" => Architecture::X86_64,
        _ => Architecture::Arm64,
    };
    let alarm_email = match project.alarm_email {
        None => None,
        Some(email) if is_email(email.get_ref()) => Some(email.into_inner()),
        Some(email) => {
            return Err(ctx.error(
                Some(email.span()),
                "project.alarm_email",
                format!("`{}` is not an email address", email.get_ref()),
            ));
        }
    };
    let project = Project {
        name: name.into_inner(),
        region,
        architecture,
        alarm_email,
        tracing: project.tracing.is_some_and(Spanned::into_inner),
    };

    let mut providers: Vec<Provider> = Vec::new();
    let mut routes: BTreeMap<String, String> = BTreeMap::new();
    for (index, raw_provider) in raw.providers.into_iter().enumerate() {
        let span = raw_provider.span();
        let provider = resolve_provider(&ctx, index, span.clone(), raw_provider.into_inner())?;
        if providers.iter().any(|p| p.name == provider.name) {
            return Err(ctx.error(
                Some(span),
                &format!("providers[{index}].name"),
                format!("`{}` is defined twice", provider.name),
            ));
        }
        let prefix = crate::stage::output_prefix(&provider.name);
        if let Some(other) = providers
            .iter()
            .find(|p| crate::stage::output_prefix(&p.name) == prefix)
        {
            return Err(ctx.error(
                Some(span),
                &format!("providers[{index}].name"),
                format!(
                    "`{}` and `{}` would have the same stack output names ({prefix}*): rename one",
                    other.name, provider.name
                ),
            ));
        }
        if let Some(other) = routes.insert(provider.route.clone(), provider.name.clone()) {
            return Err(ctx.error(
                Some(span),
                &format!("providers.{}.route", provider.name),
                format!("`{}` is already the route of `{other}`", provider.route),
            ));
        }
        providers.push(provider);
    }
    Ok(Manifest { project, providers })
}

/// `local@domain.tld`, without spaces: enough to catch typos; SNS confirms the address anyway.
pub(crate) fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
        && !domain.contains('@')
}

pub(crate) fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

fn is_valid_route(route: &str) -> bool {
    route.starts_with('/')
        && route.len() > 1
        && !route.ends_with('/')
        && !route.contains("//")
        && route
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'))
}

fn resolve_provider(
    ctx: &Ctx<'_>,
    index: usize,
    span: Range<usize>,
    raw: RawProvider,
) -> Result<Provider, ManifestError> {
    let name = raw.name.ok_or_else(|| {
        ctx.error(
            Some(span.clone()),
            &format!("providers[{index}].name"),
            "missing",
        )
    })?;
    if !is_valid_name(name.get_ref()) {
        return Err(ctx.error(
            Some(name.span()),
            &format!("providers[{index}].name"),
            format!(
                "`{}` is not a name: use [a-z][a-z0-9-]*, at most 32 characters",
                name.get_ref()
            ),
        ));
    }
    let name = name.into_inner();
    let at = |field: &str| format!("providers.{name}.{field}");
    let template = raw
        .template
        .ok_or_else(|| {
            ctx.error(
                Some(span.clone()),
                &at("template"),
                "missing (one of the folders under templates/)",
            )
        })?
        .into_inner();
    let route = match raw.route {
        None => format!("/webhooks/{name}"),
        Some(route) if is_valid_route(route.get_ref()) => route.into_inner(),
        Some(route) => {
            return Err(ctx.error(Some(route.span()), &at("route"), format!("`{}` is not a route: a path such as /webhooks/{name} (letters, digits, - _ . /; no trailing slash)", route.get_ref())));
        }
    };

    let signing = raw.signing;
    let scheme = match signing.scheme {
        Some(scheme) => {
            if !SCHEMES.contains(&scheme.get_ref().as_str()) {
                return Err(ctx.error(
                    Some(scheme.span()),
                    &at("signing.scheme"),
                    format!(
                        "`{}` is not one of: {}",
                        scheme.get_ref(),
                        SCHEMES.join(", ")
                    ),
                ));
            }
            scheme.into_inner()
        }
        None if SCHEMES.contains(&template.as_str()) => template.clone(),
        None => {
            return Err(ctx.error(
                Some(span),
                &at("signing.scheme"),
                format!(
                    "missing: template `{template}` is not a scheme name, so set one of: {}",
                    SCHEMES.join(", ")
                ),
            ));
        }
    };
    if let Some(url) = &signing.public_url {
        let signs_url = scheme
            .parse::<hookline::Scheme>()
            .is_ok_and(|s| s.signs_url());
        if !signs_url {
            return Err(ctx.error(
                Some(url.span()),
                &at("signing.public_url"),
                format!(
                    "only applies to schemes that sign the URL they are called at, not `{scheme}`"
                ),
            ));
        }
        let text = url.get_ref();
        let host = text.strip_prefix("https://").unwrap_or_default();
        if host.is_empty() || host.starts_with('/') || text.contains(['?', '#', ' ']) {
            return Err(ctx.error(
                Some(url.span()),
                &at("signing.public_url"),
                "not an https URL without query or fragment (https://host/path)",
            ));
        }
    }
    let generic_fields = [
        ("signing.header", &signing.header),
        ("signing.algorithm", &signing.algorithm),
        ("signing.encoding", &signing.encoding),
        ("signing.prefix", &signing.prefix),
    ];
    if let Some((field, Some(value))) = generic_fields.iter().find(|(_, v)| v.is_some())
        && scheme != "generic-hmac"
    {
        return Err(ctx.error(
            Some(value.span()),
            &at(field),
            format!("only applies to the generic-hmac scheme, not `{scheme}`"),
        ));
    }
    ctx.choice(
        &signing.algorithm,
        &at("signing.algorithm"),
        "sha256",
        &["sha1", "sha256", "sha512"],
    )?;
    ctx.choice(
        &signing.encoding,
        &at("signing.encoding"),
        "hex",
        &["hex", "base64"],
    )?;
    if let Some(header) = &signing.header
        && !is_header_name(header.get_ref())
    {
        return Err(ctx.error(
            Some(header.span()),
            &at("signing.header"),
            "not an HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)",
        ));
    }
    if let Some(prefix) = &signing.prefix
        && !prefix.get_ref().bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(ctx.error(
            Some(prefix.span()),
            &at("signing.prefix"),
            "must be visible ASCII characters (no spaces): signature headers carry nothing else",
        ));
    }
    if let Some(arn) = &signing.secret_arn
        && (!arn.get_ref().starts_with("arn:") || !arn.get_ref().contains(":secretsmanager:"))
    {
        return Err(ctx.error(
            Some(arn.span()),
            &at("signing.secret_arn"),
            "not a Secrets Manager ARN (arn:aws:secretsmanager:...)",
        ));
    }
    let signing = Signing {
        scheme,
        secret_arn: signing.secret_arn.map(Spanned::into_inner),
        header: signing.header.map(Spanned::into_inner),
        algorithm: signing.algorithm.map(Spanned::into_inner),
        encoding: signing.encoding.map(Spanned::into_inner),
        prefix: signing.prefix.map(Spanned::into_inner),
        public_url: signing.public_url.map(Spanned::into_inner),
    };

    let i = &raw.ingest;
    let ingest = Ingest {
        max_body_bytes: ctx.int(
            &i.max_body_bytes,
            &at("ingest.max_body_bytes"),
            DEFAULT_MAX_BODY_BYTES,
            MAX_BODY_BYTES,
        )?,
        // The provider's own libraries' tolerance (Paddle 5 s, Linear 60 s, Twitch 10 min).
        timestamp_tolerance_secs: ctx.int(
            &i.timestamp_tolerance_secs,
            &at("ingest.timestamp_tolerance_secs"),
            signing
                .scheme
                .parse::<hookline::Scheme>()
                .map_or(DEFAULT_TOLERANCE_SECS, |s| s.default_tolerance().as_secs()),
            TOLERANCE_SECS,
        )?,
        timeout_secs: u32_of(ctx.int(
            &i.timeout_secs,
            &at("ingest.timeout_secs"),
            DEFAULT_INGEST_TIMEOUT_SECS,
            INGEST_TIMEOUT_SECS,
        )?),
        memory_mb: u32_of(ctx.int(
            &i.memory_mb,
            &at("ingest.memory_mb"),
            DEFAULT_INGEST_MEMORY_MB,
            MEMORY_MB,
        )?),
    };

    let p = &raw.processor;
    let processor = Processor {
        timeout_secs: u32_of(ctx.int(
            &p.timeout_secs,
            &at("processor.timeout_secs"),
            DEFAULT_PROCESSOR_TIMEOUT_SECS,
            PROCESSOR_TIMEOUT_SECS,
        )?),
        memory_mb: u32_of(ctx.int(
            &p.memory_mb,
            &at("processor.memory_mb"),
            DEFAULT_PROCESSOR_MEMORY_MB,
            MEMORY_MB,
        )?),
        max_concurrency: u32_of(ctx.int(
            &p.max_concurrency,
            &at("processor.max_concurrency"),
            DEFAULT_MAX_CONCURRENCY,
            MAX_CONCURRENCY,
        )?),
        concurrency: u32_of(ctx.int(
            &p.concurrency,
            &at("processor.concurrency"),
            DEFAULT_PROCESS_CONCURRENCY,
            PROCESS_CONCURRENCY,
        )?),
        idempotency_ttl_secs: {
            let ttl = ctx.int(
                &p.idempotency_ttl_secs,
                &at("processor.idempotency_ttl_secs"),
                DEFAULT_IDEMPOTENCY_TTL_SECS,
                IDEMPOTENCY_TTL_SECS,
            )?;
            match (
                p.idempotency.as_ref().map(|on| *on.get_ref()),
                &p.idempotency_ttl_secs,
            ) {
                (Some(false), Some(ttl)) => {
                    return Err(ctx.error(
                        Some(ttl.span()),
                        &at("processor.idempotency_ttl_secs"),
                        "has no effect with `idempotency = false`: remove one of the two",
                    ));
                }
                (Some(false), None) => None,
                _ => Some(u32_of(ttl)),
            }
        },
    };

    let queue = queue::queue(ctx, &raw.queue, &at, processor.timeout_secs)?;

    Ok(Provider {
        name,
        template,
        route,
        signing,
        ingest,
        queue,
        processor,
        vars: raw.vars,
    })
}

/// An HTTP header name: one or more RFC 9110 token characters.
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
