//! Tables and items on SQLite ([`crate::sqlite`]: WAL, `synchronous=FULL`, one writer thread
//! with group commit): a write is acknowledged only after its transaction is on disk.
//!
//! An item is kept as its DynamoDB JSON under its table and the canonical text of its key, with
//! the epoch second its TTL attribute names (when the table has TTL on), for the sweep.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::DynamoDbError;
use super::number::Number;
use super::value::{AttributeValue, Item, item_from_json, item_size, item_to_json};

/// A key attribute's type (`AttributeType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
}

impl KeyType {
    /// `S`, `N` or `B`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::S => "S",
            KeyType::N => "N",
            KeyType::B => "B",
        }
    }

    /// From `AttributeType`.
    pub fn parse(text: &str) -> Option<KeyType> {
        match text {
            "S" => Some(KeyType::S),
            "N" => Some(KeyType::N),
            "B" => Some(KeyType::B),
            _ => None,
        }
    }
}

/// A table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Its name.
    pub name: String,
    /// Its partition (hash) key attribute.
    pub key_attribute: String,
    /// That attribute's type.
    pub key_type: KeyType,
    /// `PAY_PER_REQUEST` or `PROVISIONED`.
    pub billing_mode: String,
    /// Provisioned read and write capacity (0 for on-demand tables).
    pub capacity: (i64, i64),
    /// Its `TableId`.
    pub id: String,
    /// When it was created (ms).
    pub created_ms: i64,
    /// The TTL attribute, while TTL is enabled.
    pub ttl_attribute: Option<String>,
}

/// The database behind the endpoint.
pub struct Store {
    conn: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tables (
    name TEXT PRIMARY KEY,
    key_attribute TEXT NOT NULL,
    key_type TEXT NOT NULL,
    billing_mode TEXT NOT NULL,
    read_capacity INTEGER NOT NULL,
    write_capacity INTEGER NOT NULL,
    id TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    ttl_attribute TEXT
);
CREATE TABLE IF NOT EXISTS items (
    table_name TEXT NOT NULL,
    key TEXT NOT NULL,
    item TEXT NOT NULL,
    expires_secs INTEGER,
    PRIMARY KEY (table_name, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_by_expiry ON items (expires_secs) WHERE expires_secs IS NOT NULL;
";

/// The TTL process leaves items whose TTL is more than five years in the past: "The TTL
/// attribute value must be a datetimestamp with an expiration of no more than five years in the
/// past" (Developer Guide, "Using DynamoDB Time to Live").
pub const TTL_OLDEST_SECS: i64 = 5 * 365 * 24 * 60 * 60;

fn db_error(err: rusqlite::Error) -> DynamoDbError {
    DynamoDbError::internal(format!("storage error: {err}"))
}

/// The canonical text of a key value: equal keys (`1.0` and `1`) have equal texts.
pub fn key_text(value: &AttributeValue) -> String {
    match value {
        AttributeValue::N(n) => format!("N:{}", n.to_text()),
        other => format!("{}:{}", other.type_name(), other.to_json()),
    }
}

/// When an item expires by `ttl_attribute`: its value when that is a number, in epoch seconds.
fn expiry(item: &Item, ttl_attribute: Option<&str>) -> Option<i64> {
    match item.get(ttl_attribute?)? {
        AttributeValue::N(n) => Some(Number::whole_part(n)),
        _ => None,
    }
}

impl crate::sqlite::Database for Store {
    type Error = DynamoDbError;

    fn connection(&self) -> &Connection {
        &self.conn
    }

    fn storage_error(message: String) -> DynamoDbError {
        DynamoDbError::internal(message)
    }
}

impl Store {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: &Path) -> Result<Store, DynamoDbError> {
        let conn = crate::sqlite::open(path).map_err(db_error)?;
        conn.execute_batch(SCHEMA).map_err(db_error)?;
        Ok(Store { conn })
    }

    /// Creates a table; `ResourceInUseException` when one has the name.
    pub fn create_table(&mut self, table: &Table) -> Result<(), DynamoDbError> {
        if self.find_table(&table.name)?.is_some() {
            return Err(DynamoDbError::table_exists(&table.name));
        }
        self.conn
            .execute(
                "INSERT INTO tables (name, key_attribute, key_type, billing_mode, read_capacity, write_capacity, id, created_ms, ttl_attribute)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    table.name,
                    table.key_attribute,
                    table.key_type.as_str(),
                    table.billing_mode,
                    table.capacity.0,
                    table.capacity.1,
                    table.id,
                    table.created_ms,
                    table.ttl_attribute,
                ],
            )
            .map_err(db_error)?;
        Ok(())
    }

    /// A table, or `None`.
    pub fn find_table(&self, name: &str) -> Result<Option<Table>, DynamoDbError> {
        self.conn
            .prepare_cached(
                "SELECT name, key_attribute, key_type, billing_mode, read_capacity, write_capacity, id, created_ms, ttl_attribute
                 FROM tables WHERE name = ?1",
            )
            .and_then(|mut statement| {
                statement
                    .query_row([name], |row| {
                        Ok(Table {
                            name: row.get(0)?,
                            key_attribute: row.get(1)?,
                            key_type: KeyType::parse(&row.get::<_, String>(2)?)
                                .unwrap_or(KeyType::S),
                            billing_mode: row.get(3)?,
                            capacity: (row.get(4)?, row.get(5)?),
                            id: row.get(6)?,
                            created_ms: row.get(7)?,
                            ttl_attribute: row.get(8)?,
                        })
                    })
                    .optional()
            })
            .map_err(db_error)
    }

    /// Deletes a table and its items.
    pub fn delete_table(&mut self, name: &str) -> Result<(), DynamoDbError> {
        self.conn
            .execute("DELETE FROM items WHERE table_name = ?1", [name])
            .map_err(db_error)?;
        self.conn
            .execute("DELETE FROM tables WHERE name = ?1", [name])
            .map_err(db_error)?;
        Ok(())
    }

    /// Table names, sorted.
    pub fn table_names(&self) -> Result<Vec<String>, DynamoDbError> {
        let mut statement = self
            .conn
            .prepare("SELECT name FROM tables ORDER BY name")
            .map_err(db_error)?;
        let names = statement
            .query_map([], |row| row.get(0))
            .map_err(db_error)?
            .collect::<Result<_, _>>()
            .map_err(db_error)?;
        Ok(names)
    }

    /// How many items a table holds, and their size.
    pub fn table_counts(&self, name: &str) -> Result<(i64, i64), DynamoDbError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT item FROM items WHERE table_name = ?1")
            .map_err(db_error)?;
        let mut rows = statement.query([name]).map_err(db_error)?;
        let (mut count, mut bytes) = (0i64, 0i64);
        while let Some(row) = rows.next().map_err(db_error)? {
            let item = parse_item(&row.get::<_, String>(0).map_err(db_error)?)?;
            count += 1;
            bytes += item_size(&item) as i64;
        }
        Ok((count, bytes))
    }

    /// Turns TTL on with `attribute`, or off (`None`), and recomputes the items' expiry.
    pub fn set_ttl(&mut self, name: &str, attribute: Option<&str>) -> Result<(), DynamoDbError> {
        self.conn
            .execute(
                "UPDATE tables SET ttl_attribute = ?2 WHERE name = ?1",
                params![name, attribute],
            )
            .map_err(db_error)?;
        let items: Vec<(String, String)> = {
            let mut statement = self
                .conn
                .prepare("SELECT key, item FROM items WHERE table_name = ?1")
                .map_err(db_error)?;
            statement
                .query_map([name], |row| Ok((row.get(0)?, row.get(1)?)))
                .map_err(db_error)?
                .collect::<Result<_, _>>()
                .map_err(db_error)?
        };
        for (key, json) in items {
            let expires = expiry(&parse_item(&json)?, attribute);
            self.conn
                .execute(
                    "UPDATE items SET expires_secs = ?3 WHERE table_name = ?1 AND key = ?2",
                    params![name, key, expires],
                )
                .map_err(db_error)?;
        }
        Ok(())
    }

    /// The item under `key` (its [`key_text`]), or `None`.
    pub fn get_item(&self, table: &str, key: &str) -> Result<Option<Item>, DynamoDbError> {
        let json: Option<String> = self
            .conn
            .prepare_cached("SELECT item FROM items WHERE table_name = ?1 AND key = ?2")
            .and_then(|mut statement| {
                statement
                    .query_row([table, key], |row| row.get(0))
                    .optional()
            })
            .map_err(db_error)?;
        json.map(|j| parse_item(&j)).transpose()
    }

    /// Writes (creates or replaces) the item under `key`.
    pub fn put_item(&mut self, table: &Table, key: &str, item: &Item) -> Result<(), DynamoDbError> {
        let expires = expiry(item, table.ttl_attribute.as_deref());
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO items (table_name, key, item, expires_secs) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut statement| {
                statement.execute(params![table.name, key, item_to_json(item).to_string(), expires])
            })
            .map_err(db_error)?;
        Ok(())
    }

    /// Deletes the item under `key`, if there is one.
    pub fn delete_item(&mut self, table: &str, key: &str) -> Result<(), DynamoDbError> {
        self.conn
            .prepare_cached("DELETE FROM items WHERE table_name = ?1 AND key = ?2")
            .and_then(|mut statement| statement.execute([table, key]))
            .map_err(db_error)?;
        Ok(())
    }

    /// Deletes the items whose TTL passed before `now_secs` (and not more than five years
    /// before); returns how many.
    pub fn delete_expired(&mut self, now_secs: i64) -> Result<usize, DynamoDbError> {
        self.conn
            .prepare_cached(
                "DELETE FROM items WHERE expires_secs IS NOT NULL AND expires_secs < ?1 AND expires_secs >= ?2",
            )
            .and_then(|mut statement| {
                statement.execute(params![now_secs, now_secs.saturating_sub(TTL_OLDEST_SECS)])
            })
            .map_err(db_error)
    }
}

fn parse_item(json: &str) -> Result<Item, DynamoDbError> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| DynamoDbError::internal(format!("a stored item is not JSON: {e}")))?;
    item_from_json(&value)
}
