//! The discrete-event engine: one replication of a scenario, as a pure function of the
//! scenario and a seed.
//!
//! The loop pops the earliest event, updates conversations, capacity and queues, asks the
//! policy where resumed contacts go, and reports to the metric recorder. It does no I/O and
//! never reads the wall clock; it knows no policy by name.

mod conversations;
pub mod event_queue;
mod queues;

use crate::capacity::Capacity;
use crate::metrics::{Recorder, ReplicationMetrics};
use crate::policy::{AgentId, CenterView, FirstContact, Policy, ResumedContact, Route, RoutingOptions};
use crate::rng::Streams;
use crate::scenario::Scenario;

use conversations::{ContactState, Conversations, NO_AGENT};
use event_queue::{Event, EventQueue};
use queues::{GlobalQueue, PersonalQueues, WaitingContact};

/// Counts that prove the run kept its invariants; tests check them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Audit {
    /// Contacts that became ready, whole run.
    pub ready: u64,
    /// Contacts picked up, whole run.
    pub picked: u64,
    /// Contacts abandoned, whole run.
    pub abandoned: u64,
    /// Contacts still waiting at the horizon.
    pub waiting_at_horizon: u64,
    /// Pickups that would have put an agent over its concurrency (must be 0).
    pub over_concurrency: u64,
    /// Pickups by an off-shift agent (must be 0).
    pub off_shift_pickups: u64,
    /// Events that popped earlier than the one before (must be 0).
    pub time_reversals: u64,
}

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
}

/// Runs one replication of `scenario` with `seed`.
pub fn run(scenario: &Scenario, seed: u64) -> RunOutput {
    Engine::new(scenario, seed).run()
}

struct Engine<'a> {
    scenario: &'a Scenario,
    policy: &'a dyn Policy,
    options: RoutingOptions,
    now: f64,
    events: EventQueue,
    conversations: Conversations,
    capacity: Capacity,
    global: GlobalQueue,
    personal: PersonalQueues,
    /// Valid entries in the global queue and in each personal queue.
    waiting_global: u64,
    waiting_personal: Vec<u64>,
    waiting_personal_total: u64,
    streams: Streams,
    recorder: Recorder,
    next_ready_seq: u64,
    /// Agent ids where each pool starts.
    pool_start: Vec<u32>,
    max_arrival_rate: f64,
    audit: Audit,
    stats: EngineStats,
}

impl<'a> Engine<'a> {
    fn new(scenario: &'a Scenario, seed: u64) -> Self {
        let options = scenario.policy.options;
        let capacity = Capacity::new(&scenario.pools, options.select);
        let agents = capacity.agent_count();
        let concurrency = (0..agents as u32).map(|a| capacity.concurrency(a)).collect();
        let mut pool_start = Vec::with_capacity(scenario.pools.len() + 1);
        let mut start = 0;
        for pool in &scenario.pools {
            pool_start.push(start);
            start += pool.count;
        }
        pool_start.push(start);
        let slots: usize = scenario.pools.iter().map(|p| (p.count * p.concurrency) as usize).sum();
        Self {
            scenario,
            policy: scenario.policy.policy.as_ref(),
            options,
            now: 0.0,
            events: EventQueue::with_capacity(4 * slots + 1024),
            conversations: Conversations::with_capacity(4 * slots + 1024),
            capacity,
            global: GlobalQueue::default(),
            personal: PersonalQueues::new(agents),
            waiting_global: 0,
            waiting_personal: vec![0; agents],
            waiting_personal_total: 0,
            streams: Streams::new(seed),
            recorder: Recorder::new(scenario.warmup, scenario.horizon, scenario.service_level, concurrency),
            next_ready_seq: 0,
            pool_start,
            max_arrival_rate: scenario.arrivals.max_rate_per_s(),
            audit: Audit::default(),
            stats: EngineStats::default(),
        }
    }

    fn run(mut self) -> RunOutput {
        self.start_shifts();
        self.schedule_next_arrival();
        let horizon = self.scenario.horizon;
        while let Some((time, event)) = self.events.pop() {
            if time >= horizon {
                break;
            }
            if time < self.now {
                self.audit.time_reversals += 1;
            }
            self.now = time;
            if let Some(next) = self.events.peek_near() {
                self.prefetch(next);
            }
            self.handle(event);
        }
        self.now = horizon;
        self.finish()
    }

    #[inline]
    fn prefetch(&self, event: Event) {
        match event {
            Event::ContactReady { conversation }
            | Event::HandlingDone { conversation }
            | Event::PatienceExpired { conversation, .. }
            | Event::FallBack { conversation, .. } => self.conversations.prefetch(conversation),
            Event::Arrival | Event::ShiftChange { .. } => {}
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Arrival => self.on_arrival(),
            Event::ContactReady { conversation } => self.on_contact_ready(conversation),
            Event::HandlingDone { conversation } => self.on_handling_done(conversation),
            Event::PatienceExpired { conversation, generation } => {
                self.on_patience_expired(conversation, generation)
            }
            Event::FallBack { conversation, generation } => self.on_fall_back(conversation, generation),
            Event::ShiftChange { pool } => self.on_shift_change(pool as usize),
        }
    }

    /// Schedules `event` at `time` unless it falls at or after the horizon.
    #[inline]
    fn schedule(&mut self, time: f64, event: Event) {
        if time < self.scenario.horizon {
            self.events.push(time, event);
        }
    }

    // ----- arrivals -------------------------------------------------------------------------

    /// Non-homogeneous Poisson arrivals by thinning a process at the maximum rate.
    fn schedule_next_arrival(&mut self) {
        if self.max_arrival_rate <= 0.0 {
            return;
        }
        let mut t = self.now;
        loop {
            let u: f64 = rand::Rng::random(&mut self.streams.arrivals);
            t -= (1.0 - u).ln() / self.max_arrival_rate;
            if t >= self.scenario.horizon {
                return;
            }
            let rate = self.scenario.arrivals.rate_per_s_at(t);
            if rate >= self.max_arrival_rate
                || rand::Rng::random::<f64>(&mut self.streams.arrivals) * self.max_arrival_rate < rate
            {
                break;
            }
        }
        self.schedule(t, Event::Arrival);
    }

    fn on_arrival(&mut self) {
        self.stats.events += 1;
        let exchanges =
            self.scenario.conversation.exchanges.sample(&mut self.streams.exchanges).max(1.0) as u32;
        let id = self.conversations.open(self.now, exchanges);
        self.schedule_next_arrival();
        self.on_contact_ready(id);
    }

    // ----- a contact becomes ready ----------------------------------------------------------

    fn on_contact_ready(&mut self, id: u32) {
        self.stats.events += 1;
        self.audit.ready += 1;
        let now = self.now;
        let seq = self.next_ready_seq;
        self.next_ready_seq += 1;
        let c = self.conversations.get_mut(id);
        c.generation = c.generation.wrapping_add(1);
        c.ready_at = now;
        c.ready_seq = seq;
        c.is_first = c.owner == NO_AGENT;
        let (first, owner, last_reply_at) = (c.is_first, c.owner, c.last_reply_at);
        self.recorder.contact_ready(first, now);
        if first {
            return self.route_as_first_contact(id);
        }
        let contact = ResumedContact { ready_at: now, owner, last_reply_at };
        match self.policy.route(&contact, &self.capacity as &dyn CenterView) {
            Route::AsFirstContact => self.route_as_first_contact(id),
            Route::Pool => self.offer_to_pool(id),
            Route::Agent { agent, fall_back_after } => self.offer_to_agent(id, agent, fall_back_after),
        }
    }

    fn route_as_first_contact(&mut self, id: u32) {
        match self.options.first_contact {
            FirstContact::Pool => self.offer_to_pool(id),
            FirstContact::RandomAgent => {
                let agent = self.capacity.random_on_shift(&mut self.streams.routing);
                self.offer_to_agent(id, agent, None);
            }
        }
    }

    /// The best free agent takes the contact, or it joins the global queue.
    fn offer_to_pool(&mut self, id: u32) {
        match self.capacity.select_free(&mut self.streams.routing) {
            Some(agent) => self.pick_up(id, agent),
            None => {
                self.enqueue_global(id);
                self.start_patience(id);
            }
        }
    }

    fn offer_to_agent(&mut self, id: u32, agent: AgentId, fall_back_after: Option<f64>) {
        if self.capacity.has_free_slot(agent) {
            return self.pick_up(id, agent);
        }
        if fall_back_after == Some(0.0) {
            // A zero timeout fires at once: the same fallback, without a timer.
            self.recorder.fallback(self.now);
            return self.offer_to_pool(id);
        }
        self.enqueue_personal(id, agent);
        self.start_patience(id);
        if let Some(after) = fall_back_after {
            let c = self.conversations.get(id);
            let event = Event::FallBack { conversation: id, generation: c.generation };
            self.schedule(c.ready_at + after, event);
        }
    }

    fn start_patience(&mut self, id: u32) {
        let c = self.conversations.get(id);
        let patience = if c.is_first {
            &self.scenario.conversation.patience_first
        } else {
            &self.scenario.conversation.patience_resumed
        };
        if let Some(patience) = patience {
            let deadline = c.ready_at + patience.sample(&mut self.streams.patience);
            let event = Event::PatienceExpired { conversation: id, generation: c.generation };
            self.schedule(deadline, event);
        }
    }

    // ----- queues ---------------------------------------------------------------------------

    fn queue_changing(&mut self) {
        self.recorder.queue_changing(
            self.now,
            self.waiting_global + self.waiting_personal_total,
            self.waiting_personal_total,
        );
    }

    fn queue_changed(&mut self, personal_agent: Option<AgentId>) {
        let len = personal_agent.map(|a| self.waiting_personal[a as usize]);
        self.recorder.queue_changed(self.now, self.waiting_global + self.waiting_personal_total, len);
    }

    fn enqueue_global(&mut self, id: u32) {
        self.queue_changing();
        let c = self.conversations.get_mut(id);
        c.state = ContactState::WaitingGlobal;
        c.agent = NO_AGENT;
        let entry = WaitingContact { conversation: id, generation: c.generation };
        self.global.push(c.ready_at, c.ready_seq, entry);
        self.waiting_global += 1;
        self.queue_changed(None);
    }

    fn enqueue_personal(&mut self, id: u32, agent: AgentId) {
        self.queue_changing();
        let c = self.conversations.get_mut(id);
        c.state = ContactState::WaitingPersonal;
        c.agent = agent;
        self.personal.push(agent, WaitingContact { conversation: id, generation: c.generation });
        self.waiting_personal[agent as usize] += 1;
        self.waiting_personal_total += 1;
        self.queue_changed(Some(agent));
    }

    /// Takes a waiting contact out of the count of its queue (its entry becomes stale).
    fn leave_queue(&mut self, id: u32) {
        self.queue_changing();
        let c = self.conversations.get(id);
        match c.state {
            ContactState::WaitingGlobal => self.waiting_global -= 1,
            ContactState::WaitingPersonal => {
                self.waiting_personal[c.agent as usize] -= 1;
                self.waiting_personal_total -= 1;
            }
            _ => unreachable!("only waiting contacts leave a queue"),
        }
    }

    fn pop_personal(&mut self, agent: AgentId) -> Option<u32> {
        while let Some(entry) = self.personal.pop(agent) {
            if self.conversations.is_current(
                entry.conversation,
                entry.generation,
                ContactState::WaitingPersonal,
            ) {
                return Some(entry.conversation);
            }
        }
        None
    }

    fn pop_global(&mut self) -> Option<u32> {
        while let Some(entry) = self.global.pop() {
            if self.conversations.is_current(
                entry.conversation,
                entry.generation,
                ContactState::WaitingGlobal,
            ) {
                return Some(entry.conversation);
            }
        }
        None
    }

    /// An agent with free slots takes waiting work until its slots or the queues run out.
    fn serve_queues(&mut self, agent: AgentId) {
        while self.capacity.has_free_slot(agent) {
            let next = if self.options.personal_first {
                self.pop_personal(agent).or_else(|| self.pop_global())
            } else {
                self.pop_global().or_else(|| self.pop_personal(agent))
            };
            let Some(id) = next else { return };
            self.leave_queue(id);
            self.pick_up(id, agent);
        }
    }

    // ----- pickup and handling --------------------------------------------------------------

    fn agent_changing(&mut self, agent: AgentId) {
        let on_shift = self.capacity.is_on_shift(agent);
        self.recorder.agent_changing(agent, self.now, self.capacity.load(agent), on_shift);
    }

    fn pick_up(&mut self, id: u32, agent: AgentId) {
        self.stats.events += 1;
        self.audit.picked += 1;
        if self.capacity.load(agent) >= self.capacity.concurrency(agent) {
            self.audit.over_concurrency += 1;
            debug_assert!(false, "agent {agent} over its concurrency");
        }
        if !self.capacity.is_on_shift(agent) {
            self.audit.off_shift_pickups += 1;
        }
        self.agent_changing(agent);
        self.capacity.take_slot(agent);
        let in_handling = self.capacity.load(agent);

        let now = self.now;
        let c = self.conversations.get_mut(id);
        let by_owner = c.owner == agent;
        if !c.is_first && !by_owner {
            c.handoffs += 1;
        }
        if c.first_agent == NO_AGENT {
            c.first_agent = agent;
        } else if c.first_agent != agent {
            c.single_agent = false;
        }
        c.owner = agent;
        c.agent = agent;
        c.state = ContactState::InHandling;
        let (first, ready_at) = (c.is_first, c.ready_at);
        self.recorder.contact_picked(first, ready_at, now - ready_at, by_owner);

        let pool = &self.scenario.pools[self.capacity.pool_of(agent)];
        let slowdown = 1.0 + pool.slowdown * f64::from(in_handling - 1);
        let handle = self.scenario.conversation.handle_time.sample(&mut self.streams.handle) * slowdown;
        self.schedule(now + handle, Event::HandlingDone { conversation: id });
    }

    fn on_handling_done(&mut self, id: u32) {
        self.stats.events += 1;
        let now = self.now;
        let agent = self.conversations.get(id).agent;
        self.agent_changing(agent);
        self.capacity.release_slot(agent);

        let c = self.conversations.get_mut(id);
        c.exchanges_left -= 1;
        c.last_reply_at = now;
        c.state = ContactState::InGap;
        if c.exchanges_left == 0 {
            let (arrived_at, handoffs, single) = (c.arrived_at, c.handoffs, c.single_agent);
            self.recorder.conversation_resolved(now, arrived_at, handoffs, single);
            self.conversations.close(id);
        } else {
            let gap = match &self.scenario.conversation.gap {
                Some(gap) => gap.sample(&mut self.streams.gap),
                None => 0.0,
            };
            self.schedule(now + gap, Event::ContactReady { conversation: id });
        }
        self.serve_queues(agent);
    }

    // ----- timers ---------------------------------------------------------------------------

    fn on_patience_expired(&mut self, id: u32, generation: u32) {
        let waiting = self.conversations.is_current(id, generation, ContactState::WaitingGlobal)
            || self.conversations.is_current(id, generation, ContactState::WaitingPersonal);
        if !waiting {
            self.stats.stale_timers += 1;
            return;
        }
        self.stats.events += 1;
        self.audit.abandoned += 1;
        self.leave_queue(id);
        let c = self.conversations.get(id);
        let (first, ready_at) = (c.is_first, c.ready_at);
        self.recorder.contact_abandoned(first, ready_at, self.now - ready_at);
        self.conversations.close(id);
    }

    fn on_fall_back(&mut self, id: u32, generation: u32) {
        if !self.conversations.is_current(id, generation, ContactState::WaitingPersonal) {
            self.stats.stale_timers += 1;
            return;
        }
        self.stats.events += 1;
        self.recorder.fallback(self.conversations.get(id).ready_at);
        self.leave_queue(id);
        match self.capacity.select_free(&mut self.streams.routing) {
            Some(agent) => self.pick_up(id, agent),
            None => self.enqueue_global(id),
        }
    }

    // ----- shifts ---------------------------------------------------------------------------

    fn pool_agents(&self, pool: usize) -> std::ops::Range<u32> {
        self.pool_start[pool]..self.pool_start[pool + 1]
    }

    fn start_shifts(&mut self) {
        for pool in 0..self.scenario.pools.len() {
            self.apply_shift_state(pool);
        }
    }

    fn on_shift_change(&mut self, pool: usize) {
        self.stats.events += 1;
        self.apply_shift_state(pool);
    }

    /// Puts the pool's agents on or off shift as the schedule says now, lets agents that came
    /// on shift serve the queues, and schedules the next change.
    fn apply_shift_state(&mut self, pool: usize) {
        let schedule = self.scenario.pools[pool].shifts.as_ref();
        let on = schedule.is_none_or(|s| s.is_on(self.now));
        for agent in self.pool_agents(pool) {
            if self.capacity.is_on_shift(agent) != on {
                self.agent_changing(agent);
                self.capacity.set_on_shift(agent, on);
            }
        }
        if on {
            for agent in self.pool_agents(pool) {
                self.serve_queues(agent);
            }
        }
        if let Some(next) = schedule.and_then(|s| s.next_change_after(self.now)) {
            self.schedule(next, Event::ShiftChange { pool: pool as u32 });
        }
    }

    // ----- the horizon ----------------------------------------------------------------------

    fn finish(mut self) -> RunOutput {
        for agent in 0..self.capacity.agent_count() as u32 {
            self.agent_changing(agent);
        }
        self.queue_changing();
        for (_, c) in self.conversations.iter() {
            if matches!(c.state, ContactState::WaitingGlobal | ContactState::WaitingPersonal) {
                self.audit.waiting_at_horizon += 1;
                self.recorder.contact_unfinished(c.is_first, c.ready_at);
            }
        }
        RunOutput { metrics: self.recorder.finish(), audit: self.audit, stats: self.stats }
    }
}
