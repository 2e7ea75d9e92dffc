//! Errors of the library, split by layer: scenario loading fails with [`ScenarioError`], which
//! always names the file and, where there is one, the TOML key at fault; its message is one
//! line.

use std::path::PathBuf;

/// A problem with one key of a TOML document, before the file name is known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct FieldError {
    /// Dotted path of the key, e.g. `conversation.handle_time.mean` or `agents[0].count`.
    pub key: String,
    /// What is wrong and what is expected, e.g. `expected a positive duration like "4m", got "-3m"`.
    pub message: String,
}

impl FieldError {
    /// An error at `key` with `message`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self { key: key.into(), message: message.into() }
    }
}

/// Why a scenario, sweep or policy preset could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{}: cannot read the file: {source}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The path is not something to read as a scenario: a directory, a device, a file too
    /// large, or not UTF-8 text.
    #[error("{}: cannot read the file: {reason}", file.display())]
    Unreadable {
        /// The file.
        file: PathBuf,
        /// Why, e.g. `it is a directory, not a file`.
        reason: String,
    },
    /// A sweep file was given where a scenario was expected.
    #[error("{}: this is a sweep file (it has top-level `base` or `axes`): use `convosim sweep {}`", file.display(), file.display())]
    SweepFile {
        /// The file.
        file: PathBuf,
    },
    /// The file is not valid TOML.
    #[error("{}: not valid TOML: {message}", file.display())]
    Syntax {
        /// The file.
        file: PathBuf,
        /// The parser's message, on one line, with line and column.
        message: String,
    },
    /// A key holds a value that is missing, of the wrong type or out of range.
    #[error("{}: {error}", file.display())]
    Field {
        /// The file.
        file: PathBuf,
        /// The key and the message.
        error: FieldError,
    },
}
