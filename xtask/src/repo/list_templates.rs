//! `cargo xtask templates`: the templates with their descriptions and variables.

use anyhow::Result;

use crate::project;
use crate::repo::templates;

pub fn run() -> Result<()> {
    let root = project::root();
    for template in templates::list(&root)? {
        println!("{:<18} {}", template.name, template.spec.description);
        println!("{:<18} scheme: {}", "", template.spec.scheme);
        for (name, variable) in &template.spec.variables {
            println!(
                "{:<18} --var {name}=… (default `{}`): {}",
                "", variable.default, variable.description
            );
        }
    }
    Ok(())
}
