//! `send --size`: a sample padded to a given size, still a body its provider could send, to try
//! what large deliveries do (the body bucket takes what does not fit a queue message).

use anyhow::{Result, bail};
use hookline_local::fresh::PADDING;

use super::Sample;

/// Bytes in `text`: a number with an optional unit, decimal (`KB`, `MB`) or binary (`KiB`,
/// `MiB`), as `3MB`, `5.5MB`, `512KiB` or `1000`.
pub fn parse(text: &str) -> Result<usize> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        _ => bail!("`{text}` is not a size: use bytes, KB, MB, KiB or MiB (e.g. 3MB)"),
    };
    match number.parse::<f64>() {
        Ok(n) if n > 0.0 && (n * scale).is_finite() => Ok((n * scale).round() as usize),
        _ => bail!("`{text}` is not a size: use bytes, KB, MB, KiB or MiB (e.g. 3MB)"),
    }
}

/// `sample` grown to exactly `size` bytes: a JSON object gets a `hookline_padding` string
/// field first, a form body a `hookline_padding` parameter last.
pub fn pad(mut sample: Sample, size: usize) -> Result<Sample> {
    let body = &sample.body;
    let json = body.first() == Some(&b'{');
    let form = sample
        .content_type
        .starts_with("application/x-www-form-urlencoded");
    // What the padding costs besides its filler.
    let (overhead, fits) = if json {
        let empty = body.iter().skip(1).all(u8::is_ascii_whitespace)
            || body[1..].trim_ascii_start().first() == Some(&b'}');
        (PADDING.len() + 5 + usize::from(!empty), empty)
    } else if form {
        (PADDING.len() + 1 + usize::from(!body.is_empty()), false)
    } else {
        bail!(
            "--size pads JSON objects and form bodies; this sample is {}",
            sample.content_type
        );
    };
    let Some(filler) = size.checked_sub(body.len() + overhead) else {
        bail!(
            "--size {size} is smaller than the sample with its padding ({} bytes)",
            body.len() + overhead
        );
    };
    let filler = "x".repeat(filler);
    sample.body = if json {
        let comma = if fits { "" } else { "," };
        let mut padded = format!("{{\"{PADDING}\":\"{filler}\"{comma}").into_bytes();
        padded.extend_from_slice(&body[1..]);
        padded
    } else {
        let mut padded = body.clone();
        if !padded.is_empty() {
            padded.push(b'&');
        }
        padded.extend_from_slice(format!("{PADDING}={filler}").as_bytes());
        padded
    };
    Ok(sample)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(content_type: &str, body: &str) -> Sample {
        Sample {
            event_type: "t".into(),
            body: body.as_bytes().to_vec(),
            content_type: content_type.into(),
            headers: Vec::new(),
        }
    }

    #[test]
    fn sizes_read_decimal_and_binary_units() {
        assert_eq!(parse("3MB").unwrap(), 3_000_000);
        assert_eq!(parse("5.5MB").unwrap(), 5_500_000);
        assert_eq!(parse("512KiB").unwrap(), 524_288);
        assert_eq!(parse("1 MiB").unwrap(), 1_048_576);
        assert_eq!(parse("1000").unwrap(), 1000);
        for bad in ["", "MB", "3GB", "-1MB", "0", "three"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_json_object_gets_a_field_and_stays_the_same_json() {
        for body in [r#"{"type":"invoice.paid","id":"evt_1"}"#, "{}", "{ }"] {
            let padded = pad(sample("application/json", body), 4096).unwrap();
            assert_eq!(padded.body.len(), 4096, "{body}");
            let mut value: serde_json::Value = serde_json::from_slice(&padded.body).unwrap();
            let filler = value.as_object_mut().unwrap().remove(PADDING).unwrap();
            assert!(filler.as_str().unwrap().bytes().all(|b| b == b'x'));
            let original: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(value, original, "{body}");
        }
    }

    #[test]
    fn a_form_gets_a_parameter() {
        let padded = pad(
            sample("application/x-www-form-urlencoded", "command=%2Fdeploy"),
            1000,
        )
        .unwrap();
        assert_eq!(padded.body.len(), 1000);
        let text = String::from_utf8(padded.body).unwrap();
        let rest = text
            .strip_prefix("command=%2Fdeploy&hookline_padding=")
            .unwrap();
        assert!(rest.bytes().all(|b| b == b'x'), "{text}");
    }

    #[test]
    fn what_cannot_be_padded_says_why() {
        let err = pad(sample("text/plain", "hi"), 100).unwrap_err();
        assert!(err.to_string().contains("text/plain"), "{err}");
        let err = pad(sample("application/json", r#"{"a":1}"#), 10).unwrap_err();
        assert!(err.to_string().contains("smaller than the sample"), "{err}");
    }
}
