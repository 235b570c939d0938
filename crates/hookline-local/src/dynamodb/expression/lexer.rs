//! Expression text to tokens.

use crate::dynamodb::DynamoDbError;

/// A token of an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Token {
    /// A bare word: an attribute name, a keyword (`AND`, `SET`) or a function name.
    Word(String),
    /// An expression attribute name placeholder (`#status`).
    Name(String),
    /// An expression attribute value placeholder (`:now`).
    Value(String),
    /// Punctuation and operators: `( ) , . [ ] = <> < <= > >= + -`.
    Symbol(&'static str),
}

/// A token and where it is in the text (byte offsets).
#[derive(Debug, Clone)]
pub(super) struct Spanned {
    pub(super) token: Token,
    pub(super) start: usize,
    pub(super) end: usize,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

const SYMBOLS: [&str; 13] = [
    "<>", "<=", ">=", "(", ")", ",", ".", "[", "]", "=", "<", ">", "+",
];

/// Splits `text` into tokens; `kind` names the expression in errors (`ConditionExpression`).
pub(super) fn tokens(text: &str, kind: &str) -> Result<Vec<Spanned>, DynamoDbError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let b = bytes[at];
        if b.is_ascii_whitespace() {
            at += 1;
            continue;
        }
        let start = at;
        let token = if b == b'#' || b == b':' {
            at += 1;
            while at < bytes.len() && is_word_byte(bytes[at]) {
                at += 1;
            }
            let placeholder = text[start..at].to_owned();
            if at == start + 1 {
                return Err(syntax(text, kind, &text[start..at], start, at));
            }
            if b == b'#' {
                Token::Name(placeholder)
            } else {
                Token::Value(placeholder)
            }
        } else if is_word_byte(b) {
            while at < bytes.len() && is_word_byte(bytes[at]) {
                at += 1;
            }
            Token::Word(text[start..at].to_owned())
        } else if b == b'-' {
            at += 1;
            Token::Symbol("-")
        } else if let Some(symbol) = SYMBOLS.iter().find(|s| text[at..].starts_with(**s)) {
            at += symbol.len();
            Token::Symbol(symbol)
        } else {
            let end = text[at..]
                .chars()
                .next()
                .map_or(at + 1, |c| at + c.len_utf8());
            return Err(syntax(text, kind, &text[at..end], at, end));
        };
        out.push(Spanned {
            token,
            start,
            end: at,
        });
    }
    Ok(out)
}

/// DynamoDB's syntax error: the token and the text around it.
pub(super) fn syntax(
    text: &str,
    kind: &str,
    token: &str,
    start: usize,
    end: usize,
) -> DynamoDbError {
    let before = text[..start].split_whitespace().last();
    let after = text[end..].split_whitespace().next();
    let here = Some(&text[start..end]).filter(|t| !t.is_empty());
    let near: String = [before, here, after]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(64)
        .collect();
    DynamoDbError::validation(format!(
        "Invalid {kind}: Syntax error; token: \"{token}\", near: \"{near}\""
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Token> {
        tokens(text, "ConditionExpression")
            .unwrap()
            .into_iter()
            .map(|s| s.token)
            .collect()
    }

    #[test]
    fn expressions_split_into_their_tokens() {
        assert_eq!(
            kinds("attribute_not_exists(#id) OR #e<:now"),
            [
                Token::Word("attribute_not_exists".into()),
                Token::Symbol("("),
                Token::Name("#id".into()),
                Token::Symbol(")"),
                Token::Word("OR".into()),
                Token::Name("#e".into()),
                Token::Symbol("<"),
                Token::Value(":now".into()),
            ]
        );
        assert_eq!(
            kinds("a<>b<=c>=d"),
            [
                Token::Word("a".into()),
                Token::Symbol("<>"),
                Token::Word("b".into()),
                Token::Symbol("<="),
                Token::Word("c".into()),
                Token::Symbol(">="),
                Token::Word("d".into()),
            ]
        );
    }

    #[test]
    fn unknown_characters_are_syntax_errors_near_where_they_are() {
        let err = tokens("a = :v AND b $ :w", "ConditionExpression").unwrap_err();
        assert_eq!(
            err.message,
            "Invalid ConditionExpression: Syntax error; token: \"$\", near: \"b $ :w\""
        );
        let err = tokens("a = :", "ConditionExpression").unwrap_err();
        assert!(err.message.contains("token: \":\""), "{}", err.message);
    }
}
