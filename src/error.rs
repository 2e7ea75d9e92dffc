//! Errors of the library, split by layer: scenario loading fails with [`ScenarioError`], which
//! always names the file and, where there is one, the TOML key at fault. Every message is one
//! line: control characters from the input (in a key, a value or a file name) are shown escaped.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// A problem with one key of a TOML document, before the file name is known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}", printable(key), printable(message))]
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

/// `text` with its control characters (line breaks, escapes) written as Rust escapes, so that
/// a message built from hostile input stays on one line and cannot drive the terminal.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() })
            .collect(),
    )
}

/// A path for a message, escaped like [`printable`].
fn shown(path: &Path) -> String {
    printable(&path.display().to_string()).into_owned()
}

/// Why a scenario, sweep or policy preset could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{}: cannot read the file: {source}", shown(file))]
    Read {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The path is not something to read as a scenario: a directory, a device, a file too
    /// large, or not UTF-8 text.
    #[error("{}: cannot read the file: {reason}", shown(file))]
    Unreadable {
        /// The file.
        file: PathBuf,
        /// Why, e.g. `it is a directory, not a file`.
        reason: String,
    },
    /// A sweep file was given where a scenario was expected.
    #[error(
        "{}: this is a sweep file (it has top-level `base` or `axes`): use `convosim sweep {}`",
        shown(file),
        shown(file)
    )]
    SweepFile {
        /// The file.
        file: PathBuf,
    },
    /// The file is not valid TOML.
    #[error("{}: not valid TOML: {}", shown(file), printable(message))]
    Syntax {
        /// The file.
        file: PathBuf,
        /// The parser's message, on one line, with line and column.
        message: String,
    },
    /// A policy preset named outside a file (e.g. on the command line) cannot be found or read.
    #[error("{}", printable(.0))]
    Preset(String),
    /// A key holds a value that is missing, of the wrong type or out of range.
    #[error("{}: {error}", shown(file))]
    Field {
        /// The file.
        file: PathBuf,
        /// The key and the message.
        error: FieldError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_from_hostile_input_stay_on_one_line() {
        let error = FieldError::new("agents[0].a\nb", "unknown key \u{1b}[31m");
        let file = PathBuf::from("two\nlines.toml");
        let text = ScenarioError::Field { file, error }.to_string();
        assert_eq!(text, r"two\nlines.toml: agents[0].a\nb: unknown key \u{1b}[31m");
    }
}
