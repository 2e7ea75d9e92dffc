//! Reading one TOML table with its dotted path at hand: typed getters whose errors name the key,
//! unknown-key checks with "did you mean" suggestions, and the rendering of offending values.

pub(crate) use crate::suggest::suggest;
use toml::{Table, Value};

use crate::duration::parse_duration;
use crate::error::FieldError;

/// Whether zero is allowed for a number or a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sign {
    /// Strictly greater than zero.
    Positive,
    /// Zero or more.
    NonNegative,
}

impl Sign {
    fn word(self) -> &'static str {
        match self {
            Sign::Positive => "positive",
            Sign::NonNegative => "non-negative",
        }
    }

    fn admits(self, x: f64) -> bool {
        x.is_finite()
            && match self {
                Sign::Positive => x > 0.0,
                Sign::NonNegative => x >= 0.0,
            }
    }
}

/// One table of the document and the dotted path it lives at (`""` for the top level).
pub(crate) struct Section<'a> {
    table: &'a Table,
    prefix: String,
}

impl<'a> Section<'a> {
    /// Wraps `table` after checking that each of its keys is one of `known`.
    pub fn new(table: &'a Table, prefix: &str, known: &[&str]) -> Result<Self, FieldError> {
        let section = Self { table, prefix: prefix.to_string() };
        if let Some(key) = table.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(FieldError::new(section.path(key), unknown_message("key", key, known)));
        }
        Ok(section)
    }

    /// The full dotted path of `key`.
    pub fn path(&self, key: &str) -> String {
        join(&self.prefix, key)
    }

    /// The raw value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.table.get(key)
    }

    /// The error for a required key that is absent.
    pub fn missing(&self, key: &str, what: &str) -> FieldError {
        FieldError::new(self.path(key), format!("missing: expected {what}"))
    }

    /// A string, if present.
    pub fn string(&self, key: &str) -> Result<Option<&'a str>, FieldError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        value.as_str().map(Some).ok_or_else(|| expected(&self.path(key), "a string", value))
    }

    /// A required, non-empty string.
    pub fn req_string(&self, key: &str) -> Result<&'a str, FieldError> {
        let text = self.string(key)?.ok_or_else(|| self.missing(key, "a string"))?;
        if text.trim().is_empty() {
            return Err(expected(&self.path(key), "a non-empty string", &Value::from(text)));
        }
        Ok(text)
    }

    /// A required name that is printed later (in tables, CSV, JSON): non-empty, at most
    /// [`MAX_NAME_CHARS`] characters, no control characters. Control characters are refused
    /// rather than escaped where printed: a name never needs one, and refusing them here keeps
    /// every printer (terminal, CSV, file names) safe without each having to escape.
    pub fn req_name(&self, key: &str) -> Result<&'a str, FieldError> {
        let text = self.req_string(key)?;
        check_name(text).map_err(|what| expected(&self.path(key), &what, &Value::from(text)))?;
        Ok(text)
    }

    /// A channel's or a pool's name ([`Self::req_name`]) that the command line can address:
    /// `--set` keys and sweep axes (`agents.NAME.count`), `--assert`/`--target` conditions
    /// (`NAME.METRIC<=VALUE`) and `--pool` name it as it is, unquoted, so it holds only
    /// letters, digits, `_` and `-`. `used_in` says where, for the message.
    pub fn req_key_name(&self, key: &str, used_in: &str) -> Result<&'a str, FieldError> {
        let text = self.req_name(key)?;
        if text.is_empty() || !text.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
            let message = format!(
                "\"{}\" cannot be used in {used_in}; use letters, digits, '_' or '-'",
                text.escape_debug()
            );
            return Err(FieldError::new(self.path(key), message));
        }
        Ok(text)
    }

    /// A boolean, if present.
    pub fn boolean(&self, key: &str) -> Result<Option<bool>, FieldError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        value.as_bool().map(Some).ok_or_else(|| expected(&self.path(key), "true or false", value))
    }

    /// A duration (`"4m"` or a number of seconds), if present.
    pub fn duration(&self, key: &str, sign: Sign, example: &str) -> Result<Option<f64>, FieldError> {
        self.get(key).map(|v| as_duration(v, &self.path(key), sign, example)).transpose()
    }

    /// A required duration.
    pub fn req_duration(&self, key: &str, sign: Sign, example: &str) -> Result<f64, FieldError> {
        self.duration(key, sign, example)?.ok_or_else(|| self.missing(key, &duration_what(sign, example)))
    }

    /// A number (integer or float) described by `what` (e.g. "a positive number"), if present.
    pub fn number(&self, key: &str, sign: Sign, what: &str) -> Result<Option<f64>, FieldError> {
        self.get(key).map(|v| as_number(v, &self.path(key), sign, what)).transpose()
    }

    /// A required number.
    pub fn req_number(&self, key: &str, sign: Sign, what: &str) -> Result<f64, FieldError> {
        self.number(key, sign, what)?.ok_or_else(|| self.missing(key, what))
    }

    /// An integer in `[min, max]`, if present.
    pub fn integer(&self, key: &str, min: i64, max: i64) -> Result<Option<i64>, FieldError> {
        self.get(key).map(|v| as_integer(v, &self.path(key), min, max)).transpose()
    }

    /// A required integer in `[min, max]`.
    pub fn req_integer(&self, key: &str, min: i64, max: i64) -> Result<i64, FieldError> {
        self.integer(key, min, max)?.ok_or_else(|| self.missing(key, &integer_what(min, max)))
    }

    /// An array, if present.
    pub fn array(&self, key: &str, what: &str) -> Result<Option<&'a Vec<Value>>, FieldError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        value.as_array().map(Some).ok_or_else(|| expected(&self.path(key), what, value))
    }

    /// A sub-table, if present.
    pub fn table(&self, key: &str, what: &str) -> Result<Option<&'a Table>, FieldError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        value.as_table().map(Some).ok_or_else(|| expected(&self.path(key), what, value))
    }
}

/// Longest name accepted (names label table rows and result files).
pub const MAX_NAME_CHARS: usize = 200;

/// Whether `text` is a printable name; if not, what a name must be.
pub fn check_name(text: &str) -> Result<(), String> {
    if text.chars().any(char::is_control) {
        return Err("a name without control characters (tabs, line breaks, escapes)".into());
    }
    if text.chars().count() > MAX_NAME_CHARS {
        return Err(format!("a name of at most {MAX_NAME_CHARS} characters"));
    }
    Ok(())
}

/// `prefix.key`, or `key` at the top level.
pub(crate) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// `path[index]`.
pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// `expected {what}, got {value}` at `path`.
pub(crate) fn expected(path: &str, what: &str, value: &Value) -> FieldError {
    FieldError::new(path, format!("expected {what}, got {}", render(value)))
}

/// "a positive duration like \"4m\"".
pub(crate) fn duration_what(sign: Sign, example: &str) -> String {
    format!("a {} duration like \"{example}\"", sign.word())
}

fn integer_what(min: i64, max: i64) -> String {
    if max == i64::MAX {
        format!("an integer >= {min}")
    } else {
        format!("an integer from {min} to {max}")
    }
}

pub(crate) use crate::duration::MAX_DURATION_S;
/// Shortest positive duration (one microsecond): below it, rates like `1/mean` stop meaning
/// anything.
pub(crate) const MIN_POSITIVE_DURATION_S: f64 = 1e-6;

/// Seconds from `"4m"`-style strings or plain numbers of seconds, at most [`MAX_DURATION_S`]
/// (and, if positive, at least [`MIN_POSITIVE_DURATION_S`]).
pub(crate) fn as_duration(value: &Value, path: &str, sign: Sign, example: &str) -> Result<f64, FieldError> {
    let seconds = match value {
        Value::String(text) => parse_duration(text),
        Value::Integer(n) => Some(*n as f64),
        Value::Float(x) => Some(*x),
        _ => None,
    };
    match seconds {
        Some(s) if sign.admits(s) && s > MAX_DURATION_S => {
            Err(expected(path, "a duration of at most 100 years (\"36500d\")", value))
        }
        Some(s) if sign == Sign::Positive && s > 0.0 && s < MIN_POSITIVE_DURATION_S => {
            Err(expected(path, "a duration of at least one microsecond (\"0.000001s\")", value))
        }
        Some(s) if sign.admits(s) => Ok(s),
        _ => Err(expected(path, &duration_what(sign, example), value)),
    }
}

/// A finite number (TOML integer or float) obeying `sign`; `what` describes it in errors.
pub(crate) fn as_number(value: &Value, path: &str, sign: Sign, what: &str) -> Result<f64, FieldError> {
    let x = match value {
        Value::Integer(n) => Some(*n as f64),
        Value::Float(x) => Some(*x),
        _ => None,
    };
    match x {
        Some(x) if sign.admits(x) => Ok(x),
        _ => Err(expected(path, what, value)),
    }
}

/// An integer in `[min, max]`; a float with no fraction (`3.0`) is accepted.
pub(crate) fn as_integer(value: &Value, path: &str, min: i64, max: i64) -> Result<i64, FieldError> {
    let n = match value {
        Value::Integer(n) => Some(*n),
        Value::Float(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Some(*x as i64),
        _ => None,
    };
    match n {
        Some(n) if n >= min && n <= max => Ok(n),
        _ => Err(expected(path, &integer_what(min, max), value)),
    }
}

/// A value as TOML writes it (strings quoted), shortened if long.
pub(crate) fn render(value: &Value) -> String {
    const MAX: usize = 80;
    let text = render_full(value);
    if text.chars().count() <= MAX {
        text
    } else {
        let short: String = text.chars().take(MAX - 3).collect();
        format!("{short}...")
    }
}

fn render_full(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{}\"", s.escape_debug()),
        Value::Integer(n) => n.to_string(),
        Value::Float(x) if x.is_nan() => "nan".to_string(),
        Value::Float(x) if x.is_infinite() => if *x > 0.0 { "inf" } else { "-inf" }.to_string(),
        Value::Float(x) if x.fract() == 0.0 && x.abs() < 1e16 => format!("{x:.1}"),
        // 1e200 rather than its 201 digits.
        Value::Float(x) if x.abs() >= 1e16 || x.abs() < 1e-4 => format!("{x:e}"),
        Value::Float(x) => x.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Datetime(d) => d.to_string(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(render_full).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Table(table) => {
            if table.is_empty() {
                return "{}".to_string();
            }
            let items: Vec<String> = table.iter().map(|(k, v)| format!("{k} = {}", render_full(v))).collect();
            format!("{{ {} }}", items.join(", "))
        }
    }
}

/// `"a", "b" or "c"`.
pub(crate) fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// `unknown {what}; did you mean "x"? expected one of ...` (the question only if one is close).
pub(crate) fn unknown_message(what: &str, got: &str, known: &[&str]) -> String {
    let mut message = if what == "key" {
        "unknown key".to_string()
    } else {
        format!("unknown {what} \"{}\"", got.escape_debug())
    };
    if let Some(close) = suggest(got, known) {
        message.push_str(&format!("; did you mean \"{close}\"?"));
    } else {
        message.push(';');
    }
    message.push_str(&format!(" expected one of {}", one_of(known)));
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suggest::edit_distance;

    #[test]
    fn suggestions_catch_typos_and_prefixes() {
        assert_eq!(edit_distance("stiky", "sticky"), 1);
        assert_eq!(edit_distance("hybird", "hybrid"), 1);
        assert_eq!(suggest("stiky", &["next_available", "sticky", "hybrid"]), Some("sticky"));
        assert_eq!(suggest("expo", &["exponential", "fixed"]), Some("exponential"));
        assert_eq!(suggest("zzz", &["exponential", "fixed"]), None);
    }

    #[test]
    fn values_render_as_toml() {
        assert_eq!(render(&Value::from("-3m")), "\"-3m\"");
        assert_eq!(render(&Value::from(-5)), "-5");
        assert_eq!(render(&Value::from(-5.0)), "-5.0");
        assert_eq!(render(&Value::from(0.25)), "0.25");
        assert_eq!(render(&Value::Array(vec![Value::from(1), Value::from("a")])), "[1, \"a\"]");
    }
}
