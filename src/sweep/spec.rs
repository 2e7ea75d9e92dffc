//! The sweep file: a base scenario, axes, replications and a seed; expanded into points.

use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::SweepError;
use crate::error::ScenarioError;
use crate::scenario::{parse_toml, scenario_from_table, set_path, Scenario};

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

const SWEEP_KEYS: &[&str] = &["name", "base", "replications", "seed", "axes"];

fn invalid(file: &Path, key: &str, message: impl Into<String>) -> SweepError {
    SweepError::Invalid { file: file.to_path_buf(), key: key.to_string(), message: message.into() }
}

/// Reads a file the way scenario files are read, so errors look the same.
fn read(path: &Path) -> Result<String, ScenarioError> {
    std::fs::read_to_string(path).map_err(|source| ScenarioError::Read { file: path.to_path_buf(), source })
}

/// Reads a sweep file and its base scenario.
pub fn load_sweep(file: &Path) -> Result<SweepSpec, SweepError> {
    let text = read(file)?;
    let table = parse_toml(&text, file)?;
    if let Some(key) = table.keys().find(|k| !SWEEP_KEYS.contains(&k.as_str())) {
        return Err(invalid(file, key, format!("unknown key; expected one of {}", SWEEP_KEYS.join(", "))));
    }
    let name = match table.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(other) => {
            return Err(invalid(file, "name", format!("expected a non-empty string, got {other}")))
        }
        None => return Err(invalid(file, "name", "missing: give the sweep a name")),
    };
    let base_rel = match table.get("base") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(invalid(file, "base", format!("expected a path to a scenario file, got {other}")))
        }
        None => {
            return Err(invalid(
                file,
                "base",
                "missing: the path of the base scenario, relative to the sweep file",
            ))
        }
    };
    let base = file.parent().unwrap_or(Path::new("")).join(&base_rel);
    let base_text = read(&base)?;
    let base_table = parse_toml(&base_text, &base)?;
    let replications = match table.get("replications") {
        None => None,
        Some(Value::Integer(n)) if (1..=1_000_000).contains(n) => Some(*n as u32),
        Some(other) => {
            return Err(invalid(file, "replications", format!("expected an integer >= 1, got {other}")))
        }
    };
    let seed = match table.get("seed") {
        None => None,
        Some(Value::Integer(n)) if *n >= 0 => Some(*n as u64),
        Some(other) => {
            return Err(invalid(file, "seed", format!("expected a non-negative integer, got {other}")))
        }
    };
    let axes = parse_axes(file, table.get("axes"))?;
    // The base's own replications and seed apply when the sweep is silent.
    let base_scenario = scenario_from_table(&base_table, &base)?;
    Ok(SweepSpec {
        name,
        file: file.to_path_buf(),
        base,
        base_table,
        replications: replications.unwrap_or(base_scenario.replications),
        seed: seed.unwrap_or(base_scenario.seed),
        axes,
        content_hash: content_hash(&[text.as_bytes(), base_text.as_bytes()]),
    })
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

fn parse_axes(file: &Path, axes: Option<&Value>) -> Result<Vec<Axis>, SweepError> {
    let Some(axes) = axes else { return Ok(Vec::new()) };
    let Value::Table(axes) = axes else {
        return Err(invalid(file, "axes", "expected a table of axis = [values]"));
    };
    axes.iter()
        .map(|(path, spec)| {
            let key = format!("axes.\"{path}\"");
            let values = match spec {
                Value::Array(values) if !values.is_empty() => values.clone(),
                Value::Table(range) => range_values(file, &key, range)?,
                _ => {
                    return Err(invalid(
                        file,
                        &key,
                        "expected a non-empty list of values or { from, to, step }",
                    ));
                }
            };
            if let Some(bad) = values.iter().find(|v| matches!(v, Value::Array(_) | Value::Table(_))) {
                return Err(invalid(file, &key, format!("expected scalar values, got {bad}")));
            }
            Ok(Axis { path: path.clone(), values })
        })
        .collect()
}

/// `{ from, to, step }`, inclusive of `to` when it falls on a step.
fn range_values(file: &Path, key: &str, range: &Table) -> Result<Vec<Value>, SweepError> {
    let number = |name: &str| match range.get(name) {
        Some(Value::Integer(n)) => Ok((*n as f64, true)),
        Some(Value::Float(x)) => Ok((*x, false)),
        _ => Err(invalid(file, &format!("{key}.{name}"), "expected a number")),
    };
    if let Some(k) = range.keys().find(|k| !["from", "to", "step"].contains(&k.as_str())) {
        return Err(invalid(file, &format!("{key}.{k}"), "unknown key; expected from, to, step"));
    }
    let ((from, from_int), (to, to_int), (step, step_int)) =
        (number("from")?, number("to")?, number("step")?);
    if step.is_nan() || step <= 0.0 || to < from {
        return Err(invalid(file, key, "expected from <= to and step > 0"));
    }
    let count = ((to - from) / step + 1e-9).floor() as u64 + 1;
    if count > 100_000 {
        return Err(invalid(file, key, format!("{count} values is too many for one axis")));
    }
    let integers = from_int && to_int && step_int;
    Ok((0..count)
        .map(|i| {
            let v = from + step * i as f64;
            if integers {
                Value::Integer(v.round() as i64)
            } else {
                Value::Float(v)
            }
        })
        .collect())
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
                    set_path(&mut table, &axis.path, value.clone()).map_err(|message| SweepError::Axis {
                        file: self.file.clone(),
                        axis: axis.path.clone(),
                        point: describe(),
                        message,
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
