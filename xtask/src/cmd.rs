//! Commands that the deployment subcommands run, as data: printed exactly by `--dry-run`,
//! executed otherwise. A [`Plan`] is the list of steps a subcommand takes, in order.

use std::path::{Path, PathBuf};
use std::process::Command;
#[cfg(test)]
use std::process::Stdio;
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// An environment variable set for one command. `shown` is what `--dry-run` prints as its value
/// (e.g. `.tools/venv/bin:$PATH` for a PATH built from the real one).
#[derive(Debug, Clone)]
pub struct EnvVar {
    key: String,
    value: String,
    shown: String,
}

/// One external command: program, arguments, environment and working directory (relative to
/// the workspace root).
#[derive(Debug, Clone)]
pub struct Cmd {
    program: String,
    args: Vec<String>,
    env: Vec<EnvVar>,
    dir: Option<String>,
}

impl Cmd {
    /// `program` is a name found on PATH or a path relative to the workspace root.
    pub fn new(program: impl Into<String>) -> Self {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            dir: None,
        }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets a variable, printed as it is.
    pub fn env(self, key: &str, value: &str) -> Self {
        self.env_shown(key, value, value)
    }

    /// Sets a variable whose printed form differs from its value.
    pub fn env_shown(mut self, key: &str, value: &str, shown: &str) -> Self {
        self.env.push(EnvVar {
            key: key.to_owned(),
            value: value.to_owned(),
            shown: shown.to_owned(),
        });
        self
    }

    /// Runs in `dir`, relative to the workspace root.
    pub fn dir(mut self, dir: &str) -> Self {
        self.dir = Some(dir.to_owned());
        self
    }

    /// The command as a shell line: `cd cdk && AWS_REGION=eu-west-1 node_modules/.bin/cdk ...`.
    pub fn render(&self) -> String {
        let mut line = String::new();
        if let Some(dir) = &self.dir {
            line.push_str(&format!("cd {} && ", quote(dir)));
        }
        for var in &self.env {
            line.push_str(&format!("{}={} ", var.key, quote_env(&var.shown)));
        }
        line.push_str(&quote(&self.program));
        for arg in &self.args {
            line.push(' ');
            line.push_str(&quote(arg));
        }
        line
    }

    /// The command, ready to run from the workspace at `root`. A program path is relative to
    /// the command's directory, as in the shell line.
    pub fn command(&self, root: &Path) -> Command {
        let dir = match &self.dir {
            Some(dir) => root.join(dir),
            None => root.to_path_buf(),
        };
        let program = if self.program.contains('/') {
            dir.join(&self.program).into_os_string()
        } else {
            self.program.clone().into()
        };
        let mut command = Command::new(program);
        command.args(&self.args);
        command.current_dir(dir);
        for var in &self.env {
            command.env(&var.key, &var.value);
        }
        command
    }
}

/// Single-quotes what a shell would otherwise split or expand.
fn quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Like [`quote`], but keeps `$PATH`-style references expandable.
fn quote_env(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,$".contains(c))
    {
        text.to_owned()
    } else {
        quote(text)
    }
}

/// Runs commands; tests substitute a recorder.
pub trait Exec {
    /// Runs to completion with inherited stdio; fails on a non-zero exit.
    fn run(&mut self, cmd: &Cmd) -> Result<()>;
    /// Does in-process work of a plan ([`Step::Call`]).
    fn call(&mut self, action: &dyn Fn() -> Result<()>) -> Result<()> {
        action()
    }
}

/// Runs for real from the workspace root. With `stdout_to_stderr`, the children's standard
/// output goes to stderr, so that ours stays machine-readable (`deploy --json`).
pub struct RealExec {
    pub root: PathBuf,
    pub stdout_to_stderr: bool,
}

impl RealExec {
    pub fn new(root: &Path) -> Self {
        RealExec {
            root: root.to_path_buf(),
            stdout_to_stderr: false,
        }
    }
}

/// Runs for real but keeps the children's output, shown only when one fails (tests).
#[cfg(test)]
pub struct QuietExec {
    pub root: PathBuf,
}

#[cfg(test)]
impl Exec for QuietExec {
    fn run(&mut self, cmd: &Cmd) -> Result<()> {
        let output = cmd
            .command(&self.root)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("starting `{}`", cmd.render()))?;
        if !output.status.success() {
            bail!(
                "`{}` failed with {}:\n{}\n{}",
                cmd.render(),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }
}

impl RealExec {
    fn prepared(&self, cmd: &Cmd) -> Command {
        let mut command = cmd.command(&self.root);
        if self.stdout_to_stderr {
            command.stdout(std::io::stderr());
        }
        command
    }
}

impl Exec for RealExec {
    fn run(&mut self, cmd: &Cmd) -> Result<()> {
        let status = self
            .prepared(cmd)
            .status()
            .with_context(|| format!("starting `{}`", cmd.render()))?;
        if !status.success() {
            bail!("`{}` failed with {status}", cmd.render());
        }
        Ok(())
    }
}

/// A step of a plan, run by [`Plan::execute`].
pub enum Step {
    /// A command, announced by `label` when it runs (not in `--dry-run`).
    Run { cmd: Cmd, label: Option<String> },
    /// A remark: printed (as `# ...`) by `--dry-run` and when executing.
    Note(String),
    /// Work done in-process, shown to `--dry-run` as the commands it amounts to.
    Call {
        shown: Vec<String>,
        action: Box<dyn Fn() -> Result<()>>,
    },
}

/// The steps of a subcommand, in order.
#[derive(Default)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    pub fn run(&mut self, cmd: Cmd) {
        self.steps.push(Step::Run { cmd, label: None });
    }

    pub fn run_labelled(&mut self, label: String, cmd: Cmd) {
        self.steps.push(Step::Run {
            cmd,
            label: Some(label),
        });
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.steps.push(Step::Note(note.into()));
    }

    pub fn call(&mut self, shown: Vec<String>, action: impl Fn() -> Result<()> + 'static) {
        self.steps.push(Step::Call {
            shown,
            action: Box::new(action),
        });
    }

    /// What `--dry-run` prints: one line per command, `# ` before notes.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for step in &self.steps {
            match step {
                Step::Run { cmd, .. } => out.push_str(&format!("{}\n", cmd.render())),
                Step::Note(note) => out.push_str(&format!("# {note}\n")),
                Step::Call { shown, .. } => {
                    for line in shown {
                        out.push_str(&format!("{line}\n"));
                    }
                }
            }
        }
        out
    }

    /// Runs every step; progress goes to stderr.
    pub fn execute(&self, exec: &mut dyn Exec) -> Result<()> {
        for step in &self.steps {
            match step {
                Step::Run { cmd, label } => {
                    let started = Instant::now();
                    if let Some(label) = label {
                        eprintln!("{label}");
                    }
                    exec.run(cmd)?;
                    if label.is_some() {
                        eprintln!("      done in {:.1} s", started.elapsed().as_secs_f64());
                    }
                }
                Step::Note(note) => eprintln!("{note}"),
                Step::Call { action, .. } => exec.call(action.as_ref())?,
            }
        }
        Ok(())
    }
}

/// Records what would have run (tests).
#[cfg(test)]
#[derive(Default)]
pub struct Recorder {
    pub ran: Vec<String>,
}

#[cfg(test)]
impl Exec for Recorder {
    fn run(&mut self, cmd: &Cmd) -> Result<()> {
        self.ran.push(cmd.render());
        Ok(())
    }

    /// In-process work (installing tools, checking zips) is not done by tests.
    fn call(&mut self, _action: &dyn Fn() -> Result<()>) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_shell_line_with_directory_environment_and_quoting() {
        let cmd = Cmd::new("node_modules/.bin/cdk")
            .dir("cdk")
            .env("AWS_REGION", "eu-west-1")
            .env_shown(
                "PATH",
                "/abs/.tools/venv/bin:/usr/bin",
                ".tools/venv/bin:$PATH",
            )
            .args(["deploy", "-c", "stage=pr-1", "it's here", ""]);
        assert_eq!(
            cmd.render(),
            "cd cdk && AWS_REGION=eu-west-1 PATH=.tools/venv/bin:$PATH node_modules/.bin/cdk deploy -c stage=pr-1 'it'\\''s here' ''"
        );
    }

    #[test]
    fn a_plan_renders_notes_commands_and_calls_in_order() {
        let mut plan = Plan::default();
        plan.note("first");
        plan.run(Cmd::new("true"));
        plan.call(vec!["shown".to_owned()], || Ok(()));
        assert_eq!(plan.render(), "# first\ntrue\nshown\n");
        let mut recorder = Recorder::default();
        plan.execute(&mut recorder).unwrap();
        assert_eq!(recorder.ran, ["true"]);
    }
}
