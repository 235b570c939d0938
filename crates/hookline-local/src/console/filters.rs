//! The deliveries list's query string: `provider`, `status`, `event`, `q`, `before`, `limit`.
//! A value that means nothing is refused with what would have been understood.

use std::collections::BTreeMap;

use super::ConsoleError;
use super::query::{Filter, MAX_PAGE, PAGE};

/// The parameters the list understands (and `notice`, the message a page shows after a form).
const KNOWN: [&str; 7] = [
    "provider", "status", "event", "q", "before", "limit", "notice",
];

/// Reads a list query; `providers` are the names a `provider` filter may take (and `-`, for
/// requests that matched no route).
pub fn parse(query: &BTreeMap<String, String>, providers: &[&str]) -> Result<Filter, ConsoleError> {
    if let Some(unknown) = query.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ConsoleError::BadRequest(format!(
            "unknown filter `{unknown}`: the filters are provider, status, event, q (a delivery id or message id), before and limit"
        )));
    }
    let value = |key: &str| {
        query
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let provider = match value("provider") {
        Some(p) if p == "-" || providers.contains(&p.as_str()) => Some(p),
        Some(p) => {
            return Err(ConsoleError::BadRequest(format!(
                "no provider `{p}`: the providers are {} (or `-` for requests to no route)",
                providers.join(", ")
            )));
        }
        None => None,
    };
    let status = value("status").map(|s| status_range(&s)).transpose()?;
    let before = value("before")
        .map(|b| {
            b.parse::<i64>().map_err(|_| {
                ConsoleError::BadRequest(format!("`before` is a position in the list, not `{b}`"))
            })
        })
        .transpose()?;
    let limit = match value("limit") {
        None => PAGE,
        Some(l) => match l.parse::<u32>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                return Err(ConsoleError::BadRequest(format!(
                    "`limit` is a number from 1 to {MAX_PAGE}, not `{l}`"
                )));
            }
        },
    };
    Ok(Filter {
        provider,
        status,
        event_type: value("event"),
        search: value("q"),
        before,
        limit,
    })
}

/// `2xx` → 200..=299; `401` → 401..=401.
fn status_range(status: &str) -> Result<(u16, u16), ConsoleError> {
    let bad = || {
        ConsoleError::BadRequest(format!(
            "`status` is a class (2xx, 4xx, 5xx) or a code (401), not `{status}`"
        ))
    };
    let lower = status.to_ascii_lowercase();
    if let Some(class) = lower.strip_suffix("xx") {
        let digit: u16 = class.parse().map_err(|_| bad())?;
        if !(1..=5).contains(&digit) || class.len() != 1 {
            return Err(bad());
        }
        return Ok((digit * 100, digit * 100 + 99));
    }
    match lower.parse::<u16>() {
        Ok(code) if (100..=599).contains(&code) => Ok((code, code)),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic)] // test code: failing loudly is the point

    use super::*;

    fn query(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn filters_are_read_and_empty_ones_ignored() {
        let filter = parse(
            &query(&[
                ("provider", "stripe"),
                ("status", "4xx"),
                ("event", ""),
                ("q", " evt_1 "),
            ]),
            &["stripe"],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(filter.provider.as_deref(), Some("stripe"));
        assert_eq!(filter.status, Some((400, 499)));
        assert_eq!(filter.event_type, None);
        assert_eq!(filter.search.as_deref(), Some("evt_1"));
        assert_eq!(filter.limit, PAGE);
        assert_eq!(
            parse(&query(&[("status", "401")]), &[]).map(|f| f.status),
            Ok(Some((401, 401)))
        );
    }

    #[test]
    fn bad_filters_say_what_is_understood() {
        for (pairs, says) in [
            (vec![("provider", "nope")], "the providers are stripe"),
            (vec![("status", "ok")], "`status` is a class"),
            (vec![("status", "6xx")], "`status` is a class"),
            (vec![("status", "22xx")], "`status` is a class"),
            (vec![("status", "99")], "`status` is a class"),
            (vec![("before", "x")], "`before`"),
            (vec![("limit", "0")], "`limit`"),
            (vec![("limit", "501")], "`limit`"),
            (vec![("stauts", "2xx")], "unknown filter `stauts`"),
        ] {
            match parse(&query(&pairs), &["stripe"]) {
                Err(ConsoleError::BadRequest(message)) => {
                    assert!(message.contains(says), "{pairs:?}: {message}")
                }
                other => panic!("{pairs:?}: {other:?}"),
            }
        }
    }
}
