//! CI gates: `--assert 'wait_first_p90_s<=60'`, checked on the conservative end of the 95%
//! confidence interval: an upper bound must hold for mean + CI, a lower bound for mean − CI.

use std::fmt;
use std::str::FromStr;

use crate::metrics::catalog::index_of;
use crate::metrics::{MetricSummary, METRICS};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Less,
    /// `<=`
    LessEq,
    /// `>`
    Greater,
    /// `>=`
    GreaterEq,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Less => "<",
            Op::LessEq => "<=",
            Op::Greater => ">",
            Op::GreaterEq => ">=",
        }
    }
}

/// One `metric OP bound` condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Assertion {
    /// Metric name from the catalog.
    pub metric: &'static str,
    /// The operator.
    pub op: Op,
    /// The bound.
    pub bound: f64,
}

/// A malformed `--assert`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--assert '{given}': {message}")]
pub struct AssertionError {
    given: String,
    message: String,
}

impl FromStr for Assertion {
    type Err = AssertionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |message: String| AssertionError { given: text.to_string(), message };
        let ops = [("<=", Op::LessEq), (">=", Op::GreaterEq), ("<", Op::Less), (">", Op::Greater)];
        let (at, symbol, op) = ops
            .iter()
            .filter_map(|(s, op)| text.find(s).map(|at| (at, *s, *op)))
            .min_by_key(|(at, s, _)| (*at, std::cmp::Reverse(s.len())))
            .ok_or_else(|| {
                fail("expected METRIC<=VALUE (or <, >, >=), e.g. 'wait_first_p90_s<=60'".into())
            })?;
        let name = text[..at].trim();
        let bound_text = text[at + symbol.len()..].trim();
        let metric = index_of(name).map(|i| METRICS[i].name).ok_or_else(|| {
            let nearest =
                METRICS.iter().map(|m| m.name).min_by_key(|m| edit_distance(m, name)).unwrap_or_default();
            fail(format!("unknown metric \"{name}\"; did you mean \"{nearest}\"?"))
        })?;
        let bound: f64 = bound_text
            .parse()
            .ok()
            .filter(|b: &f64| b.is_finite())
            .ok_or_else(|| fail(format!("expected a number after {symbol}, got \"{bound_text}\"")))?;
        Ok(Assertion { metric, op, bound })
    }
}

impl fmt::Display for Assertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.metric, self.op.symbol(), self.bound)
    }
}

/// The outcome of one assertion at one point.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Whether it holds.
    pub holds: bool,
    /// The value checked: mean ± CI on the conservative side; `None` if undefined.
    pub checked: Option<f64>,
}

impl Assertion {
    /// Checks the assertion on a metric's summary. An undefined metric fails.
    pub fn check(&self, summary: &MetricSummary) -> Verdict {
        let Some(mean) = summary.mean else { return Verdict { holds: false, checked: None } };
        let ci = summary.ci95.unwrap_or(0.0);
        let (checked, holds) = match self.op {
            Op::Less => (mean + ci, mean + ci < self.bound),
            Op::LessEq => (mean + ci, mean + ci <= self.bound),
            Op::Greater => (mean - ci, mean - ci > self.bound),
            Op::GreaterEq => (mean - ci, mean - ci >= self.bound),
        };
        Verdict { holds, checked: Some(checked) }
    }

    /// The bound side checked, for messages: "upper" or "lower".
    pub fn side(&self) -> &'static str {
        match self.op {
            Op::Less | Op::LessEq => "upper",
            Op::Greater | Op::GreaterEq => "lower",
        }
    }
}

/// Levenshtein distance, for "did you mean".
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(mean: f64, ci: f64) -> MetricSummary {
        MetricSummary { mean: Some(mean), ci95: Some(ci), n: 10 }
    }

    #[test]
    fn parses_and_checks_the_conservative_bound() {
        let a: Assertion = "wait_first_p90_s<=60".parse().unwrap();
        assert_eq!((a.metric, a.op, a.bound), ("wait_first_p90_s", Op::LessEq, 60.0));
        assert!(a.check(&summary(55.0, 5.0)).holds);
        assert!(!a.check(&summary(55.0, 5.1)).holds);
        let b: Assertion = "affinity_retention_share >= 0.9".parse().unwrap();
        assert!(b.check(&summary(0.95, 0.04)).holds);
        assert!(!b.check(&summary(0.95, 0.06)).holds);
        assert!(!b.check(&MetricSummary { mean: None, ci95: None, n: 0 }).holds);
        let c: Assertion = "abandon_first_share<0.05".parse().unwrap();
        assert_eq!(c.op, Op::Less);
    }

    #[test]
    fn rejects_unknown_metrics_and_bad_numbers() {
        let e = "wait_frist_p90_s<=60".parse::<Assertion>().unwrap_err().to_string();
        assert!(e.contains("did you mean \"wait_first_p90_s\""), "{e}");
        assert!("wait_first_p90_s<=soon".parse::<Assertion>().is_err());
        assert!("wait_first_p90_s".parse::<Assertion>().is_err());
    }
}
