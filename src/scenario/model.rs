//! The validated scenario: every value checked, every duration in seconds.
//!
//! The engine consumes only these types; once a [`Scenario`] exists, nothing downstream needs
//! to re-check it.

pub use super::capacity::ChannelCapacity;
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
    /// The channels, in file order (at least one): without `[[channels]]`, one channel named
    /// `default` built from the top-level `[arrivals]`, `[conversation]` and `[service_level]`.
    pub channels: Vec<Channel>,
    /// Whether the file lists `[[channels]]` (reports then break results down by channel).
    pub channels_declared: bool,
    /// Agent pools, in file order; agents are numbered pool by pool.
    pub pools: Vec<AgentPool>,
    /// The routing policy and the options every policy understands.
    pub policy: PolicySpec,
    /// Run even if the offered load is far above capacity with no first-contact patience
    /// (the loader refuses such a scenario otherwise).
    pub allow_overload: bool,
    /// How the breakdowns by interval are cut (`[report]`).
    pub report: ReportSpec,
}

/// The period intervals are folded over: a day or a week (Monday 00:00 first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fold {
    /// Every day folded onto one day.
    Day,
    /// Every week folded onto one week.
    Week,
}

impl Fold {
    /// Seconds in the period.
    pub fn period_s(self) -> f64 {
        match self {
            Fold::Day => DAY_S,
            Fold::Week => WEEK_S,
        }
    }

    /// The name in scenario files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Fold::Day => "day",
            Fold::Week => "week",
        }
    }
}

/// The `[report]` table: the interval width of the breakdowns and their fold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportSpec {
    /// Interval width, whole seconds dividing a day.
    pub interval_s: f64,
    /// What the intervals are folded over.
    pub fold: Fold,
}

impl ReportSpec {
    /// Rows of a breakdown by interval: intervals in the fold.
    pub fn rows(&self) -> usize {
        (self.fold.period_s() / self.interval_s).round() as usize
    }

    /// Row `index`'s start: "HH:MM" for a day fold, "mon HH:MM" for a week fold.
    pub fn start_label(&self, index: usize) -> String {
        const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let start = index as f64 * self.interval_s;
        let day = (start / DAY_S) as usize;
        let in_day = (start - day as f64 * DAY_S) as u64;
        let clock = format!("{:02}:{:02}", in_day / 3600, in_day % 3600 / 60);
        match self.fold {
            Fold::Day => clock,
            Fold::Week => format!("{} {clock}", DAYS[day % 7]),
        }
    }
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
    /// A bot that every new conversation meets first; `None`: straight to humans.
    pub bot: Option<Bot>,
    /// The customer's typing before each message is sent; `None`: sent at once.
    pub typing: Option<Typing>,
}

/// Tier-1 bot in front of the humans: each new conversation spends `time` with it (no agent
/// capacity, unlimited concurrency); with probability `containment` the bot resolves it, else
/// its first human contact becomes ready when the bot hands off.
#[derive(Debug, Clone)]
pub struct Bot {
    /// Share of conversations the bot resolves, in [0, 1].
    pub containment: f64,
    /// Time with the bot, seconds.
    pub time: Distribution,
}

/// Typing before each customer message. Without `preview` it only delays the send. With
/// `preview` the contact is routed when typing starts; an agent who picks it up before the
/// send watches and saves the watched time, up to `head_start` × the handle time.
#[derive(Debug, Clone)]
pub struct Typing {
    /// Typing time of one message, seconds.
    pub time: Distribution,
    /// Whether agents see the message while it is typed ("sneak peek").
    pub preview: bool,
    /// Largest share of the handle time that watching can save, in [0, 1].
    pub head_start: f64,
}

/// One stream of conversations with its own promise: arrivals, conversation shape, service
/// level and routing policy (live chat, asynchronous messaging, ...).
#[derive(Debug, Clone)]
pub struct Channel {
    /// The channel's name (unique in the scenario).
    pub name: String,
    /// How its new conversations arrive.
    pub arrivals: Arrivals,
    /// What its conversations look like.
    pub conversation: ConversationModel,
    /// Its service-level thresholds.
    pub service_level: ServiceLevel,
    /// Its own routing policy; `None`: the scenario's (see [`Scenario::channel_policy`]).
    pub policy: Option<PolicySpec>,
    /// Its capacity model: its own `capacity`, else the scenario's `[capacity]`, else plain.
    pub capacity: ChannelCapacity,
}

/// A pool's skill: a channel it serves and the priority of that channel's queue (lower first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skill {
    /// Index into [`Scenario::channels`].
    pub channel: usize,
    /// Lower is served first; equal priorities are served by ready time.
    pub priority: u32,
}

/// A group of identical agents.
#[derive(Debug, Clone)]
pub struct AgentPool {
    /// The pool's name (unique in the scenario).
    pub name: String,
    /// Number of agents (>= 1); with a staffing vector, its largest value.
    pub count: u32,
    /// Contacts an agent handles at once (>= 1).
    pub concurrency: u32,
    /// Handle-time slow-down `s`: a contact's handle time is multiplied by `1 + s·(n−1)`,
    /// `n` the agent's contacts in handling including it, fixed at pickup. `>= 0`.
    pub slowdown: f64,
    /// When the pool's agents are on shift; `None`: always (or as `staffing` says).
    pub shifts: Option<ShiftSchedule>,
    /// How many of the pool's agents are on shift in each interval, instead of `shifts`.
    pub staffing: Option<Staffing>,
    /// The channels the pool serves, sorted by (priority, channel); never empty (default:
    /// every channel at one priority).
    pub skills: Vec<Skill>,
}

impl AgentPool {
    /// How many of the pool's agents are on shift at `t`: agents `0..n` of the pool are on,
    /// the rest off.
    pub fn on_shift_at(&self, t: f64) -> u32 {
        match (&self.staffing, &self.shifts) {
            (Some(staffing), _) => staffing.on_at(t),
            (None, Some(shifts)) if !shifts.is_on(t) => 0,
            (None, _) => self.count,
        }
    }

    /// The first time strictly after `t` at which [`Self::on_shift_at`] changes, if ever.
    pub fn next_change_after(&self, t: f64) -> Option<f64> {
        match (&self.staffing, &self.shifts) {
            (Some(staffing), _) => staffing.next_change_after(t),
            (None, Some(shifts)) => shifts.next_change_after(t),
            (None, None) => None,
        }
    }
}

/// A staffing vector: agents on shift per interval, repeating every day or every week
/// (Monday 00:00 first).
#[derive(Debug, Clone, PartialEq)]
pub struct Staffing {
    on: Vec<u32>,
    interval_s: f64,
    /// Indices `k` with `on[k] != on[k - 1]` (cyclically), ascending: the only boundaries at
    /// which the engine needs an event.
    changes: Vec<usize>,
}

impl Staffing {
    /// A vector of `on.len()` intervals of `interval_s` seconds each (whole seconds; the loader
    /// checks that they make a day or a week).
    pub fn new(on: Vec<u32>, interval_s: f64) -> Self {
        let n = on.len();
        let changes = (0..n).filter(|&k| on[k] != on[(k + n - 1) % n]).collect();
        Self { on, interval_s, changes }
    }

    /// Agents on shift per interval.
    pub fn values(&self) -> &[u32] {
        &self.on
    }

    /// Interval width, seconds.
    pub fn interval_s(&self) -> f64 {
        self.interval_s
    }

    /// The period the vector repeats over (a day or a week), seconds.
    pub fn period_s(&self) -> f64 {
        self.on.len() as f64 * self.interval_s
    }

    /// The largest value: the pool's number of agents.
    pub fn max(&self) -> u32 {
        self.on.iter().copied().max().unwrap_or(0)
    }

    /// The mean number of agents on shift over the period.
    pub fn mean(&self) -> f64 {
        self.on.iter().map(|&n| f64::from(n)).sum::<f64>() / self.on.len().max(1) as f64
    }

    /// Agents on shift at `t`.
    pub fn on_at(&self, t: f64) -> u32 {
        let k = (t.rem_euclid(self.period_s()) / self.interval_s) as usize;
        self.on.get(k).or(self.on.last()).copied().unwrap_or(0)
    }

    /// The first interval boundary strictly after `t` at which the value changes, if any.
    pub fn next_change_after(&self, t: f64) -> Option<f64> {
        let first = *self.changes.first()?;
        let period = self.period_s();
        // Boundaries are whole seconds, so these products and sums are exact: the same instants
        // as a shift list describing the same pattern.
        let period_start = (t / period).floor() * period;
        let w = t - period_start;
        let at = |k: usize| k as f64 * self.interval_s;
        let i = self.changes.partition_point(|&k| at(k) <= w);
        Some(match self.changes.get(i) {
            Some(&k) => period_start + at(k),
            None => period_start + period + at(first),
        })
    }
}

impl ShiftSchedule {
    /// Whether some day of the week differs from another (a weekend off, a late Friday).
    pub fn is_day_specific(&self) -> bool {
        let day = |d: usize| -> Vec<(f64, f64)> {
            let (lo, hi) = (d as f64 * DAY_S, (d + 1) as f64 * DAY_S);
            self.weekly_on
                .iter()
                .filter(|&&(s, e)| e > lo && s < hi)
                .map(|&(s, e)| (s.max(lo) - lo, e.min(hi) - lo))
                .collect()
        };
        let monday = day(0);
        (1..7).any(|d| day(d) != monday)
    }
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

    /// Rows of the breakdowns by interval one replication keeps: the center's, and with
    /// several channels each channel's too (what memory grows with; see `scenario::memory`).
    pub fn breakdown_rows(&self) -> usize {
        let channels = if self.channels.len() > 1 { self.channels.len() } else { 0 };
        self.report.rows().max(1) * (1 + channels)
    }

    /// The routing policy of channel `channel`: its own, else the scenario's.
    pub fn channel_policy(&self, channel: usize) -> &PolicySpec {
        self.channels[channel].policy.as_ref().unwrap_or(&self.policy)
    }

    /// The policy label of reports: the scenario's policy's, or with channels that name their
    /// own, each channel's (`chat: next_available; messaging: hybrid(timeout=10m)`).
    pub fn policy_label(&self) -> String {
        if self.channels.iter().all(|c| c.policy.is_none()) {
            return self.policy.label();
        }
        let labels: Vec<String> = (0..self.channels.len())
            .map(|c| format!("{}: {}", self.channels[c].name, self.channel_policy(c).label()))
            .collect();
        labels.join("; ")
    }

    /// Whether pool `pool` serves channel `channel`.
    pub fn serves(&self, pool: usize, channel: usize) -> bool {
        self.pools[pool].skills.iter().any(|s| s.channel == channel)
    }

    /// Whether every channel has the plain capacity model (no hold, weight 1, no close): then
    /// capacity is counted in contacts, exactly as before `[capacity]`.
    pub fn capacity_is_plain(&self) -> bool {
        self.channels.iter().all(|c| c.capacity.is_plain())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staffing_value_and_next_change() {
        let mut on = vec![2; 24];
        on[8..17].fill(5);
        let s = Staffing::new(on, 3600.0);
        assert_eq!((s.max(), s.on_at(0.0), s.on_at(8.0 * 3600.0), s.on_at(17.0 * 3600.0)), (5, 2, 5, 2));
        assert_eq!(s.on_at(DAY_S + 9.5 * 3600.0), 5);
        assert_eq!(s.next_change_after(0.0), Some(8.0 * 3600.0));
        assert_eq!(s.next_change_after(8.0 * 3600.0), Some(17.0 * 3600.0));
        assert_eq!(s.next_change_after(20.0 * 3600.0), Some(DAY_S + 8.0 * 3600.0));
        assert!((s.mean() - (15.0 * 2.0 + 9.0 * 5.0) / 24.0).abs() < 1e-12);
        assert_eq!(Staffing::new(vec![3; 168], 3600.0).next_change_after(1.0), None);
    }

    #[test]
    fn weekly_staffing_changes_only_where_the_value_does() {
        let mut on = vec![1; 168];
        on[24..48].fill(4); // Tuesday
        let s = Staffing::new(on, 3600.0);
        assert_eq!(s.next_change_after(0.0), Some(DAY_S));
        assert_eq!(s.next_change_after(DAY_S), Some(2.0 * DAY_S));
        assert_eq!(s.next_change_after(3.0 * DAY_S), Some(WEEK_S + DAY_S));
        assert_eq!(s.on_at(WEEK_S + DAY_S + 1.0), 4);
    }

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
