//! The queue's storage fills up under the stack: ingest answers 503, never 200 for what was not
//! stored, and nothing acknowledged is lost once space is back. The storage is a small tmpfs
//! mounted inside the test's own folder (root is needed to mount: CI runs as root). A read-only
//! remount is not used: Linux refuses it while the database is open for writing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use hookline_e2e::*;

/// A tmpfs mounted for the test, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(path).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .status();
        match status {
            Ok(s) if s.success() => Tmpfs(path.to_path_buf()),
            other => panic!(
                "mounting a tmpfs at {} failed ({other:?}): this test needs root (`sudo cargo xtask test`; CI runs as root)",
                path.display()
            ),
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the file system until a write fails; returns the filler's path.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while file
        .write_all(&chunk)
        .and_then(|()| file.sync_all())
        .is_ok()
    {}
    path
}

async fn send(
    stack: &hookline_local::DevStack,
    n: usize,
    tag: &str,
) -> (BTreeSet<String>, Vec<u16>) {
    let mut acked = BTreeSet::new();
    let mut statuses = Vec::new();
    for i in 0..n {
        // Large enough that every write needs new pages.
        let body = format!(
            r#"{{"tag":"{tag}-{i}","pad":"{}"}}"#,
            "x".repeat(200 * 1024)
        );
        let (status, _, _) = post(
            &url(stack, "acme"),
            &signed(stack, "acme", body.as_bytes()),
            body.as_bytes(),
        )
        .await
        .unwrap();
        statuses.push(status);
        if status == 200 {
            acked.insert(format!("{tag}-{i}"));
        }
    }
    (acked, statuses)
}

fn processed(h: &Harness) -> BTreeSet<String> {
    h.recorded("acme")
        .iter()
        .filter_map(|l| serde_json::from_slice::<serde_json::Value>(&recorded_body(l)).ok())
        .filter_map(|v| v["tag"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_storage_means_503_and_loses_nothing_acknowledged() {
    let h = harness(ACME_QUICK_RETRY);
    let storage = Tmpfs::mount(&h.data, "8m");
    // The queue's storage is what this test fills: the console's history (bounded, written off
    // the request path, dropped when it cannot be) would only share the 8 MB with it.
    let mut config = h.config();
    config.console = false;
    let stack = hookline_local::DevStack::start(config).await.unwrap();

    let (mut acked, statuses) = send(&stack, 3, "before").await;
    assert_eq!(statuses, [200, 200, 200]);

    let filler = fill(&h.data);
    let (full_acked, statuses) = send(&stack, 5, "full").await;
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "only 200 (stored) or 503: {statuses:?}"
    );
    assert!(
        statuses.contains(&503),
        "a full disk must refuse deliveries: {statuses:?}"
    );
    acked.extend(full_acked);
    std::fs::remove_file(&filler).unwrap();

    let (after, statuses) = send(&stack, 3, "after").await;
    assert_eq!(
        statuses,
        [200, 200, 200],
        "the queue recovers with its storage"
    );
    acked.extend(after);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let missing: Vec<String> = acked.difference(&processed(&h)).cloned().collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "acknowledged but never processed: {missing:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stack.shutdown().await;
    drop(storage);
}
