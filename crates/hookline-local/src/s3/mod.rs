//! An S3-compatible endpoint (the REST API, path-style: `/<bucket>` and `/<bucket>/<key>`) on a
//! durable store: what aws-sdk-s3, boto3 and the aws CLI speak, on loopback. It serves the
//! operations a claim check needs ([`SERVED`]: buckets, ListObjectsV2, and
//! Put/Get/Head/DeleteObject with ranges, user metadata and the flexible checksums) and refuses
//! every other operation with S3's `NotImplemented` and a message naming it.
//!
//! An acknowledged put is on disk (the object's file fsynced, then its row committed; see
//! [`store`]), so it survives `kill -9`; a put cut off mid-way leaves nothing visible.
//! Credentials and signatures are not checked (chunk signatures are stripped), as on the other
//! local endpoints.

// Dependencies run one way: protocol → bucket/object → upload → chunked/checksum, all over
// store and error.
mod bucket;
pub mod checksum;
pub mod chunked;
mod error;
mod object;
mod protocol;
pub mod store;
mod upload;
mod xml;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use error::S3Error;
pub use protocol::SERVED;
pub(crate) use protocol::respond;
use store::Store;

use crate::sqlite::Writer;

/// The largest object one PutObject takes here. S3 takes 5 GiB ("Uploading objects", User
/// Guide); the local endpoint holds a body in memory while it checks it, and hookline puts at
/// most what an API Gateway request holds (10 MB), so it stops well below.
pub const MAX_OBJECT_BYTES: u64 = 64 * 1024 * 1024;

/// The longest key: "The name for a key is a sequence of Unicode characters whose UTF-8
/// encoding is at most 1,024 bytes long." (User Guide, "Naming Amazon S3 objects").
pub const MAX_KEY_BYTES: usize = 1024;

/// The most user-defined metadata: "the user-defined metadata is limited to 2 KB in size ...
/// the sum of the number of bytes in the UTF-8 encoding of each key and value" (User Guide,
/// "Working with object metadata").
pub const MAX_USER_METADATA_BYTES: usize = 2048;

/// A handle to the buckets' store and its writer thread. Cloning is cheap.
#[derive(Clone)]
pub struct Objects {
    writer: Writer<Store>,
    root: Arc<PathBuf>,
}

impl Objects {
    /// Opens `data_dir/s3.db` (created when missing) with the objects' files under
    /// `data_dir/s3/`, removes what a crash left unnamed, and starts the writer thread.
    pub fn start(data_dir: &Path) -> Result<Objects, S3Error> {
        let root = data_dir.join("s3");
        let store = Store::open(&data_dir.join("s3.db"), &root)?;
        let swept = store.sweep()?;
        if swept > 0 {
            tracing::info!("removed {swept} S3 files no object names (puts cut off by a stop)");
        }
        let writer = Writer::start(store, "hookline-s3-store", |_, _| {})?;
        Ok(Objects {
            writer,
            root: Arc::new(root),
        })
    }

    /// Runs `f` on the store in the next transaction; resolves after that transaction committed.
    pub(crate) async fn call<T, F>(&self, f: F) -> Result<T, S3Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, S3Error> + Send + 'static,
    {
        self.writer.call(f).await
    }

    /// The folder of the objects' files (`data_dir/s3`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Makes sure the bucket `name` exists (the stack's bucket, at start). An existing bucket is
    /// kept with its objects; a name S3 would refuse is `InvalidBucketName`.
    pub async fn create_bucket(&self, name: &str) -> Result<(), S3Error> {
        validate_bucket_name(name)?;
        let name = name.to_owned();
        let now = chrono::Utc::now().timestamp_millis();
        self.call(move |s| s.create_bucket(&name, now).map(|_| ()))
            .await
    }
}

/// S3's rules for a new general purpose bucket's name (User Guide, "General purpose bucket
/// naming rules"). They also keep every bucket folder name plain: no `/`, no `..`.
pub fn validate_bucket_name(name: &str) -> Result<(), S3Error> {
    let broken = |rule: &str| Err(S3Error::invalid_bucket_name(name, rule));
    if !(3..=63).contains(&name.len()) {
        return broken("bucket names must be between 3 and 63 characters long");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return broken(
            "bucket names can consist only of lowercase letters, numbers, periods (.), and hyphens (-)",
        );
    }
    let alphanumeric = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
    if !alphanumeric(name.bytes().next()) || !alphanumeric(name.bytes().last()) {
        return broken("bucket names must begin and end with a letter or number");
    }
    if name.contains("..") {
        return broken("bucket names must not contain two adjacent periods");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return broken("bucket names must not be formatted as an IP address");
    }
    if let Some(prefix) = ["xn--", "sthree-", "amzn-s3-demo-"]
        .into_iter()
        .find(|p| name.starts_with(p))
    {
        return broken(&format!(
            "bucket names must not start with the prefix {prefix}"
        ));
    }
    if let Some(suffix) = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]
        .into_iter()
        .find(|s| name.ends_with(s))
    {
        return broken(&format!(
            "bucket names must not end with the suffix {suffix}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3s_rules() {
        for good in ["abc", "my-bucket.logs", "a1b", &"a".repeat(63), "1.2.3"] {
            validate_bucket_name(good).unwrap();
        }
        for (bad, words) in [
            ("ab", "between 3 and 63"),
            (&"a".repeat(64), "between 3 and 63"),
            ("My-Bucket", "only of lowercase"),
            ("a_b", "only of lowercase"),
            ("a/b/c", "only of lowercase"),
            ("-ab", "begin and end"),
            ("ab.", "begin and end"),
            ("a..b", "two adjacent periods"),
            ("192.168.5.4", "IP address"),
            ("xn--abc", "prefix xn--"),
            ("data-s3alias", "suffix -s3alias"),
        ] {
            let err = validate_bucket_name(bad).unwrap_err();
            assert_eq!(err.code, "InvalidBucketName");
            assert!(err.message.contains(words), "{bad}: {}", err.message);
        }
    }

    #[tokio::test]
    async fn create_bucket_is_idempotent_and_keeps_objects_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let objects = Objects::start(dir.path()).unwrap();
        objects.create_bucket("claims").await.unwrap();
        objects.create_bucket("claims").await.unwrap();
        assert_eq!(
            objects.create_bucket("Claims").await.unwrap_err().code,
            "InvalidBucketName"
        );
        assert!(dir.path().join("s3/claims").is_dir());
        // A file no row names (a put that never committed) is swept at the next start.
        std::fs::write(dir.path().join("s3/claims/orphan"), b"half").unwrap();
        std::fs::create_dir_all(dir.path().join("s3/gone")).unwrap();
        drop(objects);
        let objects = Objects::start(dir.path()).unwrap();
        assert!(!dir.path().join("s3/claims/orphan").exists());
        assert!(!dir.path().join("s3/gone").exists());
        let buckets = objects.call(|s| s.list_buckets()).await.unwrap();
        assert_eq!(buckets.len(), 1);
        assert_eq!(buckets[0].0, "claims");
    }
}
