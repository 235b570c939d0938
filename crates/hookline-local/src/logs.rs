//! Where function output goes: every line prefixed with the function's name.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A destination for function log lines.
#[derive(Clone)]
pub enum LogSink {
    /// Standard error, as `[stripe-ingest] ...`.
    Stderr,
    /// Appended to a file.
    File(Arc<Mutex<std::fs::File>>, PathBuf),
    /// Kept in memory (tests read them back).
    Memory(Arc<Mutex<Vec<String>>>),
    /// Dropped.
    Discard,
    /// Shown to a tap (function name, line), then written to the inner sink: how the local
    /// console reads what a processor says about the messages it failed.
    Tapped(Tap, Box<LogSink>),
}

/// Sees every line of a sink: `(function, line)`. Must return at once.
pub type Tap = Arc<dyn Fn(&str, &str) + Send + Sync>;

impl LogSink {
    /// A sink appending to `path`.
    pub fn file(path: PathBuf) -> std::io::Result<LogSink> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        Ok(LogSink::File(Arc::new(Mutex::new(file)), path))
    }

    /// A sink kept in memory.
    pub fn memory() -> LogSink {
        LogSink::Memory(Arc::new(Mutex::new(Vec::new())))
    }

    /// This sink, with `tap` shown every line first.
    pub fn tapped(self, tap: Tap) -> LogSink {
        LogSink::Tapped(tap, Box::new(self))
    }

    /// The lines kept by a memory sink.
    pub fn lines(&self) -> Vec<String> {
        match self {
            LogSink::Memory(lines) => lines.lock().map(|l| l.clone()).unwrap_or_default(),
            LogSink::Tapped(_, inner) => inner.lines(),
            _ => Vec::new(),
        }
    }

    /// Writes one line from `function`.
    pub fn line(&self, function: &str, line: &str) {
        if let LogSink::Tapped(tap, inner) = self {
            tap(function, line);
            return inner.line(function, line);
        }
        let text = format!("[{function}] {line}");
        match self {
            LogSink::Stderr => eprintln!("{text}"),
            LogSink::File(file, _) => {
                if let Ok(mut file) = file.lock() {
                    let _ = writeln!(file, "{text}");
                }
            }
            LogSink::Memory(lines) => {
                if let Ok(mut lines) = lines.lock() {
                    lines.push(text);
                }
            }
            LogSink::Discard | LogSink::Tapped(..) => {}
        }
    }
}
