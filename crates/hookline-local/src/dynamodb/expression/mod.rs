//! DynamoDB expressions, a general subset: condition expressions (comparisons, AND, OR, NOT,
//! parentheses, `attribute_exists` and `attribute_not_exists`), update expressions (`SET` and
//! `REMOVE`), and projection expressions, on top-level attributes, with `#name` and `:value`
//! placeholders (DynamoDB Developer Guide, "Using expressions in DynamoDB"). What DynamoDB
//! allows beyond that (other functions, BETWEEN and IN, arithmetic, `ADD` and `DELETE`,
//! nested paths) is refused with a `ValidationException` that names it.

mod condition;
mod lexer;
mod update;

use std::collections::{BTreeMap, BTreeSet};

pub use condition::Condition;
use lexer::{Spanned, Token};
pub use update::Update;

use super::DynamoDbError;
use super::value::AttributeValue;

/// Words that need a `#name` placeholder to be used as attribute names ("Reserved words in
/// DynamoDB", Developer Guide), one per line, upper case.
const RESERVED_WORDS: &str = include_str!("reserved_words.txt");

fn is_reserved(word: &str) -> bool {
    let upper = word.to_ascii_uppercase();
    RESERVED_WORDS.lines().any(|reserved| reserved == upper)
}

/// "The maximum length of any expression string is 4 KB" (Developer Guide, "Quotas").
const MAX_EXPRESSION_BYTES: usize = 4096;

/// How deep parentheses and NOT may nest: the parser recurses per level, and a request must
/// not be able to exhaust the stack. DynamoDB documents no such limit; 4 KB of `(` would be
/// 4096 levels.
const MAX_NESTING: usize = 64;

/// DynamoDB's functions (Developer Guide, "Condition and filter expressions, operators, and
/// functions"; "Update expressions").
const CONDITION_FUNCTIONS: [&str; 6] = [
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
    "size",
];
const UPDATE_FUNCTIONS: [&str; 2] = ["if_not_exists", "list_append"];

/// An operand: an attribute of the item, or a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// A top-level attribute, by name.
    Path(String),
    /// An `ExpressionAttributeValues` value.
    Value(AttributeValue),
}

/// A request's `ExpressionAttributeNames` and `ExpressionAttributeValues`, and which of them
/// its expressions used: DynamoDB refuses a request with one it did not use.
pub struct Placeholders<'a> {
    names: &'a BTreeMap<String, String>,
    values: &'a BTreeMap<String, AttributeValue>,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

impl<'a> Placeholders<'a> {
    /// The request's placeholders.
    pub fn new(
        names: &'a BTreeMap<String, String>,
        values: &'a BTreeMap<String, AttributeValue>,
    ) -> Self {
        Placeholders {
            names,
            values,
            used_names: BTreeSet::new(),
            used_values: BTreeSet::new(),
        }
    }

    /// Fails when a placeholder was given that no expression used (checked after parsing all
    /// of a request's expressions).
    pub fn check_all_used(&self) -> Result<(), DynamoDbError> {
        for (kind, given, used) in [
            (
                "ExpressionAttributeNames",
                self.names.keys().collect::<Vec<_>>(),
                &self.used_names,
            ),
            (
                "ExpressionAttributeValues",
                self.values.keys().collect(),
                &self.used_values,
            ),
        ] {
            let unused: Vec<&str> = given
                .into_iter()
                .filter(|key| !used.contains(*key))
                .map(String::as_str)
                .collect();
            if !unused.is_empty() {
                return Err(DynamoDbError::validation(format!(
                    "Value provided in {kind} unused in expressions: keys: {{{}}}",
                    unused.join(", ")
                )));
            }
        }
        Ok(())
    }
}

/// A recursive-descent parser over one expression's tokens.
struct Parser<'t, 'p> {
    text: &'t str,
    kind: &'static str,
    tokens: Vec<Spanned>,
    at: usize,
    depth: usize,
    placeholders: &'t mut Placeholders<'p>,
}

impl<'t, 'p> Parser<'t, 'p> {
    fn new(
        text: &'t str,
        kind: &'static str,
        placeholders: &'t mut Placeholders<'p>,
    ) -> Result<Self, DynamoDbError> {
        if text.len() > MAX_EXPRESSION_BYTES {
            return Err(DynamoDbError::validation(format!(
                "Invalid {kind}: Expression size has exceeded the maximum allowed size; expression size: {}",
                text.len()
            )));
        }
        let tokens = lexer::tokens(text, kind)?;
        if tokens.is_empty() {
            return Err(DynamoDbError::validation(format!(
                "Invalid {kind}: The expression can not be empty;"
            )));
        }
        Ok(Parser {
            text,
            kind,
            tokens,
            at: 0,
            depth: 0,
            placeholders,
        })
    }

    /// Enters one more level of parentheses or NOT; refused past [`MAX_NESTING`].
    fn nest(&mut self) -> Result<(), DynamoDbError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.unsupported(format!(
                "conditions nested more than {MAX_NESTING} levels deep (parentheses and NOT)"
            )));
        }
        Ok(())
    }

    fn unnest(&mut self) {
        self.depth -= 1;
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|s| &s.token)
    }

    fn peek_second(&self) -> Option<&Token> {
        self.tokens.get(self.at + 1).map(|s| &s.token)
    }

    fn advance(&mut self) -> Option<Token> {
        let token = self.peek().cloned();
        self.at += 1;
        token
    }

    fn at_end(&self) -> bool {
        self.at >= self.tokens.len()
    }

    /// Whether the next token is `word`, in any case (keywords are case-insensitive).
    fn at_keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn at_symbol(&self, symbol: &str) -> bool {
        matches!(self.peek(), Some(Token::Symbol(s)) if *s == symbol)
    }

    fn expect_symbol(&mut self, symbol: &str) -> Result<(), DynamoDbError> {
        if self.at_symbol(symbol) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    /// DynamoDB's syntax error at the next token.
    fn syntax_error(&self) -> DynamoDbError {
        match self.tokens.get(self.at) {
            Some(s) => lexer::syntax(
                self.text,
                self.kind,
                &self.text[s.start..s.end],
                s.start,
                s.end,
            ),
            None => {
                let end = self.text.trim_end().len();
                lexer::syntax(self.text, self.kind, "<EOF>", end, end)
            }
        }
    }

    fn invalid(&self, message: impl std::fmt::Display) -> DynamoDbError {
        DynamoDbError::validation(format!("Invalid {}: {message}", self.kind))
    }

    fn unsupported(&self, what: impl std::fmt::Display) -> DynamoDbError {
        DynamoDbError::unsupported(format!("{what} (in the {})", self.kind))
    }

    /// Whether the next tokens are a function call (`name(`).
    fn at_function(&self) -> Option<String> {
        match (self.peek(), self.peek_second()) {
            (Some(Token::Word(name)), Some(Token::Symbol("("))) => Some(name.clone()),
            _ => None,
        }
    }

    /// The error for a call of `name` where this parser supports none: DynamoDB's when the
    /// function does not exist or cannot be used here (`usable_here`: the ones DynamoDB allows
    /// in this position), unsupported otherwise.
    fn function_error(&self, name: &str, usable_here: &[&str]) -> DynamoDbError {
        if usable_here.contains(&name) {
            self.unsupported(format!("the function {name}"))
        } else if CONDITION_FUNCTIONS.contains(&name) || UPDATE_FUNCTIONS.contains(&name) {
            self.invalid(format!(
                "The function is not allowed to be used this way in an expression; function: {name}"
            ))
        } else {
            self.invalid(format!("Invalid function name; function: {name}"))
        }
    }

    /// An operand: a `:value`, or an attribute. `functions` are those DynamoDB allows here.
    fn operand(&mut self, functions: &[&str]) -> Result<Operand, DynamoDbError> {
        if let Some(name) = self.at_function() {
            return Err(self.function_error(&name, functions));
        }
        if let Some(Token::Value(placeholder)) = self.peek().cloned() {
            self.at += 1;
            return self.value(&placeholder).map(Operand::Value);
        }
        self.path().map(Operand::Path)
    }

    /// A top-level attribute: a bare name that is no reserved word, or a `#name` placeholder.
    fn path(&mut self) -> Result<String, DynamoDbError> {
        let name = match self.peek().cloned() {
            Some(Token::Word(word)) => {
                if is_reserved(&word) {
                    return Err(self.invalid(format!(
                        "Attribute name is a reserved keyword; reserved keyword: {word}"
                    )));
                }
                if word.as_bytes()[0].is_ascii_digit() {
                    return Err(self.syntax_error());
                }
                word
            }
            Some(Token::Name(placeholder)) => self.name(&placeholder)?,
            _ => return Err(self.syntax_error()),
        };
        self.at += 1;
        if self.at_symbol(".") || self.at_symbol("[") {
            return Err(self.unsupported(
                "nested attribute paths (map elements `a.b` and list elements `a[0]`); it reads and writes top-level attributes",
            ));
        }
        Ok(name)
    }

    fn name(&mut self, placeholder: &str) -> Result<String, DynamoDbError> {
        let name = self
            .placeholders
            .names
            .get(placeholder)
            .cloned()
            .ok_or_else(|| {
                self.invalid(format!(
                    "An expression attribute name used in the document path is not defined; attribute name: {placeholder}"
                ))
            })?;
        self.placeholders.used_names.insert(placeholder.to_owned());
        Ok(name)
    }

    fn value(&mut self, placeholder: &str) -> Result<AttributeValue, DynamoDbError> {
        let value = self
            .placeholders
            .values
            .get(placeholder)
            .cloned()
            .ok_or_else(|| {
                self.invalid(format!(
                    "An expression attribute value used in expression is not defined; attribute value: {placeholder}"
                ))
            })?;
        self.placeholders.used_values.insert(placeholder.to_owned());
        Ok(value)
    }
}

/// Parses a `ProjectionExpression`: the attributes to return.
pub fn projection(
    text: &str,
    placeholders: &mut Placeholders<'_>,
) -> Result<Vec<String>, DynamoDbError> {
    let mut parser = Parser::new(text, "ProjectionExpression", placeholders)?;
    let mut paths = vec![parser.path()?];
    while parser.at_symbol(",") {
        parser.advance();
        paths.push(parser.path()?);
    }
    if !parser.at_end() {
        return Err(parser.syntax_error());
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_words_need_a_placeholder_in_any_case() {
        assert!(is_reserved("status") && is_reserved("Data") && is_reserved("SET"));
        assert!(!is_reserved("id") && !is_reserved("in_progress_expiry"));
        let names = BTreeMap::from([("#s".to_owned(), "status".to_owned())]);
        let values = BTreeMap::new();
        let mut placeholders = Placeholders::new(&names, &values);
        assert_eq!(
            projection("id, #s", &mut placeholders).unwrap(),
            ["id", "status"]
        );
        placeholders.check_all_used().unwrap();
        let err = projection("id, status", &mut placeholders).unwrap_err();
        assert_eq!(
            err.message,
            "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: status"
        );
    }

    #[test]
    fn unused_and_undefined_placeholders_are_refused() {
        let names = BTreeMap::from([
            ("#a".to_owned(), "a".to_owned()),
            ("#b".to_owned(), "b".to_owned()),
        ]);
        let values = BTreeMap::new();
        let mut placeholders = Placeholders::new(&names, &values);
        projection("#a", &mut placeholders).unwrap();
        assert_eq!(
            placeholders.check_all_used().unwrap_err().message,
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}"
        );
        let err = projection("#c", &mut placeholders).unwrap_err();
        assert!(
            err.message.ends_with("attribute name: #c"),
            "{}",
            err.message
        );
        let err = projection("a.b", &mut placeholders).unwrap_err();
        assert!(
            err.message.contains("nested attribute paths"),
            "{}",
            err.message
        );
        let err = projection("", &mut placeholders).unwrap_err();
        assert!(err.message.contains("can not be empty"), "{}", err.message);
    }
}
