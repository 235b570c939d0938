//! `cargo xtask list`: the providers in `hookline.toml`.

use anyhow::Result;

use crate::project;

pub fn run() -> Result<()> {
    let manifest = project::manifest()?;
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
