//! The URL a provider called, for the URL-signed schemes: its parts and the variants their
//! official libraries also accept.

/// `url` with its port made explicit (`:443` for https, `:80` for http) and without any port:
/// twilio-python's `RequestValidator.validate` checks both, "since sig generation on back end is
/// inconsistent". Each variant once, the URL as given first.
pub(crate) fn port_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_owned()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return variants;
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    // Userinfo never appears in a webhook URL; an authority with `@` is left alone.
    if authority.contains('@') {
        return variants;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') && port.bytes().all(|b| b.is_ascii_digit()) => {
            (host, Some(port))
        }
        _ => (authority, None),
    };
    let default_port = if scheme.eq_ignore_ascii_case("https") {
        "443"
    } else {
        "80"
    };
    for candidate in [
        format!("{scheme}://{host}{tail}"),
        format!("{scheme}://{host}:{}{tail}", port.unwrap_or(default_port)),
    ] {
        if !variants.contains(&candidate) {
            variants.push(candidate);
        }
    }
    variants
}

/// The value of query parameter `name` (percent-decoded), when the URL has one.
pub(crate) fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_added_and_removed() {
        assert_eq!(
            port_variants("https://mycompany.com/myapp.php?foo=1&bar=2"),
            [
                "https://mycompany.com/myapp.php?foo=1&bar=2",
                "https://mycompany.com:443/myapp.php?foo=1&bar=2"
            ]
        );
        assert_eq!(
            port_variants("http://127.0.0.1:3000/hooks"),
            ["http://127.0.0.1:3000/hooks", "http://127.0.0.1/hooks"]
        );
        assert_eq!(port_variants("not a url"), ["not a url"]);
        assert_eq!(
            query_param("https://a/b?x=1&bodySHA256=ab%2Bc#f", "bodySHA256").as_deref(),
            Some("ab+c")
        );
        assert_eq!(query_param("https://a/b", "x"), None);
    }
}
