//! `[policy]` tables and policy presets: `policy = "hybrid-10m"` names a small TOML file with the
//! same keys as `[policy]` plus a one-line `description`.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use toml::Table;

use super::fields::{expected, join, one_of, unknown_message};
use super::{parse_toml, read_text, PRESETS};
use crate::error::{FieldError, ScenarioError};
use crate::policy::{
    find_kind, FirstContact, PolicyEntry, PolicyParams, PolicySpec, RoutingOptions, SelectRule, REGISTRY,
};

/// Where users put their own presets, relative to the current directory.
const LOCAL_DIR: &str = "policies";

/// Builds a policy from a `[policy]` table (`prefix = "policy"`) or a preset file (`prefix = ""`,
/// where a `description` key is also allowed).
pub(crate) fn policy_table(table: &Table, prefix: &str, is_preset: bool) -> Result<PolicySpec, FieldError> {
    build(table, prefix, is_preset).map_err(|mut e| {
        // Keys of a preset file sit at its top level: `.timeout` is `timeout`.
        if let Some(key) = e.key.strip_prefix('.') {
            e.key = key.to_string();
        }
        e
    })
}

fn build(table: &Table, prefix: &str, is_preset: bool) -> Result<PolicySpec, FieldError> {
    let path = |key: &str| join(prefix, key);
    let kinds: Vec<&str> = REGISTRY.iter().map(|entry| entry.kind).collect();
    let kind_what = format!("one of {}", one_of(&kinds));
    let kind_value = table
        .get("kind")
        .ok_or_else(|| FieldError::new(path("kind"), format!("missing: expected {kind_what}")))?;
    let kind = kind_value.as_str().ok_or_else(|| expected(&path("kind"), &kind_what, kind_value))?;
    let entry = find_kind(kind)
        .ok_or_else(|| FieldError::new(path("kind"), unknown_message("policy", kind, &kinds)))?;
    if is_preset {
        if let Some(value) = table.get("description") {
            // `convosim policies` prints the description with its whitespace folded into single
            // spaces; other control characters (escapes) are refused.
            let printable =
                value.as_str().is_some_and(|t| !t.chars().any(|c| c.is_control() && !c.is_whitespace()));
            if !printable {
                return Err(expected(&path("description"), "a one-line string", value));
            }
        }
    }
    construct(entry, table, prefix, is_preset)
        .map_err(|e| super::policy_hints::with_suggestion(e, entry, table, prefix))
}

/// The keys the loader reads itself (the builders never see them).
pub(super) fn loader_keys(is_preset: bool) -> &'static [&'static str] {
    if is_preset {
        &["kind", "description"]
    } else {
        &["kind"]
    }
}

/// The options every policy understands, then the kind's own keys, then no unknown key.
fn construct(
    entry: &PolicyEntry,
    table: &Table,
    prefix: &str,
    is_preset: bool,
) -> Result<PolicySpec, FieldError> {
    let mut params = PolicyParams::new(table, prefix, loader_keys(is_preset));
    let defaults = RoutingOptions::default();
    let options = RoutingOptions {
        select: params
            .choice("select", &SelectRule::NAMES)?
            .and_then(|i| SelectRule::ALL.get(i).copied())
            .unwrap_or(defaults.select),
        first_contact: params
            .choice("first_contact", &FirstContact::NAMES)?
            .and_then(|i| FirstContact::ALL.get(i).copied())
            .unwrap_or(defaults.first_contact),
        personal_first: params.boolean("personal_first")?.unwrap_or(defaults.personal_first),
    };
    let policy = (entry.build)(&mut params)?;
    params.finish(entry.kind)?;
    Ok(PolicySpec { kind: entry.kind, policy, options })
}

/// A preset's text and the file its errors name.
struct Preset {
    file: PathBuf,
    text: Cow<'static, str>,
}

/// Finds and reads a preset: a path (relative ones resolved against `base`) if `name_or_path`
/// contains a slash or ends with `.toml`; otherwise a name, looked up in `./policies/` first,
/// then among the built-in [`PRESETS`]. The error is the message alone: where the name was
/// given (a scenario's key, a command-line flag) is for the caller to say.
fn find_preset(name_or_path: &str, base: &Path) -> Result<Preset, String> {
    // A preset that cannot be read is reported where it was named, with the reason.
    let read = |path: &Path| read_text(path).map_err(|error| format!("the policy preset {error}"));
    if name_or_path.contains('/') || name_or_path.contains('\\') || name_or_path.ends_with(".toml") {
        let path = base.join(name_or_path);
        let text = read(&path)?;
        return Ok(Preset { file: path, text: Cow::Owned(text) });
    }
    let local = Path::new(LOCAL_DIR).join(format!("{name_or_path}.toml"));
    if !name_or_path.is_empty() && local.is_file() {
        let text = read(&local)?;
        return Ok(Preset { file: local, text: Cow::Owned(text) });
    }
    if !name_or_path.is_empty() && base.join(name_or_path).is_dir() {
        return Err(format!(
            "\"{}\" is a directory, not a policy preset; expected a preset name (see `convosim policies`) \
             or a path to a preset .toml file",
            name_or_path.escape_debug()
        ));
    }
    if let Some((name, text)) = PRESETS.iter().find(|(name, _)| *name == name_or_path) {
        return Ok(Preset { file: built_in_path(name), text: Cow::Borrowed(text) });
    }
    if let Some(text) = family_preset(name_or_path) {
        return Ok(Preset { file: built_in_path(name_or_path), text: Cow::Owned(text) });
    }
    let mut names: Vec<String> = PRESETS.iter().map(|(name, _)| name.to_string()).collect();
    for (name, _) in local_presets() {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let families: Vec<String> = families().map(|f| format!("{}-<duration>", f.family)).collect();
    Err(format!(
        "{} (or {} with any duration and its unit, e.g. hybrid-7m; or a path to a .toml preset file)",
        unknown_message("policy preset", name_or_path, &names),
        families.join(", ")
    ))
}

/// A family of presets: the built-in preset named for a duration (`hybrid-10m`) and the key
/// that holds it (`timeout`); `hybrid-<duration>` is that preset with the key changed.
pub struct PresetFamily {
    /// The name before the duration: `hybrid`.
    pub family: &'static str,
    /// The built-in preset it is made from: `hybrid-1m` (the first listed).
    pub preset: &'static str,
    /// The key that holds the duration: `timeout`.
    pub key: String,
    text: &'static str,
}

/// The families of the built-in presets named for a duration, one each, in [`PRESETS`] order.
pub fn families() -> impl Iterator<Item = PresetFamily> {
    let mut seen: Vec<&str> = Vec::new();
    PRESETS.iter().filter_map(move |(name, text)| {
        let (family, duration) = name.rsplit_once('-')?;
        let table: Table = text.parse().ok()?;
        let key = table.iter().find(|(_, value)| value.as_str() == Some(duration))?.0;
        if !is_duration_with_unit(duration) || seen.contains(&family) {
            return None;
        }
        seen.push(family);
        Some(PresetFamily { family, preset: name, key: key.clone(), text })
    })
}

/// `7m`, `90s`, `1.5h`: a number then its unit (`hybrid-10` is no family member: 10 what?).
fn is_duration_with_unit(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_digit())
        && text.ends_with(|c: char| c.is_ascii_alphabetic())
        && crate::duration::parse_duration(text).is_some()
}

/// A preset named for a duration stands for its family: `hybrid-7m` is the built-in
/// `hybrid-10m` with its `timeout` set to "7m", `sticky-window-2h` is `sticky-window-1d` with
/// `affinity_window = "2h"`. None for any other name.
fn family_preset(name: &str) -> Option<String> {
    let (family, duration) = name.rsplit_once('-')?;
    if !is_duration_with_unit(duration) {
        return None;
    }
    let PresetFamily { text, key, .. } = families().find(|f| f.family == family)?;
    let mut table: Table = text.parse().ok()?;
    let description = format!("{family}-<duration> with {key} = \"{duration}\"");
    table.insert(key, toml::Value::String(duration.to_string()));
    table.insert("description".into(), toml::Value::String(description));
    toml::to_string(&table).ok()
}

/// The keys a policy preset stands for (without its `description`), as a `[policy]` table,
/// so that `--set policy.timeout=7m` can change one key of a preset; relative paths are
/// resolved against the scenario file's directory. The error is the message alone.
pub(crate) fn preset_as_table(name_or_path: &str, scenario_file: &Path) -> Result<Table, String> {
    let preset = find_preset(name_or_path, scenario_file.parent().unwrap_or_else(|| Path::new("")))?;
    let mut table = parse_toml(&preset.text, &preset.file).map_err(|e| e.to_string())?;
    table.remove("description");
    Ok(table)
}

/// The path a built-in preset's errors name (its source in the crate).
fn built_in_path(name: &str) -> PathBuf {
    Path::new(LOCAL_DIR).join(format!("{name}.toml"))
}

/// The user's presets in `./policies/*.toml`, sorted by name.
fn local_presets() -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(LOCAL_DIR) else {
        return Vec::new();
    };
    let mut found: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml") && path.is_file())
        .filter_map(|path| Some((path.file_stem()?.to_str()?.to_string(), path)))
        .collect();
    found.sort();
    found
}

/// Parses a preset's text into a policy and its description.
pub(super) fn parse_preset(text: &str, file: &Path) -> Result<(PolicySpec, Option<String>), ScenarioError> {
    let table = parse_toml(text, file)?;
    let spec = policy_table(&table, "", true)
        .map_err(|error| ScenarioError::Field { file: file.to_path_buf(), error })?;
    let description = table
        .get("description")
        .and_then(|v| v.as_str())
        .map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "));
    Ok((spec, description))
}

/// The policy named by a scenario's `policy = "..."` string at `key` (`policy`, or
/// `channels[0].policy`); relative paths are resolved against the scenario file's directory.
pub(crate) fn preset_for_scenario(
    name_or_path: &str,
    scenario_file: &Path,
    key: &str,
) -> Result<PolicySpec, ScenarioError> {
    let base = scenario_file.parent().unwrap_or_else(|| Path::new(""));
    let preset = find_preset(name_or_path, base).map_err(|message| ScenarioError::Field {
        file: scenario_file.to_path_buf(),
        error: FieldError::new(key, message),
    })?;
    parse_preset(&preset.text, &preset.file).map(|(spec, _)| spec)
}

/// Loads a policy preset: a path to a `.toml` file (if `name_or_path` contains a slash or ends
/// with `.toml`; relative to the current directory), else a name looked up first in
/// `./policies/<name>.toml`, then among the built-in [`PRESETS`]. An unknown name is an error
/// that suggests the nearest preset name (the caller says where the name came from, e.g.
/// which command-line flag).
pub fn load_policy(name_or_path: &str) -> Result<PolicySpec, ScenarioError> {
    let preset = find_preset(name_or_path, Path::new("")).map_err(ScenarioError::Preset)?;
    parse_preset(&preset.text, &preset.file).map(|(spec, _)| spec)
}

/// `(name, label, description)` of every preset `policy = "name"` can use: the built-in ones
/// (overridden by a same-named file in `./policies/`), then the user's other files there, by
/// name. A file that does not load is listed with the label `invalid` and the error as its
/// description.
pub fn preset_summaries() -> Vec<(String, String, String)> {
    let local = local_presets();
    let summarize = |name: &str, text: &str, file: &Path| match parse_preset(text, file) {
        Ok((spec, description)) => (name.to_string(), spec.label(), description.unwrap_or_default()),
        Err(e) => (name.to_string(), "invalid".to_string(), e.to_string()),
    };
    let read = |name: &str, path: &Path| match read_text(path) {
        Ok(text) => summarize(name, &text, path),
        Err(e) => (name.to_string(), "invalid".to_string(), e.to_string()),
    };
    let mut out: Vec<(String, String, String)> = PRESETS
        .iter()
        .map(|(name, text)| match local.iter().find(|(local_name, _)| local_name == name) {
            Some((_, path)) => read(name, path),
            None => summarize(name, text, &built_in_path(name)),
        })
        .collect();
    for (name, path) in &local {
        if !PRESETS.iter().any(|(built_in, _)| built_in == name) {
            out.push(read(name, path));
        }
    }
    out
}
