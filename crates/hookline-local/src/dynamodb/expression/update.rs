//! Update expressions: `SET a = :v, b = #c` and `REMOVE a, b`, each clause at most once
//! (Developer Guide, "Using update expressions in DynamoDB"). The values of a SET are read from
//! the item as it was before the update.

use std::collections::BTreeSet;

use super::lexer::Token;
use super::{Operand, Parser, Placeholders, UPDATE_FUNCTIONS};
use crate::dynamodb::DynamoDbError;
use crate::dynamodb::value::{AttributeValue, Item};

/// One action of an update.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    Set(String, Operand),
    Remove(String),
}

/// A parsed update expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    actions: Vec<Action>,
}

impl Update {
    /// Parses an `UpdateExpression`.
    pub fn parse(text: &str, placeholders: &mut Placeholders<'_>) -> Result<Update, DynamoDbError> {
        let mut parser = Parser::new(text, "UpdateExpression", placeholders)?;
        let mut actions = Vec::new();
        let mut clauses = BTreeSet::new();
        while !parser.at_end() {
            let Some(Token::Word(word)) = parser.peek().cloned() else {
                return Err(parser.syntax_error());
            };
            let clause = word.to_ascii_uppercase();
            match clause.as_str() {
                "SET" | "REMOVE" => {}
                "ADD" | "DELETE" => {
                    return Err(parser
                        .unsupported(format!("the {clause} clause; it supports SET and REMOVE")));
                }
                _ => return Err(parser.syntax_error()),
            }
            if !clauses.insert(clause.clone()) {
                return Err(parser.invalid(format!(
                    "The \"{clause}\" section can only be used once in an update expression;"
                )));
            }
            parser.advance();
            loop {
                let path = parser.path()?;
                if clause == "SET" {
                    parser.expect_symbol("=")?;
                    let value = parser.operand(&UPDATE_FUNCTIONS)?;
                    if parser.at_symbol("+") || parser.at_symbol("-") {
                        return Err(parser.unsupported("arithmetic (`a = b + c`) in SET"));
                    }
                    actions.push(Action::Set(path, value));
                } else {
                    actions.push(Action::Remove(path));
                }
                if !parser.at_symbol(",") {
                    break;
                }
                parser.advance();
            }
        }
        let update = Update { actions };
        let mut seen = BTreeSet::new();
        for path in update.targets() {
            if !seen.insert(path) {
                return Err(parser.invalid(format!(
                    "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [{path}], path two: [{path}]"
                )));
            }
        }
        Ok(update)
    }

    /// The attributes it sets or removes.
    pub fn targets(&self) -> impl Iterator<Item = &str> {
        self.actions.iter().map(|action| match action {
            Action::Set(path, _) | Action::Remove(path) => path.as_str(),
        })
    }

    /// The item after the update: `item` (the item as it was, or only its key when there was
    /// none) with the actions applied, their values read from `item` as it was.
    pub fn apply(&self, item: &Item) -> Result<Item, DynamoDbError> {
        let mut updated = item.clone();
        for action in &self.actions {
            match action {
                Action::Set(path, operand) => {
                    let value: AttributeValue = match operand {
                        Operand::Value(value) => value.clone(),
                        Operand::Path(source) => item.get(source).cloned().ok_or_else(|| {
                            DynamoDbError::validation(
                                "The provided expression refers to an attribute that does not exist in the item",
                            )
                        })?,
                    };
                    updated.insert(path.clone(), value);
                }
                Action::Remove(path) => {
                    updated.remove(path);
                }
            }
        }
        Ok(updated)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::dynamodb::value::{item_from_json, item_to_json};

    fn parse(text: &str) -> Result<Update, DynamoDbError> {
        let names = BTreeMap::from(
            [
                ("#status", "status"),
                ("#expiration", "expiration"),
                ("#data", "data"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        let values = item_from_json(&json!({
            ":completed": {"S": "COMPLETED"}, ":expiration": {"N": "2000"}, ":data": {"S": "{}"}
        }))
        .unwrap();
        let mut placeholders = Placeholders::new(&names, &values);
        Update::parse(text, &mut placeholders)
    }

    #[test]
    fn set_and_remove_apply_to_the_item_as_it_was() {
        let update = parse(
            "SET #status = :completed, #expiration = :expiration, #data = :data, dup = former REMOVE former, in_progress_expiry",
        )
        .unwrap();
        let item = item_from_json(&json!({
            "id": {"S": "k"}, "status": {"S": "INPROGRESS"}, "former": {"N": "7"},
            "in_progress_expiry": {"N": "5"},
        }))
        .unwrap();
        assert_eq!(
            item_to_json(&update.apply(&item).unwrap()),
            json!({
                "id": {"S": "k"}, "status": {"S": "COMPLETED"}, "expiration": {"N": "2000"},
                "data": {"S": "{}"}, "dup": {"N": "7"},
            })
        );
        let err = parse("SET dup = ghost").unwrap().apply(&item).unwrap_err();
        assert!(err.message.contains("does not exist in the item"));
        // Keywords in any case, clauses in any order.
        assert!(parse("remove former set #status = :completed").is_ok());
    }

    #[test]
    fn what_is_invalid_or_unsupported_is_refused_by_name() {
        for (text, words) in [
            (
                "SET a = :completed SET b = :completed",
                "\"SET\" section can only be used once",
            ),
            (
                "SET a = :completed REMOVE a",
                "path one: [a], path two: [a]",
            ),
            ("ADD n :expiration", "does not support the ADD clause"),
            ("DELETE s :data", "does not support the DELETE clause"),
            ("SET n = n + :expiration", "does not support arithmetic"),
            (
                "SET n = if_not_exists(n, :expiration)",
                "does not support the function if_not_exists",
            ),
            (
                "SET n = list_append(n, :data)",
                "does not support the function list_append",
            ),
            (
                "SET n = attribute_exists(n)",
                "not allowed to be used this way",
            ),
            ("SET n = nope(n)", "Invalid function name; function: nope"),
            ("SET a.b = :data", "nested attribute paths"),
            ("SET a :data", "Syntax error; token: \":data\""),
            ("a = :data", "Syntax error; token: \"a\""),
            ("SET", "Syntax error; token: \"<EOF>\""),
            ("SET a = :data,", "Syntax error; token: \"<EOF>\""),
            ("", "The expression can not be empty"),
        ] {
            let message = parse(text).unwrap_err().message;
            assert!(message.contains(words), "{text}: {message}");
        }
    }
}
