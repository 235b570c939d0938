//! The local stack's signing credentials: one set per provider, made on first use in the form the
//! provider's dashboard shows (its scheme decides), kept under `data_dir/secrets/` (mode 0600).
//!
//! `secrets/<provider>` holds what ingest verifies with: the shared secret, or the public key of
//! a public-key scheme, whose private half (what `cargo xtask send` signs with) is in
//! `secrets/<provider>.signing-key`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hookline::sign::Signer;
use hookline::verify::{Credentials, SigningSecret, Verifier};
use hookline_manifest::Provider;

use crate::stack::StackError;

/// Where a provider's verifying secret is kept.
pub fn secret_path(data_dir: &Path, provider: &str) -> PathBuf {
    data_dir.join("secrets").join(provider)
}

/// Where a public-key scheme's private key is kept.
pub fn signing_key_path(data_dir: &Path, provider: &str) -> PathBuf {
    data_dir
        .join("secrets")
        .join(format!("{provider}.signing-key"))
}

/// The credentials kept for `provider`, or `None` when there are none yet.
pub fn load(data_dir: &Path, provider: &str) -> Option<Credentials> {
    let read = |path: PathBuf| {
        std::fs::read_to_string(path)
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let verify = read(secret_path(data_dir, provider))?;
    let sign = read(signing_key_path(data_dir, provider)).unwrap_or_else(|| verify.clone());
    Some(Credentials { verify, sign })
}

/// The provider's credentials: the kept ones when they are keys of its scheme, else new ones
/// (a provider whose scheme changed gets credentials of the new form).
pub fn load_or_create(data_dir: &Path, provider: &Provider) -> Result<Credentials, StackError> {
    let scheme = provider.scheme().map_err(|e| StackError::Provider {
        provider: provider.name.clone(),
        message: e.to_string(),
    })?;
    if let Some(kept) = load(data_dir, &provider.name) {
        let verifies = Verifier::new(
            scheme.clone(),
            &[SigningSecret::new(kept.verify.as_str())],
            Duration::from_secs(1),
        )
        .is_ok();
        if verifies && Signer::new(scheme.clone(), &kept.sign).is_ok() {
            return Ok(kept);
        }
    }
    let mut random = [0u8; 32];
    random[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    random[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    let credentials = scheme.local_credentials(&random);
    let dir = data_dir.join("secrets");
    std::fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
    let path = secret_path(data_dir, &provider.name);
    write_private(&path, &credentials.verify).map_err(io(format!("writing {}", path.display())))?;
    let key_path = signing_key_path(data_dir, &provider.name);
    if credentials.sign == credentials.verify {
        match std::fs::remove_file(&key_path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io(format!("removing {}", key_path.display()))(e));
            }
            _ => {}
        }
    } else {
        write_private(&key_path, &credentials.sign)
            .map_err(io(format!("writing {}", key_path.display())))?;
    }
    Ok(credentials)
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> StackError {
    move |source| StackError::Io { context, source }
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(content.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(template: &str) -> Provider {
        let source = format!(
            "[project]\nname = \"p\"\n[[providers]]\nname = \"acme\"\ntemplate = \"{template}\"\n"
        );
        hookline_manifest::parse(&source, "hookline.toml")
            .unwrap()
            .providers
            .remove(0)
    }

    #[test]
    fn credentials_are_kept_and_replaced_when_the_scheme_changes() {
        let dir = tempfile::tempdir().unwrap();
        let stripe = load_or_create(dir.path(), &provider("stripe")).unwrap();
        assert!(stripe.verify.starts_with("whsec_"), "the dashboard's form");
        assert_eq!(stripe.sign, stripe.verify);
        assert_eq!(
            load_or_create(dir.path(), &provider("stripe")).unwrap(),
            stripe
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(secret_path(dir.path(), "acme"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // A kept secret that is no key of the scheme (not base64 after `whsec_`) is replaced.
        std::fs::write(secret_path(dir.path(), "acme"), "whsec_not base64!").unwrap();
        let svix = load_or_create(dir.path(), &provider("standard-webhooks")).unwrap();
        assert!(svix.verify.starts_with("whsec_") && svix.verify != stripe.verify);
        assert_eq!(load(dir.path(), "acme"), Some(svix));
        assert!(!signing_key_path(dir.path(), "acme").exists());
    }
}
