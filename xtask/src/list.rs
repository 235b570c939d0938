//! `cargo xtask list`: the providers in `hookline.toml`.

use anyhow::Result;
use hookline_manifest::MANIFEST_FILE;

use crate::tools;

pub fn run() -> Result<()> {
    let root = tools::project_root();
    let manifest =
        hookline_manifest::load(&root.join(MANIFEST_FILE)).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "project {} · region {} · {}",
        manifest.project.name,
        manifest.project.region,
        manifest.project.architecture.as_str()
    );
    if manifest.providers.is_empty() {
        println!("no providers yet: cargo xtask new <name> --template <template>");
        return Ok(());
    }
    println!(
        "{:<20} {:<28} {:<18} {:<18} {:<8} batch",
        "provider", "route", "template", "scheme", "queue"
    );
    for p in &manifest.providers {
        println!(
            "{:<20} {:<28} {:<18} {:<18} {:<8} {}",
            p.name,
            p.route,
            p.template,
            p.signing.scheme,
            p.queue.kind.as_str(),
            p.queue.batch_size
        );
    }
    Ok(())
}
