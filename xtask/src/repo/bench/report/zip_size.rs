//! Section 4's figures: the size of each function's deployable zip.

use std::io::Write as _;
use std::path::Path;

use anyhow::Result;

/// Size of one function's deployable zip.
#[derive(Debug, Clone)]
pub(crate) struct ZipSize {
    pub binary: String,
    pub bytes: u64,
    /// Where the figure comes from.
    pub source: String,
}

/// The cargo-lambda zips of `cargo xtask build` when present (any architecture), otherwise
/// the host release binary (stripped by the release profile) zipped here with deflate.
pub(crate) fn zip_sizes(
    root: &Path,
    bins: &Path,
    provider: &hookline_manifest::Provider,
) -> Result<Vec<ZipSize>> {
    let lambda = super::super::target_base(root).join("lambda");
    let mut sizes = Vec::new();
    for binary in [provider.ingest_binary(), provider.process_binary()] {
        let mut found = false;
        for arch in ["arm64", "x86_64"] {
            let zip = lambda.join(arch).join(&binary).join("bootstrap.zip");
            if let Ok(meta) = std::fs::metadata(&zip) {
                sizes.push(ZipSize {
                    binary: binary.clone(),
                    bytes: meta.len(),
                    source: format!("`cargo xtask build` ({arch}): {}", rel(root, &zip)),
                });
                found = true;
            }
        }
        if found {
            continue;
        }
        let path = bins.join(&binary);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o755);
        zip.start_file("bootstrap", options)?;
        zip.write_all(&bytes)?;
        let zipped = zip.finish()?.into_inner();
        sizes.push(ZipSize {
            binary: binary.clone(),
            bytes: zipped.len() as u64,
            source: format!(
                "no cargo-lambda zip found: host release binary {} ({} bytes stripped), deflated here",
                rel(root, &path),
                bytes.len()
            ),
        });
    }
    Ok(sizes)
}

fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}
