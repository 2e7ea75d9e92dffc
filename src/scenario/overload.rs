//! What a scenario asks of the engine, checked before any run (and by `check`): the number of
//! arrivals and contacts over the horizon, bounded so that a run ends and simulated time
//! advances; and the offered load against the on-shift capacity, so that a grossly overloaded
//! center without first-contact patience (whose queue would only grow) is refused unless
//! `allow_overload = true`.

use super::model::{Arrivals, Channel, Scenario, WEEK_S};
use crate::error::FieldError;

/// Most arrivals (candidates of the thinned arrival process, at the peak rate) or contacts a
/// replication may expect over its horizon. A run this large takes about an hour; a larger one
/// is a typo, and at rates like 1e300 per hour simulated time could not advance at all.
pub const MAX_EXPECTED_EVENTS: f64 = 1e10;
/// Offered load at or above this multiple of capacity, with nothing bounding the queue, is
/// refused: the queue would grow for the whole horizon and the run would report nothing useful.
pub const OVERLOAD_FACTOR: f64 = 2.0;

/// The offered load and the capacity of a scenario, in slots (busy slots on average against
/// on-shift slots on average), over a week.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadEstimate {
    /// New conversations per second, averaged over a week of the profile and weekday multipliers.
    pub arrivals_per_s: f64,
    /// Slots the work would keep busy on average: arrivals × mean exchanges × mean handle time
    /// (with no slow-down). Slot-hours per hour.
    pub offered_slots: f64,
    /// Slots on shift on average: Σ count × concurrency × share of the week on shift (with a
    /// staffing vector, its mean × concurrency).
    pub on_shift_slots: f64,
}

impl LoadEstimate {
    /// The estimate for `scenario`.
    pub fn of(scenario: &Scenario) -> Self {
        let (arrivals_per_s, offered_slots) = scenario.channels.iter().fold((0.0, 0.0), |(n, work), c| {
            let (rate, slots) = Self::channel_load(c);
            (n + rate, work + slots)
        });
        let on_shift_slots = scenario
            .pools
            .iter()
            .map(|pool| {
                if let Some(staffing) = &pool.staffing {
                    return staffing.mean() * f64::from(pool.concurrency);
                }
                let on_share = pool.shifts.as_ref().map_or(1.0, |s| {
                    s.weekly_on.iter().map(|(start, end)| end - start).sum::<f64>() / WEEK_S
                });
                f64::from(pool.count) * f64::from(pool.concurrency) * on_share
            })
            .sum();
        Self { arrivals_per_s, offered_slots, on_shift_slots }
    }

    /// One channel's new conversations per second and the slots its work keeps busy, both
    /// averaged over a week (its share of `arrivals_per_s` and `offered_slots`).
    pub fn channel_load(channel: &Channel) -> (f64, f64) {
        let rate = channel_arrivals_per_s(&channel.arrivals);
        let conversation = &channel.conversation;
        (rate, rate * conversation.exchanges.mean() * conversation.handle_time.mean())
    }

    /// Contacts one replication of `scenario` is expected to simulate: every channel's new
    /// conversations over the horizon × its mean exchanges (what [`check_budget`] bounds).
    pub fn contacts_per_replication(scenario: &Scenario) -> f64 {
        scenario
            .channels
            .iter()
            .map(|c| channel_arrivals_per_s(&c.arrivals) * scenario.horizon * c.conversation.exchanges.mean())
            .sum()
    }

    /// Offered load over capacity (`inf` if nothing is ever on shift).
    pub fn ratio(&self) -> f64 {
        self.offered_slots / self.on_shift_slots
    }
}

/// A channel's new conversations per second, averaged over a week.
fn channel_arrivals_per_s(arrivals: &Arrivals) -> f64 {
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    // The hour-of-day and day-of-week multipliers are independent, so the weekly mean of
    // their product is the product of their means.
    arrivals.rate_per_hour / 3600.0
        * arrivals.hour_profile.as_ref().map_or(1.0, |p| mean(p))
        * arrivals.weekday.as_ref().map_or(1.0, |w| mean(w))
}

/// The key of channel `c`'s `key` (`arrivals.rate_per_hour` without `[[channels]]`).
fn channel_key(scenario: &Scenario, c: usize, key: &str) -> String {
    if scenario.channels_declared {
        format!("channels[{c}].{key}")
    } else {
        key.to_string()
    }
}

/// Refuses a scenario whose arrivals or contacts over the horizon exceed [`MAX_EXPECTED_EVENTS`].
pub(crate) fn check_budget(scenario: &Scenario) -> Result<(), FieldError> {
    let (mut candidates, mut conversations, mut contacts) = (0.0, 0.0, 0.0);
    for (c, channel) in scenario.channels.iter().enumerate() {
        candidates += channel.arrivals.max_rate_per_s() * scenario.horizon;
        check_candidates(candidates, &channel_key(scenario, c, "arrivals.rate_per_hour"))?;
        let more = channel_arrivals_per_s(&channel.arrivals) * scenario.horizon;
        conversations += more;
        contacts += more * channel.conversation.exchanges.mean();
        check_contacts(contacts, conversations, &channel_key(scenario, c, "conversation.exchanges"))?;
    }
    Ok(())
}

/// Refuses more than [`MAX_EXPECTED_EVENTS`] arrival candidates (at the peak rates).
fn check_candidates(candidates: f64, key: &str) -> Result<(), FieldError> {
    // NaN or infinite (a rate overflowing with its multipliers) is refused too.
    if candidates.is_nan() || candidates > MAX_EXPECTED_EVENTS {
        return Err(FieldError::new(
            key,
            format!(
                "expected at most {MAX_EXPECTED_EVENTS:e} arrivals over the horizon, got {} \
                 (peak rate × horizon); reduce rate_per_hour, the peak multipliers or the horizon",
                compact(candidates)
            ),
        ));
    }
    Ok(())
}

/// Refuses more than [`MAX_EXPECTED_EVENTS`] expected contacts.
fn check_contacts(contacts: f64, conversations: f64, key: &str) -> Result<(), FieldError> {
    if contacts.is_nan() || contacts > MAX_EXPECTED_EVENTS {
        return Err(FieldError::new(
            key,
            format!(
                "expected at most {MAX_EXPECTED_EVENTS:e} contacts over the horizon, got {} \
                 ({} conversations × {} exchanges on average); reduce the exchanges, the rate or the horizon",
                compact(contacts),
                compact(conversations),
                compact(contacts / conversations)
            ),
        ));
    }
    Ok(())
}

/// First contacts that first-contact patience may keep waiting at once (arrival rate × mean
/// patience) before it no longer counts as bounding an overloaded queue: a patience of days
/// bounds nothing a run can hold.
pub const PATIENT_QUEUE_LIMIT: f64 = 1e6;

/// Refuses a scenario offered at least [`OVERLOAD_FACTOR`] times its capacity unless
/// first-contact patience bounds the queue (to at most [`PATIENT_QUEUE_LIMIT`] waiting).
pub(crate) fn check(scenario: &Scenario) -> Result<(), FieldError> {
    let load = LoadEstimate::of(scenario);
    if load.ratio() < OVERLOAD_FACTOR {
        return Ok(());
    }
    // Every channel's first contacts must be bounded by patience: one patient channel does not
    // bound another's queue.
    let patient_queue = scenario.channels.iter().try_fold(0.0, |sum, c| {
        c.conversation.patience_first.as_ref().map(|p| sum + channel_arrivals_per_s(&c.arrivals) * p.mean())
    });
    let why = match patient_queue {
        Some(queue) if queue <= PATIENT_QUEUE_LIMIT => return Ok(()),
        Some(queue) => format!(
            "first-contact patience would keep about {} contacts waiting at once, more than a run can \
             hold ({})",
            compact(queue),
            compact(PATIENT_QUEUE_LIMIT)
        ),
        None => "the queue would grow without bound".to_string(),
    };
    Err(FieldError::new(
        channel_key(scenario, 0, "arrivals.rate_per_hour"),
        format!(
            "offered load {} slot-hours per hour is {}× the {} on-shift slots; {why}. Reduce the \
             load, add agents or patience, or set allow_overload = true to run it anyway",
            compact(load.offered_slots),
            compact(load.ratio()),
            compact(load.on_shift_slots)
        ),
    ))
}

/// A number in a few significant digits: `768`, `41`, `3.2`, `3.20e4`.
pub fn compact(x: f64) -> String {
    if x != 0.0 && !(1e-2..1e4).contains(&x.abs()) {
        return format!("{x:.2e}");
    }
    let text = format!("{x:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scenario::parse_scenario;

    /// A center of 16 slots on shift 60 hours a week; `extra` goes at the top level, then
    /// `patience` into `[conversation]`.
    fn scenario(rate: f64, exchanges: u32, handle: &str, extra: &str) -> Result<Scenario, String> {
        with_patience(rate, exchanges, handle, extra, "")
    }

    fn with_patience(
        rate: f64,
        exchanges: u32,
        handle: &str,
        extra: &str,
        patience: &str,
    ) -> Result<Scenario, String> {
        let text = format!(
            "name = \"t\"\nhorizon = \"1d\"\n{extra}\n[arrivals]\nrate_per_hour = {rate:?}\n\
             [conversation]\nexchanges = {{ dist = \"fixed\", value = {exchanges} }}\n\
             handle_time = {{ dist = \"exponential\", mean = \"{handle}\" }}\ngap = {{ dist = \"fixed\", value = 60 }}\n{patience}\n\
             [[agents]]\nname = \"team\"\ncount = 8\nconcurrency = 2\n\
             shifts = [{{ days = \"mon-fri\", start = \"08:00\", end = \"20:00\" }}]\n\
             [policy]\nkind = \"next_available\"\n"
        );
        parse_scenario(&text, Path::new("t.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn the_estimate_is_lambda_times_service_against_slots_on_shift() {
        // M/M/c-like: 120/h × 2 exchanges × 3 min = 12 slot-hours per hour.
        let s = scenario(120.0, 2, "3m", "allow_overload = true").unwrap();
        let load = LoadEstimate::of(&s);
        assert!((load.offered_slots - 12.0).abs() < 1e-9);
        // 16 slots on shift 5 × 12 h of the week's 168 h.
        assert!((load.on_shift_slots - 16.0 * 60.0 / 168.0).abs() < 1e-9);
    }

    #[test]
    fn a_staffing_vector_counts_its_mean_on_shift_slots() {
        let text = "name = \"t\"\nhorizon = \"1d\"\n[arrivals]\nrate_per_hour = 120\n[conversation]\n\
                    exchanges = { dist = \"fixed\", value = 1 }\nhandle_time = { dist = \"fixed\", value = \"3m\" }\n\
                    [[agents]]\nname = \"team\"\nconcurrency = 2\n\
                    staffing = [0, 0, 0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0]\n\
                    [policy]\nkind = \"next_available\"\n";
        // 6 agents × 2 slots for 12 hours of 24: 6 slots on average against 6 offered.
        let s = parse_scenario(text, Path::new("t.toml")).unwrap();
        assert!((LoadEstimate::of(&s).on_shift_slots - 6.0).abs() < 1e-12);
        let halved = text.replace("[policy]", "staffing_scale = 0.5\n[policy]");
        let err = parse_scenario(&halved, Path::new("t.toml")).unwrap_err().to_string();
        assert!(err.contains("is 2× the 3 on-shift slots"), "{err}");
    }

    #[test]
    fn a_grossly_overloaded_center_without_patience_is_refused_unless_allowed() {
        // 12 offered against 5.7 on-shift slots: 2.1×.
        let err = scenario(120.0, 2, "3m", "").unwrap_err();
        assert!(
            err.contains("arrivals.rate_per_hour: offered load 12 slot-hours per hour is 2.1× the 5.71"),
            "{err}"
        );
        assert!(err.contains("allow_overload = true"), "{err}");
        assert!(scenario(120.0, 2, "3m", "allow_overload = true").is_ok());
        assert!(scenario(100.0, 2, "3m", "").is_ok(), "1.75× is not refused");
        let patience = "patience_first = { dist = \"exponential\", mean = \"5m\" }";
        assert!(with_patience(120.0, 2, "3m", "", patience).is_ok(), "abandonment bounds the queue");
        // A patience of years bounds nothing a run can hold: 120/h × 100 years waiting.
        let endless = "patience_first = { dist = \"fixed\", value = \"36500d\" }";
        let err = with_patience(120.0, 2, "3m", "", endless).unwrap_err();
        assert!(err.contains("first-contact patience would keep about 1.05e8 contacts waiting"), "{err}");
    }

    #[test]
    fn rates_whose_arrivals_cannot_be_simulated_are_refused() {
        for rate in ["1e300", "1e9"] {
            let err = scenario(rate.parse().unwrap(), 1, "1m", "allow_overload = true").unwrap_err();
            assert!(err.contains("arrivals.rate_per_hour: expected at most 1e10 arrivals"), "{err}");
        }
        let err = scenario(1e5, 1_000_000, "0.001", "allow_overload = true").unwrap_err();
        assert!(err.contains("conversation.exchanges: expected at most 1e10 contacts"), "{err}");
    }
}
