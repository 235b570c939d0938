//! Buckets and objects on disk: each object's bytes in a file of its own under
//! `<data_dir>/s3/<bucket>/` named by a fresh id (never by its key, so no key can reach outside
//! the folder), and what S3 knows of it (key, size, ETag, checksum, headers) in SQLite
//! (`<data_dir>/s3.db`, `crate::sqlite`: WAL, `synchronous=FULL`, one writer thread).
//!
//! A put writes and fsyncs its file (and the folder's entry) first, then commits the row that
//! names it: until that commit the file is unreachable, so a cut-off or crashed put leaves at
//! most an unnamed file, which [`Store::sweep`] removes at the next start, never a truncated
//! object. The file a row no longer names (replaced or deleted) is removed after the commit.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use super::S3Error;
use super::checksum::Algorithm;

/// What is stored of an object besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Its size in bytes.
    pub size: u64,
    /// The hex MD5 of its bytes (its ETag without the quotes).
    pub etag: String,
    /// When it was stored (ms since the epoch).
    pub modified_ms: i64,
    /// Its checksum (base64) and the algorithm.
    pub checksum: (Algorithm, String),
    /// The headers it was put with that GetObject returns (`content-type`, `x-amz-meta-*`, ...),
    /// names in lower case.
    pub headers: Vec<(String, String)>,
}

/// The database and the folder of the objects' files.
pub struct Store {
    conn: Connection,
    root: PathBuf,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    file TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    modified_ms INTEGER NOT NULL,
    checksum_algorithm TEXT NOT NULL,
    checksum TEXT NOT NULL,
    headers TEXT NOT NULL,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
";

fn db_error(err: rusqlite::Error) -> S3Error {
    S3Error::internal(format!("storage error: {err}"))
}

fn fs_error(what: &str, err: std::io::Error) -> S3Error {
    S3Error::internal(format!("storage error: {what}: {err}"))
}

/// Makes a new entry in `dir` durable: fsync of the folder itself.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

impl crate::sqlite::Database for Store {
    type Error = S3Error;

    fn connection(&self) -> &Connection {
        &self.conn
    }

    fn storage_error(message: String) -> S3Error {
        S3Error::internal(message)
    }
}

/// Writes `data` to a new file in `root/bucket/` and makes it durable; returns the file's name.
/// Runs outside the writer thread: the row that names the file is committed afterwards.
pub fn write_object_file(root: &Path, bucket: &str, data: &[u8]) -> Result<String, S3Error> {
    let dir = root.join(bucket);
    let name = uuid::Uuid::now_v7().simple().to_string();
    let path = dir.join(&name);
    let write = || -> std::io::Result<()> {
        fs::create_dir_all(&dir)?;
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        file.write_all(data)?;
        file.sync_all()?;
        sync_dir(&dir)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&path);
        fs_error("writing the object", e)
    })?;
    Ok(name)
}

/// Removes an object's file that no row names any more (after the commit that dropped it). A
/// failure leaves an orphan for the next start's sweep, so it is only logged.
pub fn remove_object_file(root: &Path, bucket: &str, file: &str) {
    if let Err(err) = fs::remove_file(root.join(bucket).join(file)) {
        tracing::warn!(
            "removing a replaced S3 object's file failed (swept at the next start): {err}"
        );
    }
}

impl Store {
    /// Opens (or creates) the database at `path`, with the objects' files under `root`.
    pub fn open(path: &Path, root: &Path) -> Result<Store, S3Error> {
        fs::create_dir_all(root).map_err(|e| fs_error("creating the folder", e))?;
        let conn = crate::sqlite::open(path).map_err(db_error)?;
        conn.execute_batch(SCHEMA).map_err(db_error)?;
        Ok(Store {
            conn,
            root: root.to_owned(),
        })
    }

    /// Removes what no row names: files of puts that never committed, and folders of buckets
    /// that are gone. Run at start, before requests are served; returns how many were removed.
    pub fn sweep(&self) -> Result<usize, S3Error> {
        let mut removed = 0;
        let entries = fs::read_dir(&self.root).map_err(|e| fs_error("listing the folder", e))?;
        for entry in entries.flatten() {
            let bucket = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if !path.is_dir() {
                let _ = fs::remove_file(&path);
                removed += 1;
                continue;
            }
            if !self.bucket_exists(&bucket)? {
                let _ = fs::remove_dir_all(&path);
                removed += 1;
                continue;
            }
            let mut named = self
                .conn
                .prepare_cached("SELECT 1 FROM objects WHERE bucket = ?1 AND file = ?2")
                .map_err(db_error)?;
            for file in fs::read_dir(&path).into_iter().flatten().flatten() {
                let name = file.file_name().to_string_lossy().into_owned();
                if !named.exists(params![bucket, name]).map_err(db_error)? {
                    let _ = fs::remove_file(file.path());
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// The folder of the objects' files.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the bucket exists.
    pub fn bucket_exists(&self, bucket: &str) -> Result<bool, S3Error> {
        self.conn
            .prepare_cached("SELECT 1 FROM buckets WHERE name = ?1")
            .and_then(|mut s| s.exists([bucket]))
            .map_err(db_error)
    }

    /// `NoSuchBucket` unless the bucket exists.
    pub fn require_bucket(&self, bucket: &str) -> Result<(), S3Error> {
        if self.bucket_exists(bucket)? {
            Ok(())
        } else {
            Err(S3Error::no_such_bucket(bucket))
        }
    }

    /// Creates the bucket (its folder first, durably); `false` when it existed.
    pub fn create_bucket(&mut self, bucket: &str, created_ms: i64) -> Result<bool, S3Error> {
        if self.bucket_exists(bucket)? {
            return Ok(false);
        }
        fs::create_dir_all(self.root.join(bucket))
            .and_then(|()| sync_dir(&self.root))
            .map_err(|e| fs_error("creating the bucket's folder", e))?;
        self.conn
            .execute(
                "INSERT INTO buckets (name, created_ms) VALUES (?1, ?2)",
                params![bucket, created_ms],
            )
            .map_err(db_error)?;
        Ok(true)
    }

    /// Deletes an empty bucket's row (its folder goes after the commit, or at the next sweep).
    pub fn delete_bucket(&mut self, bucket: &str) -> Result<(), S3Error> {
        self.require_bucket(bucket)?;
        let has_objects = self
            .conn
            .prepare_cached("SELECT 1 FROM objects WHERE bucket = ?1 LIMIT 1")
            .and_then(|mut s| s.exists([bucket]))
            .map_err(db_error)?;
        if has_objects {
            return Err(S3Error::bucket_not_empty(bucket));
        }
        self.conn
            .execute("DELETE FROM buckets WHERE name = ?1", [bucket])
            .map_err(db_error)?;
        Ok(())
    }

    /// Every bucket with its creation time (ms), by name.
    pub fn list_buckets(&self) -> Result<Vec<(String, i64)>, S3Error> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT name, created_ms FROM buckets ORDER BY name")
            .map_err(db_error)?;
        let rows = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(db_error)?;
        rows.collect::<Result<_, _>>().map_err(db_error)
    }

    /// Records the object `key` as the file `file`; returns the file it replaced.
    pub fn put_object(
        &mut self,
        bucket: &str,
        key: &str,
        file: &str,
        meta: &ObjectMeta,
    ) -> Result<Option<String>, S3Error> {
        self.require_bucket(bucket)?;
        let old = self.find_object(bucket, key)?.map(|(file, _)| file);
        let headers = serde_json::to_string(&meta.headers)
            .map_err(|e| S3Error::internal(format!("storage error: {e}")))?;
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO objects
                 (bucket, key, file, size, etag, modified_ms, checksum_algorithm, checksum, headers)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    bucket,
                    key,
                    file,
                    meta.size as i64,
                    meta.etag,
                    meta.modified_ms,
                    meta.checksum.0.name(),
                    meta.checksum.1,
                    headers,
                ])
            })
            .map_err(db_error)?;
        Ok(old)
    }

    /// The object `key`: its file's name and what is known of it.
    pub fn find_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(String, ObjectMeta)>, S3Error> {
        self.conn
            .prepare_cached(
                "SELECT file, size, etag, modified_ms, checksum_algorithm, checksum, headers
                 FROM objects WHERE bucket = ?1 AND key = ?2",
            )
            .and_then(|mut s| {
                s.query_row(params![bucket, key], |row| {
                    Ok((row.get::<_, String>(0)?, meta_from_row(row, 1)?))
                })
                .optional()
            })
            .map_err(db_error)
    }

    /// Opens the object's file for reading, with what is known of it. The file is opened on
    /// the writer thread, so that it is the one the row names even if a put replaces it next.
    pub fn open_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(File, ObjectMeta)>, S3Error> {
        let Some((file, meta)) = self.find_object(bucket, key)? else {
            return Ok(None);
        };
        let file = File::open(self.root.join(bucket).join(file))
            .map_err(|e| fs_error("opening the object", e))?;
        Ok(Some((file, meta)))
    }

    /// Deletes the object `key`; returns its file, if it existed.
    pub fn delete_object(&mut self, bucket: &str, key: &str) -> Result<Option<String>, S3Error> {
        self.require_bucket(bucket)?;
        let old = self.find_object(bucket, key)?.map(|(file, _)| file);
        self.conn
            .execute(
                "DELETE FROM objects WHERE bucket = ?1 AND key = ?2",
                params![bucket, key],
            )
            .map_err(db_error)?;
        Ok(old)
    }

    /// Visits the bucket's objects from the key `from` on (included), in UTF-8 binary order
    /// (S3's listing order), until `visit` returns `false`.
    pub fn scan(
        &self,
        bucket: &str,
        from: &str,
        mut visit: impl FnMut(String, ObjectMeta) -> bool,
    ) -> Result<(), S3Error> {
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT key, size, etag, modified_ms, checksum_algorithm, checksum, headers
                 FROM objects WHERE bucket = ?1 AND key >= ?2 ORDER BY key",
            )
            .map_err(db_error)?;
        let mut rows = statement.query(params![bucket, from]).map_err(db_error)?;
        while let Some(row) = rows.next().map_err(db_error)? {
            let key: String = row.get(0).map_err(db_error)?;
            let meta = meta_from_row(row, 1).map_err(db_error)?;
            if !visit(key, meta) {
                break;
            }
        }
        Ok(())
    }
}

fn meta_from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<ObjectMeta> {
    let algorithm: String = row.get(first + 3)?;
    let headers: String = row.get(first + 5)?;
    Ok(ObjectMeta {
        size: row.get::<_, i64>(first)?.max(0) as u64,
        etag: row.get(first + 1)?,
        modified_ms: row.get(first + 2)?,
        checksum: (
            Algorithm::from_name(&algorithm).unwrap_or(Algorithm::Crc64Nvme),
            row.get(first + 4)?,
        ),
        headers: serde_json::from_str(&headers).unwrap_or_default(),
    })
}
