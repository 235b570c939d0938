//! What a Lambda zip holds: an executable `bootstrap`, an ELF binary for one architecture.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// ELF `e_machine` of x86-64.
pub const EM_X86_64: u16 = 62;
/// ELF `e_machine` of AArch64.
pub const EM_AARCH64: u16 = 183;

/// The `bootstrap` of a zip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootstrap {
    /// ELF `e_machine`.
    pub machine: u16,
    /// Whether the zip marks it executable (a Unix mode with an x bit).
    pub executable: bool,
    /// Uncompressed size in bytes.
    pub size: u64,
}

/// Reads the `bootstrap` entry of a Lambda zip and its ELF header.
pub fn inspect(zip: &Path) -> Result<Bootstrap> {
    let file = std::fs::File::open(zip).with_context(|| format!("opening {}", zip.display()))?;
    let mut archive =
        zip::ZipArchive::new(file).with_context(|| format!("{} is not a zip", zip.display()))?;
    let mut entry = archive
        .by_name("bootstrap")
        .with_context(|| format!("{} has no `bootstrap` entry", zip.display()))?;
    let executable = entry.unix_mode().is_some_and(|mode| mode & 0o111 != 0);
    let size = entry.size();
    let mut header = [0u8; 20];
    entry
        .read_exact(&mut header)
        .with_context(|| format!("reading the bootstrap of {}", zip.display()))?;
    if header[..4] != *b"\x7fELF" {
        bail!("the bootstrap of {} is not an ELF binary", zip.display());
    }
    // e_machine follows e_ident (16 bytes) and e_type (2), in the file's byte order.
    let machine = match header[5] {
        1 => u16::from_le_bytes([header[18], header[19]]),
        _ => u16::from_be_bytes([header[18], header[19]]),
    };
    Ok(Bootstrap {
        machine,
        executable,
        size,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn elf(machine: u16) -> Vec<u8> {
        let mut bytes = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0".to_vec();
        bytes.extend(machine.to_le_bytes());
        bytes.extend([0u8; 44]);
        bytes
    }

    fn zip_with(name: &str, content: &[u8], mode: u32) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut writer = zip::ZipWriter::new(file.reopen().unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(mode);
        writer.start_file(name, options).unwrap();
        writer.write_all(content).unwrap();
        writer.finish().unwrap();
        file
    }

    #[test]
    fn reads_the_architecture_and_the_mode() {
        let arm = zip_with("bootstrap", &elf(EM_AARCH64), 0o755);
        assert_eq!(
            inspect(arm.path()).unwrap(),
            Bootstrap {
                machine: EM_AARCH64,
                executable: true,
                size: 64
            }
        );
        let x86 = zip_with("bootstrap", &elf(EM_X86_64), 0o644);
        let found = inspect(x86.path()).unwrap();
        assert_eq!((found.machine, found.executable), (EM_X86_64, false));
    }

    #[test]
    fn rejects_what_is_not_a_lambda_zip() {
        let other = zip_with("main", &elf(EM_X86_64), 0o755);
        assert!(
            inspect(other.path())
                .unwrap_err()
                .to_string()
                .contains("has no `bootstrap` entry")
        );
        let script = zip_with("bootstrap", b"#!/bin/sh\necho hi\n#####", 0o755);
        assert!(
            inspect(script.path())
                .unwrap_err()
                .to_string()
                .contains("is not an ELF binary")
        );
    }
}
