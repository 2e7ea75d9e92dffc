//! CI gates: `--assert 'wait_first_p90_s<=60'`, checked on the conservative end of the 95%
//! confidence interval: an upper bound must hold for mean + CI, a lower bound for mean − CI.
//! A metric whose mean or CI is undefined fails: a gate never passes on what it cannot see.
//! A condition may name a channel's metric, `chat.sl_first_share>=0.8`, read from the
//! channel's breakdown ([`Measured`]). Also the one lookup of metric names typed on the
//! command line, with a "did you mean".

use std::fmt;
use std::str::FromStr;

use crate::metrics::catalog::{index_of, scope_metrics, Scope, BREAKDOWN_METRICS};
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

/// One `[channel.]metric OP bound` condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Assertion {
    /// The channel whose metric is meant (`chat.sl_first_share`); `None`: the whole run.
    pub channel: Option<String>,
    /// Metric name from the catalog (with a channel, one of the channel scope).
    pub metric: &'static str,
    /// The operator.
    pub op: Op,
    /// The bound.
    pub bound: f64,
}

/// A malformed `--assert` (or `--target`: see [`AssertionError::for_flag`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{flag} '{given}': {message}")]
pub struct AssertionError {
    flag: &'static str,
    given: String,
    message: String,
}

impl AssertionError {
    /// The same error naming `flag` (e.g. `--target`), the flag the condition was given to.
    pub fn for_flag(self, flag: &'static str) -> Self {
        Self { flag, ..self }
    }
}

impl FromStr for Assertion {
    type Err = AssertionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |message: String| AssertionError { flag: "--assert", given: text.to_string(), message };
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
        // Metric names hold no dot, so a dot can only separate a channel from its metric.
        let (channel, metric) = match name.split_once('.') {
            Some((channel, metric)) => {
                let channel = channel.trim();
                if channel.is_empty() {
                    return Err(fail("expected CHANNEL.METRIC with a channel name before the dot".into()));
                }
                (Some(channel.to_string()), channel_metric(metric.trim()).map_err(fail)?)
            }
            None => (None, metric_index(name).map(|i| METRICS[i].name).map_err(fail)?),
        };
        let bound: f64 = bound_text
            .parse()
            .ok()
            .filter(|b: &f64| b.is_finite())
            .ok_or_else(|| fail(format!("expected a number after {symbol}, got \"{bound_text}\"")))?;
        Ok(Assertion { channel, metric, op, bound })
    }
}

impl fmt::Display for Assertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.name(), self.op.symbol(), self.bound)
    }
}

/// The metric of the channel scope named `name`, or a message saying what a channel has.
fn channel_metric(name: &str) -> Result<&'static str, String> {
    let channel = scope_metrics(Scope::Channel);
    if let Some(m) = channel.iter().find(|m| m.name == name) {
        return Ok(m.name);
    }
    if METRICS.iter().chain(BREAKDOWN_METRICS).any(|m| m.name == name) {
        return Err(format!(
            "\"{name}\" is not reported per channel; expected a channel metric (a column of \
             channels.csv), e.g. \"sl_first_share\", or the whole-run \"{name}\" without a channel"
        ));
    }
    let names: Vec<&str> = channel.iter().map(|m| m.name).collect();
    Err(match crate::suggest::suggest(name, &names) {
        Some(m) => format!("unknown channel metric \"{name}\"; did you mean \"{m}\"?"),
        None => format!(
            "unknown channel metric \"{name}\"; expected CHANNEL.METRIC with a column of channels.csv, \
             e.g. \"chat.sl_first_share\""
        ),
    })
}

/// Checks that every channel the conditions name is in `known`: `flag` is the flag they came
/// from, `whose` says where the names come from (e.g. the scenario file).
pub fn check_channels(
    assertions: &[Assertion],
    known: &[&str],
    flag: &str,
    whose: &str,
) -> Result<(), String> {
    for a in assertions {
        let Some(channel) = a.channel.as_deref() else { continue };
        if known.contains(&channel) {
            continue;
        }
        let hint = match crate::suggest::suggest(channel, known) {
            Some(name) => format!("did you mean \"{name}\"?"),
            None if known.is_empty() => "it has no per-channel results (those exist only with several \
                 [[channels]]); gate on the whole-run metric instead"
                .to_string(),
            None => format!("expected one of: {}", known.join(", ")),
        };
        return Err(format!("{flag} '{a}': {whose} has no channel \"{channel}\"; {hint}"));
    }
    Ok(())
}

/// What conditions read at one point: every whole-run metric and each channel's metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measured {
    /// Every whole-run metric, in [`METRICS`] order.
    pub run: Vec<MetricSummary>,
    /// Per channel: its name and its metrics in `scope_metrics(Scope::Channel)` order.
    pub channels: Vec<(String, Vec<MetricSummary>)>,
}

/// The name every command accepts for the one channel of a one-channel point, whatever its
/// own name: the channel a scenario without `[[channels]]` has, and the only name `merge` can
/// know (a one-channel point's results do not record it).
pub const ONE_CHANNEL: &str = "default";

/// The channel names conditions may use at a point whose channels are `names`: with one
/// channel, its own name and [`ONE_CHANNEL`].
pub fn addressable_channels<'a>(names: &[&'a str]) -> Vec<&'a str> {
    let mut known = names.to_vec();
    if let [only] = names {
        if *only != ONE_CHANNEL {
            known.push(ONE_CHANNEL);
        }
    }
    known
}

impl Measured {
    /// A point with one channel, named `name`: no breakdown is kept for it, since its
    /// contacts are all the run's, so its metrics are the whole run's, under its name and
    /// under [`ONE_CHANNEL`].
    pub fn one_channel(run: Vec<MetricSummary>, name: &str) -> Self {
        let missing = MetricSummary { mean: None, ci95: None, n: 0 };
        let columns: Vec<MetricSummary> = scope_metrics(Scope::Channel)
            .iter()
            .map(|m| index_of(m.name).and_then(|i| run.get(i)).copied().unwrap_or(missing))
            .collect();
        let channels =
            addressable_channels(&[name]).into_iter().map(|n| (n.to_string(), columns.clone())).collect();
        Self { run, channels }
    }

    /// The summary `assertion` reads here; `None` where the point lacks its channel.
    pub fn summary(&self, assertion: &Assertion) -> Option<MetricSummary> {
        match &assertion.channel {
            None => index_of(assertion.metric).and_then(|i| self.run.get(i)).copied(),
            Some(channel) => {
                let (_, values) = self.channels.iter().find(|(name, _)| name == channel)?;
                let column = scope_metrics(Scope::Channel).iter().position(|m| m.name == assertion.metric)?;
                values.get(column).copied()
            }
        }
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
    /// `metric`, or `channel.metric`.
    pub fn name(&self) -> String {
        match &self.channel {
            Some(channel) => format!("{channel}.{}", self.metric),
            None => self.metric.to_string(),
        }
    }

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

    #[test]
    fn a_channel_metric_is_channel_dot_metric() {
        let a: Assertion = "chat.sl_first_share>=0.8".parse().unwrap();
        assert_eq!((a.channel.as_deref(), a.metric), (Some("chat"), "sl_first_share"));
        assert_eq!(a.to_string(), "chat.sl_first_share>=0.8");
        let no_scope = "chat.occupancy_share<=0.9".parse::<Assertion>().unwrap_err().to_string();
        assert!(
            no_scope.starts_with("--assert 'chat.occupancy_share<=0.9': \"occupancy_share\" is not"),
            "{no_scope}"
        );
        let typo = "chat.sl_frist_share>=0.8".parse::<Assertion>().unwrap_err();
        assert!(typo.to_string().contains("did you mean \"sl_first_share\""), "{typo}");
        assert!(typo.for_flag("--target").to_string().starts_with("--target 'chat."));
        assert!(".sl_first_share>=0.8".parse::<Assertion>().is_err());
    }

    #[test]
    fn unknown_channels_are_named_with_a_suggestion() {
        let a: Vec<Assertion> = vec!["caht.sl_first_share>=0.8".parse().unwrap()];
        let e = check_channels(&a, &["chat", "messaging"], "--assert", "s.toml").unwrap_err();
        assert!(e.contains("s.toml has no channel \"caht\"; did you mean \"chat\"?"), "{e}");
        let none = check_channels(&a, &[], "--assert", "the results").unwrap_err();
        assert!(none.contains("no per-channel results"), "{none}");
        assert!(check_channels(&a, &["caht"], "--assert", "x").is_ok());
    }

    #[test]
    fn a_single_channel_reads_the_whole_run() {
        let mut run = vec![MetricSummary { mean: None, ci95: None, n: 0 }; METRICS.len()];
        run[index_of("sl_first_share").unwrap()] = summary(0.9, 0.01);
        let measured = Measured::one_channel(run, "default");
        let a: Assertion = "default.sl_first_share>=0.85".parse().unwrap();
        assert_eq!(measured.summary(&a), Some(summary(0.9, 0.01)));
        let other: Assertion = "chat.sl_first_share>=0.85".parse().unwrap();
        assert_eq!(measured.summary(&other), None);
        // A one-channel point named otherwise answers to its name and to `default`.
        let chat = Measured::one_channel(measured.run.clone(), "chat");
        assert_eq!(chat.summary(&other), Some(summary(0.9, 0.01)));
        assert_eq!(chat.summary(&a), Some(summary(0.9, 0.01)));
        let whole: Assertion = "sl_first_share>=0.85".parse().unwrap();
        assert_eq!(measured.summary(&whole), Some(summary(0.9, 0.01)));
    }
}
