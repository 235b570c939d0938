//! Queue tags: TagQueue, UntagQueue, ListQueueTags, and CreateQueue's `tags`.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};

use super::{Store, db_error};
use crate::sqs::SqsError;

impl Store {
    /// A queue's tags (`ListQueueTags`).
    pub fn tags(&self, name: &str) -> Result<BTreeMap<String, String>, SqsError> {
        let json: String = self
            .conn
            .query_row("SELECT tags FROM queues WHERE name = ?1", [name], |row| {
                row.get(0)
            })
            .optional()
            .map_err(db_error)?
            .ok_or_else(SqsError::no_queue)?;
        serde_json::from_str(&json)
            .map_err(|e| SqsError::internal(format!("corrupt queue tags: {e}")))
    }

    /// Adds or replaces tags (`TagQueue`) and removes the keys in `remove` (`UntagQueue`).
    pub fn retag(
        &mut self,
        name: &str,
        add: &BTreeMap<String, String>,
        remove: &[String],
    ) -> Result<(), SqsError> {
        let mut tags = self.tags(name)?;
        crate::sqs::validate::tags(add)?;
        for key in remove {
            tags.remove(key);
        }
        tags.extend(add.clone());
        crate::sqs::validate::tags(&tags)?;
        self.conn
            .execute(
                "UPDATE queues SET tags = ?2 WHERE name = ?1",
                params![name, to_json(&tags)?],
            )
            .map_err(db_error)?;
        Ok(())
    }
}

pub(super) fn to_json(map: &BTreeMap<String, String>) -> Result<String, SqsError> {
    serde_json::to_string(map).map_err(|e| SqsError::internal(e.to_string()))
}
