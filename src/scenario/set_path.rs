//! Dotted paths into a scenario's TOML table: the one way both sweep axes and `run --set`
//! change a scenario before it is validated, so `agents.team.count` means the same in both.

use std::path::Path;
use std::str::FromStr;

use toml::{Table, Value};

use super::load::{parse_toml, preset_as_table};
use super::{scenario_from_table, Scenario};
use crate::error::ScenarioError;

/// One `--set KEY=VALUE`: a dotted path and the TOML value to put there.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// Dotted path, e.g. `policy.timeout` or `agents.team.count`.
    pub path: String,
    /// The value, read as a TOML value (a number, boolean, quoted string, list or inline
    /// table), or else taken as a bare string, so `7m` and `hybrid-10m` need no quotes.
    pub value: Value,
}

impl FromStr for Setting {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("expected KEY=VALUE with a dotted key, e.g. policy.timeout=7m, got \"{text}\"");
        let (path, value) = text.split_once('=').ok_or_else(bad)?;
        let path = path.trim();
        if path.split('.').any(|segment| segment.is_empty() || segment.contains(char::is_whitespace)) {
            return Err(bad());
        }
        Ok(Setting { path: path.to_string(), value: setting_value(value.trim()) })
    }
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.value {
            Value::String(s) => write!(f, "{}={s}", self.path),
            other => write!(f, "{}={other}", self.path),
        }
    }
}

/// `14` → integer, `0.5` → float, `true` → boolean, `"x"` → string, `7m` → the string "7m".
fn setting_value(text: &str) -> Value {
    let parsed = format!("value = {text}").parse::<Table>().ok();
    match parsed {
        // Exactly one key: text with a newline cannot sneak in other keys.
        Some(mut table) if table.len() == 1 => table.remove("value").unwrap_or(Value::String(text.into())),
        _ => Value::String(text.to_string()),
    }
}

/// Why `--set` could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum SettingError {
    /// The path does not exist in the scenario.
    #[error("--set {}: {message}", crate::error::printable(path))]
    Path {
        /// The dotted path given.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The scenario with the settings applied is invalid.
    #[error("{error} (with --set {})", crate::error::printable(settings))]
    Invalid {
        /// The loader's error, naming the file and the key.
        error: Box<ScenarioError>,
        /// Every setting applied, comma-separated.
        settings: String,
    },
    /// The file cannot be read or parsed.
    #[error(transparent)]
    Load(#[from] ScenarioError),
}

/// Reads the scenario file at `path`, applies `settings` in order, and validates the result.
pub fn load_scenario_with(path: &Path, settings: &[Setting]) -> Result<Scenario, SettingError> {
    let text = super::read_text(path)?;
    let mut table = parse_toml(&text, path)?;
    for setting in settings {
        set_path(&mut table, &setting.path, setting.value.clone(), path)
            .map_err(|message| SettingError::Path { path: setting.path.clone(), message })?;
    }
    scenario_from_table(&table, path).map_err(|error| SettingError::Invalid {
        error: Box::new(error),
        settings: settings.iter().map(Setting::to_string).collect::<Vec<_>>().join(", "),
    })
}

/// Sets `path` in `table`, the TOML of the scenario `file`. Array-of-tables segments (like
/// `agents`) are addressed by the element's `name`, or by index. The parent of the last segment
/// must exist; a policy given as a preset name (`policy = "hybrid-10m"`) becomes the table the
/// preset stands for, so `policy.timeout` changes one of its keys.
pub fn set_path(table: &mut Table, path: &str, value: Value, file: &Path) -> Result<(), String> {
    let segments: Vec<&str> = path.split('.').collect();
    let (last, parents) = segments.split_last().ok_or("empty axis path")?;
    let mut current = table;
    let mut walked = String::new();
    let mut i = 0;
    while i < parents.len() {
        let segment = parents[i];
        walked = if walked.is_empty() { segment.to_string() } else { format!("{walked}.{segment}") };
        let next = current.get_mut(segment).ok_or_else(|| format!("the scenario has no `{walked}`"))?;
        if let (Value::String(preset), "policy") = (&*next, segment) {
            let table =
                preset_as_table(preset, file).map_err(|e| format!("`{walked}` = \"{preset}\": {e}"))?;
            *next = Value::Table(table);
        }
        current = match next {
            Value::Table(t) => t,
            Value::Array(items) => {
                let selector = parents.get(i + 1).copied().unwrap_or(last);
                if i + 1 >= parents.len() {
                    return Err(format!(
                        "`{walked}` is a list: name an element, e.g. `{walked}.<name>.{last}`"
                    ));
                }
                i += 1;
                walked = format!("{walked}.{selector}");
                let position = items
                    .iter()
                    .position(|item| item.get("name").and_then(Value::as_str) == Some(selector))
                    .or_else(|| selector.parse::<usize>().ok().filter(|n| *n < items.len()));
                match position.map(|p| &mut items[p]) {
                    Some(Value::Table(t)) => t,
                    _ => {
                        return Err(format!(
                            "the scenario has no `{walked}` (no element named \"{selector}\")"
                        ))
                    }
                }
            }
            other => return Err(format!("`{walked}` is {other}, not a table")),
        };
        i += 1;
    }
    current.insert(last.to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        text.parse().unwrap()
    }

    fn set(table: &mut Table, path: &str, value: Value) -> Result<(), String> {
        set_path(table, path, value, Path::new("scenario.toml"))
    }

    #[test]
    fn set_path_addresses_pools_by_name_and_index() {
        let mut t = table("[[agents]]\nname = \"a\"\ncount = 1\n[[agents]]\nname = \"b\"\ncount = 2\n[policy]\nkind = \"hybrid\"\n");
        set(&mut t, "agents.b.count", Value::Integer(9)).unwrap();
        set(&mut t, "agents.0.count", Value::Integer(7)).unwrap();
        set(&mut t, "policy.timeout", Value::String("5m".into())).unwrap();
        set(&mut t, "policy", Value::String("sticky".into())).unwrap();
        let agents = t["agents"].as_array().unwrap();
        assert_eq!(agents[0]["count"].as_integer(), Some(7));
        assert_eq!(agents[1]["count"].as_integer(), Some(9));
        assert_eq!(t["policy"].as_str(), Some("sticky"));
        assert!(set(&mut t, "agents.c.count", Value::Integer(1)).unwrap_err().contains("agents.c"));
        // A preset name becomes the table it stands for, then the key changes.
        set(&mut t, "policy.owner_offline", Value::String("fallback".into())).unwrap();
        assert_eq!(t["policy"].get("kind").and_then(Value::as_str), Some("sticky"));
        assert_eq!(t["policy"].get("owner_offline").and_then(Value::as_str), Some("fallback"));
        assert!(t["policy"].get("description").is_none());
        t.insert("name".into(), Value::String("x".into()));
        assert!(set(&mut t, "name.first", Value::Integer(1)).unwrap_err().contains("not a table"));
        t.insert("policy".into(), Value::String("hybird-10m".into()));
        let error = set(&mut t, "policy.timeout", Value::Integer(1)).unwrap_err();
        assert!(error.contains("`policy` = \"hybird-10m\"") && error.contains("did you mean"), "{error}");
        assert!(set(&mut t, "arrivals.rate_per_hour", Value::Integer(1)).unwrap_err().contains("arrivals"));
    }

    #[test]
    fn settings_read_values_like_axis_values() {
        let parse = |text: &str| text.parse::<Setting>().unwrap().value;
        assert_eq!(parse("agents.team.count=14"), Value::Integer(14));
        assert_eq!(parse("arrivals.rate_per_hour = 90.5"), Value::Float(90.5));
        assert_eq!(parse("policy.personal_first=false"), Value::Boolean(false));
        assert_eq!(parse("policy.timeout=7m"), Value::String("7m".into()));
        assert_eq!(parse("policy=hybrid-10m"), Value::String("hybrid-10m".into()));
        assert_eq!(parse("name=\"a b\""), Value::String("a b".into()));
        assert_eq!(parse("name=x\ny = 1"), Value::String("x\ny = 1".into()));
        assert_eq!("policy.timeout=7m".parse::<Setting>().unwrap().path, "policy.timeout");
        for bad in ["policy", "=7m", "policy..timeout=7m", "a b=1"] {
            assert!(bad.parse::<Setting>().unwrap_err().contains("expected KEY=VALUE"), "{bad}");
        }
    }
}
