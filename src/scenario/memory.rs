//! Bounds on the memory the breakdowns by interval take, checked when a scenario loads (and
//! again when `--replications` replaces its count), so that a narrow `[report] interval` is
//! refused with one keyed line instead of exhausting memory.
//!
//! What a breakdown row costs (measured, release build, docs/model.md "Memory"): a row is one
//! interval of the center's breakdown or, with several channels, of one channel's. While a
//! replication runs and waits for its turn it costs about 0.55 KB (the recorder's counters,
//! then one value per metric); the runner keeps at most 200,000 such rows in flight
//! (`runner::window`). Once handed back, a replication keeps 8 bytes per metric and row for
//! the summaries (about 0.15 KB a row), held by the run's totals and, with `--out`, once more
//! while the breakdown files are summarised.

use super::model::{ReportSpec, Scenario, DAY_S};
use crate::error::FieldError;

/// Breakdown rows one replication may keep ([`Scenario::breakdown_rows`]): about 55 MB while
/// it runs. A 1-minute interval over a week is 10,080 rows, so the center and up to eight
/// channels by minute over a week fit.
pub const MAX_BREAKDOWN_ROWS: usize = 100_000;

/// Breakdown rows × replications a run may keep for its summaries: about 150 MB, twice that
/// with `--out` (for example 40,320 rows, a center of three channels by minute over a week,
/// for 24 replications).
pub const MAX_ROW_REPLICATIONS: u64 = 1_000_000;

/// An hour, in seconds: intervals this wide or wider are not bounded over replications.
const HOUR_S: f64 = 3600.0;

/// Refuses a scenario whose breakdowns by interval, over `replications` replications, would
/// pass [`MAX_BREAKDOWN_ROWS`] or (intervals under an hour) [`MAX_ROW_REPLICATIONS`]. The
/// error is keyed `report.interval` and says what to change.
pub fn check_breakdowns(scenario: &Scenario, replications: u32) -> Result<(), FieldError> {
    let rows = scenario.breakdown_rows();
    let report = scenario.report;
    let tables = rows / report.rows().max(1);
    let shape = format!(
        "{} intervals of {} over a {}{}",
        report.rows(),
        crate::duration::format_duration(report.interval_s),
        report.fold.name(),
        if tables > 1 {
            format!(" × {tables} breakdowns (the center and each channel)")
        } else {
            String::new()
        }
    );
    if rows > MAX_BREAKDOWN_ROWS {
        return Err(FieldError::new(
            "report.interval",
            format!(
                "{shape} is {rows} breakdown rows per replication, more than the budget of \
                 {MAX_BREAKDOWN_ROWS} (about 0.55 KB each while a replication runs); use an \
                 interval of at least {}{}",
                narrowest_interval(report, tables, MAX_BREAKDOWN_ROWS),
                if report.fold.name() == "week" { " or fold = \"day\"" } else { "" }
            ),
        ));
    }
    // Hourly and coarser breakdowns keep what they always did: their memory grows with the
    // replications like the whole-run values' (a run of a million replications streams).
    let kept = rows as u64 * u64::from(replications);
    if report.interval_s < HOUR_S && kept > MAX_ROW_REPLICATIONS {
        let most = MAX_ROW_REPLICATIONS / rows.max(1) as u64;
        let budget_rows = usize::try_from(MAX_ROW_REPLICATIONS / u64::from(replications.max(1))).unwrap_or(1);
        return Err(FieldError::new(
            "report.interval",
            format!(
                "{shape} is {rows} breakdown rows per replication; × {replications} replications \
                 that is {kept} rows kept for the summaries, more than the budget of \
                 {MAX_ROW_REPLICATIONS} (8 bytes per metric each: about 150 MB); use at most \
                 {most} replications or an interval of at least {}",
                narrowest_interval(report, tables, budget_rows.max(1))
            ),
        ));
    }
    Ok(())
}

/// The narrowest interval (whole seconds dividing a day) whose rows × `tables` over the fold
/// of `report` fit in `rows`, as a duration.
pub fn narrowest_interval(report: ReportSpec, tables: usize, rows: usize) -> String {
    let least = report.fold.period_s() * tables as f64 / rows as f64;
    let day = DAY_S as u64;
    let width = (1..=day).find(|w| *w as f64 >= least && day.is_multiple_of(*w)).unwrap_or(day);
    crate::duration::format_duration(width as f64)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::scenario::parse_scenario;

    fn load(report: &str, channels: usize, replications: u32) -> Result<crate::scenario::Scenario, String> {
        let channel = "arrivals = { rate_per_hour = 6 }\n\
                       conversation = { exchanges = { dist = \"fixed\", value = 1 }, handle_time = { dist = \"fixed\", value = \"1m\" } }\n";
        let channels: String =
            (0..channels).map(|c| format!("[[channels]]\nname = \"c{c}\"\n{channel}")).collect();
        let text = format!(
            "name = \"t\"\nhorizon = \"1d\"\nreplications = {replications}\n{channels}\
             [[agents]]\nname = \"a\"\ncount = 2\n[policy]\nkind = \"next_available\"\n[report]\n{report}\n"
        );
        parse_scenario(&text, Path::new("t.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_minute_over_a_week_with_a_few_channels_loads() {
        assert!(load("interval = \"1m\"\nfold = \"week\"", 3, 24).is_ok());
        assert!(load("interval = \"1m\"\nfold = \"week\"", 8, 1).is_ok());
    }

    #[test]
    fn a_second_over_a_week_is_refused_naming_the_interval_to_use() {
        let error = load("interval = \"1s\"\nfold = \"week\"", 1, 1).unwrap_err();
        assert!(error.contains("t.toml: report.interval: 604800 intervals of 1s over a week"), "{error}");
        assert!(error.contains("budget of 100000"), "{error}");
        assert!(error.contains("use an interval of at least 8s or fold = \"day\""), "{error}");
        let error = load("interval = \"1m\"\nfold = \"week\"", 12, 1).unwrap_err();
        assert!(error.contains("× 13 breakdowns (the center and each channel)"), "{error}");
    }

    #[test]
    fn rows_times_replications_past_the_budget_are_refused_naming_both_ways_out() {
        let error = load("interval = \"1m\"\nfold = \"week\"", 3, 30).unwrap_err();
        assert!(error.contains("report.interval: "), "{error}");
        assert!(error.contains("× 30 replications that is 1209600 rows"), "{error}");
        assert!(error.contains("use at most 24 replications or an interval of at least 75s"), "{error}");
    }
}
