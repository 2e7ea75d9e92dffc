//! "Did you mean" for a policy's own keys. The policy builders know their keys; the loader does
//! not, so it learns them: the vocabulary is the common options plus every key used in a built-in
//! preset, and a candidate counts only if the kind's builder actually reads it (probed by
//! putting a value of the wrong type there and seeing the builder fail at that key).

use toml::{Table, Value};

use super::fields::{join, suggest};
use super::policies::loader_keys;
use super::PRESETS;
use crate::error::FieldError;
use crate::policy::{PolicyEntry, PolicyParams};

/// Options every policy understands, read by the loader.
const COMMON: &[&str] = &["select", "first_contact", "personal_first"];

/// `error` from building `entry` out of `table`, with a suggestion when a key looks like a typo:
/// an unknown key close to a key the kind reads, or a missing key close to one that was written.
pub(super) fn with_suggestion(
    mut error: FieldError,
    entry: &PolicyEntry,
    table: &Table,
    prefix: &str,
) -> FieldError {
    let bare = bare_key(&error.key, prefix).to_string();
    if error.message.starts_with("unknown key") {
        let candidates: Vec<String> = vocabulary()
            .into_iter()
            .filter(|k| !table.contains_key(k) && reads_key(entry, table, &bare, k))
            .collect();
        let candidates: Vec<&str> = candidates.iter().map(String::as_str).collect();
        if let Some(close) = suggest(&bare, &candidates) {
            error.message.push_str(&format!("; did you mean \"{close}\"?"));
        }
    } else if error.message.starts_with("missing") {
        let written = table.keys().find(|k| {
            !COMMON.contains(&k.as_str())
                && !loader_keys(true).contains(&k.as_str())
                && suggest(k, &[bare.as_str()]).is_some()
        });
        if let Some(written) = written {
            return FieldError::new(
                join(prefix, written),
                format!("unknown key for policy kind \"{}\"; did you mean \"{bare}\"?", entry.kind),
            );
        }
    }
    error
}

/// `timeout` from `policy.timeout` (or `.timeout` in a preset file).
fn bare_key<'k>(key: &'k str, prefix: &str) -> &'k str {
    key.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('.')).unwrap_or(key)
}

/// The common options and every key of the built-in presets.
fn vocabulary() -> Vec<String> {
    let mut words: Vec<String> = COMMON.iter().map(|k| k.to_string()).collect();
    for (_, text) in PRESETS {
        let Ok(table) = toml::from_str::<Table>(text) else {
            continue;
        };
        for key in table.keys() {
            if !words.contains(key) && !loader_keys(true).contains(&key.as_str()) {
                words.push(key.clone());
            }
        }
    }
    words
}

/// Whether `entry`'s builder reads `candidate`, given the user's `table` without `unknown`.
fn reads_key(entry: &PolicyEntry, table: &Table, unknown: &str, candidate: &str) -> bool {
    if COMMON.contains(&candidate) {
        return true;
    }
    let mut probe = table.clone();
    probe.remove(unknown);
    probe.insert(candidate.to_string(), Value::Array(Vec::new()));
    let mut params = PolicyParams::new(&probe, "probe", &["kind", "description"]);
    match (entry.build)(&mut params) {
        Err(e) => e.key == format!("probe.{candidate}"),
        Ok(_) => false,
    }
}
