//! `capacity`: a channel's capacity model, scenario-wide (top-level `[capacity]`) or per channel
//! (a channel's `capacity`), as a table or as the name of a capacity preset
//! (`capacity = "zendesk"`). Presets are small TOML files in `capacities/` with the same keys
//! plus a one-line `description`, compiled in and listed by `convosim capacities`.

use toml::{Table, Value};

use super::fields::{as_number, expected, one_of, unknown_message, Section, Sign};
use super::parse_toml;
use crate::error::FieldError;
use crate::scenario::capacity::{ChannelCapacity, Hold, Reactivation};

/// Built-in capacity presets, `(name, TOML text)`, from the crate's `capacities/` directory:
/// vendors' messaging capacity semantics (values and sources in docs/model.md).
pub static CAPACITY_PRESETS: &[(&str, &str)] = &[
    ("zendesk", include_str!("../../../capacities/zendesk.toml")),
    ("liveperson", include_str!("../../../capacities/liveperson.toml")),
    ("genesys", include_str!("../../../capacities/genesys.toml")),
    ("salesforce", include_str!("../../../capacities/salesforce.toml")),
];

const KEYS: &[&str] = &["hold", "inactive_after", "inactive_weight", "close_after", "reactivation", "weight"];
const PRESET_KEYS: &[&str] =
    &["hold", "inactive_after", "inactive_weight", "close_after", "reactivation", "weight", "description"];
const WHAT: &str = "a capacity preset name like \"zendesk\" or a table like { hold = \"until_inactive\", \
                    inactive_after = \"10m\" }";

/// The capacity model at `path` (`capacity` or `channels[i].capacity`), if `value` is present.
pub(super) fn capacity(value: Option<&Value>, path: &str) -> Result<Option<ChannelCapacity>, FieldError> {
    match value {
        None => Ok(None),
        Some(Value::String(name)) => preset(name, path).map(Some),
        Some(Value::Table(table)) => from_table(table, path, KEYS).map(Some),
        Some(other) => Err(expected(path, WHAT, other)),
    }
}

/// A built-in preset by name.
fn preset(name: &str, path: &str) -> Result<ChannelCapacity, FieldError> {
    let names: Vec<&str> = CAPACITY_PRESETS.iter().map(|(n, _)| *n).collect();
    let (found, text) = CAPACITY_PRESETS
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| FieldError::new(path, unknown_message("capacity preset", name, &names)))?;
    let mut model = parse_preset(text).map_err(|e| FieldError::new(path, format!("preset {name}: {e}")))?.0;
    model.preset = Some(found);
    Ok(model)
}

/// A preset's model and description (a bundled preset that does not parse is a build bug,
/// caught by the tests below).
fn parse_preset(text: &str) -> Result<(ChannelCapacity, String), FieldError> {
    let table =
        parse_toml(text, std::path::Path::new("preset")).map_err(|e| FieldError::new("", e.to_string()))?;
    let model = from_table(&table, "", PRESET_KEYS)?;
    let description = table.get("description").and_then(Value::as_str).unwrap_or_default().to_string();
    Ok((model, description))
}

/// `(name, label, description)` of every capacity preset, for `convosim capacities`.
pub fn capacity_summaries() -> Vec<(String, String, String)> {
    CAPACITY_PRESETS
        .iter()
        .map(|(name, text)| match parse_preset(text) {
            Ok((mut model, description)) => {
                model.preset = None;
                (name.to_string(), model.label(), description)
            }
            Err(e) => (name.to_string(), "invalid".to_string(), e.to_string()),
        })
        .collect()
}

fn choice<T: Copy>(sec: &Section<'_>, key: &str, names: &[&str], all: &[T]) -> Result<Option<T>, FieldError> {
    let Some(value) = sec.get(key) else { return Ok(None) };
    let what = format!("one of {}", one_of(names));
    let text = value.as_str().ok_or_else(|| expected(&sec.path(key), &what, value))?;
    names
        .iter()
        .position(|n| *n == text)
        .map(|i| Some(all[i]))
        .ok_or_else(|| FieldError::new(sec.path(key), unknown_message(key, text, names)))
}

/// A share with at most 3 decimals, as per mille, in `[min, 1000]`.
fn per_mille(sec: &Section<'_>, key: &str, min: u32) -> Result<Option<u32>, FieldError> {
    let Some(value) = sec.get(key) else { return Ok(None) };
    let lower = if min == 0 { "[0, 1]" } else { "(0, 1]" };
    let what = format!(
        "a number in {lower} with at most 3 decimals (capacity is kept in whole thousandths of a slot, \
         so that weights add up exactly)"
    );
    let x = as_number(value, &sec.path(key), Sign::NonNegative, &what)?;
    let milli = (x * 1000.0).round();
    if (x * 1000.0 - milli).abs() > 1e-6 || milli < f64::from(min) || milli > 1000.0 {
        return Err(expected(&sec.path(key), &what, value));
    }
    Ok(Some(milli as u32))
}

fn from_table(table: &Table, path: &str, keys: &[&str]) -> Result<ChannelCapacity, FieldError> {
    let sec = Section::new(table, path, keys)?;
    let hold = choice(&sec, "hold", &Hold::NAMES, &Hold::ALL)?.unwrap_or_default();
    let inactive_after = sec.duration("inactive_after", Sign::NonNegative, "10m")?;
    let inactive_milli = per_mille(&sec, "inactive_weight", 0)?;
    let only_until_inactive = |key: &str| {
        FieldError::new(
            sec.path(key),
            format!("only with hold = \"until_inactive\" (hold is \"{}\")", Hold::NAMES[hold as usize]),
        )
    };
    if hold == Hold::UntilInactive && inactive_after.is_none() {
        return Err(sec.missing(
            "inactive_after",
            "a duration like \"10m\": how long after a reply a conversation holds its whole weight",
        ));
    }
    if hold != Hold::UntilInactive {
        if inactive_after.is_some() {
            return Err(only_until_inactive("inactive_after"));
        }
        if inactive_milli.is_some() {
            return Err(only_until_inactive("inactive_weight"));
        }
    }
    let reactivation = choice(&sec, "reactivation", &Reactivation::NAMES, &Reactivation::ALL)?;
    if hold == Hold::None && reactivation.is_some() {
        return Err(FieldError::new(
            sec.path("reactivation"),
            "only with hold = \"until_inactive\" or \"until_closed\": with hold = \"none\" nothing is held",
        ));
    }
    Ok(ChannelCapacity {
        preset: None,
        hold,
        inactive_after,
        inactive_milli: inactive_milli.unwrap_or(0),
        close_after: sec.duration("close_after", Sign::Positive, "24h")?,
        reactivation: reactivation.unwrap_or_default(),
        weight_milli: per_mille(&sec, "weight", 1)?.unwrap_or(1000),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Value {
        Value::Table(text.parse::<Table>().expect("toml"))
    }

    #[test]
    fn every_bundled_preset_parses_with_a_description() {
        for (name, label, description) in capacity_summaries() {
            assert_ne!(label, "invalid", "{name}: {description}");
            assert!(!description.is_empty(), "{name}");
        }
        let zendesk = capacity(Some(&Value::from("zendesk")), "capacity").unwrap().unwrap();
        assert_eq!(zendesk.hold, Hold::UntilInactive);
        assert_eq!(zendesk.inactive_after, Some(600.0));
        assert_eq!(zendesk.inactive_milli, 0);
        assert_eq!(zendesk.preset, Some("zendesk"));
    }

    #[test]
    fn keyed_errors_name_the_key_and_what_is_expected() {
        let err = |text: &str| capacity(Some(&table(text)), "capacity").unwrap_err().to_string();
        assert!(err("weight = 0.3333")
            .contains("capacity.weight: expected a number in (0, 1] with at most 3 decimals"));
        assert!(err("weight = 0").contains("capacity.weight"));
        assert!(err("hold = \"until_inactive\"").contains("capacity.inactive_after: missing"));
        assert!(err("hold = \"until_closed\"\ninactive_weight = 0.1")
            .contains("capacity.inactive_weight: only with"));
        assert!(err("reactivation = \"holder\"").contains("capacity.reactivation: only with"));
        assert!(err("hold = \"sometimes\"").contains("capacity.hold: unknown hold"));
        assert!(err("hold = \"none\"\nclose_after = 0").contains("capacity.close_after"));
        assert!(err("holdd = \"none\"").contains("capacity.holdd: unknown key"));
        let preset = capacity(Some(&Value::from("zendeks")), "channels[0].capacity").unwrap_err().to_string();
        assert!(preset.contains("channels[0].capacity: unknown capacity preset \"zendeks\""), "{preset}");
        let weights = capacity(Some(&table("weight = 0.125")), "capacity").unwrap().unwrap();
        assert_eq!(weights.weight_milli, 125);
    }
}
