//! Typed access to a policy's own keys in `[policy]`, with errors that name the key.

use std::collections::BTreeSet;

use crate::duration::{parse_duration, MAX_DURATION_S};
use crate::error::FieldError;

/// The keys of a `[policy]` table, read by a policy's builder. Keys the builder does not read
/// are reported as unknown by [`PolicyParams::finish`].
pub struct PolicyParams<'a> {
    table: &'a toml::Table,
    prefix: String,
    used: BTreeSet<String>,
}

impl<'a> PolicyParams<'a> {
    /// Wraps `table`, whose keys are reported as `{prefix}.{key}`; `ignored` keys count as read
    /// (the loader handles them).
    pub fn new(table: &'a toml::Table, prefix: &str, ignored: &[&str]) -> Self {
        Self { table, prefix: prefix.to_string(), used: ignored.iter().map(|k| k.to_string()).collect() }
    }

    /// The full dotted path of `key`.
    pub fn path(&self, key: &str) -> String {
        format!("{}.{key}", self.prefix)
    }

    fn get(&mut self, key: &str) -> Option<&'a toml::Value> {
        self.used.insert(key.to_string());
        self.table.get(key)
    }

    /// A non-negative duration, or `None` if the key is absent.
    pub fn duration(&mut self, key: &str) -> Result<Option<f64>, FieldError> {
        let Some(value) = self.get(key) else { return Ok(None) };
        duration_value(&self.path(key), value).map(Some)
    }

    /// The raw value of `key` (marked as read), for a policy with structured keys (a list of
    /// tables, say); report its errors at [`Self::path`] and below.
    pub fn value(&mut self, key: &str) -> Option<&'a toml::Value> {
        self.get(key)
    }

    /// One of `names`, returned as its index, or `None` if the key is absent.
    pub fn choice(&mut self, key: &str, names: &[&str]) -> Result<Option<usize>, FieldError> {
        let Some(value) = self.get(key) else { return Ok(None) };
        let found = value.as_str().and_then(|text| names.iter().position(|n| *n == text));
        found.map(Some).ok_or_else(|| {
            FieldError::new(self.path(key), format!("expected one of {}, got {value}", quoted(names)))
        })
    }

    /// A boolean, or `None` if the key is absent.
    pub fn boolean(&mut self, key: &str) -> Result<Option<bool>, FieldError> {
        let Some(value) = self.get(key) else { return Ok(None) };
        value
            .as_bool()
            .map(Some)
            .ok_or_else(|| FieldError::new(self.path(key), format!("expected true or false, got {value}")))
    }

    /// Fails on the first key no one read.
    pub fn finish(self, kind: &str) -> Result<(), FieldError> {
        match self.table.keys().find(|k| !self.used.contains(*k)) {
            None => Ok(()),
            Some(key) => {
                Err(FieldError::new(self.path(key), format!("unknown key for policy kind \"{kind}\"")))
            }
        }
    }
}

/// A non-negative duration (`"10m"` or seconds) read from `value`, with errors at `path`.
pub fn duration_value(path: &str, value: &toml::Value) -> Result<f64, FieldError> {
    let seconds = match value {
        toml::Value::String(text) => parse_duration(text),
        toml::Value::Integer(n) => Some(*n as f64),
        toml::Value::Float(x) => Some(*x),
        _ => None,
    };
    match seconds {
        Some(s) if (0.0..=MAX_DURATION_S).contains(&s) => Ok(s),
        _ => Err(FieldError::new(
            path,
            format!("expected a duration from 0 to 100 years (\"36500d\") like \"10m\", got {value}"),
        )),
    }
}

/// `"a", "b" or "c"`.
pub fn quoted(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}
