//! Files to TOML tables: bounded reads of regular files only, parsing, and one-line syntax
//! errors. An integer too large for TOML is reported at its dotted key (found by scanning the
//! text up to the parser's position), since the parser itself names only a line and column.

use std::io::Read;
use std::path::Path;

use toml::Table;

use crate::error::{FieldError, ScenarioError};

/// Largest file the loader reads: scenario, sweep and preset files are a few KiB; a bound keeps
/// `/dev/zero`-like or runaway files from being read forever.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a scenario, sweep or preset file: a regular file of at most [`MAX_FILE_BYTES`], UTF-8.
/// Directories, devices, pipes and sockets are refused at once, before any read.
pub fn read_text(path: &Path) -> Result<String, ScenarioError> {
    let refuse = |reason: String| ScenarioError::Unreadable { file: path.to_path_buf(), reason };
    let read_error = |source| ScenarioError::Read { file: path.to_path_buf(), source };
    let meta = std::fs::metadata(path).map_err(read_error)?;
    if meta.is_dir() {
        return Err(refuse("it is a directory, not a file".into()));
    }
    if !meta.is_file() {
        return Err(refuse("not a regular file (a device, pipe or socket)".into()));
    }
    let too_large = || refuse(format!("larger than {} MiB, too large for a scenario", MAX_FILE_BYTES >> 20));
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    let file = std::fs::File::open(path).map_err(read_error)?;
    // The file may grow between the size check and the read: read one byte past the bound.
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(read_error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|e| {
        refuse(format!("not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()))
    })
}

/// Phase one: TOML text to a table; a syntax error is reported on one line, and an integer
/// out of TOML's range at its key.
pub(crate) fn parse_toml(text: &str, file: &Path) -> Result<Table, ScenarioError> {
    toml::from_str::<Table>(text).map_err(|e| {
        let message = one_line(&e, text);
        let out_of_range =
            e.message().contains("number too large") || e.message().contains("number too small");
        match e.span().filter(|_| out_of_range).and_then(|span| key_at(text, span.start)) {
            Some(key) => {
                let got: String = text[e.span().map_or(0, |s| s.start)..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-'))
                    .take(40)
                    .collect();
                let error = FieldError::new(
                    key,
                    format!(
                        "expected an integer from {} to {} (TOML's range; {}), got {got}",
                        i64::MIN,
                        i64::MAX,
                        message.split(':').next().unwrap_or_default()
                    ),
                );
                ScenarioError::Field { file: file.to_path_buf(), error }
            }
            None => ScenarioError::Syntax { file: file.to_path_buf(), message },
        }
    })
}

/// `line 3, column 7: invalid string; expected ...`.
fn one_line(error: &toml::de::Error, text: &str) -> String {
    let message: Vec<&str> = error.message().lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let message = message.join("; ");
    let Some(span) = error.span() else {
        return message;
    };
    let bytes = text.as_bytes();
    let before = &bytes[..span.start.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
    format!("line {line}, column {column}: {message}")
}

/// One level of nesting around a value: a key's inline table, or an array and the index of
/// the element being read.
enum Frame {
    Table(String),
    Array(String, usize),
}

/// The dotted key (`agents[1].count`, `conversation.exchanges.values[2]`) of the value that
/// starts at byte `offset`, for well-formed TOML up to that point.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let mut scan = Scan { header: String::new(), arrays: Vec::new(), frames: Vec::new(), key: String::new() };
    let bytes = text.as_bytes().get(..offset)?;
    let mut i = 0;
    let mut line_start = true;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' => {
                line_start = true;
                if scan.frames.is_empty() {
                    scan.key.clear();
                }
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => i = skip_to_line_end(bytes, i),
            b'"' | b'\'' => i = skip_string(bytes, i),
            b'[' if line_start && scan.frames.is_empty() => i = scan.header(text, i),
            b'=' => {
                scan.key = scan.pending_key(text, i);
                i += 1;
            }
            b'{' => {
                let key = scan.segment();
                scan.frames.push(Frame::Table(key));
                i += 1;
            }
            b'[' => {
                let key = scan.segment();
                scan.frames.push(Frame::Array(key, 0));
                i += 1;
            }
            b']' | b'}' => {
                scan.frames.pop();
                scan.key.clear();
                i += 1;
            }
            b',' => {
                if let Some(Frame::Array(_, index)) = scan.frames.last_mut() {
                    *index += 1;
                }
                scan.key.clear();
                i += 1;
            }
            _ => i += 1,
        }
        line_start = false;
    }
    Some(scan.path())
}

/// The state of [`key_at`]'s scan.
struct Scan {
    /// The current `[table]` or `[[array]]` header's path.
    header: String,
    /// How many times each `[[array]]` header has been seen.
    arrays: Vec<(String, usize)>,
    frames: Vec<Frame>,
    /// The key whose value is being read (the last `key =`).
    key: String,
}

impl Scan {
    /// Reads a `[table]` or `[[array]]` header starting at `i`; returns the index after it.
    fn header(&mut self, text: &str, i: usize) -> usize {
        let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
        let line = text[i..end].split('#').next().unwrap_or_default().trim();
        if let Some(name) = line.strip_prefix("[[").and_then(|l| l.strip_suffix("]]")) {
            let name = name.trim().to_string();
            let count = match self.arrays.iter_mut().find(|(n, _)| *n == name) {
                Some((_, count)) => {
                    *count += 1;
                    *count
                }
                None => {
                    self.arrays.push((name.clone(), 0));
                    0
                }
            };
            self.header = format!("{name}[{count}]");
        } else {
            self.header = line.trim_start_matches('[').trim_end_matches(']').trim().to_string();
        }
        self.key.clear();
        end
    }

    /// The key just before the `=` at `i`, back to the previous delimiter.
    fn pending_key(&self, text: &str, i: usize) -> String {
        let before = &text[..i];
        let start = before.rfind(['\n', '{', ',', '[']).map_or(0, |p| p + 1);
        before[start..].trim().trim_matches(['"', '\'']).to_string()
    }

    /// The segment a nested value adds to the path: the pending key (consumed), or nothing
    /// for an element of an array.
    fn segment(&mut self) -> String {
        std::mem::take(&mut self.key)
    }

    fn path(&self) -> String {
        fn push(path: &mut String, part: &str) {
            if !part.is_empty() {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(part);
            }
        }
        let mut path = self.header.clone();
        for frame in &self.frames {
            match frame {
                Frame::Table(key) => push(&mut path, key),
                Frame::Array(key, index) => {
                    push(&mut path, key);
                    path.push_str(&format!("[{index}]"));
                }
            }
        }
        push(&mut path, &self.key);
        path
    }
}

fn skip_to_line_end(bytes: &[u8], i: usize) -> usize {
    bytes[i..].iter().position(|b| *b == b'\n').map_or(bytes.len(), |n| i + n)
}

/// The index just after the string (basic, literal or multi-line) that starts at `i`.
fn skip_string(bytes: &[u8], i: usize) -> usize {
    let quote = bytes[i];
    let triple = bytes.get(i..i + 3).is_some_and(|s| s.iter().all(|b| *b == quote));
    let mut j = i + if triple { 3 } else { 1 };
    while j < bytes.len() {
        if bytes[j] == b'\\' && quote == b'"' {
            j += 2;
            continue;
        }
        let closes = if triple {
            bytes.get(j..j + 3).is_some_and(|s| s.iter().all(|b| *b == quote))
        } else {
            bytes[j] == quote || bytes[j] == b'\n'
        };
        if closes {
            return j + if triple { 3 } else { 1 };
        }
        j += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(text: &str) -> String {
        let offset = text.find("99999999999999999999").expect("the test text has the big number");
        key_at(text, offset).expect("a key")
    }

    #[test]
    fn keys_of_values_are_found_through_headers_inline_tables_and_arrays() {
        assert_eq!(key_of("seed = 99999999999999999999\n"), "seed");
        assert_eq!(
            key_of("[[agents]]\nname = \"a\"\n[[agents]]\ncount = 99999999999999999999\n"),
            "agents[1].count"
        );
        let inline =
            "[conversation] # c\nexchanges = { dist = \"empirical\", values = [1, 99999999999999999999] }\n";
        assert_eq!(key_of(inline), "conversation.exchanges.values[1]");
        let parts = "[conversation]\ngap = { dist = \"mixture\", parts = [\n  { weight = 1, dist = \"x\" },\n  { weight = 99999999999999999999 } ] }\n";
        assert_eq!(key_of(parts), "conversation.gap.parts[1].weight");
        assert_eq!(key_of("name = \"a = [b\"\nx = 99999999999999999999"), "x");
    }

    #[test]
    fn an_integer_too_large_is_a_keyed_error() {
        let text = "name = \"x\"\n[[agents]]\nname = \"a\"\ncount = 99999999999999999999\n";
        let err = parse_toml(text, Path::new("big.toml")).unwrap_err().to_string();
        assert!(err.starts_with("big.toml: agents[0].count: expected an integer from"), "{err}");
        assert!(err.contains("got 99999999999999999999") && !err.contains('\n'), "{err}");
    }

    #[test]
    fn devices_and_directories_are_refused_before_reading() {
        let err = read_text(Path::new("/dev/zero")).unwrap_err().to_string();
        assert_eq!(err, "/dev/zero: cannot read the file: not a regular file (a device, pipe or socket)");
        let err = read_text(Path::new("src")).unwrap_err().to_string();
        assert_eq!(err, "src: cannot read the file: it is a directory, not a file");
    }
}
