//! The discrete-event engine: one replication of a scenario, as a pure function of the
//! scenario and a seed.
//!
//! The loop pops the earliest event, updates conversations, capacity and queues, asks the
//! policy where resumed contacts go, and reports to the metric recorder. It does no I/O and
//! never reads the wall clock; it knows no policy by name.

mod audit;
mod channels;
mod conversations;
pub mod event_queue;
mod front;
mod holding;
mod queues;
mod serving;
mod steps;
mod timers;

pub use audit::Audit;

use crate::capacity::Capacity;
use crate::duration::format_duration;
use crate::metrics::{InSystemSamples, Recorder, ReplicationMetrics};
use crate::policy::{AgentId, FirstContact, NewContact, ResumedContact, Route, RoutingOptions};
use crate::scenario::Scenario;

use channels::ChannelState;
use conversations::{Conversations, NO_AGENT};
use event_queue::{Event, EventQueue};
use holding::Holding;
use queues::PersonalQueues;

/// Engine counters for speed reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Logical events: arrivals, contacts ready, pickups, handling done, fallbacks,
    /// abandonments and shift changes (the SimPy baseline's definition, plus shifts).
    pub events: u64,
    /// Timers that popped after their contact had been picked up (not in `events`).
    pub stale_timers: u64,
}

/// Everything one replication produces.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// The metrics.
    pub metrics: ReplicationMetrics,
    /// Invariant counters.
    pub audit: Audit,
    /// Event counts.
    pub stats: EngineStats,
    /// Samples of the number in system, if [`RunOptions::in_system_samples`] asked for them.
    pub in_system: Option<InSystemSamples>,
}

/// What a run records beyond the whole-run metrics. Neither changes what is simulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Record the breakdowns by interval and pool (the default). Off, their rows are empty:
    /// for searches that read only whole-run metrics, and for measuring what they cost.
    pub breakdowns: bool,
    /// Sample the number of contacts in the system this many times per report interval
    /// (0: never), for the Iterative Staffing Algorithm.
    pub in_system_samples: u32,
    /// Runs in progress at once in this process, which share [`OPEN_CONVERSATIONS_BUDGET`]
    /// equally (at least 1). The runner sets it from its thread count and task count, never
    /// from timing, so whether a run stops depends only on the command line.
    pub concurrent_runs: usize,
}

impl RunOptions {
    /// The open conversations one run may hold: its share of the process's budget.
    pub fn open_budget(&self) -> usize {
        OPEN_CONVERSATIONS_BUDGET / self.concurrent_runs.max(1)
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        Self { breakdowns: true, in_system_samples: 0, concurrent_runs: 1 }
    }
}

/// Events in a row at one instant beyond which simulated time is taken to have stopped: far
/// more than any backlog a center can clear at once, reached in seconds by a loop that never
/// advances (zero handle times and gaps with endless exchanges, arrivals too fast for a float).
pub const STALLED_EVENTS: u64 = 10_000_000;

/// Open conversations the whole process may hold, beyond which a run stops rather than exhaust
/// memory: about 100 bytes each with their events (measured: 0.97 GB peak RSS at 10 million
/// held conversations), so about 400 MB. Runs in progress at once share it equally
/// ([`RunOptions::concurrent_runs`]): a fixed share rather than a shared counter, so a run's
/// outcome never depends on how the threads happen to interleave. Reached only by a center so
/// overloaded, or holding conversations so long, that they pile up without bound.
pub const OPEN_CONVERSATIONS_BUDGET: usize = 4_000_000;

/// Why a replication stopped before its horizon.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// Simulated time stopped advancing.
    #[error(
        "simulated time stopped advancing at {} ({} events at one instant): zero handle times \
         and gaps with very many exchanges, or arrivals too fast to tell apart, never move the clock",
        format_duration(*.at), STALLED_EVENTS
    )]
    TimeStalled {
        /// Simulated time, seconds.
        at: f64,
    },
    /// Too many conversations were open at once.
    #[error(
        "more than {budget} conversations open at once at {} (the process's budget of {} shared \
         by {shared_by} run(s) at once): the center is so overloaded, or holds conversations so \
         long, that they pile up without bound; reduce the arrival rate, the gap or close_after, \
         or add agents or patience",
        format_duration(*.at), OPEN_CONVERSATIONS_BUDGET
    )]
    TooManyOpen {
        /// Simulated time, seconds.
        at: f64,
        /// The run's share of [`OPEN_CONVERSATIONS_BUDGET`].
        budget: usize,
        /// Runs in progress at once that shared it.
        shared_by: usize,
    },
}

/// Runs one replication of `scenario` with `seed`; fails only when the run cannot finish
/// (simulated time stops advancing, or open conversations exceed the memory budget).
pub fn run(scenario: &Scenario, seed: u64) -> Result<RunOutput, RunError> {
    run_with(scenario, seed, RunOptions::default())
}

/// [`run`], recording what `options` ask for.
pub fn run_with(scenario: &Scenario, seed: u64, options: RunOptions) -> Result<RunOutput, RunError> {
    let open = OpenBudget { limit: options.open_budget(), shared_by: options.concurrent_runs.max(1) };
    Engine::new(scenario, seed, options).run(STALLED_EVENTS, open)
}

/// The open conversations a run may hold, and how many runs shared the process's budget.
#[derive(Debug, Clone, Copy)]
struct OpenBudget {
    limit: usize,
    shared_by: usize,
}

struct Engine<'a> {
    scenario: &'a Scenario,
    /// The scenario's routing options; `personal_first` is an agent's choice between its own
    /// queue and its channels' (each channel's policy gives its `select` and `first_contact`).
    options: RoutingOptions,
    now: f64,
    events: EventQueue,
    conversations: Conversations,
    capacity: Capacity,
    /// Per channel: queue, policy, arrivals and random streams (channel 0's route).
    chan: Vec<ChannelState<'a>>,
    personal: PersonalQueues,
    /// Valid entries in the channel queues (all channels) and in each personal queue.
    waiting_global: u64,
    waiting_personal: Vec<u64>,
    waiting_personal_total: u64,
    /// Contacts picked up and not yet done.
    in_handling: u64,
    /// With a `[capacity]` model: capacity in units, held conversations and their timers
    /// (`None`: capacity counted in contacts, as before, on the measured paths).
    holding: Option<Box<Holding>>,
    /// Whether some channel previews typing; then `sent_at` holds each current contact's send
    /// time, by conversation id (else the send is the ready time and it stays empty).
    previewing: bool,
    sent_at: Vec<f64>,
    /// Samples of the number in system, the next sample's index and its time (infinite
    /// when not sampling, so the loop's one comparison never fires).
    in_system: Option<InSystemSamples>,
    next_sample: u64,
    next_sample_at: f64,
    recorder: Recorder,
    next_ready_seq: u64,
    /// Agent ids where each pool starts.
    pool_start: Vec<u32>,
    /// Per pool, bit `c` set if it serves channel `c` (at most 64 channels), for the audit.
    skill_masks: Vec<u64>,
    /// Routing steps: each waiting contact's plan and step, and the team queues (made when a
    /// step first reaches a team). Untouched by policies that return no steps.
    steps: steps::StepState<'a>,
    audit: Audit,
    stats: EngineStats,
}

impl<'a> Engine<'a> {
    fn new(scenario: &'a Scenario, seed: u64, run_options: RunOptions) -> Self {
        let options = scenario.policy.options;
        let selects: Vec<_> =
            (0..scenario.channels.len()).map(|c| scenario.channel_policy(c).options.select).collect();
        let mut capacity = if scenario.capacity_is_plain() {
            Capacity::new(&scenario.pools, &selects)
        } else {
            Capacity::with_units(&scenario.pools, &selects, &scenario.channels)
        };
        if (0..scenario.channels.len()).any(|c| scenario.channel_policy(c).policy.uses_teams()) {
            capacity.enable_teams(&scenario.pools);
        }
        let agents = capacity.agent_count();
        let concurrency = (0..agents as u32).map(|a| capacity.concurrency(a)).collect();
        let mut pool_start = Vec::with_capacity(scenario.pools.len() + 1);
        let mut start = 0;
        for pool in &scenario.pools {
            pool_start.push(start);
            start += pool.count;
        }
        pool_start.push(start);
        let agent_pool = (0..agents as u32).map(|a| capacity.pool_of(a) as u32).collect();
        let slots: usize = scenario.pools.iter().map(|p| p.count as usize * p.concurrency as usize).sum();
        // Room for the usual open work up front; more is allocated only if the run needs it.
        let reserve = (4 * slots + 1024).min(1 << 20);
        let in_system = (run_options.in_system_samples > 0)
            .then(|| InSystemSamples::new(scenario.report, run_options.in_system_samples));
        let next_sample = in_system.as_ref().map_or(0, |s| s.first_at_or_after(scenario.warmup));
        let next_sample_at = in_system.as_ref().map_or(f64::INFINITY, |s| s.time_of(next_sample));
        Self {
            scenario,
            options,
            now: 0.0,
            events: EventQueue::with_capacity(reserve),
            conversations: Conversations::with_capacity(reserve),
            capacity,
            chan: (0..scenario.channels.len()).map(|i| ChannelState::new(scenario, i, seed)).collect(),
            personal: PersonalQueues::new(agents),
            waiting_global: 0,
            waiting_personal: vec![0; agents],
            waiting_personal_total: 0,
            in_handling: 0,
            holding: (!scenario.capacity_is_plain()).then(|| Box::new(Holding::new(scenario, agents))),
            previewing: scenario
                .channels
                .iter()
                .any(|c| c.conversation.typing.as_ref().is_some_and(|t| t.preview)),
            sent_at: Vec::new(),
            in_system,
            next_sample,
            next_sample_at,
            recorder: Recorder::new(
                scenario.warmup,
                scenario.horizon,
                scenario.channels.iter().map(|c| c.service_level).collect(),
                concurrency,
                agent_pool,
                scenario.report,
                run_options.breakdowns,
            ),
            next_ready_seq: 0,
            pool_start,
            skill_masks: scenario
                .pools
                .iter()
                .map(|p| p.skills.iter().fold(0, |m, s| m | 1 << s.channel))
                .collect(),
            steps: steps::StepState::default(),
            audit: Audit::default(),
            stats: EngineStats::default(),
        }
    }

    /// The loop, stopping after `stalled_events` events in a row at one instant or when an
    /// arrival finds `open.limit` conversations open.
    fn run(mut self, stalled_events: u64, open: OpenBudget) -> Result<RunOutput, RunError> {
        self.start_shifts();
        for channel in 0..self.chan.len() {
            self.schedule_next_arrival(channel);
        }
        let horizon = self.scenario.horizon;
        let mut at_this_instant = 0u64;
        while let Some((time, event)) = self.events.pop() {
            if time >= horizon {
                break;
            }
            if time < self.now {
                self.audit.time_reversals += 1;
            }
            if time == self.now {
                at_this_instant += 1;
                if at_this_instant > stalled_events {
                    return Err(RunError::TimeStalled { at: time });
                }
            } else {
                at_this_instant = 0;
            }
            if matches!(event, Event::Arrival { .. }) && self.conversations.open_count() >= open.limit {
                return Err(RunError::TooManyOpen {
                    at: time,
                    budget: open.limit,
                    shared_by: open.shared_by,
                });
            }
            if time > self.next_sample_at {
                self.sample_in_system(time);
            }
            self.now = time;
            if let Some(next) = self.events.peek_near() {
                self.prefetch(next);
            }
            self.handle(event);
        }
        self.sample_in_system(horizon);
        self.now = horizon;
        Ok(self.finish())
    }

    /// Records the number in system at every sample time before `until`: the state between
    /// events, after every event at or before the sample time.
    fn sample_in_system(&mut self, until: f64) {
        let Some(samples) = &mut self.in_system else { return };
        let in_system = self.in_handling + self.waiting_global + self.waiting_personal_total;
        while self.next_sample_at < until {
            samples.record(self.next_sample, in_system);
            self.next_sample += 1;
            self.next_sample_at = samples.time_of(self.next_sample);
        }
    }

    #[inline]
    fn prefetch(&self, event: Event) {
        match event {
            Event::ContactReady { conversation }
            | Event::HandlingDone { conversation }
            | Event::PatienceExpired { conversation, .. }
            | Event::FallBack { conversation, .. }
            | Event::Step { conversation, .. }
            | Event::GoInactive { conversation, .. }
            | Event::CloseIdle { conversation, .. } => self.conversations.prefetch(conversation),
            Event::Arrival { .. } | Event::ShiftChange { .. } => {}
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Arrival { channel } => self.on_arrival(channel as usize),
            Event::ContactReady { conversation } => self.on_contact_ready(conversation),
            Event::HandlingDone { conversation } => self.on_handling_done(conversation),
            Event::PatienceExpired { conversation, generation } => {
                self.on_patience_expired(conversation, generation)
            }
            Event::FallBack { conversation, generation } => self.on_fall_back(conversation, generation),
            Event::Step { conversation, generation } => self.on_step(conversation, generation),
            Event::ShiftChange { pool } => self.on_shift_change(pool as usize),
            Event::GoInactive { conversation, generation } => self.on_go_inactive(conversation, generation),
            Event::CloseIdle { conversation, generation } => self.on_close_idle(conversation, generation),
        }
    }

    /// Schedules `event` at `time` unless it falls at or after the horizon.
    #[inline]
    fn schedule(&mut self, time: f64, event: Event) {
        if time < self.scenario.horizon {
            self.events.push(time, event);
        }
    }

    // ----- a contact becomes ready ----------------------------------------------------------

    fn on_contact_ready(&mut self, id: u32) {
        self.stats.events += 1;
        self.audit.ready += 1;
        let now = self.now;
        let seq = self.next_ready_seq;
        self.next_ready_seq += 1;
        if self.holding.is_some() {
            self.reopen_if_closed(id);
        }
        let c = self.conversations.get_mut(id);
        c.generation = c.generation.wrapping_add(1);
        c.ready_at = now;
        c.ready_seq = seq;
        c.is_first = c.owner == NO_AGENT;
        let (first, owner, last_reply_at, channel) =
            (c.is_first, c.owner, c.last_reply_at, c.channel as usize);
        let sent = self.typing_started(id, channel, first);
        self.recorder.contact_ready(channel, first, sent);
        let policy = self.chan[channel].policy;
        if first {
            if self.chan[channel].routes_first {
                return self.route_first_by_policy(id, channel);
            }
            return self.route_as_first_contact(id);
        }
        let mut released_by = None;
        if self.holding.is_some() {
            match self.reactivate(id) {
                holding::Reactivated::Taken => return,
                holding::Reactivated::Released(agent) => released_by = Some(agent),
                holding::Reactivated::NotHeld => {}
            }
        }
        let contact = ResumedContact { ready_at: now, owner, last_reply_at, channel };
        match policy.route(&contact, &self.view()) {
            Route::AsFirstContact => self.route_as_first_contact(id),
            Route::Pool => self.offer_to_pool(id),
            Route::PoolOwnerOffline => {
                self.recorder.owner_offline_reroute(now);
                self.offer_to_pool(id)
            }
            Route::Agent { agent, fall_back_after } => self.offer_to_agent(id, agent, fall_back_after),
            Route::Steps { plan, owner_offline } => self.route_steps(id, plan, owner_offline),
        }
        // The holder's released capacity serves waiting work once this contact has been routed.
        if let Some(agent) = released_by {
            self.serve_queues_units(agent, false);
        }
    }

    /// A first contact of a policy that routes first contacts itself (rare: not inlined).
    #[inline(never)]
    fn route_first_by_policy(&mut self, id: u32, channel: usize) {
        let policy = self.chan[channel].policy;
        match policy.route_first(&NewContact { ready_at: self.now, channel }, &self.view()) {
            Route::Pool => self.offer_to_pool(id),
            Route::Agent { agent, fall_back_after } => self.offer_to_agent(id, agent, fall_back_after),
            Route::AsFirstContact | Route::PoolOwnerOffline | Route::Steps { .. } => {
                self.route_as_first_contact(id)
            }
        }
    }

    fn route_as_first_contact(&mut self, id: u32) {
        let channel = self.conversations.get(id).channel as usize;
        match self.chan[channel].first_contact {
            FirstContact::Pool => self.offer_to_pool(id),
            FirstContact::RandomAgent => {
                let agent = self.capacity.random_on_shift(channel, &mut self.chan[0].streams.routing);
                self.offer_to_agent(id, agent, None);
            }
        }
    }

    /// The best free agent skilled for the contact's channel takes it, or it joins the
    /// channel's queue.
    fn offer_to_pool(&mut self, id: u32) {
        let channel = self.conversations.get(id).channel as usize;
        match self.capacity.select_free(channel, &mut self.chan[0].streams.routing) {
            Some(agent) => self.pick_up(id, agent),
            None => {
                self.enqueue_global(id);
                self.start_patience(id);
            }
        }
    }

    fn offer_to_agent(&mut self, id: u32, agent: AgentId, fall_back_after: Option<f64>) {
        if self.capacity.has_free_slot(agent) && (self.holding.is_none() || self.fits(id, agent)) {
            return self.pick_up(id, agent);
        }
        if fall_back_after == Some(0.0) {
            // A zero timeout fires at once: the same fallback, without a timer.
            self.recorder.fallback(self.sent_at(id));
            return self.offer_to_pool(id);
        }
        self.enqueue_personal(id, agent);
        self.start_patience(id);
        if let Some(after) = fall_back_after {
            // Timers the customer feels count from the send (the ready time without preview).
            let sent = self.sent_at(id);
            let event =
                Event::FallBack { conversation: id, generation: self.conversations.get(id).generation };
            self.schedule(sent + after, event);
        }
    }

    fn start_patience(&mut self, id: u32) {
        let sent = self.sent_at(id);
        let c = self.conversations.get(id);
        let channel = c.channel as usize;
        let conversation = &self.scenario.channels[channel].conversation;
        let patience = if c.is_first { &conversation.patience_first } else { &conversation.patience_resumed };
        if let Some(patience) = patience {
            let deadline = sent + patience.sample(&mut self.chan[channel].streams.patience);
            let event = Event::PatienceExpired { conversation: id, generation: c.generation };
            self.schedule(deadline, event);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scenario::parse_scenario;

    fn scenario(conversation: &str, rate_per_hour: f64) -> Scenario {
        let text = format!(
            "name = \"guard\"\nhorizon = \"2d\"\n[arrivals]\nrate_per_hour = {rate_per_hour}\n\
             [conversation]\n{conversation}\n[[agents]]\nname = \"a\"\ncount = 1\n\
             [policy]\nkind = \"next_available\"\n"
        );
        parse_scenario(&text, Path::new("guard.toml")).expect("valid")
    }

    #[test]
    fn a_run_whose_clock_stops_fails_instead_of_hanging() {
        let mut endless = scenario(
            "exchanges = { dist = \"fixed\", value = 1 }\n\
             handle_time = { dist = \"fixed\", value = 0 }\ngap = { dist = \"fixed\", value = 0 }",
            1.0,
        );
        // More exchanges than the loader accepts: the guard must hold even so.
        endless.channels[0].conversation.exchanges =
            crate::dist::Distribution::new_fixed(4e9).expect("valid");
        let error = Engine::new(&endless, 1, RunOptions::default())
            .run(10_000, OpenBudget { limit: OPEN_CONVERSATIONS_BUDGET, shared_by: 1 })
            .unwrap_err();
        assert!(matches!(error, RunError::TimeStalled { .. }), "{error}");
        assert!(error.to_string().contains("stopped advancing"));
    }

    #[test]
    fn a_run_whose_open_conversations_outgrow_the_budget_fails() {
        let flooded = scenario(
            "exchanges = { dist = \"fixed\", value = 1 }\n\
             handle_time = { dist = \"fixed\", value = \"1h\" }\n\
             patience_first = { dist = \"fixed\", value = \"1d\" }",
            10_000.0,
        );
        let budget = |limit| OpenBudget { limit, shared_by: 1 };
        let error =
            Engine::new(&flooded, 1, RunOptions::default()).run(STALLED_EVENTS, budget(5_000)).unwrap_err();
        assert!(matches!(error, RunError::TooManyOpen { .. }), "{error}");
        // Within budget, the same scenario runs to its horizon.
        assert!(Engine::new(&flooded, 1, RunOptions::default())
            .run(STALLED_EVENTS, budget(1_000_000))
            .is_ok());
    }
}
