//! Item actions: GetItem, PutItem, UpdateItem, DeleteItem. The condition is checked against
//! the item as it is, and the write made, in one transaction of the writer thread, so no other
//! request comes between them; the answer waits for that transaction to be on disk.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{one_of, table_name};
use crate::dynamodb::expression::{self, Condition, Placeholders, Update};
use crate::dynamodb::store::{KeyType, Table, key_text};
use crate::dynamodb::value::{
    AttributeValue, Item, MAX_ITEM_BYTES, item_from_json, item_size, item_to_json,
};
use crate::dynamodb::{DynamoDbError, Tables};

pub(super) const GET: &[&str] = &[
    "TableName",
    "Key",
    "ConsistentRead",
    "ProjectionExpression",
    "ExpressionAttributeNames",
    "ReturnConsumedCapacity",
];
pub(super) const PUT: &[&str] = &[
    "TableName",
    "Item",
    "ConditionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
    "ReturnValues",
    "ReturnValuesOnConditionCheckFailure",
    "ReturnConsumedCapacity",
    "ReturnItemCollectionMetrics",
];
pub(super) const UPDATE: &[&str] = &[
    "TableName",
    "Key",
    "UpdateExpression",
    "ConditionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
    "ReturnValues",
    "ReturnValuesOnConditionCheckFailure",
    "ReturnConsumedCapacity",
    "ReturnItemCollectionMetrics",
];
pub(super) const DELETE: &[&str] = &[
    "TableName",
    "Key",
    "ConditionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
    "ReturnValues",
    "ReturnValuesOnConditionCheckFailure",
    "ReturnConsumedCapacity",
    "ReturnItemCollectionMetrics",
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ItemRequest {
    table_name: Option<String>,
    key: Option<Value>,
    item: Option<Value>,
    condition_expression: Option<String>,
    update_expression: Option<String>,
    projection_expression: Option<String>,
    expression_attribute_names: Option<BTreeMap<String, String>>,
    expression_attribute_values: Option<Value>,
    return_values: Option<String>,
    return_values_on_condition_check_failure: Option<String>,
    #[serde(rename = "ConsistentRead")]
    _consistent_read: Option<bool>,
    return_consumed_capacity: Option<String>,
    return_item_collection_metrics: Option<String>,
}

/// What a request's expressions say, parsed and checked before its table is looked at.
struct Expressions {
    condition: Option<Condition>,
    update: Option<Update>,
    projection: Option<Vec<String>>,
}

fn expressions(request: &ItemRequest) -> Result<Expressions, DynamoDbError> {
    let names = request
        .expression_attribute_names
        .clone()
        .unwrap_or_default();
    let values: BTreeMap<String, AttributeValue> = match &request.expression_attribute_values {
        None => BTreeMap::new(),
        Some(json) => item_from_json(json)?.into_iter().collect(),
    };
    for (given, member) in [
        (
            request.expression_attribute_names.is_some() && names.is_empty(),
            "ExpressionAttributeNames",
        ),
        (
            request.expression_attribute_values.is_some() && values.is_empty(),
            "ExpressionAttributeValues",
        ),
    ] {
        if given {
            return Err(DynamoDbError::validation(format!(
                "{member} must not be empty"
            )));
        }
    }
    let any = request.condition_expression.is_some()
        || request.update_expression.is_some()
        || request.projection_expression.is_some();
    if !names.is_empty() && !any {
        return Err(DynamoDbError::validation(
            "ExpressionAttributeNames can only be specified when using expressions",
        ));
    }
    if !values.is_empty()
        && request.condition_expression.is_none()
        && request.update_expression.is_none()
    {
        return Err(DynamoDbError::validation(
            "ExpressionAttributeValues can only be specified when using expressions: UpdateExpression and ConditionExpression are null",
        ));
    }
    for (key, prefix, member) in names
        .keys()
        .map(|k| (k, '#', "ExpressionAttributeNames"))
        .chain(values.keys().map(|k| (k, ':', "ExpressionAttributeValues")))
    {
        let word = key.strip_prefix(prefix).unwrap_or_default();
        if word.is_empty() || !word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            let shown: String = key.chars().take(64).collect();
            return Err(DynamoDbError::validation(format!(
                "{member} contains invalid key: Syntax error; key: \"{shown}\""
            )));
        }
    }
    let mut placeholders = Placeholders::new(&names, &values);
    let parsed = Expressions {
        update: request
            .update_expression
            .as_deref()
            .map(|t| Update::parse(t, &mut placeholders))
            .transpose()?,
        condition: request
            .condition_expression
            .as_deref()
            .map(|t| Condition::parse(t, &mut placeholders))
            .transpose()?,
        projection: request
            .projection_expression
            .as_deref()
            .map(|t| expression::projection(t, &mut placeholders))
            .transpose()?,
    };
    placeholders.check_all_used()?;
    Ok(parsed)
}

/// Checks the members every item request shares; returns whether the caller asked for the old
/// item on a failed condition.
fn check_return_members(
    request: &ItemRequest,
    return_values: &[&str],
) -> Result<bool, DynamoDbError> {
    one_of(
        request.return_values.as_deref(),
        "returnValues",
        return_values,
    )?;
    let on_failure = request.return_values_on_condition_check_failure.as_deref();
    one_of(
        on_failure,
        "returnValuesOnConditionCheckFailure",
        &["ALL_OLD", "NONE"],
    )?;
    for (value, member) in [
        (&request.return_consumed_capacity, "ReturnConsumedCapacity"),
        (
            &request.return_item_collection_metrics,
            "ReturnItemCollectionMetrics",
        ),
    ] {
        if let Some(v) = value.as_deref().filter(|v| *v != "NONE") {
            let shown: String = v.chars().take(16).collect();
            return Err(DynamoDbError::unsupported(format!(
                "{member} {shown}; only NONE"
            )));
        }
    }
    Ok(on_failure == Some("ALL_OLD"))
}

fn key_value_error(value: &AttributeValue, attribute: &str) -> Option<DynamoDbError> {
    let empty = match value {
        AttributeValue::S(s) => s.is_empty().then_some("string"),
        AttributeValue::B(b) => b.is_empty().then_some("binary"),
        _ => None,
    };
    if let Some(kind) = empty {
        return Some(DynamoDbError::validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {kind} value. Key: {attribute}"
        )));
    }
    // "The maximum length of a partition key value is 2048 bytes" (Developer Guide, "Quotas").
    (value.size() > 2048).then(|| {
        DynamoDbError::validation(
            "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of 2048 bytes",
        )
    })
}

fn type_matches(value: &AttributeValue, key_type: KeyType) -> bool {
    value.type_name() == key_type.as_str()
}

/// The `Key` member: exactly the table's key attribute, of its type.
fn key_of(table: &Table, key: Option<&Value>) -> Result<(String, Item), DynamoDbError> {
    let mismatch =
        || DynamoDbError::validation("The provided key element does not match the schema");
    let key = item_from_json(key.ok_or_else(mismatch)?)?;
    let value = match key.get(&table.key_attribute) {
        Some(value) if key.len() == 1 && type_matches(value, table.key_type) => value,
        _ => return Err(mismatch()),
    };
    if let Some(err) = key_value_error(value, &table.key_attribute) {
        return Err(err);
    }
    Ok((key_text(value), key))
}

/// The key of an `Item` member.
fn key_in_item(table: &Table, item: &Item) -> Result<String, DynamoDbError> {
    let attribute = &table.key_attribute;
    let value = item.get(attribute).ok_or_else(|| {
        DynamoDbError::validation(format!(
            "One or more parameter values were invalid: Missing the key {attribute} in the item"
        ))
    })?;
    if !type_matches(value, table.key_type) {
        return Err(DynamoDbError::validation(format!(
            "One or more parameter values were invalid: Type mismatch for key {attribute} expected: {} actual: {}",
            table.key_type.as_str(),
            value.type_name()
        )));
    }
    if let Some(err) = key_value_error(value, attribute) {
        return Err(err);
    }
    Ok(key_text(value))
}

fn find_table(store: &crate::dynamodb::store::Store, name: &str) -> Result<Table, DynamoDbError> {
    store.find_table(name)?.ok_or_else(DynamoDbError::no_table)
}

/// Fails with `ConditionalCheckFailedException` unless `old` meets the condition.
fn check(
    condition: &Option<Condition>,
    old: &Option<Item>,
    return_old: bool,
) -> Result<(), DynamoDbError> {
    match condition {
        Some(c) if !c.eval(old.as_ref()) => Err(DynamoDbError::condition_failed(
            old.clone().filter(|_| return_old),
        )),
        _ => Ok(()),
    }
}

fn attributes(out: Option<Item>) -> Value {
    match out {
        Some(item) if !item.is_empty() => json!({ "Attributes": item_to_json(&item) }),
        _ => json!({}),
    }
}

pub(super) async fn get(tables: &Tables, request: ItemRequest) -> Result<Value, DynamoDbError> {
    let name = table_name(request.table_name.clone())?;
    check_return_members(&request, &["NONE"])?;
    let projection = expressions(&request)?.projection;
    tables
        .call(move |s| {
            let table = find_table(s, &name)?;
            let (key, _) = key_of(&table, request.key.as_ref())?;
            let item = s.get_item(&name, &key)?.map(|mut item| {
                if let Some(paths) = &projection {
                    item.retain(|attribute, _| paths.contains(attribute));
                }
                item
            });
            // A missing item answers `{}` (DynamoDB API Reference, GetItem: "If there is no
            // matching item, GetItem does not return any data").
            Ok(match item {
                Some(item) => json!({ "Item": item_to_json(&item) }),
                None => json!({}),
            })
        })
        .await
}

pub(super) async fn put(tables: &Tables, request: ItemRequest) -> Result<Value, DynamoDbError> {
    let name = table_name(request.table_name.clone())?;
    let return_old = check_return_members(&request, &["NONE", "ALL_OLD"])?;
    let item = item_from_json(request.item.as_ref().ok_or_else(|| {
        DynamoDbError::validation("1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null")
    })?)?;
    if item_size(&item) > MAX_ITEM_BYTES {
        return Err(DynamoDbError::validation(
            "Item size has exceeded the maximum allowed size",
        ));
    }
    let condition = expressions(&request)?.condition;
    let all_old = request.return_values.as_deref() == Some("ALL_OLD");
    tables
        .call(move |s| {
            let table = find_table(s, &name)?;
            let key = key_in_item(&table, &item)?;
            let old = s.get_item(&name, &key)?;
            check(&condition, &old, return_old)?;
            s.put_item(&table, &key, &item)?;
            Ok(attributes(old.filter(|_| all_old)))
        })
        .await
}

pub(super) async fn update(tables: &Tables, request: ItemRequest) -> Result<Value, DynamoDbError> {
    let name = table_name(request.table_name.clone())?;
    let return_old = check_return_members(
        &request,
        &["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"],
    )?;
    let parsed = expressions(&request)?;
    let return_values = request
        .return_values
        .clone()
        .unwrap_or_else(|| "NONE".to_owned());
    tables
        .call(move |s| {
            let table = find_table(s, &name)?;
            let (key, key_item) = key_of(&table, request.key.as_ref())?;
            let targets: Vec<String> = parsed.update.iter().flat_map(|u| u.targets()).map(str::to_owned).collect();
            if targets.contains(&table.key_attribute) {
                return Err(DynamoDbError::validation(format!(
                    "One or more parameter values were invalid: Cannot update attribute {}. This attribute is part of the key",
                    table.key_attribute
                )));
            }
            let old = s.get_item(&name, &key)?;
            check(&parsed.condition, &old, return_old)?;
            let base = old.clone().unwrap_or(key_item);
            let new = match &parsed.update {
                Some(update) => update.apply(&base)?,
                None => base,
            };
            if item_size(&new) > MAX_ITEM_BYTES {
                return Err(DynamoDbError::validation("Item size to update has exceeded the maximum allowed size"));
            }
            s.put_item(&table, &key, &new)?;
            let updated = |item: &Item| -> Item {
                item.iter().filter(|(k, _)| targets.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
            };
            Ok(attributes(match return_values.as_str() {
                "ALL_OLD" => old,
                "UPDATED_OLD" => old.as_ref().map(updated),
                "ALL_NEW" => Some(new),
                "UPDATED_NEW" => Some(updated(&new)),
                _ => None,
            }))
        })
        .await
}

pub(super) async fn delete(tables: &Tables, request: ItemRequest) -> Result<Value, DynamoDbError> {
    let name = table_name(request.table_name.clone())?;
    let return_old = check_return_members(&request, &["NONE", "ALL_OLD"])?;
    let condition = expressions(&request)?.condition;
    let all_old = request.return_values.as_deref() == Some("ALL_OLD");
    tables
        .call(move |s| {
            let table = find_table(s, &name)?;
            let (key, _) = key_of(&table, request.key.as_ref())?;
            let old = s.get_item(&name, &key)?;
            check(&condition, &old, return_old)?;
            s.delete_item(&name, &key)?;
            Ok(attributes(old.filter(|_| all_old)))
        })
        .await
}
