//! Table actions: CreateTable (one partition key, no sort key or indexes), DescribeTable,
//! DeleteTable, ListTables, UpdateTimeToLive and DescribeTimeToLive. Tables are `ACTIVE` as soon
//! as they are created, so the SDKs' "table exists" waiters return at once.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{one_of, required, table_name};
use crate::aws_local;
use crate::dynamodb::store::{KeyType, Table};
use crate::dynamodb::{DynamoDbError, Tables};

pub(super) const CREATE: &[&str] = &[
    "TableName",
    "KeySchema",
    "AttributeDefinitions",
    "BillingMode",
    "ProvisionedThroughput",
];
pub(super) const LIST: &[&str] = &["ExclusiveStartTableName", "Limit"];
pub(super) const UPDATE_TTL: &[&str] = &["TableName", "TimeToLiveSpecification"];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct KeySchemaElement {
    attribute_name: String,
    key_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AttributeDefinition {
    attribute_name: String,
    attribute_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Throughput {
    read_capacity_units: Option<i64>,
    write_capacity_units: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TableRequest {
    table_name: Option<String>,
    key_schema: Option<Vec<KeySchemaElement>>,
    attribute_definitions: Option<Vec<AttributeDefinition>>,
    billing_mode: Option<String>,
    provisioned_throughput: Option<Throughput>,
    exclusive_start_table_name: Option<String>,
    limit: Option<i64>,
    time_to_live_specification: Option<TtlSpecification>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TtlSpecification {
    attribute_name: Option<String>,
    enabled: Option<bool>,
}

fn invalid_parameter(message: &str) -> DynamoDbError {
    DynamoDbError::validation(format!(
        "One or more parameter values were invalid: {message}"
    ))
}

/// The table's description (`TableDescription`, DynamoDB API Reference).
fn description(table: &Table, status: &str, (items, bytes): (i64, i64)) -> Value {
    let created = table.created_ms as f64 / 1000.0;
    let mut out = json!({
        "TableName": table.name,
        "TableStatus": status,
        "TableArn": aws_local::dynamodb_table_arn(&table.name),
        "TableId": table.id,
        "CreationDateTime": created,
        "KeySchema": [{"AttributeName": table.key_attribute, "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": table.key_attribute, "AttributeType": table.key_type.as_str()}
        ],
        "ProvisionedThroughput": {
            "NumberOfDecreasesToday": 0,
            "ReadCapacityUnits": table.capacity.0,
            "WriteCapacityUnits": table.capacity.1,
        },
        "ItemCount": items,
        "TableSizeBytes": bytes,
        "DeletionProtectionEnabled": false,
    });
    if table.billing_mode == "PAY_PER_REQUEST" {
        out["BillingModeSummary"] = json!({
            "BillingMode": "PAY_PER_REQUEST",
            "LastUpdateToPayPerRequestDateTime": created,
        });
    }
    out
}

/// The table a request names, as [`Table`], from CreateTable's members.
fn table_of(request: TableRequest, now_ms: i64) -> Result<Table, DynamoDbError> {
    let name = table_name(request.table_name)?;
    let schema = required(request.key_schema, "keySchema")?;
    let definitions = required(request.attribute_definitions, "attributeDefinitions")?;
    if schema.iter().any(|k| k.key_type == "RANGE") {
        return Err(DynamoDbError::unsupported(
            "sort (RANGE) keys; its tables have a partition (HASH) key only",
        ));
    }
    let [key] = schema.as_slice() else {
        return Err(invalid_parameter(
            "Table KeySchema must have exactly one HASH key",
        ));
    };
    if key.key_type != "HASH" {
        one_of(
            Some(&key.key_type),
            "keySchema.1.member.keyType",
            &["HASH", "RANGE"],
        )?;
    }
    if definitions.len() != schema.len() {
        return Err(invalid_parameter(
            "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    let definition = definitions
        .iter()
        .find(|d| d.attribute_name == key.attribute_name)
        .ok_or_else(|| {
            invalid_parameter(&format!(
                "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                key.attribute_name,
                definitions.iter().map(|d| d.attribute_name.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })?;
    let key_type = KeyType::parse(&definition.attribute_type).ok_or_else(|| {
        invalid_parameter(&format!(
            "Member must satisfy enum value set: [B, N, S]; attribute type {}",
            definition
                .attribute_type
                .chars()
                .take(16)
                .collect::<String>()
        ))
    })?;
    let billing_mode = request
        .billing_mode
        .unwrap_or_else(|| "PROVISIONED".to_owned());
    one_of(
        Some(&billing_mode),
        "billingMode",
        &["PROVISIONED", "PAY_PER_REQUEST"],
    )?;
    let capacity = match (billing_mode.as_str(), request.provisioned_throughput) {
        ("PAY_PER_REQUEST", None) => (0, 0),
        ("PAY_PER_REQUEST", Some(_)) => {
            return Err(invalid_parameter(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ));
        }
        (
            _,
            Some(Throughput {
                read_capacity_units: Some(read),
                write_capacity_units: Some(write),
            }),
        ) if read > 0 && write > 0 => (read, write),
        _ => {
            return Err(invalid_parameter(
                "ReadCapacityUnits and WriteCapacityUnits must both be specified (and positive) when BillingMode is PROVISIONED",
            ));
        }
    };
    Ok(Table {
        name,
        key_attribute: key.attribute_name.clone(),
        key_type,
        billing_mode,
        capacity,
        id: uuid::Uuid::new_v4().to_string(),
        created_ms: now_ms,
        ttl_attribute: None,
    })
}

pub(super) async fn create(tables: &Tables, request: TableRequest) -> Result<Value, DynamoDbError> {
    let table = table_of(request, chrono::Utc::now().timestamp_millis())?;
    tables
        .call(move |s| {
            s.create_table(&table)?;
            Ok(json!({ "TableDescription": description(&table, "ACTIVE", (0, 0)) }))
        })
        .await
}

pub(super) async fn describe(
    tables: &Tables,
    request: TableRequest,
) -> Result<Value, DynamoDbError> {
    let name = table_name(request.table_name)?;
    tables
        .call(move |s| {
            let table = s
                .find_table(&name)?
                .ok_or_else(|| DynamoDbError::no_table_named(&name))?;
            let counts = s.table_counts(&name)?;
            Ok(json!({ "Table": description(&table, "ACTIVE", counts) }))
        })
        .await
}

pub(super) async fn delete(tables: &Tables, request: TableRequest) -> Result<Value, DynamoDbError> {
    let name = table_name(request.table_name)?;
    tables
        .call(move |s| {
            let table = s
                .find_table(&name)?
                .ok_or_else(|| DynamoDbError::no_table_named(&name))?;
            let counts = s.table_counts(&name)?;
            s.delete_table(&name)?;
            Ok(json!({ "TableDescription": description(&table, "DELETING", counts) }))
        })
        .await
}

pub(super) async fn list(tables: &Tables, request: TableRequest) -> Result<Value, DynamoDbError> {
    let limit = request.limit.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(DynamoDbError::validation(format!(
            "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100"
        )));
    }
    let start = request.exclusive_start_table_name;
    let names = tables.call(|s| s.table_names()).await?;
    let after: Vec<String> = names
        .into_iter()
        .filter(|n| start.as_ref().is_none_or(|s| n > s))
        .collect();
    let page: Vec<&String> = after.iter().take(limit as usize).collect();
    let mut out = json!({ "TableNames": page });
    if after.len() > page.len()
        && let Some(last) = page.last()
    {
        out["LastEvaluatedTableName"] = json!(last);
    }
    Ok(out)
}

pub(super) async fn update_ttl(
    tables: &Tables,
    request: TableRequest,
) -> Result<Value, DynamoDbError> {
    let name = table_name(request.table_name)?;
    let spec = required(
        request.time_to_live_specification,
        "timeToLiveSpecification",
    )?;
    let enabled = required(spec.enabled, "timeToLiveSpecification.enabled")?;
    let attribute = required(spec.attribute_name, "timeToLiveSpecification.attributeName")?;
    if attribute.is_empty() {
        return Err(DynamoDbError::validation(
            "1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    tables
        .call(move |s| {
            let table = s
                .find_table(&name)?
                .ok_or_else(|| DynamoDbError::no_table_named(&name))?;
            // DynamoDB refuses to turn TTL on or off when it already is (its words, observed).
            match (&table.ttl_attribute, enabled) {
                (Some(_), true) => {
                    return Err(DynamoDbError::validation("TimeToLive is already enabled"));
                }
                (None, false) => {
                    return Err(DynamoDbError::validation("TimeToLive is already disabled"));
                }
                _ => {}
            }
            s.set_ttl(&name, enabled.then_some(attribute.as_str()))?;
            Ok(json!({
                "TimeToLiveSpecification": { "AttributeName": attribute, "Enabled": enabled }
            }))
        })
        .await
}

pub(super) async fn describe_ttl(
    tables: &Tables,
    request: TableRequest,
) -> Result<Value, DynamoDbError> {
    let name = table_name(request.table_name)?;
    tables
        .call(move |s| {
            let table = s.find_table(&name)?.ok_or_else(|| DynamoDbError::no_table_named(&name))?;
            Ok(json!({
                "TimeToLiveDescription": match table.ttl_attribute {
                    Some(attribute) => json!({ "TimeToLiveStatus": "ENABLED", "AttributeName": attribute }),
                    None => json!({ "TimeToLiveStatus": "DISABLED" }),
                }
            }))
        })
        .await
}
