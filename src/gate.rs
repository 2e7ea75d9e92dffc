//! CI gates: `--assert 'wait_first_p90_s<=60'`, checked on the conservative end of the 95%
//! confidence interval: an upper bound must hold for mean + CI, a lower bound for mean − CI.
//! A metric whose mean or CI is undefined fails: a gate never passes on what it cannot see.
//! Also the one lookup of metric names typed on the command line, with a "did you mean".

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
        let metric = metric_index(name).map(|i| METRICS[i].name).map_err(fail)?;
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

/// The index in the catalog of the metric named `name`, or a message naming the closest one.
pub fn metric_index(name: &str) -> Result<usize, String> {
    index_of(name).ok_or_else(|| {
        let names: Vec<&str> = METRICS.iter().map(|m| m.name).collect();
        match crate::suggest::suggest(name, &names) {
            Some(m) => format!("unknown metric \"{name}\"; did you mean \"{m}\"?"),
            None => format!(
                "unknown metric \"{name}\"; expected a metric name as in summary.csv, e.g. \"wait_first_p90_s\""
            ),
        }
    })
}

/// The outcome of one assertion at one point.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The conservative bound `checked` meets the condition.
    Holds {
        /// Mean ± CI on the conservative side.
        checked: f64,
    },
    /// The conservative bound `checked` misses it.
    Fails {
        /// Mean ± CI on the conservative side.
        checked: f64,
    },
    /// The metric is defined in no replication at this point.
    Undefined,
    /// The mean is defined but its CI is not (fewer than 2 replications define it): the
    /// conservative bound is unknown, so the gate fails rather than treat the CI as 0.
    NoInterval,
}

impl Verdict {
    /// Whether the assertion holds.
    pub fn holds(&self) -> bool {
        matches!(self, Verdict::Holds { .. })
    }
}

impl Assertion {
    /// Checks the assertion on a metric's summary. An undefined mean or CI fails.
    pub fn check(&self, summary: &MetricSummary) -> Verdict {
        let Some(mean) = summary.mean else { return Verdict::Undefined };
        let Some(ci) = summary.ci95.filter(|ci| ci.is_finite()) else { return Verdict::NoInterval };
        let (checked, holds) = match self.op {
            Op::Less => (mean + ci, mean + ci < self.bound),
            Op::LessEq => (mean + ci, mean + ci <= self.bound),
            Op::Greater => (mean - ci, mean - ci > self.bound),
            Op::GreaterEq => (mean - ci, mean - ci >= self.bound),
        };
        if holds {
            Verdict::Holds { checked }
        } else {
            Verdict::Fails { checked }
        }
    }

    /// The bound side checked, for messages: "upper" or "lower".
    pub fn side(&self) -> &'static str {
        match self.op {
            Op::Less | Op::LessEq => "upper",
            Op::Greater | Op::GreaterEq => "lower",
        }
    }
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
        assert!(a.check(&summary(55.0, 5.0)).holds());
        assert!(!a.check(&summary(55.0, 5.1)).holds());
        let b: Assertion = "affinity_retention_share >= 0.9".parse().unwrap();
        assert!(b.check(&summary(0.95, 0.04)).holds());
        assert!(!b.check(&summary(0.95, 0.06)).holds());
        assert_eq!(b.check(&MetricSummary { mean: None, ci95: None, n: 0 }), Verdict::Undefined);
        let c: Assertion = "abandon_first_share<0.05".parse().unwrap();
        assert_eq!(c.op, Op::Less);
    }

    #[test]
    fn an_undefined_interval_is_never_taken_as_zero() {
        // One replication: a mean without a CI. Treating the CI as 0 would pass this gate.
        let one_replication = MetricSummary { mean: Some(10.0), ci95: None, n: 1 };
        let a: Assertion = "wait_first_p90_s<=60".parse().unwrap();
        assert_eq!(a.check(&one_replication), Verdict::NoInterval);
        assert!(!a.check(&one_replication).holds());
        let nan = MetricSummary { mean: Some(10.0), ci95: Some(f64::NAN), n: 2 };
        assert!(!a.check(&nan).holds());
    }

    #[test]
    fn rejects_unknown_metrics_and_bad_numbers() {
        let e = "wait_frist_p90_s<=60".parse::<Assertion>().unwrap_err().to_string();
        assert!(e.contains("did you mean \"wait_first_p90_s\""), "{e}");
        assert!("wait_first_p90_s<=soon".parse::<Assertion>().is_err());
        assert!("wait_first_p90_s".parse::<Assertion>().is_err());
        let far = metric_index("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz").unwrap_err();
        assert!(!far.contains("did you mean"), "{far}");
    }
}
