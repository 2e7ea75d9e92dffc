//! The validated scenario: every value checked, every duration in seconds.
//!
//! The engine consumes only these types; once a [`Scenario`] exists, nothing downstream needs
//! to re-check it.

use crate::dist::Distribution;
use crate::policy::PolicySpec;

/// Seconds in a day and a week; simulated time 0 is Monday 00:00.
pub const DAY_S: f64 = 86_400.0;
/// Seconds in a week.
pub const WEEK_S: f64 = 7.0 * DAY_S;

/// A complete, validated simulation scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The scenario's name, used in reports and result paths.
    pub name: String,
    /// Simulated time, seconds.
    pub horizon: f64,
    /// Contacts ready before this time are left out of every statistic, seconds.
    pub warmup: f64,
    /// Master seed; replication seeds derive from it.
    pub seed: u64,
    /// Number of independent replications.
    pub replications: u32,
    /// How new conversations arrive.
    pub arrivals: Arrivals,
    /// What a conversation looks like.
    pub conversation: ConversationModel,
    /// Agent pools, in file order; agents are numbered pool by pool.
    pub pools: Vec<AgentPool>,
    /// The routing policy and the options every policy understands.
    pub policy: PolicySpec,
    /// Service-level thresholds.
    pub service_level: ServiceLevel,
    /// Run even if the offered load is far above capacity with no first-contact patience
    /// (the loader refuses such a scenario otherwise).
    pub allow_overload: bool,
}

/// A (possibly non-homogeneous) Poisson arrival process of new conversations.
#[derive(Debug, Clone)]
pub struct Arrivals {
    /// Base rate, conversations per hour (> 0).
    pub rate_per_hour: f64,
    /// Hour-of-day multipliers (24, non-negative), if any.
    pub hour_profile: Option<[f64; 24]>,
    /// Monday..Sunday multipliers (7, non-negative), if any.
    pub weekday: Option<[f64; 7]>,
}

impl Arrivals {
    /// The arrival rate per second at simulated time `t`.
    pub fn rate_per_s_at(&self, t: f64) -> f64 {
        let mut rate = self.rate_per_hour / 3600.0;
        if let Some(profile) = &self.hour_profile {
            rate *= profile[((t % DAY_S) / 3600.0) as usize % 24];
        }
        if let Some(weekday) = &self.weekday {
            rate *= weekday[((t % WEEK_S) / DAY_S) as usize % 7];
        }
        rate
    }

    /// An upper bound of [`Self::rate_per_s_at`] over all times (for thinning).
    pub fn max_rate_per_s(&self) -> f64 {
        let max = |xs: &[f64]| xs.iter().copied().fold(0.0, f64::max);
        let mut rate = self.rate_per_hour / 3600.0;
        if let Some(profile) = &self.hour_profile {
            rate *= max(profile);
        }
        if let Some(weekday) = &self.weekday {
            rate *= max(weekday);
        }
        rate
    }
}

/// The shape of a conversation: exchanges, handle times, gaps and patience.
#[derive(Debug, Clone)]
pub struct ConversationModel {
    /// Number of exchanges (integers >= 1).
    pub exchanges: Distribution,
    /// Agent handling time per contact, seconds.
    pub handle_time: Distribution,
    /// Customer silence between an agent's reply and the next contact, seconds.
    /// `None` only when every conversation has exactly one exchange.
    pub gap: Option<Distribution>,
    /// Patience of a waiting first contact, seconds; `None`: never abandons.
    pub patience_first: Option<Distribution>,
    /// Patience of a waiting resumed contact, seconds; `None`: never abandons.
    pub patience_resumed: Option<Distribution>,
}

/// A group of identical agents.
#[derive(Debug, Clone)]
pub struct AgentPool {
    /// The pool's name (unique in the scenario).
    pub name: String,
    /// Number of agents (>= 1).
    pub count: u32,
    /// Contacts an agent handles at once (>= 1).
    pub concurrency: u32,
    /// Handle-time slow-down `s`: a contact's handle time is multiplied by `1 + s·(n−1)`,
    /// `n` the agent's contacts in handling including it, fixed at pickup. `>= 0`.
    pub slowdown: f64,
    /// When the pool's agents are on shift; `None`: always.
    pub shifts: Option<ShiftSchedule>,
}

/// A weekly on-shift schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct ShiftSchedule {
    /// Sorted, non-overlapping, non-adjacent `[start, end)` intervals in seconds from Monday
    /// 00:00, within `[0, WEEK_S]`. A shift that crosses Sunday midnight is split in two.
    pub weekly_on: Vec<(f64, f64)>,
}

impl ShiftSchedule {
    /// Whether an agent on this schedule is on shift at time `t`.
    pub fn is_on(&self, t: f64) -> bool {
        let w = t.rem_euclid(WEEK_S);
        self.weekly_on.iter().any(|&(start, end)| w >= start && w < end)
    }

    /// The first time strictly after `t` at which the on/off state changes, if it ever does.
    pub fn next_change_after(&self, t: f64) -> Option<f64> {
        if self.weekly_on.is_empty() || (self.weekly_on.len() == 1 && self.weekly_on[0] == (0.0, WEEK_S)) {
            return None;
        }
        let week_start = (t / WEEK_S).floor() * WEEK_S;
        let w = t - week_start;
        let mut boundaries = self
            .weekly_on
            .iter()
            .flat_map(|&(start, end)| [start, end])
            // Boundaries at 0 and WEEK_S are the same instant; a schedule that is on across
            // midnight Sunday has no change there.
            .filter(|b| !self.continues_across_week_end(*b));
        boundaries.find(|&b| b > w).map(|b| week_start + b).or_else(|| {
            self.weekly_on
                .iter()
                .flat_map(|&(start, end)| [start, end])
                .find(|b| !self.continues_across_week_end(*b))
                .map(|b| week_start + WEEK_S + b)
        })
    }

    fn continues_across_week_end(&self, boundary: f64) -> bool {
        let starts_at_zero = self.weekly_on.first().is_some_and(|i| i.0 == 0.0);
        let ends_at_week = self.weekly_on.last().is_some_and(|i| i.1 == WEEK_S);
        starts_at_zero && ends_at_week && (boundary == 0.0 || boundary == WEEK_S)
    }
}

/// Service-level thresholds, seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServiceLevel {
    /// A first contact meets the service level if picked up within this time.
    pub first: f64,
    /// A resumed contact meets the service level if picked up within this time.
    pub resumed: f64,
}

impl Default for ServiceLevel {
    fn default() -> Self {
        Self { first: 60.0, resumed: 300.0 }
    }
}

impl Scenario {
    /// Total number of agents over all pools.
    pub fn agent_count(&self) -> usize {
        self.pools.iter().map(|p| p.count as usize).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekdays_9_to_17() -> ShiftSchedule {
        ShiftSchedule {
            weekly_on: (0..5)
                .map(|d| (d as f64 * DAY_S + 9.0 * 3600.0, d as f64 * DAY_S + 17.0 * 3600.0))
                .collect(),
        }
    }

    #[test]
    fn shift_state_and_next_change() {
        let s = weekdays_9_to_17();
        assert!(!s.is_on(0.0));
        assert!(s.is_on(10.0 * 3600.0));
        assert_eq!(s.next_change_after(0.0), Some(9.0 * 3600.0));
        assert_eq!(s.next_change_after(9.0 * 3600.0), Some(17.0 * 3600.0));
        // Friday 17:00 -> next Monday 09:00.
        let friday_end = 4.0 * DAY_S + 17.0 * 3600.0;
        assert_eq!(s.next_change_after(friday_end), Some(WEEK_S + 9.0 * 3600.0));
    }

    #[test]
    fn shift_across_sunday_midnight_has_no_boundary_at_week_end() {
        // Sunday 22:00 -> Monday 06:00, split in two.
        let s = ShiftSchedule { weekly_on: vec![(0.0, 6.0 * 3600.0), (WEEK_S - 2.0 * 3600.0, WEEK_S)] };
        assert!(s.is_on(WEEK_S + 3600.0));
        assert_eq!(s.next_change_after(WEEK_S - 3600.0), Some(WEEK_S + 6.0 * 3600.0));
        let always = ShiftSchedule { weekly_on: vec![(0.0, WEEK_S)] };
        assert_eq!(always.next_change_after(5.0), None);
    }

    #[test]
    fn arrival_rate_applies_profile_and_weekday() {
        let mut profile = [1.0; 24];
        profile[10] = 2.0;
        let mut weekday = [1.0; 7];
        weekday[6] = 0.5;
        let a = Arrivals { rate_per_hour: 36.0, hour_profile: Some(profile), weekday: Some(weekday) };
        assert!((a.rate_per_s_at(10.5 * 3600.0) - 0.02).abs() < 1e-12);
        assert!((a.rate_per_s_at(6.0 * DAY_S + 10.5 * 3600.0) - 0.01).abs() < 1e-12);
        assert!((a.max_rate_per_s() - 0.02).abs() < 1e-12);
    }
}
