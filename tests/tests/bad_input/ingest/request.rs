//! Building a case's request for a provider: body, signature, header edits, the exact head.

use super::corpus::{
    Body, Case, HEADER_COUNT_LIMIT, HeaderOp, Mutation, NamedBody, NamedMutation, Sign,
};
use super::{Built, Target};
use crate::schemes::{Message, ROLES, Scheme, TimestampAt};
use crate::wire;

/// Builds the request of a case for a provider. A JSON body of a given size has that size as
/// sent, with what the scheme carries inside it (Linear's timestamp, Mailgun's signature).
pub(super) fn build(case: &Case, t: &Target, now: i64, head_limit: i64) -> Result<Built, String> {
    let built = build_with(case, t, now, head_limit, 0)?;
    let Some(Body::Json { json }) = &case.body else {
        return Ok(built);
    };
    let size = json.eval(&|name: &str| sizes(t, head_limit, name))?;
    match built.body.len().checked_sub(size) {
        Some(grown) if grown > 0 => build_with(case, t, now, head_limit, grown),
        _ => Ok(built),
    }
}

/// The sizes a case names.
fn sizes(t: &Target, head_limit: i64, name: &str) -> Option<i64> {
    match name {
        "limit" => Some(t.limit),
        // What a binary body can be: base64 in Lambda's 6 MB event leaves less than a text's.
        "binary_limit" => Some(t.limit.min(hookline::ingest::MAX_BASE64_BODY_BYTES as i64)),
        "gateway_limit" => Some(hookline_local::gateway::MAX_BODY_BYTES as i64),
        "head_limit" => Some(head_limit),
        "header_count_limit" => Some(HEADER_COUNT_LIMIT),
        _ => None,
    }
}

/// [`build`], with a JSON body `shrink` bytes smaller than the case says.
fn build_with(
    case: &Case,
    t: &Target,
    now: i64,
    head_limit: i64,
    shrink: usize,
) -> Result<Built, String> {
    let sizes = |name: &str| sizes(t, head_limit, name);
    let text = |s: &str| wire::expand(s, &|name| (name == "now").then(|| now.to_string()));
    let body = match &case.body {
        None | Some(Body::Named(NamedBody::Sample)) => t.sample_body.clone(),
        Some(Body::Named(NamedBody::Empty)) => Vec::new(),
        Some(Body::Named(NamedBody::TruncatedJson)) => {
            t.sample_body[..t.sample_body.len() / 2].to_vec()
        }
        Some(Body::Text { text: s }) => text(s)?,
        Some(Body::Json { json }) => {
            let size = json.eval(&sizes)?;
            padded_json(size.saturating_sub(shrink), "a")?
        }
        Some(Body::EscapedJson { escaped_json }) => {
            padded_json(escaped_json.eval(&sizes)?, "\\\\")?
        }
        Some(Body::Binary { binary }) => (0..binary.eval(&sizes)?)
            .map(|i| [0xff, 0xfe, 0x80, 0xc3][i % 4])
            .collect(),
    };
    // Evaluated times are seconds, sent in the scheme's form; literals are sent as they are.
    let (timestamp, seconds) = match &case.timestamp {
        None => (t.scheme.format_time(now), Some(now)),
        Some(expr) if expr.starts_with("now") => {
            let var = |name: &str| match name {
                "now" => Some(now),
                "tolerance" => Some(t.tolerance),
                _ => None,
            };
            let seconds = wire::eval(expr, &var)?;
            (t.scheme.format_time(seconds), Some(seconds))
        }
        Some(literal) => (
            String::from_utf8(text(literal)?).map_err(|e| e.to_string())?,
            None,
        ),
    };
    let mut sent_body;
    let mut headers = t.sample_headers.clone();
    let method = case.method.as_deref().unwrap_or("POST");
    if case.sign != Sign::None {
        let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let scheme = match case.sign {
            Sign::OtherSecret => t.scheme.with_other_key(),
            _ => t.scheme.clone(),
        };
        let url = match case.sign {
            Sign::OtherUrl => format!("http://{}/elsewhere{}", t.authority, t.path),
            _ => format!("http://{}{}", t.authority, t.path),
        };
        // What the scheme carries in the body before signing (Linear's timestamp), the
        // signature, then what it carries after (Mailgun's signature object).
        let signed_body = t.scheme.embed(&body, &timestamp, &id, None);
        let signature = scheme.sign(&Message {
            method,
            url: &url,
            timestamp: &timestamp,
            id: &id,
            body: &signed_body,
        });
        let value = signature_value(case.signature.as_ref(), &t.scheme, &timestamp, &signature)?;
        sent_body = t.scheme.embed(&signed_body, &timestamp, &id, Some(&value));
        if case.sign == Sign::TamperedBody {
            let middle = sent_body.len() / 2;
            match sent_body.get_mut(middle) {
                Some(byte) => *byte ^= 0x01,
                None => sent_body.push(b'x'),
            }
        }
        for (role, value) in [
            ("id", id.into_bytes()),
            ("timestamp", timestamp.clone().into_bytes()),
            ("signature", value),
        ] {
            if let Some(name) = t.scheme.header(role) {
                headers.push((name, value));
            }
        }
    } else if case.signature.is_some() {
        return Err("an unsigned request has no signature to change".into());
    } else {
        sent_body = t.scheme.strip(&body);
    }

    let mut raw_lines: Vec<Vec<u8>> = Vec::new();
    let (mut pad_head, mut pad_count) = (None, None);
    for op in &case.headers {
        match op {
            HeaderOp::Raw { raw } => raw_lines.push(text(raw)?),
            HeaderOp::PadHeadTo { pad_head_to } => pad_head = Some(pad_head_to.eval(&sizes)?),
            HeaderOp::PadCountTo { pad_count_to } => pad_count = Some(pad_count_to.eval(&sizes)?),
            op => edit_headers(&mut headers, op, t, &text)?,
        }
    }

    let mut head = format!(
        "{method} {} HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\nconnection: close\r\n",
        t.path,
        t.authority,
        sent_body.len()
    )
    .into_bytes();
    let mut count = 3;
    for line in headers
        .iter()
        .map(|(k, v)| [k.as_bytes(), b": ", v].concat())
        .chain(raw_lines.iter().cloned())
    {
        head.extend_from_slice(&line);
        head.extend_from_slice(b"\r\n");
        count += 1;
    }
    if let Some(target) = pad_count {
        if count > target {
            return Err(format!("already {count} header lines, more than {target}"));
        }
        for i in count..target {
            head.extend_from_slice(format!("x-pad-{i}: x\r\n").as_bytes());
        }
    }
    if let Some(target) = pad_head {
        // What the HTTP API's quota counts: the request line and every header value (those of
        // `host`, `content-length` and `connection` included).
        let counted = format!("{method} {} HTTP/1.1", t.path).len()
            + t.authority.len()
            + sent_body.len().to_string().len()
            + "close".len()
            + headers.iter().map(|(_, v)| v.len()).sum::<usize>();
        if !raw_lines.is_empty() {
            return Err("padding the head of a request with raw header lines".into());
        }
        let fill = target.checked_sub(counted).ok_or_else(|| {
            format!("the request line and header values are already over {target} bytes")
        })?;
        head.extend_from_slice(format!("x-pad: {}\r\n", "p".repeat(fill)).as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    head.extend_from_slice(&sent_body);
    Ok(Built {
        request: head,
        body: sent_body,
        seconds,
    })
}

/// A JSON event object of exactly `size` bytes, padded with `unit` (`a`, or `\\` escapes).
fn padded_json(size: usize, unit: &str) -> Result<Vec<u8>, String> {
    let frame = r#"{"id":"evt_bad_input","type":"bad_input.padded","pad":""}"#;
    let room = size
        .checked_sub(frame.len())
        .ok_or_else(|| format!("{size} bytes is smaller than a JSON event"))?;
    let mut pad = unit.repeat(room / unit.len());
    pad.push_str(&"a".repeat(room % unit.len()));
    let body = frame.replace(r#""pad":"""#, &format!(r#""pad":"{pad}""#));
    assert_eq!(body.len(), size);
    Ok(body.into_bytes())
}

/// The signature header's value, changed as the case says.
fn signature_value(
    mutation: Option<&Mutation>,
    s: &Scheme,
    timestamp: &str,
    mac: &[u8],
) -> Result<Vec<u8>, String> {
    let encoded = s.encode(mac);
    let with = |mac: &[u8]| s.value(timestamp, &s.encode(mac));
    let value = match mutation {
        None => s.value(timestamp, &encoded),
        Some(Mutation::Oversized { oversized }) => s.value(timestamp, &s.filler(*oversized)),
        Some(Mutation::Named(m)) => match m {
            NamedMutation::WrongLengthShort => with(&mac[..mac.len() - 1]),
            NamedMutation::WrongLengthLong => with(&[mac, &[0]].concat()),
            NamedMutation::WrongEncoding => s.value(timestamp, &s.encode_wrongly(mac)),
            NamedMutation::InvalidCharacters => {
                s.value(timestamp, &s.not_the_alphabet(encoded.len()))
            }
            NamedMutation::WrongPrefix => s.value_with_wrong_prefix(timestamp, &encoded),
            NamedMutation::NoPrefix => s
                .value_without_prefix(timestamp, &encoded)
                .ok_or("this scheme's signature has no prefix: skip the provider")?,
            // The last byte: for an ECDSA signature in DER, inside `s` (the first is its tag).
            NamedMutation::BitFlip => {
                let mut flipped = mac.to_vec();
                if let Some(last) = flipped.last_mut() {
                    *last ^= 0x01;
                }
                with(&flipped)
            }
            NamedMutation::NonAscii => {
                let mut value = s.value(timestamp, &encoded).into_bytes();
                value.insert(value.len() / 2, 0xff);
                return Ok(value);
            }
            NamedMutation::Empty => String::new(),
        },
    };
    Ok(value.into_bytes())
}

/// Applies a header edit. Roles resolve to the scheme's header names; Stripe's timestamp is the
/// `t=` entry of `Stripe-Signature`, edited in place.
fn edit_headers(
    headers: &mut Vec<(String, Vec<u8>)>,
    op: &HeaderOp,
    t: &Target,
    text: &dyn Fn(&str) -> Result<Vec<u8>, String>,
) -> Result<(), String> {
    let (target, value) = match op {
        HeaderOp::Drop { drop } => (drop, None),
        HeaderOp::Duplicate { duplicate, value } => (duplicate, value.as_deref()),
        HeaderOp::Set { set, value } => (set, Some(value.as_str())),
        HeaderOp::Add { add, value } => (add, Some(value.as_str())),
        HeaderOp::Uppercase { uppercase } => (uppercase, None),
        _ => unreachable!("handled by the caller"),
    };
    let value = value.map(text).transpose()?;
    let name = if ROLES.contains(&target.as_str()) {
        match (t.scheme.header(target), t.scheme.timestamp_at()) {
            (Some(name), _) => name,
            (None, TimestampAt::Entry { key, separator }) if target == "timestamp" => {
                let header = t.scheme.header("signature").ok_or("no signature header")?;
                return edit_timestamp_entry(headers, &header, (key, separator), op, value);
            }
            (None, _) => {
                return Err(format!(
                    "the scheme has no {target} header: skip the provider"
                ));
            }
        }
    } else {
        target.to_ascii_lowercase()
    };
    let position = headers.iter().position(|(k, _)| *k == name);
    match (op, position) {
        (HeaderOp::Add { .. }, _) => headers.push((name, value.unwrap_or_default())),
        (HeaderOp::Set { .. }, None) => headers.push((name, value.unwrap_or_default())),
        (_, None) => return Err(format!("the request has no {name} header")),
        (HeaderOp::Drop { .. }, Some(_)) => headers.retain(|(k, _)| *k != name),
        (HeaderOp::Duplicate { .. }, Some(i)) => {
            let copy = value.unwrap_or_else(|| headers[i].1.clone());
            headers.insert(i + 1, (name, copy));
        }
        (HeaderOp::Set { .. }, Some(i)) => headers[i].1 = value.unwrap_or_default(),
        (HeaderOp::Uppercase { .. }, Some(i)) => headers[i].0 = name.to_ascii_uppercase(),
        _ => unreachable!(),
    }
    Ok(())
}

/// Edits a timestamp that is an entry of the signature header: Stripe's `t=` (entries split by
/// `,`) or Paddle's `ts=` (by `;`).
fn edit_timestamp_entry(
    headers: &mut [(String, Vec<u8>)],
    header: &str,
    (key, separator): (&str, char),
    op: &HeaderOp,
    value: Option<Vec<u8>>,
) -> Result<(), String> {
    let found = headers
        .iter_mut()
        .find(|(k, _)| k == header)
        .ok_or_else(|| format!("the request has no {header} header"))?;
    let old = String::from_utf8(found.1.clone()).map_err(|e| e.to_string())?;
    let value = value.map(|v| String::from_utf8_lossy(&v).into_owned());
    let mut entries: Vec<String> = old.split(separator).map(str::to_owned).collect();
    let t = entries
        .iter()
        .position(|e| e.starts_with(key))
        .ok_or_else(|| format!("no {key} entry"))?;
    match op {
        HeaderOp::Drop { .. } => {
            entries.remove(t);
        }
        HeaderOp::Duplicate { .. } => {
            let copy = value.map_or_else(|| entries[t].clone(), |v| format!("{key}{v}"));
            entries.insert(t + 1, copy);
        }
        HeaderOp::Set { .. } => entries[t] = format!("{key}{}", value.unwrap_or_default()),
        _ => return Err("this timestamp is an entry, not a header".into()),
    }
    found.1 = entries.join(&separator.to_string()).into_bytes();
    Ok(())
}
