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
mod tests {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use super::create;

    const MANIFEST: &str = "# my comment stays\n[project]\nname = \"demo\"   # aligned comment\n\n[[providers]]\nname = \"stripe\"\ntemplate = \"stripe\"\n";

    /// A throwaway workspace with the real templates and a small manifest.
    fn workspace(manifest: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(
            &crate::project::root().join("templates"),
            &dir.path().join("templates"),
        );
        std::fs::write(dir.path().join("hookline.toml"), manifest).unwrap();
        dir
    }

    fn copy_tree(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            let target = to.join(path.file_name().unwrap());
            if path.is_dir() {
                copy_tree(&path, &target);
            } else {
                std::fs::copy(&path, &target).unwrap();
            }
        }
    }

    /// Every file under `root` with its content, to prove a failed command changed nothing.
    fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    out.insert(
                        path.strip_prefix(root).unwrap().to_path_buf(),
                        std::fs::read(&path).unwrap(),
                    );
                }
            }
        }
        out
    }

    fn fails_cleanly(
        manifest: &str,
        name: &str,
        template: &str,
        route: Option<&str>,
        vars: &[(&str, &str)],
        expected: &str,
    ) {
        let ws = workspace(manifest);
        let before = snapshot(ws.path());
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let err = create(ws.path(), name, template, route, &vars).expect_err("must fail");
        let message = format!("{err:#}");
        assert!(
            message.contains(expected),
            "expected `{expected}` in: {message}"
        );
        assert_eq!(
            snapshot(ws.path()),
            before,
            "a failed `new` changed the tree"
        );
    }

    #[test]
    fn creates_the_crate_and_registers_it_keeping_comments() {
        let ws = workspace(MANIFEST);
        let created = create(
            ws.path(),
            "billing",
            "github",
            Some("/hooks/billing"),
            &BTreeMap::new(),
        )
        .unwrap();
        assert!(created.contains(&PathBuf::from("functions/billing/src/lib.rs")));
        assert!(created.contains(&PathBuf::from("functions/billing/fixtures/push.json")));
        let cargo =
            std::fs::read_to_string(ws.path().join("functions/billing/Cargo.toml")).unwrap();
        assert!(
            cargo.contains("name = \"billing-ingest\"")
                && cargo.contains("name = \"billing-webhooks\"")
        );
        let main = std::fs::read_to_string(ws.path().join("functions/billing/src/bin/process.rs"))
            .unwrap();
        assert!(
            main.starts_with("// @generated by `cargo xtask new`"),
            "{main}"
        );
        assert!(main.contains("billing_webhooks::handle"));
        let manifest = std::fs::read_to_string(ws.path().join("hookline.toml")).unwrap();
        assert!(
            manifest.starts_with(MANIFEST),
            "the user's text must be kept as is:\n{manifest}"
        );
        assert!(manifest.ends_with("[[providers]]\nname = \"billing\"\ntemplate = \"github\"\nroute = \"/hooks/billing\"\n"), "{manifest}");
        let parsed = hookline_manifest::parse(&manifest, "hookline.toml").unwrap();
        assert_eq!(parsed.provider("billing").unwrap().route, "/hooks/billing");
    }

    #[test]
    fn a_bad_name_is_refused() {
        for bad in [
            "Stripe",
            "1password",
            "my_provider",
            "a--b",
            "trailing-",
            "",
        ] {
            fails_cleanly(
                MANIFEST,
                bad,
                "github",
                None,
                &[],
                "is not a valid provider name",
            );
        }
    }

    #[test]
    fn an_unknown_template_is_refused_with_the_list() {
        fails_cleanly(
            MANIFEST,
            "billing",
            "paypal",
            None,
            &[],
            "unknown template `paypal`: the templates are discord, generic-hmac, github, hubspot, linear, mailgun, paddle, sendgrid, shopify, slack, square, standard-webhooks, stripe, twilio, twitch, zoom",
        );
        fails_cleanly(
            MANIFEST,
            "billing",
            "_common",
            None,
            &[],
            "unknown template `_common`",
        );
    }

    #[test]
    fn a_taken_name_or_folder_is_refused() {
        fails_cleanly(
            MANIFEST,
            "stripe",
            "stripe",
            None,
            &[],
            "a provider named `stripe` already exists",
        );
        let ws = workspace(MANIFEST);
        std::fs::create_dir_all(ws.path().join("functions/billing")).unwrap();
        let before = snapshot(ws.path());
        let err = create(ws.path(), "billing", "github", None, &BTreeMap::new()).unwrap_err();
        assert!(
            err.to_string().contains("functions/billing already exists"),
            "{err}"
        );
        assert_eq!(snapshot(ws.path()), before);
    }

    #[test]
    fn a_taken_or_invalid_route_is_refused() {
        fails_cleanly(
            MANIFEST,
            "billing",
            "github",
            Some("/webhooks/stripe"),
            &[],
            "already the route of `stripe`",
        );
        fails_cleanly(
            MANIFEST,
            "billing",
            "github",
            Some("no-slash"),
            &[],
            "is not a route",
        );
    }

    #[test]
    fn a_broken_manifest_is_reported_and_left_alone() {
        let typo = format!("{MANIFEST}[providers.queue]\nbatchsize = 5\n");
        fails_cleanly(
            &typo,
            "billing",
            "github",
            None,
            &[],
            "hookline.toml:9: unknown field `batchsize`",
        );
        let out_of_range =
            format!("{MANIFEST}[providers.queue]\nkind = \"fifo\"\nbatch_size = 20\n");
        fails_cleanly(
            &out_of_range,
            "billing",
            "github",
            None,
            &[],
            "hookline.toml:10: providers.stripe.queue.batch_size: 20 is out of range: allowed 1–10",
        );
    }

    #[test]
    fn an_unknown_variable_is_refused() {
        fails_cleanly(
            MANIFEST,
            "billing",
            "github",
            None,
            &[("colour", "blue")],
            "template `github` has no variable `colour`",
        );
    }

    #[test]
    fn variables_are_recorded_in_the_manifest() {
        let ws = workspace(MANIFEST);
        let vars = BTreeMap::from([("event_type_field".to_owned(), "kind".to_owned())]);
        create(ws.path(), "vendor", "generic-hmac", None, &vars).unwrap();
        let manifest = std::fs::read_to_string(ws.path().join("hookline.toml")).unwrap();
        assert!(
            manifest.contains("template = \"generic-hmac\"") && !manifest.contains("signing"),
            "{manifest}"
        );
        assert!(
            manifest.contains("vars = { event_type_field = \"kind\" }"),
            "{manifest}"
        );
        let lib = std::fs::read_to_string(ws.path().join("functions/vendor/src/lib.rs")).unwrap();
        assert!(
            lib.contains("\"kind\""),
            "the variable reaches the template"
        );
    }
}
