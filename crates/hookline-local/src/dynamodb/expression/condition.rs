//! Condition expressions: parsed once per request, evaluated against the item as it is, in the
//! same transaction as the write they guard.
//!
//! Precedence, highest first: comparisons and functions, NOT, AND, OR (Developer Guide,
//! "Comparison operator and function reference", precedence).

use std::cmp::Ordering;

use super::lexer::Token;
use super::{CONDITION_FUNCTIONS, Operand, Parser, Placeholders};
use crate::dynamodb::DynamoDbError;
use crate::dynamodb::value::{AttributeValue, Item};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Comparator {
    fn from_symbol(symbol: &str) -> Option<Comparator> {
        Some(match symbol {
            "=" => Comparator::Eq,
            "<>" => Comparator::Ne,
            "<" => Comparator::Lt,
            "<=" => Comparator::Le,
            ">" => Comparator::Gt,
            ">=" => Comparator::Ge,
            _ => return None,
        })
    }

    fn symbol(self) -> &'static str {
        match self {
            Comparator::Eq => "=",
            Comparator::Ne => "<>",
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
        }
    }
}

/// A parsed condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `a <op> b`.
    Compare(Operand, Comparator, Operand),
    /// `attribute_exists(path)`.
    Exists(String),
    /// `attribute_not_exists(path)`.
    NotExists(String),
    /// `a AND b`.
    And(Box<Condition>, Box<Condition>),
    /// `a OR b`.
    Or(Box<Condition>, Box<Condition>),
    /// `NOT a`.
    Not(Box<Condition>),
}

impl Condition {
    /// Parses a `ConditionExpression`.
    pub fn parse(
        text: &str,
        placeholders: &mut Placeholders<'_>,
    ) -> Result<Condition, DynamoDbError> {
        let mut parser = Parser::new(text, "ConditionExpression", placeholders)?;
        let condition = or(&mut parser)?;
        if !parser.at_end() {
            return Err(parser.syntax_error());
        }
        Ok(condition)
    }

    /// Whether `item` (`None`: there is none) meets the condition. An attribute the item lacks
    /// compares as nothing: `=` and the orderings are false, `<>` is true.
    pub fn eval(&self, item: Option<&Item>) -> bool {
        let get = |name: &str| item.and_then(|i| i.get(name));
        match self {
            Condition::Exists(name) => get(name).is_some(),
            Condition::NotExists(name) => get(name).is_none(),
            Condition::And(a, b) => a.eval(item) && b.eval(item),
            Condition::Or(a, b) => a.eval(item) || b.eval(item),
            Condition::Not(a) => !a.eval(item),
            Condition::Compare(left, comparator, right) => {
                let resolve = |operand: &Operand| match operand {
                    Operand::Path(name) => get(name).cloned(),
                    Operand::Value(value) => Some(value.clone()),
                };
                compare(resolve(left).as_ref(), *comparator, resolve(right).as_ref())
            }
        }
    }
}

fn compare(
    left: Option<&AttributeValue>,
    comparator: Comparator,
    right: Option<&AttributeValue>,
) -> bool {
    let (Some(left), Some(right)) = (left, right) else {
        return comparator == Comparator::Ne;
    };
    match comparator {
        Comparator::Eq => left == right,
        Comparator::Ne => left != right,
        ordering => match order(left, right) {
            // Values of different types, or of types without an order, meet no ordering.
            None => false,
            Some(o) => match ordering {
                Comparator::Lt => o == Ordering::Less,
                Comparator::Le => o != Ordering::Greater,
                Comparator::Gt => o == Ordering::Greater,
                _ => o != Ordering::Less,
            },
        },
    }
}

/// Numbers by value, strings and binaries by their bytes ("String value comparisons ... are
/// based on the underlying UTF-8 encoding", Developer Guide, comparison operators).
fn order(left: &AttributeValue, right: &AttributeValue) -> Option<Ordering> {
    match (left, right) {
        (AttributeValue::N(a), AttributeValue::N(b)) => Some(a.cmp(b)),
        (AttributeValue::S(a), AttributeValue::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (AttributeValue::B(a), AttributeValue::B(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

fn or(parser: &mut Parser<'_, '_>) -> Result<Condition, DynamoDbError> {
    let mut left = and(parser)?;
    while parser.at_keyword("OR") {
        parser.advance();
        left = Condition::Or(Box::new(left), Box::new(and(parser)?));
    }
    Ok(left)
}

fn and(parser: &mut Parser<'_, '_>) -> Result<Condition, DynamoDbError> {
    let mut left = not(parser)?;
    while parser.at_keyword("AND") {
        parser.advance();
        left = Condition::And(Box::new(left), Box::new(not(parser)?));
    }
    Ok(left)
}

fn not(parser: &mut Parser<'_, '_>) -> Result<Condition, DynamoDbError> {
    if parser.at_keyword("NOT") {
        parser.advance();
        parser.nest()?;
        let inner = not(parser)?;
        parser.unnest();
        return Ok(Condition::Not(Box::new(inner)));
    }
    primary(parser)
}

fn primary(parser: &mut Parser<'_, '_>) -> Result<Condition, DynamoDbError> {
    if parser.at_symbol("(") {
        parser.advance();
        parser.nest()?;
        let inner = or(parser)?;
        parser.unnest();
        parser.expect_symbol(")")?;
        return Ok(inner);
    }
    if let Some(name) = parser.at_function().filter(|name| name != "size") {
        let exists = match name.as_str() {
            "attribute_exists" => true,
            "attribute_not_exists" => false,
            _ => return Err(parser.function_error(&name, &CONDITION_FUNCTIONS)),
        };
        parser.advance();
        parser.expect_symbol("(")?;
        let path = parser.path()?;
        parser.expect_symbol(")")?;
        return Ok(if exists {
            Condition::Exists(path)
        } else {
            Condition::NotExists(path)
        });
    }
    // `size(path)` is an operand, not a condition.
    let left = parser.operand(&["size"])?;
    for keyword in ["BETWEEN", "IN"] {
        if parser.at_keyword(keyword) {
            return Err(parser.unsupported(format!("the {keyword} comparator")));
        }
    }
    let comparator = match parser.peek() {
        Some(Token::Symbol(symbol)) => Comparator::from_symbol(symbol),
        _ => None,
    }
    .ok_or_else(|| parser.syntax_error())?;
    parser.advance();
    let right = parser.operand(&["size"])?;
    if comparator != Comparator::Eq && comparator != Comparator::Ne {
        for operand in [&left, &right] {
            if let Operand::Value(value) = operand
                && !matches!(
                    value,
                    AttributeValue::N(_) | AttributeValue::S(_) | AttributeValue::B(_)
                )
            {
                return Err(parser.invalid(format!(
                    "Incorrect operand type for operator or function; operator or function: {}, operand type: {}",
                    comparator.symbol(),
                    value.type_name()
                )));
            }
        }
    }
    Ok(Condition::Compare(left, comparator, right))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::dynamodb::value::item_from_json;

    /// The idempotency store's condition (the contract of issue 16).
    const CLAIM: &str = "attribute_not_exists(#id) OR #expiration < :now OR (#status = :in_progress AND #in_progress_expiry < :now_ms)";

    fn claim_allowed(item: Option<serde_json::Value>) -> bool {
        let names = BTreeMap::from(
            [
                ("#id", "id"),
                ("#expiration", "expiration"),
                ("#status", "status"),
                ("#in_progress_expiry", "in_progress_expiry"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        let values = item_from_json(&json!({
            ":now": {"N": "1000"}, ":now_ms": {"N": "1000000"}, ":in_progress": {"S": "INPROGRESS"}
        }))
        .unwrap();
        let mut placeholders = Placeholders::new(&names, &values);
        let condition = Condition::parse(CLAIM, &mut placeholders).unwrap();
        placeholders.check_all_used().unwrap();
        let item = item.map(|i| item_from_json(&i).unwrap());
        condition.eval(item.as_ref())
    }

    #[test]
    fn the_claim_condition_allows_new_expired_and_stale_records_only() {
        assert!(claim_allowed(None));
        let record = |status: &str, expiration: &str, in_progress_expiry: &str| {
            Some(json!({
                "id": {"S": "k"}, "status": {"S": status},
                "expiration": {"N": expiration}, "in_progress_expiry": {"N": in_progress_expiry},
            }))
        };
        assert!(!claim_allowed(record("INPROGRESS", "2000", "2000000")));
        assert!(claim_allowed(record("INPROGRESS", "2000", "999999")));
        assert!(claim_allowed(record("COMPLETED", "999", "2000000")));
        assert!(!claim_allowed(record("COMPLETED", "2000", "999999")));
        // Numbers compare by value, not as text ("999" > "1000" as strings).
        assert!(claim_allowed(record("COMPLETED", "999.5", "0")));
    }

    fn check(text: &str, values: serde_json::Value, item: serde_json::Value) -> bool {
        let names = BTreeMap::new();
        let values = item_from_json(&values).unwrap();
        let mut placeholders = Placeholders::new(&names, &values);
        let condition = Condition::parse(text, &mut placeholders).unwrap();
        condition.eval(Some(&item_from_json(&item).unwrap()))
    }

    #[test]
    fn operators_follow_dynamodbs_precedence_and_types() {
        let item = json!({"a": {"N": "5"}, "s": {"S": "b"}, "t": {"BOOL": true}});
        let v = json!({":five": {"N": "5"}, ":a": {"S": "a"}, ":t": {"BOOL": true}});
        assert!(check(
            "a = :five OR a < :five AND a > :five",
            v.clone(),
            item.clone()
        ));
        assert!(!check(
            "(a = :five OR a < :five) AND a > :five",
            v.clone(),
            item.clone()
        ));
        assert!(check("NOT a > :five and s >= :a", v.clone(), item.clone()));
        assert!(check("t = :t AND NOT t <> :t", v.clone(), item.clone()));
        // A number and a string are never ordered; a missing attribute equals nothing.
        assert!(!check("a > :a OR a <= :a", v.clone(), item.clone()));
        assert!(check(
            "ghost <> :five AND NOT ghost = :five",
            v.clone(),
            item.clone()
        ));
        assert!(!check("ghost < :five OR ghost >= :five", v, item));
    }

    fn error(text: &str) -> String {
        let names = BTreeMap::from([("#a".to_owned(), "a".to_owned())]);
        let values = item_from_json(&json!({":v": {"S": "x"}, ":t": {"BOOL": true}})).unwrap();
        let mut placeholders = Placeholders::new(&names, &values);
        Condition::parse(text, &mut placeholders)
            .unwrap_err()
            .message
    }

    #[test]
    fn what_is_invalid_or_unsupported_is_refused_by_name() {
        for (text, words) in [
            ("#a = = :v", "Syntax error; token: \"=\""),
            ("#a = :v AND", "Syntax error; token: \"<EOF>\""),
            ("(#a = :v", "Syntax error; token: \"<EOF>\""),
            ("#a = :v)", "Syntax error; token: \")\""),
            ("#a :v", "Syntax error; token: \":v\""),
            ("#a = :missing", "attribute value: :missing"),
            ("#b = :v", "attribute name: #b"),
            ("status = :v", "reserved keyword: status"),
            ("foo(#a)", "Invalid function name; function: foo"),
            (
                "if_not_exists(#a, :v)",
                "not allowed to be used this way in an expression; function: if_not_exists",
            ),
            (
                "begins_with(#a, :v)",
                "does not support the function begins_with",
            ),
            ("size(#a) > :v", "does not support the function size"),
            (
                "#a BETWEEN :v AND :v",
                "does not support the BETWEEN comparator",
            ),
            ("#a IN (:v)", "does not support the IN comparator"),
            ("#a.b = :v", "nested attribute paths"),
            ("#a < :t", "operator or function: <, operand type: BOOL"),
        ] {
            let message = error(text);
            assert!(message.contains(words), "{text}: {message}");
        }
        assert!(error("begins_with(#a, :v)").starts_with("hookline's local DynamoDB endpoint"));
        // Nesting is bounded (the parser recurses), and so is the expression's length.
        let nested = |levels: usize| format!("{}#a = :v{}", "(".repeat(levels), ")".repeat(levels));
        let names = BTreeMap::from([("#a".to_owned(), "a".to_owned())]);
        let values = item_from_json(&json!({":v": {"S": "x"}})).unwrap();
        assert!(Condition::parse(&nested(64), &mut Placeholders::new(&names, &values)).is_ok());
        assert!(error(&nested(65)).contains("nested more than 64 levels"));
        assert!(
            error(&format!("{}#a = :v", "NOT ".repeat(65))).contains("nested more than 64 levels")
        );
        assert!(error(&nested(2100)).contains(
            "Expression size has exceeded the maximum allowed size; expression size: 4207"
        ));
        assert!(error("#a = = :v").starts_with("Invalid ConditionExpression: "));
    }
}
