//! Attribute values and items, in and out of DynamoDB's JSON (`{"S": "text"}`, `{"N": "12"}`,
//! `{"B": "<base64>"}`, `{"BOOL": true}`, `{"NULL": true}`, `{"M": {...}}`, `{"L": [...]}`).
//! Sets (SS, NS, BS) are refused as unsupported.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::DynamoDbError;
use super::number::Number;

/// An item: attribute names to values.
pub type Item = BTreeMap<String, AttributeValue>;

/// "The maximum item size in DynamoDB is 400 KB, which includes both attribute name binary
/// length (UTF-8 length) and attribute value lengths" (Developer Guide, "Quotas").
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// One attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeValue {
    /// A string.
    S(String),
    /// A number.
    N(Number),
    /// Binary.
    B(Vec<u8>),
    /// A boolean.
    Bool(bool),
    /// Null.
    Null,
    /// A map of values.
    M(Item),
    /// A list of values.
    L(Vec<AttributeValue>),
}

fn base64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

impl AttributeValue {
    /// Reads a value from its JSON (`{"S": "x"}`), with DynamoDB's messages for what it refuses.
    pub fn from_json(json: &Value) -> Result<AttributeValue, DynamoDbError> {
        let object = json.as_object().ok_or_else(|| {
            DynamoDbError::malformed(
                "An AttributeValue must be a JSON object such as {\"S\": \"text\"}",
            )
        })?;
        let mut entries = object.iter();
        let (kind, value) = match (entries.next(), entries.next()) {
            (None, _) => {
                return Err(DynamoDbError::validation(
                    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(DynamoDbError::validation(
                    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                ));
            }
            (Some(entry), None) => entry,
        };
        let wrong = || {
            DynamoDbError::malformed(format!(
                "The value of an AttributeValue's {kind} has the wrong JSON type"
            ))
        };
        match kind.as_str() {
            "S" => Ok(AttributeValue::S(
                value.as_str().ok_or_else(wrong)?.to_owned(),
            )),
            "N" => Number::parse(value.as_str().ok_or_else(wrong)?).map(AttributeValue::N),
            "B" => base64()
                .decode(value.as_str().ok_or_else(wrong)?)
                .map(AttributeValue::B)
                .map_err(|_| {
                    DynamoDbError::malformed("The value of a B AttributeValue is not base64")
                }),
            "BOOL" => Ok(AttributeValue::Bool(value.as_bool().ok_or_else(wrong)?)),
            "NULL" => match value.as_bool() {
                Some(true) => Ok(AttributeValue::Null),
                Some(false) => Err(DynamoDbError::validation(
                    "One or more parameter values were invalid: Null attribute value types must have the value of true",
                )),
                None => Err(wrong()),
            },
            "M" => item_from_json(value).map(AttributeValue::M),
            "L" => value
                .as_array()
                .ok_or_else(wrong)?
                .iter()
                .map(AttributeValue::from_json)
                .collect::<Result<_, _>>()
                .map(AttributeValue::L),
            "SS" | "NS" | "BS" => Err(DynamoDbError::unsupported(format!(
                "set attribute values ({kind}); it stores S, N, B, BOOL, NULL, M and L"
            ))),
            other => Err(DynamoDbError::malformed(format!(
                "Unknown AttributeValue data type `{}`",
                other.chars().take(32).collect::<String>()
            ))),
        }
    }

    /// The value's JSON.
    pub fn to_json(&self) -> Value {
        let (kind, value) = match self {
            AttributeValue::S(s) => ("S", Value::String(s.clone())),
            AttributeValue::N(n) => ("N", Value::String(n.to_text())),
            AttributeValue::B(b) => ("B", Value::String(base64().encode(b))),
            AttributeValue::Bool(b) => ("BOOL", Value::Bool(*b)),
            AttributeValue::Null => ("NULL", Value::Bool(true)),
            AttributeValue::M(m) => ("M", item_to_json(m)),
            AttributeValue::L(l) => ("L", Value::Array(l.iter().map(Self::to_json).collect())),
        };
        let mut object = Map::new();
        object.insert(kind.to_owned(), value);
        Value::Object(object)
    }

    /// The data type's name in DynamoDB's messages (`S`, `BOOL`).
    pub fn type_name(&self) -> &'static str {
        match self {
            AttributeValue::S(_) => "S",
            AttributeValue::N(_) => "N",
            AttributeValue::B(_) => "B",
            AttributeValue::Bool(_) => "BOOL",
            AttributeValue::Null => "NULL",
            AttributeValue::M(_) => "M",
            AttributeValue::L(_) => "L",
        }
    }

    /// Its size as DynamoDB counts it (Developer Guide, "Item sizes and formats": strings and
    /// binaries by length, numbers by digits, 1 byte for BOOL and NULL, 3 bytes for a map or
    /// list plus 1 per element).
    pub fn size(&self) -> usize {
        match self {
            AttributeValue::S(s) => s.len(),
            AttributeValue::N(n) => n.size(),
            AttributeValue::B(b) => b.len(),
            AttributeValue::Bool(_) | AttributeValue::Null => 1,
            AttributeValue::M(m) => {
                3 + m.iter().map(|(k, v)| k.len() + v.size() + 1).sum::<usize>()
            }
            AttributeValue::L(l) => 3 + l.iter().map(|v| v.size() + 1).sum::<usize>(),
        }
    }
}

/// Reads an item (a JSON object of attribute names to values).
pub fn item_from_json(json: &Value) -> Result<Item, DynamoDbError> {
    let object = json
        .as_object()
        .ok_or_else(|| DynamoDbError::malformed("An item or key must be a JSON object"))?;
    object
        .iter()
        .map(|(name, value)| {
            if name.is_empty() {
                return Err(DynamoDbError::validation(
                    "One or more parameter values were invalid: An attribute name may not be empty",
                ));
            }
            Ok((name.clone(), AttributeValue::from_json(value)?))
        })
        .collect()
}

/// An item's JSON.
pub fn item_to_json(item: &Item) -> Value {
    Value::Object(
        item.iter()
            .map(|(name, value)| (name.clone(), value.to_json()))
            .collect(),
    )
}

/// An item's size: its attribute names and values.
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value.size())
        .sum()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_supported_type_goes_in_and_out_unchanged() {
        let item = json!({
            "s": {"S": "text"}, "empty": {"S": ""}, "n": {"N": "-12.5"}, "b": {"B": "AAEC"},
            "t": {"BOOL": true}, "z": {"NULL": true},
            "m": {"M": {"inner": {"L": [{"N": "1"}, {"S": "x"}]}}},
        });
        let parsed = item_from_json(&item).unwrap();
        assert_eq!(parsed["b"], AttributeValue::B(vec![0, 1, 2]));
        assert_eq!(item_to_json(&parsed), item);
        // Numbers come back normalized, as DynamoDB returns them.
        let n = AttributeValue::from_json(&json!({"N": "01.50"})).unwrap();
        assert_eq!(n.to_json(), json!({"N": "1.5"}));
    }

    #[test]
    fn malformed_values_are_refused_with_dynamodbs_words() {
        for (value, code, words) in [
            (json!({}), "ValidationException", "is empty"),
            (
                json!({"S": "a", "N": "1"}),
                "ValidationException",
                "more than one datatypes",
            ),
            (
                json!({"NULL": false}),
                "ValidationException",
                "must have the value of true",
            ),
            (
                json!({"SS": ["a"]}),
                "ValidationException",
                "set attribute values (SS)",
            ),
            (json!({"S": 1}), "SerializationException", "wrong JSON type"),
            (json!({"B": "!!"}), "SerializationException", "not base64"),
            (
                json!({"X": "a"}),
                "SerializationException",
                "Unknown AttributeValue",
            ),
            (json!("a"), "SerializationException", "JSON object"),
        ] {
            let err = AttributeValue::from_json(&value).unwrap_err();
            assert_eq!(err.code, code, "{value}");
            assert!(err.message.contains(words), "{value}: {}", err.message);
        }
    }

    #[test]
    fn sizes_count_names_and_values() {
        let item =
            item_from_json(&json!({"id": {"S": "abc"}, "n": {"N": "123"}, "t": {"BOOL": true}}))
                .unwrap();
        // id: 2 + 3, n: 1 + (2 + 1), t: 1 + 1.
        assert_eq!(item_size(&item), 11);
    }
}
