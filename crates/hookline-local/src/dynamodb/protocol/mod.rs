//! The DynamoDB JSON protocol (`application/x-amz-json-1.0`, `X-Amz-Target:
//! DynamoDB_20120810.<Action>`): request shapes in, response shapes out. Table actions in
//! `tables`, item actions in `items`. A parameter this endpoint does not implement is refused
//! by name rather than ignored.

mod items;
mod tables;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::DynamoDbError;
use super::Tables;

/// The actions served.
pub const ACTIONS: [&str; 10] = [
    "CreateTable",
    "DescribeTable",
    "DeleteTable",
    "ListTables",
    "UpdateTimeToLive",
    "DescribeTimeToLive",
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
];

/// Runs one action.
pub async fn dispatch(tables: &Tables, action: &str, body: &[u8]) -> Result<Value, DynamoDbError> {
    match action {
        "CreateTable" => tables::create(tables, parse(action, body, tables::CREATE)?).await,
        "DescribeTable" => tables::describe(tables, parse(action, body, &["TableName"])?).await,
        "DeleteTable" => tables::delete(tables, parse(action, body, &["TableName"])?).await,
        "ListTables" => tables::list(tables, parse(action, body, tables::LIST)?).await,
        "UpdateTimeToLive" => {
            tables::update_ttl(tables, parse(action, body, tables::UPDATE_TTL)?).await
        }
        "DescribeTimeToLive" => {
            tables::describe_ttl(tables, parse(action, body, &["TableName"])?).await
        }
        "GetItem" => items::get(tables, parse(action, body, items::GET)?).await,
        "PutItem" => items::put(tables, parse(action, body, items::PUT)?).await,
        "UpdateItem" => items::update(tables, parse(action, body, items::UPDATE)?).await,
        "DeleteItem" => items::delete(tables, parse(action, body, items::DELETE)?).await,
        other => Err(DynamoDbError::unknown_operation(other, &ACTIONS)),
    }
}

/// Reads the body as `T`, after refusing any member not in `supported`.
fn parse<T: DeserializeOwned>(
    action: &str,
    body: &[u8],
    supported: &[&str],
) -> Result<T, DynamoDbError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        body
    };
    let members: Map<String, Value> = serde_json::from_slice(body).map_err(|e| {
        DynamoDbError::malformed(format!("The request body is not a JSON object: {e}"))
    })?;
    if let Some(member) = members.keys().find(|m| !supported.contains(&m.as_str())) {
        let shown: String = member.chars().take(64).collect();
        return Err(DynamoDbError::unsupported(format!(
            "the parameter {shown} of {action}; it supports {}",
            supported.join(", ")
        )));
    }
    serde_json::from_value(Value::Object(members)).map_err(|e| {
        DynamoDbError::malformed(format!("The request body is not valid for {action}: {e}"))
    })
}

/// DynamoDB's error for a required member left out (`tableName`).
fn required<T>(value: Option<T>, member: &str) -> Result<T, DynamoDbError> {
    value.ok_or_else(|| {
        DynamoDbError::validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// A table name as given: a name, or the table's ARN (`arn:aws:dynamodb:...:table/<name>`), which
/// DynamoDB accepts wherever it takes a `TableName`.
fn table_name(given: Option<String>) -> Result<String, DynamoDbError> {
    let given = required(given, "tableName")?;
    let name = match given.strip_prefix("arn:") {
        Some(arn) => arn
            .rsplit_once(":table/")
            .map_or(given.as_str(), |(_, name)| name),
        None => given.as_str(),
    };
    let constraint = if name.len() < 3 {
        Some("Member must have length greater than or equal to 3")
    } else if name.len() > 255 {
        Some("Member must have length less than or equal to 255")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    {
        Some("Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
    } else {
        None
    };
    match constraint {
        Some(constraint) => {
            let shown: String = name.chars().take(64).collect();
            Err(DynamoDbError::validation(format!(
                "1 validation error detected: Value '{shown}' at 'tableName' failed to satisfy constraint: {constraint}"
            )))
        }
        None => Ok(name.to_owned()),
    }
}

/// Refuses a value of an enumerated member that is not one of `allowed` (DynamoDB's words).
fn one_of(value: Option<&str>, member: &str, allowed: &[&str]) -> Result<(), DynamoDbError> {
    match value {
        Some(v) if !allowed.contains(&v) => {
            let shown: String = v.chars().take(64).collect();
            Err(DynamoDbError::validation(format!(
                "1 validation error detected: Value '{shown}' at '{member}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            )))
        }
        _ => Ok(()),
    }
}
