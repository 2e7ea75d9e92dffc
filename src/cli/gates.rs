//! `--assert` at the command line: parsing the conditions, refusing to gate where the 95% CI
//! cannot exist, and checking every condition at every point with one stderr line per failure.

use anyhow::{bail, Result};

use crate::gate::{Assertion, Measured, Verdict};
use crate::metrics::MetricSummary;
use crate::runner::RunTotals;
use crate::scenario::Scenario;

/// Parses every value of `flag` (`--assert` or `--target`); the first malformed one is the error.
pub(super) fn parse_assertions(texts: &[String], flag: &'static str) -> Result<Vec<Assertion>> {
    texts.iter().map(|t| t.parse::<Assertion>().map_err(|e| anyhow::Error::from(e.for_flag(flag)))).collect()
}

/// Refuses conditions naming a channel `scenario` (read from `file`) does not have.
pub(super) fn check_scenario_channels(
    assertions: &[Assertion],
    scenario: &Scenario,
    flag: &str,
    file: &std::path::Path,
) -> Result<()> {
    let names: Vec<&str> = scenario.channels.iter().map(|c| c.name.as_str()).collect();
    let known = crate::gate::addressable_channels(&names);
    crate::gate::check_channels(assertions, &known, flag, &file.display().to_string())
        .map_err(anyhow::Error::msg)
}

/// What conditions read from a run's totals: the whole run and each channel (`names`, in
/// scenario order). With one channel there is no breakdown; its metrics are the run's.
pub(super) fn measured(totals: &RunTotals, names: &[String]) -> Measured {
    let run: Vec<MetricSummary> = totals.summaries().into_iter().map(|(_, s)| s).collect();
    match names {
        [only] => Measured::one_channel(run, only),
        _ => Measured { run, channels: names.iter().cloned().zip(totals.channel_summaries()).collect() },
    }
}

/// Refuses `--assert` with fewer than 2 replications: the 95% CI needs 2, and a gate on an
/// interval that does not exist would pass or fail by accident. `source` says where the count
/// came from, e.g. "the scenario's `replications` (or --replications)".
pub(super) fn require_replications(assertions: &[Assertion], replications: u64, source: &str) -> Result<()> {
    if !assertions.is_empty() && replications < 2 {
        bail!(
            "--assert needs at least 2 replications (the 95% CI is undefined with {replications}); \
             {source} is {replications}"
        );
    }
    Ok(())
}

/// Checks every assertion at every point, prints each violation on stderr, returns how many.
/// No point at all is a failure: a gate over nothing must not pass.
pub(super) fn check_assertions(assertions: &[Assertion], points: &[(String, Measured)]) -> usize {
    if !assertions.is_empty() && points.is_empty() {
        errln!("assertion failed: there is no point to check");
        return assertions.len();
    }
    let mut failures = 0;
    for (point, metrics) in points {
        for assertion in assertions {
            let Some(summary) = metrics.summary(assertion) else {
                failures += 1;
                errln!("assertion failed: {assertion} at ({point}): the metric is missing here");
                continue;
            };
            let verdict = assertion.check(&summary);
            if verdict.holds() {
                continue;
            }
            failures += 1;
            report_failure(assertion, point, &summary, &verdict);
        }
    }
    if !assertions.is_empty() && failures == 0 {
        errln!("all {} assertion(s) hold at {} point(s)", assertions.len(), points.len());
    }
    failures
}

fn report_failure(assertion: &Assertion, point: &str, summary: &MetricSummary, verdict: &Verdict) {
    match verdict {
        Verdict::Holds { .. } => {}
        Verdict::Fails { checked } => errln!(
            "assertion failed: {assertion} at ({point}): {} 95% bound {checked:.6} (mean {:.6} ± {:.6})",
            assertion.side(),
            summary.mean.unwrap_or(f64::NAN),
            summary.ci95.unwrap_or(f64::NAN),
        ),
        Verdict::Undefined => {
            errln!("assertion failed: {assertion} at ({point}): the metric is undefined here")
        }
        Verdict::NoInterval => errln!(
            "assertion failed: {assertion} at ({point}): its 95% CI is undefined here (fewer than 2 \
             replications define the metric), so the {} bound is unknown",
            assertion.side()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_replication_is_refused_only_when_gating() {
        let gates = parse_assertions(&["wait_first_p90_s<=60".to_string()], "--assert").unwrap();
        let error = require_replications(&gates, 1, "the scenario's `replications`").unwrap_err();
        assert!(error.to_string().contains("at least 2 replications"), "{error}");
        assert!(require_replications(&gates, 2, "x").is_ok());
        assert!(require_replications(&[], 1, "x").is_ok());
    }

    #[test]
    fn no_point_fails_the_gate() {
        let gates = parse_assertions(&["wait_first_p90_s<=60".to_string()], "--assert").unwrap();
        assert_eq!(check_assertions(&gates, &[]), 1);
        assert_eq!(check_assertions(&[], &[]), 0);
    }
}
