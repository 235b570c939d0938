//! `cargo xtask generate [--check]`: re-renders every provider's managed files from its template;
//! `--check` only reports the ones that drifted.

use std::path::Path;

use anyhow::{Context, Result, bail};
use hookline_manifest::MANIFEST_FILE;

use crate::project;
use crate::repo::templates::{self, ProviderInstance, Rendered};

#[derive(clap::Args)]
pub struct Args {
    /// Change nothing; fail when a managed file differs from its template.
    #[arg(long)]
    check: bool,
}

pub fn run(args: Args) -> Result<()> {
    let root = project::root();
    let stale = stale_files(&root)?;
    if stale.is_empty() {
        println!("all managed files are up to date");
        return Ok(());
    }
    if args.check {
        let list: Vec<String> = stale
            .iter()
            .map(|f| format!("  {}", f.path.display()))
            .collect();
        bail!(
            "these generated files are stale:\n{}\nrun `cargo xtask generate` to rewrite them",
            list.join("\n")
        );
    }
    for file in &stale {
        let path = root.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &file.content)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("rewrote {}", file.path.display());
    }
    Ok(())
}

/// The managed files whose content on disk differs from what their template renders now.
pub fn stale_files(root: &Path) -> Result<Vec<Rendered>> {
    let manifest = project::manifest()?;
    let mut stale = Vec::new();
    for provider in &manifest.providers {
        let template = templates::load(root, &provider.template)
            .with_context(|| format!("provider `{}` in {MANIFEST_FILE}", provider.name))?;
        let target = ProviderInstance {
            name: &provider.name,
            route: &provider.route,
            vars: &provider.vars,
        };
        for file in template.render(root, &target, true)? {
            let on_disk = std::fs::read(root.join(&file.path)).ok();
            if on_disk.as_deref() != Some(file.content.as_slice()) {
                stale.push(file);
            }
        }
    }
    Ok(stale)
}

#[cfg(test)]
mod tests {
    /// The repository's own generated files must match their templates: a stale checkout fails
    /// `cargo xtask test` here.
    #[test]
    fn the_repository_has_no_stale_generated_files() {
        let stale = super::stale_files(&crate::project::root()).unwrap();
        let paths: Vec<_> = stale.iter().map(|f| f.path.display().to_string()).collect();
        assert!(
            paths.is_empty(),
            "stale generated files (run `cargo xtask generate`): {paths:?}"
        );
    }
}
