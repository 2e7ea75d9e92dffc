//! Distributions written as inline tables, `{ dist = "exponential", mean = "4m" }`.
//!
//! Time distributions take durations for their time-valued parameters (`value`, `mean`, `min`,
//! `max`, `scale`, empirical `values`) and plain numbers for the others (`cv`, `shape`,
//! weights). Count distributions (exchanges) take plain numbers and give integers >= 1.

use toml::{Table, Value};

use super::fields::{
    as_duration, as_integer, as_number, duration_what, expected, index, join, one_of, render,
    unknown_message, Section, Sign,
};
use crate::dist::{DistError, Distribution};
use crate::error::FieldError;

/// What a distribution's samples mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Domain {
    /// Seconds (handle times, gaps, patience).
    Time,
    /// Counts >= 1 (exchanges per conversation).
    Count,
}

/// A parsed distribution and whether every sample is 1 (one exchange per conversation).
pub(crate) struct Parsed {
    /// The distribution.
    pub dist: Distribution,
    /// Whether every value it can give is exactly 1.
    pub always_one: bool,
}

const TIME_DISTS: &[&str] =
    &["fixed", "exponential", "uniform", "lognormal", "gamma", "weibull", "empirical", "mixture"];
const COUNT_DISTS: &[&str] = &["fixed", "geometric", "empirical", "mixture"];
const ALL_DISTS: &[&str] = &[
    "fixed",
    "exponential",
    "uniform",
    "lognormal",
    "gamma",
    "weibull",
    "geometric",
    "empirical",
    "mixture",
];
/// Most exchanges a conversation may have (fixed and empirical values, geometric mean): more
/// is a typo, and it keeps the contacts over the horizon countable.
const MAX_EXCHANGES: i64 = 1_000_000;
/// How far a mixture's weights may sum from 1 (decimal weights like 0.1 + 0.2 + 0.7 are not
/// exact in binary).
const MIXTURE_WEIGHT_TOLERANCE: f64 = 1e-9;

/// Mixtures of mixtures are allowed, to this depth.
const MAX_DEPTH: usize = 8;
/// The example unit in duration messages.
const EXAMPLE: &str = "4m";

fn params_of(name: &str) -> &'static [&'static str] {
    match name {
        "fixed" => &["value"],
        "exponential" | "geometric" => &["mean"],
        "uniform" => &["min", "max"],
        "lognormal" | "gamma" => &["mean", "cv"],
        "weibull" => &["shape", "scale"],
        "empirical" => &["values", "weights"],
        "mixture" => &["parts"],
        _ => &[],
    }
}

/// Parses the distribution at `path`.
pub(crate) fn distribution(value: &Value, path: &str, domain: Domain) -> Result<Parsed, FieldError> {
    parse(value, path, domain, &[], 0)
}

fn parse(
    value: &Value,
    path: &str,
    domain: Domain,
    extra: &[&str],
    depth: usize,
) -> Result<Parsed, FieldError> {
    let allowed = match domain {
        Domain::Time => TIME_DISTS,
        Domain::Count => COUNT_DISTS,
    };
    let Some(table) = value.as_table() else {
        let example = match domain {
            Domain::Time => "a distribution like { dist = \"exponential\", mean = \"4m\" }",
            Domain::Count => "a distribution like { dist = \"geometric\", mean = 4 }",
        };
        return Err(expected(path, example, value));
    };
    let name = dist_name(table, path, domain, allowed)?;
    let mut known = vec!["dist"];
    known.extend_from_slice(params_of(name));
    known.extend_from_slice(extra);
    let sec = Section::new(table, path, &known)?;
    let reader = Reader { sec, domain };
    match name {
        "fixed" => reader.fixed(),
        "exponential" => reader.exponential(),
        "uniform" => reader.uniform(),
        "lognormal" | "gamma" => reader.mean_cv(name),
        "weibull" => reader.weibull(),
        "geometric" => reader.geometric(),
        "empirical" => reader.empirical(),
        _ => reader.mixture(depth),
    }
}

/// The `dist` key, checked against the distributions `domain` allows.
fn dist_name<'t>(
    table: &'t Table,
    path: &str,
    domain: Domain,
    allowed: &[&str],
) -> Result<&'t str, FieldError> {
    let key = join(path, "dist");
    let value = table
        .get("dist")
        .ok_or_else(|| FieldError::new(&key, format!("missing: expected one of {}", one_of(allowed))))?;
    let name = value.as_str().ok_or_else(|| expected(&key, &format!("one of {}", one_of(allowed)), value))?;
    if allowed.contains(&name) {
        return Ok(name);
    }
    let message = match (ALL_DISTS.contains(&name), domain) {
        (false, _) => unknown_message("distribution", name, allowed),
        (true, Domain::Time) => {
            format!("\"{name}\" gives counts (for exchanges), not times; expected one of {}", one_of(allowed))
        }
        (true, Domain::Count) => {
            format!("\"{name}\" gives times, not counts of exchanges; expected one of {}", one_of(allowed))
        }
    };
    Err(FieldError::new(key, message))
}

/// Reads the parameters of one distribution table.
struct Reader<'a> {
    sec: Section<'a>,
    domain: Domain,
}

impl Reader<'_> {
    /// A finite number; its range is left to the distribution's own checks.
    fn plain(&self, key: &str, what: &str) -> Result<f64, FieldError> {
        let value = self.sec.get(key).ok_or_else(|| self.sec.missing(key, what))?;
        let x = match value {
            Value::Integer(n) => *n as f64,
            Value::Float(x) if x.is_finite() => *x,
            _ => return Err(expected(&self.sec.path(key), what, value)),
        };
        Ok(x)
    }

    /// Maps a parameter error to its key, showing the value written there.
    fn param_error(&self, error: DistError) -> FieldError {
        let DistError::Param { param, expected } = error;
        let got = self.sec.get(param).map_or_else(|| "nothing".to_string(), render);
        FieldError::new(self.sec.path(param), format!("{expected}, got {got}"))
    }

    fn done(&self, built: Result<Distribution, DistError>, always_one: bool) -> Result<Parsed, FieldError> {
        built.map(|dist| Parsed { dist, always_one }).map_err(|e| self.param_error(e))
    }

    fn fixed(&self) -> Result<Parsed, FieldError> {
        let value = match self.domain {
            Domain::Time => self.sec.req_duration("value", Sign::NonNegative, EXAMPLE)?,
            Domain::Count => self.sec.req_integer("value", 1, MAX_EXCHANGES)? as f64,
        };
        self.done(Distribution::new_fixed(value), value == 1.0)
    }

    fn exponential(&self) -> Result<Parsed, FieldError> {
        let mean = self.sec.req_duration("mean", Sign::Positive, EXAMPLE)?;
        self.done(Distribution::new_exponential(mean), false)
    }

    fn uniform(&self) -> Result<Parsed, FieldError> {
        let min = self.sec.req_duration("min", Sign::NonNegative, EXAMPLE)?;
        let max = self.sec.req_duration("max", Sign::NonNegative, EXAMPLE)?;
        if max <= min {
            let min_text = self.sec.get("min").map_or_else(String::new, render);
            let what = format!("a duration greater than min ({min_text})");
            return Err(self.sec.get("max").map_or_else(
                || self.sec.missing("max", &what),
                |v| expected(&self.sec.path("max"), &what, v),
            ));
        }
        self.done(Distribution::new_uniform(min, max), false)
    }

    fn mean_cv(&self, name: &str) -> Result<Parsed, FieldError> {
        let mean = self.sec.req_duration("mean", Sign::Positive, EXAMPLE)?;
        let cv = self.plain("cv", "a positive coefficient of variation")?;
        let built = if name == "gamma" {
            Distribution::new_gamma(mean, cv)
        } else {
            Distribution::new_lognormal(mean, cv)
        };
        self.done(built, false)
    }

    fn weibull(&self) -> Result<Parsed, FieldError> {
        let shape = self.plain("shape", "a positive number")?;
        let scale = self.sec.req_duration("scale", Sign::Positive, EXAMPLE)?;
        self.done(Distribution::new_weibull(shape, scale), false)
    }

    fn geometric(&self) -> Result<Parsed, FieldError> {
        let what = format!("a number from 1 to {MAX_EXCHANGES}");
        let mean = self.plain("mean", &what)?;
        if !(1.0..=MAX_EXCHANGES as f64).contains(&mean) {
            return Err(self.sec.get("mean").map_or_else(
                || self.sec.missing("mean", &what),
                |v| expected(&self.sec.path("mean"), &what, v),
            ));
        }
        self.done(Distribution::new_geometric(mean), mean == 1.0)
    }

    fn empirical(&self) -> Result<Parsed, FieldError> {
        let values_what = match self.domain {
            Domain::Time => format!("an array of {}s", duration_what(Sign::NonNegative, EXAMPLE)),
            Domain::Count => format!("an array of integers from 1 to {MAX_EXCHANGES}"),
        };
        let items = self
            .sec
            .array("values", &values_what)?
            .ok_or_else(|| self.sec.missing("values", &values_what))?;
        let path = self.sec.path("values");
        let values = items
            .iter()
            .enumerate()
            .map(|(i, v)| match self.domain {
                Domain::Time => as_duration(v, &index(&path, i), Sign::NonNegative, EXAMPLE),
                Domain::Count => as_integer(v, &index(&path, i), 1, MAX_EXCHANGES).map(|n| n as f64),
            })
            .collect::<Result<Vec<f64>, _>>()?;
        // Weights are optional: absent, every value is equally likely.
        let weights = match self.sec.array("weights", "an array of non-negative numbers")? {
            None => vec![1.0; values.len()],
            Some(items) => {
                let path = self.sec.path("weights");
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| as_number(v, &index(&path, i), Sign::NonNegative, "a non-negative number"))
                    .collect::<Result<Vec<f64>, _>>()?
            }
        };
        let always_one = values.iter().zip(&weights).all(|(v, w)| *v == 1.0 || *w == 0.0);
        self.done(Distribution::new_empirical(values, weights), always_one)
    }

    fn mixture(&self, depth: usize) -> Result<Parsed, FieldError> {
        let what = "an array of parts like { weight = 0.7, dist = \"exponential\", mean = \"2m\" }";
        let path = self.sec.path("parts");
        let items = self.sec.array("parts", what)?.ok_or_else(|| self.sec.missing("parts", what))?;
        if depth >= MAX_DEPTH {
            return Err(FieldError::new(path, format!("mixtures nest at most {MAX_DEPTH} deep")));
        }
        let mut parts = Vec::with_capacity(items.len());
        let mut weight_texts = Vec::with_capacity(items.len());
        let mut always_one = true;
        for (i, item) in items.iter().enumerate() {
            let part_path = index(&path, i);
            let part = parse(item, &part_path, self.domain, &["weight"], depth + 1)?;
            let weight_path = join(&part_path, "weight");
            let weight = match item.get("weight") {
                Some(v) => {
                    weight_texts.push(render(v));
                    as_number(v, &weight_path, Sign::NonNegative, "a non-negative number")?
                }
                None => return Err(FieldError::new(weight_path, "missing: expected a non-negative number")),
            };
            always_one &= part.always_one || weight == 0.0;
            parts.push((weight, part.dist));
        }
        let sum: f64 = parts.iter().map(|(w, _)| w).sum();
        let got = if weight_texts.is_empty() {
            "[]".to_string()
        } else {
            format!("weights [{}]", weight_texts.join(", "))
        };
        let dist = Distribution::new_mixture(parts).map_err(|DistError::Param { expected, .. }| {
            FieldError::new(&path, format!("{expected}, got {got}"))
        })?;
        // Weights are shares of the draws, not relative sizes: [0.6, 0.5] is a typo to report,
        // not something to rescale silently (empirical weights are relative, and normalised).
        if (sum - 1.0).abs() > MIXTURE_WEIGHT_TOLERANCE {
            let shown = (sum * 1e6).round() / 1e6;
            return Err(FieldError::new(
                path,
                format!("expected weights that sum to 1, got {got} (sum {shown})"),
            ));
        }
        Ok(Parsed { dist, always_one })
    }
}
