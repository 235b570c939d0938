//! The local console in a real browser: headless Chromium (Debian's `chromium`, which `cargo
//! xtask test` installs) driven over the DevTools Protocol by `tests/python/console_browser.py`
//! against a real stack. Screenshots of each step go to `target/console-screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::path::PathBuf;

use hookline_e2e::console::CONSOLE_MANIFEST;
use hookline_e2e::*;

/// Debian's Chromium, or `HOOKLINE_CHROMIUM`.
fn chromium() -> PathBuf {
    let path = std::env::var_os("HOOKLINE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "{} is missing: the browser test needs Debian's Chromium; install it with \
         `apt-get update && apt-get install -y chromium` (cargo xtask test does), or point \
         HOOKLINE_CHROMIUM at a Chromium",
        path.display()
    );
    path
}

fn python() -> PathBuf {
    std::env::var_os("HOOKLINE_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".tools/venv/bin/python"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_works_in_a_real_browser() {
    let chromium = chromium();
    let h = harness(CONSOLE_MANIFEST);
    let stack = h.start().await;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let shots = target.join("console-screenshots");
    let fixture = root().join("functions/stripe/fixtures/invoice.paid.json");
    let python = python();
    let output = tokio::process::Command::new(&python)
        .arg(root().join("tests/python/console_browser.py"))
        .arg(stack.gateway_url())
        .arg(&chromium)
        .arg(&shots)
        .arg(&fixture)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e}\nthe browser test needs websocket-client: run `cargo xtask test` \
                 (it installs it into .tools/venv)",
                python.display()
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser test failed:\n{stdout}{stderr}"
    );
    assert!(stdout.contains("console browser test ok"), "{stdout}");
    for step in [
        "01-deliveries-live",
        "02-delivery",
        "04-dead-letter",
        "05-redriven",
    ] {
        let shot = shots.join(format!("{step}.png"));
        let bytes = std::fs::read(&shot).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{} is a PNG", shot.display());
    }
    stack.shutdown().await;
}
