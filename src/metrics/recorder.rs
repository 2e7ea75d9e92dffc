//! The streaming recorder: the engine reports what happens, the recorder keeps only counters,
//! sums, time integrals and histograms. Nothing per contact is stored.

use hdrhistogram::Histogram;

use super::catalog::{Metric, METRICS};
use super::channels::ChannelBreakdown;
use super::experience::Experience;
use super::intervals::IntervalBreakdown;
use super::pools::{AgentTotals, PoolBreakdown};
use super::{histogram_units, Histograms, ReplicationMetrics, HISTOGRAM_UNIT_S, WAIT_FIRST, WAIT_RESUMED};
use crate::scenario::{ReportSpec, ServiceLevel};

/// Counters for one class of contact (first or resumed).
#[derive(Debug, Clone, Default)]
pub(super) struct ContactStats {
    pub(super) ready: u64,
    pub(super) picked: u64,
    picked_after_waiting: u64,
    picked_within_sl: u64,
    pub(super) abandoned: u64,
    wait_sum: f64,
    wait_max: f64,
    /// Time abandoned contacts waited before they left.
    abandoned_wait_sum: f64,
    pub(super) unfinished: u64,
    /// Picked-up contacts' response times (known at pickup: the end of handling is drawn then),
    /// counted and summed.
    responded: u64,
    response_sum: f64,
}

impl ContactStats {
    fn finished(&self) -> u64 {
        self.picked + self.abandoned
    }

    /// Counts a pickup after `wait` seconds against `threshold`, replied `response` seconds
    /// after the send.
    #[inline]
    pub(super) fn add_pickup(&mut self, wait: f64, threshold: f64, response: f64) {
        self.responded += 1;
        self.response_sum += response;
        self.picked += 1;
        self.picked_after_waiting += u64::from(wait > 0.0);
        self.picked_within_sl += u64::from(wait <= threshold);
        self.wait_sum += wait;
        self.wait_max = self.wait_max.max(wait);
    }

    /// Counts an abandonment after `waited` seconds.
    #[inline]
    pub(super) fn add_abandon(&mut self, waited: f64) {
        self.abandoned += 1;
        self.abandoned_wait_sum += waited;
    }

    /// The longest wait of a picked-up contact, if any was picked up.
    pub(super) fn max_wait(&self) -> Option<f64> {
        (self.picked > 0).then_some(self.wait_max)
    }

    /// Mean time in queue, abandoned contacts included (Erlang A's Lq/λ).
    pub(super) fn queue_time_all_mean(&self) -> Option<f64> {
        (self.finished() > 0).then(|| (self.wait_sum + self.abandoned_wait_sum) / self.finished() as f64)
    }
}

/// The per-class metrics a breakdown shares with the whole run: mean wait, waited share,
/// service level, abandonment and mean response time, for first (`first`) or resumed contacts.
pub(super) fn class_values(stats: &ContactStats, first: bool) -> [(Metric, Option<f64>); 5] {
    let ratio = |num: f64, den: u64| (den > 0).then(|| num / den as f64);
    let m = |f: Metric, r: Metric| if first { f } else { r };
    let waited = (stats.picked_after_waiting + stats.abandoned) as f64;
    [
        (m(Metric::WaitFirstMean, Metric::WaitResumedMean), ratio(stats.wait_sum, stats.picked)),
        (m(Metric::WaitedFirstShare, Metric::WaitedResumedShare), ratio(waited, stats.finished())),
        (
            m(Metric::SlFirstShare, Metric::SlResumedShare),
            ratio(stats.picked_within_sl as f64, stats.finished()),
        ),
        (
            m(Metric::AbandonFirstShare, Metric::AbandonResumedShare),
            ratio(stats.abandoned as f64, stats.finished()),
        ),
        (
            m(Metric::ResponseFirstMean, Metric::ResponseResumedMean),
            ratio(stats.response_sum, stats.responded),
        ),
    ]
}

/// One agent's time integrals over the window.
#[derive(Debug, Clone, Copy, Default)]
struct AgentTime {
    since: f64,
    busy_slot_s: f64,
    on_shift_s: f64,
    non_idle_s: f64,
}

/// What the engine knows when a contact is picked up.
#[derive(Debug, Clone, Copy)]
pub struct Pickup {
    /// The contact's channel.
    pub channel: usize,
    /// Whether it is its conversation's first contact.
    pub first: bool,
    /// When the customer sent it (its ready time unless typing is previewed).
    pub sent_at: f64,
    /// From the send to the pickup (0 when picked up while typed).
    pub wait: f64,
    /// From the send to the end of handling, the agent's reply.
    pub response: f64,
    /// For a resumed contact, whether its owner picked it up.
    pub by_owner: bool,
    /// Who picked it up.
    pub agent: u32,
    /// From the conversation's arrival to the pickup (time to a human, for a first contact).
    pub since_arrival: f64,
}

/// Collects one replication's statistics as the engine runs.
#[derive(Debug)]
pub struct Recorder {
    warmup: f64,
    horizon: f64,
    /// Each channel's thresholds.
    service_levels: Vec<ServiceLevel>,
    first: ContactStats,
    resumed: ContactStats,
    /// Wait histograms by key; `wait_index` finds first and resumed waits without a lookup.
    histograms: Histograms,
    /// Positions in `histograms` of [`WAIT_FIRST`] and [`WAIT_RESUMED`].
    wait_index: [usize; 2],
    resumed_by_owner: u64,
    resolved: u64,
    abandoned_conversations: u64,
    resolved_arrived_in_window: u64,
    duration_sum: f64,
    handoffs: u64,
    single_agent: u64,
    fallbacks: u64,
    owner_offline_reroutes: u64,
    /// `[capacity]`: reactivations past capacity, conversations closed for inactivity, and
    /// slot-seconds in handling and held (by weight); `None` without a capacity model.
    reactivations_over_capacity: u64,
    closed_by_inactivity: u64,
    capacity_slot_s: Option<(f64, f64)>,
    agents: Vec<AgentTime>,
    concurrency: Vec<u32>,
    /// On-shift seconds at each load, summed over agents.
    load_time: Vec<f64>,
    queue_since: f64,
    queue_area: f64,
    personal_area: f64,
    queue_max: u64,
    personal_max: u64,
    /// The breakdowns, unless the run was asked to skip them.
    intervals: Option<IntervalBreakdown>,
    pools: Option<PoolBreakdown>,
    /// With several channels (and breakdowns on), the breakdown by channel.
    channels: Option<ChannelBreakdown>,
    /// Response times, time to a human, the bot.
    experience: Experience,
}

impl Recorder {
    /// A recorder for agents with the given concurrencies and pools (`agent_pool[a]`, pool
    /// index), counting contacts ready in `[warmup, horizon)` against each channel's service
    /// level, with breakdowns cut by `report` (none if `breakdowns` is false: their rows in the
    /// metrics are then empty; by channel only with several channels).
    pub fn new(
        warmup: f64,
        horizon: f64,
        service_levels: Vec<ServiceLevel>,
        concurrency: Vec<u32>,
        agent_pool: Vec<u32>,
        report: ReportSpec,
        breakdowns: bool,
    ) -> Self {
        let max_concurrency = concurrency.iter().copied().max().unwrap_or(1) as usize;
        let histograms = Histograms::waits();
        // Both keys are in `Histograms::waits()`, so the positions exist.
        let position = |key| histograms.index_of(key).unwrap_or_default();
        let wait_index = [position(WAIT_FIRST), position(WAIT_RESUMED)];
        Self {
            warmup,
            horizon,
            experience: Experience::new(),
            channels: (breakdowns && service_levels.len() > 1)
                .then(|| ChannelBreakdown::new(service_levels.len(), report.rows().max(1))),
            service_levels,
            first: ContactStats::default(),
            resumed: ContactStats::default(),
            histograms,
            wait_index,
            resumed_by_owner: 0,
            resolved: 0,
            abandoned_conversations: 0,
            resolved_arrived_in_window: 0,
            duration_sum: 0.0,
            handoffs: 0,
            single_agent: 0,
            fallbacks: 0,
            owner_offline_reroutes: 0,
            reactivations_over_capacity: 0,
            closed_by_inactivity: 0,
            capacity_slot_s: None,
            agents: vec![AgentTime { since: warmup, ..Default::default() }; concurrency.len()],
            concurrency,
            load_time: vec![0.0; max_concurrency + 1],
            queue_since: warmup,
            queue_area: 0.0,
            personal_area: 0.0,
            queue_max: 0,
            personal_max: 0,
            intervals: breakdowns.then(|| IntervalBreakdown::new(report)),
            pools: breakdowns.then(|| PoolBreakdown::new(agent_pool)),
        }
    }

    #[inline]
    fn in_window(&self, t: f64) -> bool {
        t >= self.warmup
    }

    /// Seconds of `[since, now)` that fall in the window.
    #[inline]
    fn window_span(&self, since: f64, now: f64) -> f64 {
        (now.min(self.horizon) - since.max(self.warmup)).max(0.0)
    }

    #[inline]
    fn class(&mut self, first: bool) -> &mut ContactStats {
        if first {
            &mut self.first
        } else {
            &mut self.resumed
        }
    }

    /// A contact of `channel` became ready.
    #[inline]
    pub fn contact_ready(&mut self, channel: usize, first: bool, ready_at: f64) {
        if self.in_window(ready_at) {
            self.class(first).ready += 1;
            if let Some(channels) = &mut self.channels {
                channels.count(channel, first, row_of(&self.intervals, ready_at), |c| c.ready += 1);
            }
            if let Some(intervals) = &mut self.intervals {
                intervals.class_at(first, ready_at).ready += 1;
            }
        }
    }

    /// A contact was picked up (see [`Pickup`]).
    #[inline]
    pub fn contact_picked(&mut self, p: Pickup) {
        if !self.in_window(p.sent_at) {
            return;
        }
        let (first, wait, response) = (p.first, p.wait, p.response);
        let service_level = &self.service_levels[p.channel];
        let threshold = if first { service_level.first } else { service_level.resumed };
        self.class(first).add_pickup(wait, threshold, response);
        if let Some(channels) = &mut self.channels {
            let row = row_of(&self.intervals, p.sent_at);
            channels.picked(p.channel, row, first, wait, threshold, response, p.by_owner);
        }
        if let Some(intervals) = &mut self.intervals {
            intervals.picked(first, p.sent_at, wait, threshold, response, p.by_owner);
        }
        if let Some(pools) = &mut self.pools {
            pools.picked(p.agent, first, p.by_owner);
        }
        let histogram = self.histograms.at_mut(self.wait_index[usize::from(!first)]);
        // An auto-resizing histogram only fails on values beyond u64, which a wait cannot reach.
        let _ = histogram.record(histogram_units(wait));
        self.experience.responded(first, response);
        if first {
            self.experience.reached_human(p.since_arrival);
        } else {
            self.resumed_by_owner += u64::from(p.by_owner);
        }
    }

    /// A contact of `channel` abandoned after waiting `waited` seconds; its conversation ends.
    pub fn contact_abandoned(&mut self, channel: usize, first: bool, ready_at: f64, waited: f64) {
        if self.in_window(ready_at) {
            self.class(first).add_abandon(waited);
            if let Some(channels) = &mut self.channels {
                channels.count(channel, first, row_of(&self.intervals, ready_at), |c| c.add_abandon(waited));
            }
            self.abandoned_conversations += 1;
            if let Some(intervals) = &mut self.intervals {
                intervals.class_at(first, ready_at).abandoned += 1;
            }
        }
    }

    /// A contact of `channel` was still waiting at the horizon.
    pub fn contact_unfinished(&mut self, channel: usize, first: bool, ready_at: f64) {
        if self.in_window(ready_at) {
            self.class(first).unfinished += 1;
            if let Some(channels) = &mut self.channels {
                channels.count(channel, first, row_of(&self.intervals, ready_at), |c| c.unfinished += 1);
            }
            if let Some(intervals) = &mut self.intervals {
                intervals.class_at(first, ready_at).unfinished += 1;
            }
        }
    }

    /// A waiting contact moved from its owner's queue to the global queue.
    pub fn fallback(&mut self, ready_at: f64) {
        if self.in_window(ready_at) {
            self.fallbacks += 1;
        }
    }

    /// A resumed contact went to the pool at once because its owner was off shift.
    pub fn owner_offline_reroute(&mut self, ready_at: f64) {
        if self.in_window(ready_at) {
            self.owner_offline_reroutes += 1;
        }
    }

    /// A held conversation's contact sent at `ready_at` went to its holder past its capacity.
    pub fn reactivation_over_capacity(&mut self, ready_at: f64) {
        if self.in_window(ready_at) {
            self.reactivations_over_capacity += 1;
        }
    }

    /// A conversation closed for inactivity at `now`.
    pub fn conversation_closed(&mut self, now: f64) {
        if self.in_window(now) {
            self.closed_by_inactivity += 1;
        }
    }

    /// With a capacity model: on-shift slot-seconds in handling and held (weighted), over the
    /// window; without one, occupancy in handling is `occupancy_share` and nothing is held.
    pub fn capacity_totals(&mut self, handling_slot_s: f64, held_slot_s: f64) {
        self.capacity_slot_s = Some((handling_slot_s, held_slot_s));
    }

    /// A conversation arriving at `arrived_at` spent `time` with the bot, which resolved it if
    /// `contained`.
    pub fn bot(&mut self, arrived_at: f64, time: f64, contained: bool) {
        if self.in_window(arrived_at) {
            self.experience.bot(time, contained);
        }
    }

    /// A conversation's last exchange ended at `now`.
    pub fn conversation_resolved(&mut self, now: f64, arrived_at: f64, handoffs: u32, single_agent: bool) {
        if !self.in_window(now) {
            return;
        }
        self.resolved += 1;
        if self.in_window(arrived_at) {
            self.resolved_arrived_in_window += 1;
            self.duration_sum += now - arrived_at;
            self.handoffs += u64::from(handoffs);
            self.single_agent += u64::from(single_agent);
        }
    }

    /// Call before an agent's load or shift state changes: integrates the old state.
    #[inline]
    pub fn agent_changing(&mut self, agent: u32, now: f64, load: u32, on_shift: bool) {
        let since = self.agents[agent as usize].since;
        let span = self.window_span(since, now);
        let time = &mut self.agents[agent as usize];
        time.since = now;
        if span > 0.0 && on_shift {
            time.on_shift_s += span;
            time.busy_slot_s += span * f64::from(load);
            if load > 0 {
                time.non_idle_s += span;
            }
            match self.load_time.get_mut(load as usize) {
                Some(time) => *time += span,
                None => self.load_past_concurrency(load, span),
            }
            let from = since.max(self.warmup);
            if let Some(intervals) = &mut self.intervals {
                intervals.agent_span(from, from + span, load, self.concurrency[agent as usize]);
            }
        }
    }

    /// On-shift time at a load past every concurrency: only after a held conversation's
    /// reactivation to its holder (`[capacity]`).
    #[cold]
    #[inline(never)]
    fn load_past_concurrency(&mut self, load: u32, span: f64) {
        self.load_time.resize(load as usize + 1, 0.0);
        self.load_time[load as usize] += span;
    }

    /// Call before the number of waiting contacts changes: integrates the old numbers.
    #[inline]
    pub fn queue_changing(&mut self, now: f64, waiting: u64, in_personal: u64) {
        let span = self.window_span(self.queue_since, now);
        if span > 0.0 {
            let from = self.queue_since.max(self.warmup);
            if let Some(intervals) = &mut self.intervals {
                intervals.queue_span(from, from + span, waiting);
            }
        }
        self.queue_since = now;
        self.queue_area += span * waiting as f64;
        self.personal_area += span * in_personal as f64;
    }

    /// Call after the number of waiting contacts changed; `personal_len` is the length of the
    /// personal queue that changed, if one did.
    #[inline]
    pub fn queue_changed(&mut self, now: f64, waiting: u64, personal_len: Option<u64>) {
        if self.in_window(now) {
            self.queue_max = self.queue_max.max(waiting);
            if let Some(len) = personal_len {
                self.personal_max = self.personal_max.max(len);
            }
        }
    }

    /// The replication's metrics. The engine must first flush every agent and the queue to the
    /// horizon with [`Self::agent_changing`] and [`Self::queue_changing`].
    pub fn finish(self) -> ReplicationMetrics {
        let mut values = vec![None; METRICS.len()];
        let mut set = |m: Metric, v: Option<f64>| values[m as usize] = v.filter(|x| x.is_finite());
        let ratio = |num: f64, den: u64| (den > 0).then(|| num / den as f64);
        let seconds = |h: &Histogram<u64>, q: f64| {
            (!h.is_empty()).then(|| h.value_at_quantile(q) as f64 * HISTOGRAM_UNIT_S)
        };

        let [first_index, resumed_index] = self.wait_index;
        for (first, stats, index) in [(true, &self.first, first_index), (false, &self.resumed, resumed_index)]
        {
            let hist = self.histograms.at(index);
            let m = |f: Metric, r: Metric| if first { f } else { r };
            for (metric, value) in class_values(stats, first) {
                set(metric, value);
            }
            set(m(Metric::WaitFirstP50, Metric::WaitResumedP50), seconds(hist, 0.50));
            set(m(Metric::WaitFirstP90, Metric::WaitResumedP90), seconds(hist, 0.90));
            set(m(Metric::WaitFirstP95, Metric::WaitResumedP95), seconds(hist, 0.95));
            set(m(Metric::WaitFirstP99, Metric::WaitResumedP99), seconds(hist, 0.99));
            set(
                m(Metric::WaitFirstMax, Metric::WaitResumedMax),
                (stats.picked > 0).then_some(stats.wait_max),
            );
        }
        set(
            Metric::QueueTimeFirstAllMean,
            ratio(self.first.wait_sum + self.first.abandoned_wait_sum, self.first.finished()),
        );
        self.experience.finish(&mut set);
        set(Metric::AffinityRetentionShare, ratio(self.resumed_by_owner as f64, self.resumed.picked));
        set(Metric::HandoffsPerConversation, ratio(self.handoffs as f64, self.resolved_arrived_in_window));
        set(
            Metric::SingleAgentConversationShare,
            ratio(self.single_agent as f64, self.resolved_arrived_in_window),
        );

        let slot_s: f64 =
            self.agents.iter().zip(&self.concurrency).map(|(a, c)| a.on_shift_s * f64::from(*c)).sum();
        let busy_s: f64 = self.agents.iter().map(|a| a.busy_slot_s).sum();
        let on_shift_s: f64 = self.agents.iter().map(|a| a.on_shift_s).sum();
        let non_idle_s: f64 = self.agents.iter().map(|a| a.non_idle_s).sum();
        set(Metric::OccupancyShare, (slot_s > 0.0).then(|| busy_s / slot_s));
        set(Metric::UtilizationShare, (on_shift_s > 0.0).then(|| non_idle_s / on_shift_s));
        let (handling_s, held_s) = self.capacity_slot_s.unwrap_or((busy_s, 0.0));
        set(Metric::OccupancyHandlingShare, (slot_s > 0.0).then(|| handling_s / slot_s));
        set(Metric::OccupancyHeldShare, (slot_s > 0.0).then(|| held_s / slot_s));
        set(Metric::ReactivationsOverCapacity, Some(self.reactivations_over_capacity as f64));
        let ended = self.resolved + self.closed_by_inactivity;
        set(Metric::ClosedByInactivityShare, ratio(self.closed_by_inactivity as f64, ended));
        let per_agent: Vec<f64> = self
            .agents
            .iter()
            .zip(&self.concurrency)
            .filter(|(a, _)| a.on_shift_s > 0.0)
            .map(|(a, c)| a.busy_slot_s / (a.on_shift_s * f64::from(*c)))
            .collect();
        if !per_agent.is_empty() {
            let n = per_agent.len() as f64;
            let mean = per_agent.iter().sum::<f64>() / n;
            let sd = (per_agent.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
            set(Metric::AgentOccupancyMin, Some(per_agent.iter().copied().fold(f64::INFINITY, f64::min)));
            set(Metric::AgentOccupancyMax, Some(per_agent.iter().copied().fold(0.0, f64::max)));
            set(Metric::AgentOccupancyCv, (mean > 0.0).then(|| sd / mean));
        }

        set(Metric::ConversationsResolved, Some(self.resolved as f64));
        set(Metric::ConversationsAbandoned, Some(self.abandoned_conversations as f64));
        set(Metric::ConversationDurationMean, ratio(self.duration_sum, self.resolved_arrived_in_window));
        set(Metric::ContactsFirst, Some(self.first.ready as f64));
        set(Metric::ContactsResumed, Some(self.resumed.ready as f64));
        set(Metric::UnfinishedContacts, Some((self.first.unfinished + self.resumed.unfinished) as f64));
        set(Metric::FallbacksFired, Some(self.fallbacks as f64));
        set(Metric::OwnerOfflineReroutes, Some(self.owner_offline_reroutes as f64));
        let window = self.horizon - self.warmup;
        set(Metric::QueueLengthMean, Some(self.queue_area / window));
        set(Metric::QueueLengthMax, Some(self.queue_max as f64));
        set(Metric::PersonalQueueLengthMean, Some(self.personal_area / window));
        set(Metric::PersonalQueueLengthMax, Some(self.personal_max as f64));

        let total_load_time: f64 = self.load_time.iter().sum();
        let concurrency_shares = self
            .load_time
            .iter()
            .map(|t| if total_load_time > 0.0 { t / total_load_time } else { 0.0 })
            .collect();
        let agents: Vec<AgentTotals> = self
            .agents
            .iter()
            .zip(&self.concurrency)
            .map(|(a, &concurrency)| AgentTotals {
                on_shift_s: a.on_shift_s,
                busy_slot_s: a.busy_slot_s,
                non_idle_s: a.non_idle_s,
                concurrency,
            })
            .collect();
        let pools = self.pools.map_or_else(Vec::new, |p| p.finish(&agents, window));
        let intervals = self.intervals.map_or_else(Vec::new, |i| i.finish(self.warmup, self.horizon));
        let channel_intervals =
            self.channels.as_ref().map_or_else(Vec::new, ChannelBreakdown::finish_intervals);
        let channels = self.channels.map_or_else(Vec::new, |c| c.finish());
        ReplicationMetrics {
            values,
            histograms: self.histograms,
            concurrency_shares,
            intervals,
            pools,
            channels,
            channel_intervals,
        }
    }
}

/// The interval row of time `t` (0 without a breakdown by interval, which a breakdown by
/// channel always comes with).
#[inline]
fn row_of(intervals: &Option<IntervalBreakdown>, t: f64) -> usize {
    intervals.as_ref().map_or(0, |i| i.row(t))
}
