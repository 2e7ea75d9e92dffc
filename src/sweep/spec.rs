//! The sweep file: a base scenario, axes, replications and a seed; expanded into points.

use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::SweepError;
use crate::rng::TaskSeeds;
use crate::scenario::{parse_toml, read_text, scenario_from_table, set_path, Scenario, MAX_REPLICATIONS};

/// One axis: a dotted path into the scenario and the values it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Dotted path, e.g. `agents.team.count` or `policy`.
    pub path: String,
    /// Values in order.
    pub values: Vec<Value>,
}

/// A parsed sweep file.
#[derive(Debug, Clone)]
pub struct SweepSpec {
    /// The sweep's name (results go to `results/<name>/` by default).
    pub name: String,
    /// The sweep file.
    pub file: PathBuf,
    /// The base scenario file.
    pub base: PathBuf,
    /// The base scenario's TOML table.
    pub base_table: Table,
    /// Replications per point.
    pub replications: u32,
    /// Master seed.
    pub seed: u64,
    /// Common random numbers (`common_random_numbers`, default true): replication r has one
    /// seed at every point, so points are compared on the same customers.
    pub common_random_numbers: bool,
    /// Axes, outermost first.
    pub axes: Vec<Axis>,
    /// SHA-256 of the sweep file and the base file, hex.
    pub content_hash: String,
}

/// One point of the sweep: an assignment of one value per axis, and the scenario it makes.
#[derive(Debug, Clone)]
pub struct Point {
    /// Index in cartesian order (last axis fastest).
    pub index: u64,
    /// The axis values, in axis order.
    pub values: Vec<Value>,
    /// The validated scenario.
    pub scenario: Scenario,
}

const SWEEP_KEYS: &[&str] = &["name", "base", "replications", "seed", "common_random_numbers", "axes"];

fn invalid(file: &Path, key: &str, message: impl Into<String>) -> SweepError {
    SweepError::Invalid { file: file.to_path_buf(), key: key.to_string(), message: message.into() }
}

/// A missing top-level key, saying where it went if a `[table]` header took it.
fn missing(file: &Path, table: &Table, key: &str, what: &str) -> SweepError {
    invalid(file, key, crate::scenario::with_misplaced(table, key, &format!("missing: {what}")))
}

/// Reads a sweep file and its base scenario.
pub fn load_sweep(file: &Path) -> Result<SweepSpec, SweepError> {
    let text = read_text(file)?;
    let table = parse_toml(&text, file)?;
    if let Some(key) = table.keys().find(|k| !SWEEP_KEYS.contains(&k.as_str())) {
        return Err(invalid(file, key, format!("unknown key; expected one of {}", SWEEP_KEYS.join(", "))));
    }
    let name = match table.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            check_name(s).map_err(|message| invalid(file, "name", message))?;
            s.clone()
        }
        Some(other) => {
            return Err(invalid(file, "name", format!("expected a non-empty string, got {other}")))
        }
        None => return Err(missing(file, &table, "name", "give the sweep a name")),
    };
    let base_rel = match table.get("base") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(invalid(file, "base", format!("expected a path to a scenario file, got {other}")))
        }
        None => return Err(missing(file, &table, "base", "the base scenario's path, relative to this file")),
    };
    let base = file.parent().unwrap_or(Path::new("")).join(&base_rel);
    let base_text = read_text(&base)?;
    let base_table = parse_toml(&base_text, &base)?;
    let settings = run_settings(file, &table)?;
    let axes = parse_axes(file, table.get("axes"))?;
    check_overlaps(file, &axes, &base_table)?;
    check_point_count(file, &axes)?;
    // The base's own replications and seed apply when the sweep is silent.
    let base_scenario = scenario_from_table(&base_table, &base)?;
    Ok(SweepSpec {
        name,
        file: file.to_path_buf(),
        base,
        base_table,
        replications: settings.replications.unwrap_or(base_scenario.replications),
        seed: settings.seed.unwrap_or(base_scenario.seed),
        common_random_numbers: settings.common_random_numbers,
        axes,
        content_hash: content_hash(&[text.as_bytes(), base_text.as_bytes()]),
    })
}

/// The sweep file's run settings; `None` where the base scenario's apply.
struct RunSettings {
    replications: Option<u32>,
    seed: Option<u64>,
    common_random_numbers: bool,
}

fn run_settings(file: &Path, table: &Table) -> Result<RunSettings, SweepError> {
    let replications = match table.get("replications") {
        None => None,
        Some(Value::Integer(n)) if (1..=i64::from(MAX_REPLICATIONS)).contains(n) => Some(*n as u32),
        Some(other) => {
            let expected = format!("expected an integer from 1 to {MAX_REPLICATIONS}, got {other}");
            return Err(invalid(file, "replications", expected));
        }
    };
    let seed = match table.get("seed") {
        None => None,
        Some(Value::Integer(n)) if *n >= 0 => Some(*n as u64),
        Some(other) => {
            return Err(invalid(file, "seed", format!("expected a non-negative integer, got {other}")))
        }
    };
    // On by default: comparing points on the same customers is what a sweep is for.
    let common_random_numbers = match table.get("common_random_numbers") {
        None => true,
        Some(Value::Boolean(on)) => *on,
        Some(other) => {
            let expected = format!("expected true or false, got {other}");
            return Err(invalid(file, "common_random_numbers", expected));
        }
    };
    Ok(RunSettings { replications, seed, common_random_numbers })
}

/// A sweep's name becomes the folder `results/<name>`: it must stay a single folder name there.
fn check_name(name: &str) -> Result<(), String> {
    let bad = if name.contains(['/', '\\']) {
        Some("a path separator")
    } else if name.contains("..") {
        Some("\"..\"")
    } else if name.chars().any(char::is_control) {
        Some("a control character")
    } else if name.trim() == "." {
        Some("only a dot")
    } else {
        None
    };
    match bad {
        Some(what) => Err(format!(
            "expected a plain folder name for results/<name> (letters, digits, '-', '_', '.'), got {name:?} with {what}"
        )),
        None => Ok(()),
    }
}

impl SweepSpec {
    /// How the tasks get their seeds: by replication only (common random numbers, so every
    /// point sees the same customers wherever its axes leave them alone), or by point and
    /// replication.
    pub fn task_seeds(&self) -> TaskSeeds {
        TaskSeeds { master: self.seed, common: self.common_random_numbers }
    }

    /// SHA-256 of everything that shapes the results: the sweep file and base scenario text
    /// and every point's fully resolved scenario (its policy read from a preset file or a
    /// `./policies` override included), so shards run with different inputs never merge.
    pub fn input_hash(&self, points: &[Point]) -> String {
        use sha2::{Digest, Sha256};
        use std::io::Write;
        let mut hasher = Sha256::new();
        hasher.update(self.content_hash.as_bytes());
        for point in points {
            // The Debug form lists every resolved value; hashing it streams, without a copy.
            let _ = write!(hasher, "{:?}\u{0}", point.scenario);
        }
        hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// SHA-256 of length-prefixed parts, hex: identifies the inputs of a run or sweep.
pub fn content_hash(parts: &[&[u8]]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// At most this many values on one axis.
pub const MAX_AXIS_VALUES: u64 = 100_000;
/// At most this many points in a sweep (the product of the axes' lengths).
pub const MAX_POINTS: u64 = 1_000_000;
/// At most this many axes.
pub const MAX_AXES: usize = 64;

/// Run settings the sweep sets for every point itself: an axis over one would be ignored.
const SWEEP_CONTROLLED: &[(&str, &str)] = &[
    ("seed", "each replication's seed derives from the sweep's `seed`"),
    ("replications", "every point runs the sweep's `replications`"),
];

/// The first value that appears twice, compared as the scenario sees them: numbers by value
/// (`60` and `60.0` are one), tables whatever their key order, at any depth.
fn first_repeat(values: &[Value]) -> Option<&Value> {
    fn canonical(v: &Value) -> String {
        match v {
            Value::Integer(n) => format!("{}", *n as f64),
            Value::Float(x) => format!("{x}"),
            Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
            Value::Table(table) => {
                let mut entries: Vec<String> =
                    table.iter().map(|(k, v)| format!("{k:?}={}", canonical(v))).collect();
                entries.sort_unstable();
                format!("{{{}}}", entries.join(","))
            }
            other => other.to_string(),
        }
    }
    let mut seen = std::collections::HashSet::new();
    values.iter().find(|v| !seen.insert(canonical(v)))
}

fn parse_axes(file: &Path, axes: Option<&Value>) -> Result<Vec<Axis>, SweepError> {
    let Some(axes) = axes else { return Ok(Vec::new()) };
    let Value::Table(axes) = axes else {
        return Err(invalid(file, "axes", "expected a table of axis = [values]"));
    };
    if axes.len() > MAX_AXES {
        return Err(invalid(file, "axes", format!("{} axes; at most {MAX_AXES}", axes.len())));
    }
    axes.iter()
        .map(|(path, spec)| {
            let key = format!("axes.\"{path}\"");
            if let Some((setting, why)) = SWEEP_CONTROLLED.iter().find(|(name, _)| path.trim() == *name) {
                return Err(invalid(
                    file,
                    &key,
                    format!("the sweep controls `{setting}` ({why}): set `{setting}` at the top of the sweep file, not as an axis"),
                ));
            }
            let values = match spec {
                Value::Array(values) if !values.is_empty() => values.clone(),
                Value::Table(range) if !is_range(range) => {
                    return Err(invalid(file, &key, unquoted_path_hint(path, range)));
                }
                Value::Table(range) => range_values(file, &key, range)?,
                _ => {
                    return Err(invalid(
                        file,
                        &key,
                        "expected a non-empty list of values or { from, to, step }",
                    ));
                }
            };
            if values.len() as u64 > MAX_AXIS_VALUES {
                return Err(invalid(file, &key, format!("{} values; at most {MAX_AXIS_VALUES} per axis", values.len())));
            }
            if let Some(twice) = first_repeat(&values) {
                // Two points with the same axis values could not be told apart in the results.
                return Err(invalid(file, &key, format!("the value {twice} is listed twice")));
            }
            Ok(Axis { path: path.clone(), values })
        })
        .collect()
}

/// Whether an axis table is a `{ from, to, step }` range (possibly with mistakes in it).
fn is_range(table: &Table) -> bool {
    table.keys().any(|k| ["from", "to", "step"].contains(&k.as_str())) || !table.values().any(Value::is_table)
}

/// `[axes] agents.team.count = [...]` without quotes is a nested table in TOML: say so.
fn unquoted_path_hint(path: &str, table: &Table) -> String {
    let mut dotted = path.to_string();
    let mut current = table;
    while let Some((key, value)) = current.iter().next() {
        dotted = format!("{dotted}.{key}");
        match value {
            Value::Table(inner) => current = inner,
            _ => break,
        }
    }
    format!("a dotted axis path must be quoted: write \"{dotted}\" = [...] under [axes]")
}

/// `{ from, to, step }`, inclusive of `to` when it falls on a step. Integer ranges stay exact;
/// a range must be finite, ascending, and give at most [`MAX_AXIS_VALUES`] distinct values.
fn range_values(file: &Path, key: &str, range: &Table) -> Result<Vec<Value>, SweepError> {
    if let Some(k) = range.keys().find(|k| !["from", "to", "step"].contains(&k.as_str())) {
        return Err(invalid(file, &format!("{key}.{k}"), "unknown key; expected from, to, step"));
    }
    let get = |name: &str| {
        range.get(name).ok_or_else(|| invalid(file, &format!("{key}.{name}"), "missing: expected a number"))
    };
    match (get("from")?, get("to")?, get("step")?) {
        (Value::Integer(from), Value::Integer(to), Value::Integer(step)) => {
            integer_range(file, key, *from, *to, *step)
        }
        (from, to, step) => {
            let number = |name: &str, value: &Value| match value {
                Value::Integer(n) => Ok(*n as f64),
                Value::Float(x) if x.is_finite() => Ok(*x),
                other => Err(invalid(
                    file,
                    &format!("{key}.{name}"),
                    format!("expected a finite number, got {other}"),
                )),
            };
            float_range(file, key, number("from", from)?, number("to", to)?, number("step", step)?)
        }
    }
}

fn check_order(file: &Path, key: &str, ascending: bool, positive_step: bool) -> Result<(), SweepError> {
    if !positive_step {
        return Err(invalid(file, &format!("{key}.step"), "expected a step > 0"));
    }
    if !ascending {
        return Err(invalid(file, key, "expected from <= to (ranges ascend; list the values to go down)"));
    }
    Ok(())
}

fn too_many(file: &Path, key: &str, count: f64) -> SweepError {
    let count = match count {
        c if !c.is_finite() => "infinitely many".to_string(),
        c if c < 1e12 => format!("{c:.0}"),
        c => format!("about {c:.1e}"),
    };
    invalid(file, key, format!("{count} values; at most {MAX_AXIS_VALUES} per axis: use a larger step"))
}

fn integer_range(file: &Path, key: &str, from: i64, to: i64, step: i64) -> Result<Vec<Value>, SweepError> {
    check_order(file, key, from <= to, step > 0)?;
    let count = (i128::from(to) - i128::from(from)) / i128::from(step) + 1;
    if count > i128::from(MAX_AXIS_VALUES) {
        return Err(too_many(file, key, count as f64));
    }
    // Each value lies in [from, to], so none overflows.
    Ok((0..count as i64).map(|i| Value::Integer(from + step * i)).collect())
}

fn float_range(file: &Path, key: &str, from: f64, to: f64, step: f64) -> Result<Vec<Value>, SweepError> {
    check_order(file, key, from <= to, step > 0.0)?;
    let steps = ((to - from) / step + 1e-9).floor();
    if !steps.is_finite() || steps + 1.0 > MAX_AXIS_VALUES as f64 {
        return Err(too_many(file, key, steps + 1.0));
    }
    // A step below the numbers' resolution would repeat values (or never reach `to`).
    if steps > 0.0 && step <= from.abs().max(to.abs()) * 1e-12 {
        return Err(invalid(
            file,
            &format!("{key}.step"),
            format!(
                "step {step} is too small for values near {}: consecutive values would not differ",
                from.abs().max(to.abs())
            ),
        ));
    }
    Ok((0..steps as u64 + 1).map(|i| Value::Float(from + step * i as f64)).collect())
}

/// The axis path with trimmed segments and list elements named, so `agents.0.count` and
/// `agents.team.count` are seen to be the same key of the base scenario.
fn canonical_path(base: &Table, path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut node: Option<&Value> = None;
    for (i, segment) in path.split('.').map(str::trim).enumerate() {
        let next = match node {
            None if i == 0 => base.get(segment),
            Some(Value::Table(t)) => t.get(segment),
            Some(Value::Array(items)) => {
                let named = |v: &&Value| v.get("name").and_then(Value::as_str) == Some(segment);
                let found = items
                    .iter()
                    .find(named)
                    .or_else(|| segment.parse::<usize>().ok().and_then(|n| items.get(n)));
                if let Some(name) = found.and_then(|v| v.get("name")).and_then(Value::as_str) {
                    out.push(name.to_string());
                    node = found;
                    continue;
                }
                found
            }
            _ => None,
        };
        out.push(segment.to_string());
        node = next;
    }
    out
}

/// Two axes over one key (or over a key and a part of it) would overwrite each other.
fn check_overlaps(file: &Path, axes: &[Axis], base: &Table) -> Result<(), SweepError> {
    let paths: Vec<Vec<String>> = axes.iter().map(|a| canonical_path(base, &a.path)).collect();
    for (j, later) in paths.iter().enumerate() {
        if let Some(i) = (0..j).find(|&i| later.starts_with(&paths[i]) || paths[i].starts_with(later)) {
            let what = if paths[i] == *later { "sets the same key as" } else { "overlaps" };
            return Err(invalid(
                file,
                &format!("axes.\"{}\"", axes[j].path),
                format!("{what} axis \"{}\": give each key one axis", axes[i].path),
            ));
        }
    }
    Ok(())
}

/// The number of points, refused beyond [`MAX_POINTS`].
fn check_point_count(file: &Path, axes: &[Axis]) -> Result<(), SweepError> {
    let mut product: u64 = 1;
    for axis in axes {
        product = product.saturating_mul(axis.values.len() as u64);
        if product > MAX_POINTS {
            let lengths: Vec<String> =
                axes.iter().map(|a| format!("{} ({})", a.values.len(), a.path)).collect();
            return Err(invalid(
                file,
                "axes",
                format!("{} points is too many; at most {MAX_POINTS}", lengths.join(" × ")),
            ));
        }
    }
    Ok(())
}

impl SweepSpec {
    /// Number of points (the product of the axes' lengths; 1 with no axes).
    pub fn point_count(&self) -> u64 {
        self.axes.iter().map(|a| a.values.len() as u64).product()
    }

    /// The axis values of point `index` (last axis fastest).
    pub fn point_values(&self, index: u64) -> Vec<Value> {
        let lengths: Vec<usize> = self.axes.iter().map(|a| a.values.len()).collect();
        let positions = value_positions(index, &lengths);
        self.axes.iter().zip(positions).map(|(axis, i)| axis.values[i].clone()).collect()
    }

    /// Builds and validates every point's scenario, before anything runs.
    pub fn points(&self) -> Result<Vec<Point>, SweepError> {
        (0..self.point_count())
            .map(|index| {
                let values = self.point_values(index);
                let describe = || describe_point(&self.axes, &values);
                let mut table = self.base_table.clone();
                for (axis, value) in self.axes.iter().zip(&values) {
                    let (file, axis_path) = (self.file.clone(), axis.path.clone());
                    set_path(&mut table, &axis.path, value.clone(), &self.base).map_err(|message| {
                        SweepError::Axis { file, axis: axis_path, point: describe(), message }
                    })?;
                }
                let mut scenario = scenario_from_table(&table, &self.base).map_err(|error| {
                    SweepError::Point { file: self.file.clone(), point: describe(), error: Box::new(error) }
                })?;
                scenario.replications = self.replications;
                scenario.seed = self.seed;
                Ok(Point { index, values, scenario })
            })
            .collect()
    }
}

/// The position in each axis of point `index`, for axes of these lengths (last axis fastest).
pub(crate) fn value_positions(index: u64, lengths: &[usize]) -> Vec<usize> {
    let mut rest = index;
    let mut positions: Vec<usize> = lengths
        .iter()
        .rev()
        .map(|&n| {
            let position = (rest % n as u64) as usize;
            rest /= n as u64;
            position
        })
        .collect();
    positions.reverse();
    positions
}

/// `policy="sticky", agents.team.count=12`.
pub fn describe_point(axes: &[Axis], values: &[Value]) -> String {
    axes.iter().zip(values).map(|(a, v)| format!("{}={v}", a.path)).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        text.parse().unwrap()
    }

    fn axes(text: &str) -> Result<Vec<Axis>, String> {
        let table = table(text);
        parse_axes(Path::new("s.toml"), table.get("axes")).map_err(|e| e.to_string())
    }

    #[test]
    fn ranges_that_overflow_or_cannot_step_are_keyed_errors() {
        // 1e-300 steps over [60, 61] once overflowed to 0 points.
        let tiny = axes("[axes]\nx = { from = 60, to = 61, step = 1e-300 }").unwrap_err();
        assert!(tiny.contains("axes.\"x\"") && tiny.contains("at most 100000"), "{tiny}");
        let huge = axes("[axes]\nx = { from = 0, to = 9223372036854775807, step = 1 }").unwrap_err();
        assert!(huge.contains("at most 100000"), "{huge}");
        let fine = axes("[axes]\nx = { from = 1e17, to = 1.0000000000001e17, step = 1.0 }").unwrap_err();
        assert!(fine.contains("axes.\"x\".step") && fine.contains("too small"), "{fine}");
        let nan = axes("[axes]\nx = { from = 0.0, to = inf, step = 1.0 }").unwrap_err();
        assert!(nan.contains("axes.\"x\".to") && nan.contains("finite"), "{nan}");
        let down = axes("[axes]\nx = { from = 5, to = 1, step = 1 }").unwrap_err();
        assert!(down.contains("from <= to"), "{down}");
        let zero = axes("[axes]\nx = { from = 1, to = 5, step = 0 }").unwrap_err();
        assert!(zero.contains("axes.\"x\".step: expected a step > 0"), "{zero}");
        let unquoted = axes("[axes]\nagents.team.count = [1, 2]").unwrap_err();
        assert!(unquoted.contains("\"agents.team.count\" = [...]"), "{unquoted}");
        assert_eq!(axes("[axes]\nx = { from = 0.5, to = 1.5, step = 0.5 }").unwrap()[0].values.len(), 3);
    }

    #[test]
    fn an_axis_value_listed_twice_is_refused() {
        let error = axes("[axes]\nx = [60, 30, 60.0]").unwrap_err();
        assert!(error.contains("axes.\"x\": the value 60.0 is listed twice"), "{error}");
        assert!(axes("[axes]\nx = [\"sticky\", \"hybrid-1m\"]").is_ok());
        // Tables are one value whatever their key order, like 60 and 60.0.
        let tables = axes("[axes]\nx = [{ a = 1, b = { c = 2, d = 3 } }, { b = { d = 3.0, c = 2 }, a = 1 }]");
        assert!(tables.unwrap_err().contains("is listed twice"));
        assert!(axes("[axes]\nx = [{ a = 1, b = 2 }, { a = 2, b = 1 }]").is_ok());
    }

    #[test]
    fn axes_over_settings_the_sweep_controls_are_refused() {
        for setting in ["seed", "replications"] {
            let error = axes(&format!("[axes]\n{setting} = [1, 2]")).unwrap_err();
            assert!(error.contains(&format!("axes.\"{setting}\": the sweep controls")), "{error}");
        }
    }

    #[test]
    fn overlapping_axes_and_too_many_points_are_refused() {
        let base = table("[[agents]]\nname = \"team\"\ncount = 1\n[policy]\nkind = \"hybrid\"\n");
        let check = |text: &str| {
            let parsed = axes(text).unwrap();
            check_overlaps(Path::new("s.toml"), &parsed, &base).map_err(|e| e.to_string())
        };
        let alias = check("[axes]\n\"agents.team.count\" = [1]\n\"agents.0.count\" = [2]").unwrap_err();
        assert!(alias.contains("sets the same key as axis"), "{alias}");
        let spaced = check("[axes]\n\"policy.timeout\" = [\"1m\"]\n\"policy . timeout\" = [\"2m\"]");
        assert!(spaced.is_err());
        let nested = check("[axes]\npolicy = [\"sticky\"]\n\"policy.timeout\" = [\"1m\"]").unwrap_err();
        assert!(nested.contains("overlaps axis \"policy\""), "{nested}");
        assert!(check("[axes]\n\"policy.timeout\" = [\"1m\"]\n\"agents.team.count\" = [1]").is_ok());
        let big =
            axes("[axes]\na = { from = 1, to = 1000, step = 1 }\nb = { from = 1, to = 1001, step = 1 }")
                .unwrap();
        let error = check_point_count(Path::new("s.toml"), &big).unwrap_err().to_string();
        assert!(error.contains("s.toml: axes: 1000 (a) × 1001 (b) points is too many"), "{error}");
    }

    #[test]
    fn names_cannot_leave_the_results_folder() {
        for name in ["../../x", "a/b", "a\\b", "/abs", "x\u{7}", ".", "..", "a..b"] {
            assert!(check_name(name).is_err(), "{name:?} accepted");
        }
        for name in ["policy-frontier", "v1.2_run", "tiny sweep"] {
            assert!(check_name(name).is_ok(), "{name:?} refused");
        }
    }

    #[test]
    fn ranges_include_the_end() {
        let r = table("from = 60\nto = 240\nstep = 60");
        let values = range_values(Path::new("s.toml"), "axes.x", &r).unwrap();
        assert_eq!(
            values,
            vec![Value::Integer(60), Value::Integer(120), Value::Integer(180), Value::Integer(240)]
        );
    }
}
