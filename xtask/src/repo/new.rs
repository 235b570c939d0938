//! `cargo xtask new <name> --template <t> [--route <path>] [--var k=v]`: renders a provider crate
//! and registers it in `hookline.toml`. Refuses to overwrite anything; on any error, changes
//! nothing.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use hookline_manifest::{MANIFEST_FILE, is_valid_name};

use crate::project;
use crate::repo::templates::{self, ProviderInstance};

#[derive(clap::Args)]
pub struct Args {
    /// Provider name: [a-z][a-z0-9-]*, at most 32 characters (e.g. `stripe`, `billing-eu`).
    name: String,
    /// Template under templates/ (see `cargo xtask templates`).
    #[arg(long)]
    template: String,
    /// Webhook route [default: /webhooks/<name>].
    #[arg(long)]
    route: Option<String>,
    /// Template variable, repeatable: --var key=value.
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("`{text}` is not of the form key=value"))
}

pub fn run(args: Args) -> Result<()> {
    let root = project::root();
    let vars: BTreeMap<String, String> = args.vars.into_iter().collect();
    let created = create(
        &root,
        &args.name,
        &args.template,
        args.route.as_deref(),
        &vars,
    )?;
    println!(
        "created provider `{}` from template `{}`:",
        args.name, args.template
    );
    for path in &created {
        println!("  {}", path.display());
    }
    println!("  {MANIFEST_FILE} (registered)");
    println!("\nnext steps:");
    println!(
        "  cargo test -p {}-webhooks       # the handlers' tests with the sample events",
        args.name
    );
    println!(
        "  $EDITOR functions/{}/src/lib.rs  # your code: one function per event type",
        args.name
    );
    println!("  cargo xtask list                  # the providers and their routes");
    Ok(())
}

/// Does the work of `new` under `root`; returns the files written (relative to `root`).
pub fn create(
    root: &Path,
    name: &str,
    template_name: &str,
    route: Option<&str>,
    vars: &BTreeMap<String, String>,
) -> Result<Vec<PathBuf>> {
    if !is_valid_name(name) {
        bail!(
            "`{name}` is not a valid provider name: use lowercase letters, digits and single hyphens, starting with a letter ([a-z][a-z0-9-]*), at most 32 characters"
        );
    }
    let manifest_path = root.join(MANIFEST_FILE);
    let manifest_text = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("reading {}", manifest_path.display()))?;
    let manifest = hookline_manifest::parse(&manifest_text, MANIFEST_FILE)
        .with_context(|| format!("fix {MANIFEST_FILE} first"))?;
    if manifest.provider(name).is_some() {
        bail!("a provider named `{name}` already exists in {MANIFEST_FILE}");
    }
    let crate_dir = root.join("functions").join(name);
    if crate_dir.exists() {
        bail!("functions/{name} already exists; refusing to overwrite it");
    }
    let template = templates::load(root, template_name)?;
    let default_route = format!("/webhooks/{name}");
    let route = route.unwrap_or(&default_route);
    template.variables(vars)?;

    let new_manifest = register(
        &manifest_text,
        name,
        template_name,
        route,
        &default_route,
        &template.spec.scheme,
        vars,
    )?;
    hookline_manifest::parse(&new_manifest, MANIFEST_FILE)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("the new provider entry would not be valid; nothing was changed")?;
    let files = template.render(root, &ProviderInstance { name, route, vars }, false)?;

    write_all(root, &crate_dir, &files)?;
    if let Err(err) = write_atomically(&manifest_path, new_manifest.as_bytes()) {
        let _ = std::fs::remove_dir_all(&crate_dir);
        return Err(err.context(format!("updating {MANIFEST_FILE}; nothing was changed")));
    }
    Ok(files.into_iter().map(|f| f.path).collect())
}

/// Appends the provider to the manifest text, keeping everything the user wrote.
fn register(
    manifest_text: &str,
    name: &str,
    template: &str,
    route: &str,
    default_route: &str,
    scheme: &str,
    vars: &BTreeMap<String, String>,
) -> Result<String> {
    let mut doc: toml_edit::DocumentMut = manifest_text.parse().context("parsing hookline.toml")?;
    let mut entry = toml_edit::Table::new();
    entry.insert("name", toml_edit::value(name));
    entry.insert("template", toml_edit::value(template));
    if route != default_route {
        entry.insert("route", toml_edit::value(route));
    }
    if scheme != template {
        let mut signing = toml_edit::InlineTable::new();
        signing.insert("scheme", scheme.into());
        entry.insert("signing", toml_edit::value(signing));
    }
    if !vars.is_empty() {
        let mut table = toml_edit::InlineTable::new();
        for (key, value) in vars {
            table.insert(key, value.as_str().into());
        }
        entry.insert("vars", toml_edit::value(table));
    }
    let providers = doc
        .entry("providers")
        .or_insert(toml_edit::Item::ArrayOfTables(
            toml_edit::ArrayOfTables::new(),
        ));
    let Some(array) = providers.as_array_of_tables_mut() else {
        bail!("`providers` in {MANIFEST_FILE} is not an array of tables ([[providers]])");
    };
    array.push(entry);
    Ok(doc.to_string())
}

/// Writes new files only; on any failure removes the crate folder again.
fn write_all(root: &Path, crate_dir: &Path, files: &[templates::Rendered]) -> Result<()> {
    let result = (|| -> Result<()> {
        for file in files {
            let path = root.join(&file.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            let mut handle = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .with_context(|| format!("creating {} (refusing to overwrite)", path.display()))?;
            handle
                .write_all(&file.content)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(crate_dir);
    }
    result
}

/// Replaces a file through a temporary sibling and a rename, so it is never half written.
pub fn write_atomically(path: &Path, content: &[u8]) -> Result<()> {
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, content).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))
}

#[cfg(test)]
mod tests;
