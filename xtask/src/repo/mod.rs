//! Commands that work on the repository itself: providers and their templates (`new`,
//! `generate`, `list`, `templates`), and its checks (`test`, `fuzz`, `bench`).

pub mod bench;
pub mod fuzz;
pub mod generate;
pub mod list;
pub mod list_templates;
pub mod new;
pub mod templates;
pub mod test;

#[cfg(test)]
mod render_all_tests;
