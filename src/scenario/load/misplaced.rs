//! Top-level keys written after a `[table]` header. In TOML such a key belongs to that table,
//! so the file reads as if the key were missing (or unknown in the table): every such error
//! says where the key went and that a top-level key must come before the first header, for
//! scenario files and sweep files alike.

use toml::{Table, Value};

use crate::error::FieldError;

/// What every hint ends with.
const RULE: &str = "must come before the first [table] or [[table]] header";

/// An unknown key of a section (`arrivals.seed`, `agents[0].policy`, `conversation.bot.name`)
/// that is one of `top_keys`: the hint, appended.
pub(crate) fn unknown_hint(mut error: FieldError, top_keys: &[&str]) -> FieldError {
    let key = error.key.rsplit_once('.').map(|(_, key)| key.to_string());
    if let Some(key) =
        key.filter(|k| error.message.starts_with("unknown key") && top_keys.contains(&k.as_str()))
    {
        error.message.push_str(&format!(" (a top-level `{key}` {RULE})"));
    }
    error
}

/// A missing top-level `key` of `table` that a table's header swallowed: the hint, appended.
pub(crate) fn missing_hint(mut error: FieldError, table: &Table) -> FieldError {
    if !error.key.contains(['.', '[']) && error.message.starts_with("missing") {
        error.message = with_misplaced(table, &error.key, &error.message);
    }
    error
}

/// `message`, with the hint when `key` sits in one of `table`'s tables instead of its top.
pub(crate) fn with_misplaced(table: &Table, key: &str, message: &str) -> String {
    match misplaced(table, key) {
        Some(found) => format!("{message} (found `{found}`: a top-level `{key}` {RULE})"),
        None => message.to_string(),
    }
}

/// Where `key` went, if a header took it: a sub-table that has it, or the last element of a
/// list of tables when the others lack it (a key every element has, like a pool's `name`, is
/// the element's own).
fn misplaced(table: &Table, key: &str) -> Option<String> {
    table.iter().find_map(|(name, value)| match value {
        Value::Table(sub) if sub.contains_key(key) => Some(format!("{name}.{key}")),
        Value::Array(items) => {
            let has = |item: &Value| item.as_table().is_some_and(|t| t.contains_key(key));
            let last = items.len().checked_sub(1)?;
            (has(&items[last]) && !items[..last].iter().all(has)).then(|| format!("{name}[{last}].{key}"))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_in_the_last_table_is_found_but_one_every_element_has_is_not() {
        let table: Table =
            "[[agents]]\nname = \"a\"\n[[agents]]\nname = \"b\"\npolicy = \"sticky\"\n".parse().unwrap();
        assert_eq!(misplaced(&table, "policy").as_deref(), Some("agents[1].policy"));
        assert_eq!(misplaced(&table, "name"), None);
        let table: Table = "[service_level]\nfirst = \"1m\"\nreplications = 3\n".parse().unwrap();
        assert_eq!(misplaced(&table, "replications").as_deref(), Some("service_level.replications"));
    }
}
