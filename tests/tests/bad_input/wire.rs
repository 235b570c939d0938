//! What both corpora share: the placeholders and size expressions of the case files, and one
//! HTTP/1.1 exchange of raw bytes over TCP (no client library in between to tidy the request).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Expands the placeholders of a corpus string into bytes:
/// `${byte:HH}` one raw byte (how a case writes invalid UTF-8 or control characters),
/// `${repeat:TEXT:N}` TEXT N times (TEXT cannot contain `}`), and `${name}` a variable.
pub fn expand(template: &str, var: &dyn Fn(&str) -> Option<String>) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.extend_from_slice(&rest.as_bytes()[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unclosed placeholder in `{template}`"))?;
        let placeholder = &after[..end];
        if let Some(hex) = placeholder.strip_prefix("byte:") {
            let byte = u8::from_str_radix(hex, 16)
                .map_err(|_| format!("`${{{placeholder}}}`: not a hex byte"))?;
            out.push(byte);
        } else if let Some(spec) = placeholder.strip_prefix("repeat:") {
            let (text, times) = spec
                .rsplit_once(':')
                .ok_or_else(|| format!("`${{{placeholder}}}`: expected repeat:TEXT:N"))?;
            let times: usize = times
                .parse()
                .map_err(|_| format!("`${{{placeholder}}}`: N is not a number"))?;
            out.extend_from_slice(text.repeat(times).as_bytes());
        } else {
            let value = var(placeholder)
                .ok_or_else(|| format!("unknown placeholder `${{{placeholder}}}`"))?;
            out.extend_from_slice(value.as_bytes());
        }
        rest = &after[end + 1..];
    }
    out.extend_from_slice(rest.as_bytes());
    Ok(out)
}

/// Evaluates a sum of numbers and names, `now-tolerance+5` or `limit+1`.
pub fn eval(expr: &str, var: &dyn Fn(&str) -> Option<i64>) -> Result<i64, String> {
    let mut total = 0i64;
    let mut sign = 1i64;
    let mut term = String::new();
    let flush = |term: &mut String, sign: i64, total: &mut i64| -> Result<(), String> {
        let t = term.trim();
        if t.is_empty() {
            return Err(format!("`{expr}`: a term is missing"));
        }
        let value = match t.parse::<i64>() {
            Ok(n) => n,
            Err(_) => var(t).ok_or_else(|| format!("`{expr}`: unknown name `{t}`"))?,
        };
        *total += sign * value;
        term.clear();
        Ok(())
    };
    for (i, c) in expr.char_indices() {
        match c {
            '+' | '-' if i == 0 => sign = if c == '-' { -1 } else { 1 },
            '+' | '-' => {
                flush(&mut term, sign, &mut total)?;
                sign = if c == '-' { -1 } else { 1 };
            }
            _ => term.push(c),
        }
    }
    flush(&mut term, sign, &mut total)?;
    Ok(total)
}

/// A size in a case file: a number of bytes or an expression over named limits.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
pub enum Size {
    /// Bytes.
    Bytes(i64),
    /// An expression, `limit+1`.
    Expr(String),
}

impl Size {
    pub fn eval(&self, var: &dyn Fn(&str) -> Option<i64>) -> Result<usize, String> {
        let n = match self {
            Size::Bytes(n) => *n,
            Size::Expr(e) => eval(e, var)?,
        };
        usize::try_from(n).map_err(|_| format!("size {n} is negative"))
    }
}

/// An HTTP answer: status, head (status line and headers) and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Answer {
    /// A header of the answer (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The body as lossy text, shortened for messages.
    pub fn shown(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let short: String = text.chars().take(300).collect();
        format!("{} {short}", self.status)
    }
}

/// Sends `request` (head and body, byte for byte) to `authority` and reads the answer until the
/// server closes (requests carry `Connection: close`). A server may answer and close before it
/// has read everything (413, 431): the write error is then ignored and the answer read anyway.
pub async fn exchange(authority: &str, request: &[u8]) -> Result<Answer, String> {
    let work = async {
        let mut stream = tokio::net::TcpStream::connect(authority)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let _ = stream.write_all(request).await;
        let mut raw = Vec::new();
        if let Err(e) = stream.read_to_end(&mut raw).await
            && raw.is_empty()
        {
            return Err(format!("no answer: {e}"));
        }
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| format!("no header end in {:?}", String::from_utf8_lossy(&raw)))?;
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no status in {head:?}"))?;
        Ok(Answer {
            status,
            head,
            body: raw[split + 4..].to_vec(),
        })
    };
    tokio::time::timeout(Duration::from_secs(60), work)
        .await
        .map_err(|_| "no answer within 60 s".to_owned())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_expressions() {
        let var = |name: &str| (name == "queue").then(|| "q".to_owned());
        assert_eq!(
            expand("a${byte:ff}${repeat:xy:3}${queue}", &var).unwrap(),
            b"a\xffxyxyxyq"
        );
        assert!(expand("${nope}", &var).is_err());
        let num = |name: &str| (name == "limit").then_some(10);
        assert_eq!(eval("limit+1", &num), Ok(11));
        assert_eq!(eval("-limit-2+5", &num), Ok(-7));
        assert!(eval("limit+", &num).is_err());
    }
}
