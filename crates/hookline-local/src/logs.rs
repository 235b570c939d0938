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
}

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

    /// The lines kept by a memory sink.
    pub fn lines(&self) -> Vec<String> {
        match self {
            LogSink::Memory(lines) => lines.lock().map(|l| l.clone()).unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// Writes one line from `function`.
    pub fn line(&self, function: &str, line: &str) {
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
            LogSink::Discard => {}
        }
    }
}
