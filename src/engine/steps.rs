//! Routing in widening steps ([`Route::Steps`](crate::policy::Route::Steps)), the team queues
//! they wait in, and the view of the center a policy reads.
//!
//! A contact following a plan waits where the current step's agents look: the owner's personal
//! queue, the team queue of (owner's pool, channel), or the channel's queue. A step timer (an
//! [`Event::Step`], tie rank of a hybrid fallback: a pickup at the same instant wins) moves it
//! to the next step's queue; the old entry goes stale with the state change, so nothing is
//! searched. With one pool serving the channel the team is everyone: its contacts wait in the
//! channel's queue, bit for bit as `anyone`. Team queues exist only once a step reaches a team.

use super::conversations::{ContactState, NO_AGENT};
use super::event_queue::Event;
use super::queues::{GlobalQueue, ReadyKey, WaitingContact};
use super::Engine;
use crate::policy::{AgentId, CenterView, Reach, StepPlan};

/// What steps add to the engine; empty (and never read) for policies without steps.
#[derive(Default)]
pub(super) struct StepState<'a> {
    /// By conversation id: the plan its waiting contact follows and the step it is at (valid
    /// while that contact waits; timers check the generation first).
    plans: Vec<Option<(&'a StepPlan, u8)>>,
    teams: Option<TeamQueues>,
}

/// One queue per (pool, channel), by ready time, and its count of valid entries.
struct TeamQueues {
    queues: Vec<GlobalQueue>,
    waiting: Vec<u64>,
    channels: usize,
}

impl<'a> StepState<'a> {
    /// Whether some contact ever waited in a team queue (free agents then look there too).
    #[inline]
    pub(super) fn has_teams(&self) -> bool {
        self.teams.is_some()
    }

    fn set_plan(&mut self, id: u32, plan: &'a StepPlan, step: usize) {
        let i = id as usize;
        if i >= self.plans.len() {
            self.plans.resize(i + 1, None);
        }
        self.plans[i] = Some((plan, step as u8));
    }

    fn plan_of(&self, id: u32) -> Option<(&'a StepPlan, usize)> {
        self.plans.get(id as usize).copied().flatten().map(|(p, k)| (p, k as usize))
    }

    pub(super) fn left_team(&mut self, pool: usize, channel: usize) {
        if let Some(t) = &mut self.teams {
            t.waiting[pool * t.channels + channel] -= 1;
        }
    }

    fn team_len(&self, pool: usize, channel: usize) -> u64 {
        self.teams.as_ref().map_or(0, |t| t.waiting[pool * t.channels + channel])
    }
}

/// The center as a policy sees it.
pub(super) struct View<'e, 'a>(&'e Engine<'a>);

impl CenterView for View<'_, '_> {
    fn is_on_shift(&self, agent: AgentId) -> bool {
        self.0.capacity.is_on_shift(agent)
    }
    fn has_free_slot(&self, agent: AgentId) -> bool {
        self.0.capacity.has_free_slot(agent)
    }
    fn load(&self, agent: AgentId) -> u32 {
        self.0.capacity.load(agent)
    }
    fn concurrency(&self, agent: AgentId) -> u32 {
        // The pool's, whatever the capacity model (in units, the index reuses the agent's).
        self.0.scenario.pools[self.0.capacity.pool_of(agent)].concurrency
    }
    fn load_share(&self, agent: AgentId) -> f64 {
        match self.0.capacity.units_of(agent) {
            (used, cap) if cap > 0 => used as f64 / cap as f64,
            _ => f64::from(self.load(agent)) / f64::from(self.concurrency(agent).max(1)),
        }
    }
    fn personal_queue_len(&self, agent: AgentId) -> u64 {
        self.0.waiting_personal[agent as usize]
    }
    fn pool_of(&self, agent: AgentId) -> usize {
        self.0.capacity.pool_of(agent)
    }
    fn pool_agents(&self, pool: usize) -> std::ops::Range<AgentId> {
        self.0.pool_agents(pool)
    }
    fn agent_count(&self) -> usize {
        self.0.capacity.agent_count()
    }
    fn channel_queue_len(&self, channel: usize) -> u64 {
        self.0.chan[channel].waiting
    }
    fn team_queue_len(&self, pool: usize, channel: usize) -> u64 {
        self.0.steps.team_len(pool, channel)
    }
}

impl<'a> Engine<'a> {
    pub(super) fn view(&self) -> View<'_, 'a> {
        View(self)
    }

    /// A resumed contact starts `plan` (past its owner steps if the owner is off shift). Not
    /// inlined: the ready path of policies without steps stays as small as it was.
    #[inline(never)]
    pub(super) fn route_steps(&mut self, id: u32, plan: &'a StepPlan, owner_offline: bool) {
        let mut first = 0;
        if owner_offline {
            self.recorder.owner_offline_reroute(self.now);
            match plan.first_beyond_owner() {
                Some(step) => first = step,
                None => return self.offer_to_pool(id),
            }
        }
        self.try_step(id, plan, first, true);
    }

    /// Step `k` of `plan`: an eligible free agent takes the contact, else it waits for this
    /// step's agents until the step ends. A zero-time first step widens at once, without a
    /// timer (hybrid's zero timeout). `fresh`: the contact has not waited yet (patience starts).
    fn try_step(&mut self, id: u32, plan: &'a StepPlan, mut k: usize, fresh: bool) {
        let (owner, channel) = {
            let c = self.conversations.get(id);
            (c.owner, c.channel as usize)
        };
        loop {
            let step = plan.steps()[k];
            if let Some(agent) = self.free_eligible(owner, channel, step.to) {
                return self.pick_up(id, agent);
            }
            if step.until == Some(0.0) {
                self.recorder.fallback(self.sent_at(id));
                k += 1;
                continue;
            }
            match step.to {
                Reach::Owner => self.enqueue_personal(id, owner),
                Reach::Team if !self.capacity.team_is_everyone(channel) => {
                    self.enqueue_team(id, self.capacity.pool_of(owner))
                }
                Reach::Team | Reach::Anyone => self.enqueue_global(id),
            }
            if fresh {
                self.start_patience(id);
            }
            return self.wait_for_step_end(id, plan, k);
        }
    }

    /// Remembers the contact's step and sets the timer of its end, if it has one.
    fn wait_for_step_end(&mut self, id: u32, plan: &'a StepPlan, k: usize) {
        self.steps.set_plan(id, plan, k);
        if let Some(until) = plan.steps()[k].until {
            // Like every timer the customer feels, from the send.
            let event = Event::Step { conversation: id, generation: self.conversations.get(id).generation };
            self.schedule(self.sent_at(id) + until, event);
        }
    }

    /// The agent who takes a contact at a step now, if any: the owner if free, else the
    /// step's `select` among free eligible agents.
    fn free_eligible(&mut self, owner: AgentId, channel: usize, reach: Reach) -> Option<AgentId> {
        // With capacity in units, the owner's room must fit this channel's contact.
        if self.capacity.has_free_slot(owner)
            && (self.holding.is_none() || self.capacity.fits(owner, channel))
        {
            return Some(owner);
        }
        let chosen = self.select_eligible(owner, channel, reach);
        // The audit: the step's agents only (skills are audited at pickup).
        if let Some(agent) = chosen {
            let reached = match reach {
                Reach::Owner => agent == owner,
                Reach::Team => self.capacity.pool_of(agent) == self.capacity.pool_of(owner),
                Reach::Anyone => true,
            };
            if !reached {
                self.audit.ineligible_pickups += 1;
            }
        }
        chosen
    }

    fn select_eligible(&mut self, owner: AgentId, channel: usize, reach: Reach) -> Option<AgentId> {
        let rng = &mut self.chan[0].streams.routing;
        match reach {
            Reach::Owner => None,
            Reach::Team => {
                if !self.capacity.team_is_everyone(channel) {
                    // A policy that did not declare `uses_teams`: index teams from now on.
                    self.capacity.enable_teams(&self.scenario.pools);
                }
                let pool = self.capacity.pool_of(owner);
                self.capacity.select_team(pool, channel, rng)
            }
            Reach::Anyone => self.capacity.select_free(channel, rng),
        }
    }

    /// A contact's step ends while it waits: it widens to the next step.
    pub(super) fn on_step(&mut self, id: u32, generation: u32) {
        let c = self.conversations.get(id);
        let state = c.state;
        let waiting = matches!(
            state,
            ContactState::WaitingPersonal | ContactState::WaitingTeam | ContactState::WaitingGlobal
        );
        let Some((plan, k)) = self.steps.plan_of(id).filter(|_| waiting && c.generation == generation) else {
            self.stats.stale_timers += 1;
            return;
        };
        let (owner, channel) = (c.owner, c.channel as usize);
        self.stats.events += 1;
        // Counted as hybrid counts its timeout: one per step that ends with the contact waiting.
        self.recorder.fallback(self.sent_at(id));
        let next = k + 1;
        if state == ContactState::WaitingGlobal {
            // Already where everyone looks (a team that is everyone): it stays in place.
            if let Some(agent) = self.free_eligible(owner, channel, plan.steps()[next].to) {
                self.leave_queue(id);
                return self.pick_up(id, agent);
            }
            return self.wait_for_step_end(id, plan, next);
        }
        self.leave_queue(id);
        self.try_step(id, plan, next, false);
    }

    // ----- team queues ----------------------------------------------------------------------

    fn enqueue_team(&mut self, id: u32, pool: usize) {
        self.queue_changing();
        let channels = self.chan.len();
        let pools = self.scenario.pools.len();
        let c = self.conversations.get_mut(id);
        c.state = ContactState::WaitingTeam;
        c.agent = NO_AGENT;
        let entry = WaitingContact { conversation: id, generation: c.generation };
        let teams = self.steps.teams.get_or_insert_with(|| TeamQueues {
            queues: (0..pools * channels).map(|_| GlobalQueue::default()).collect(),
            waiting: vec![0; pools * channels],
            channels,
        });
        let k = pool * channels + c.channel as usize;
        teams.queues[k].push(c.ready_at, c.ready_seq, entry);
        teams.waiting[k] += 1;
        self.waiting_global += 1;
        self.queue_changed(None);
    }

    /// The head of the team queue of (`pool`, `channel`) once stale entries are dropped.
    fn team_head(&mut self, pool: usize, channel: usize) -> Option<ReadyKey> {
        let teams = self.steps.teams.as_mut()?;
        let k = pool * teams.channels + channel;
        if teams.waiting[k] == 0 {
            return None;
        }
        while let Some((key, entry)) = teams.queues[k].peek() {
            if self.conversations.is_current(entry.conversation, entry.generation, ContactState::WaitingTeam)
            {
                return Some(key);
            }
            teams.queues[k].pop();
        }
        None
    }

    /// The contact `agent` takes from its channels' queues and its teams' queues: the highest
    /// priority with a waiting contact, and among equal priorities the contact ready first
    /// (a team queue counts as one more queue of its channel).
    pub(super) fn pop_channels_and_team(&mut self, agent: AgentId) -> Option<u32> {
        let pool = self.capacity.pool_of(agent);
        let scenario = self.scenario;
        let mut rest = &scenario.pools[pool].skills[..];
        while let Some(first) = rest.first() {
            let level = rest.iter().take_while(|s| s.priority == first.priority).count();
            let mut best: Option<(ReadyKey, usize, bool)> = None;
            for skill in &rest[..level] {
                // With weights, a channel whose contact would not fit is passed over.
                if self.holding.is_some() && !self.capacity.fits(agent, skill.channel) {
                    continue;
                }
                let heads =
                    [(self.queue_head(skill.channel), false), (self.team_head(pool, skill.channel), true)];
                for (head, team) in heads {
                    if let Some(key) = head {
                        if best.is_none_or(|(k, _, _)| key < k) {
                            best = Some((key, skill.channel, team));
                        }
                    }
                }
            }
            match best {
                Some((_, channel, false)) => return self.pop_global(channel),
                Some((_, channel, true)) => {
                    let teams = self.steps.teams.as_mut()?;
                    let entry = teams.queues[pool * teams.channels + channel].pop()?;
                    let owner = self.conversations.get(entry.conversation).owner;
                    if self.capacity.pool_of(owner) != pool {
                        self.audit.ineligible_pickups += 1;
                    }
                    return Some(entry.conversation);
                }
                None => rest = &rest[level..],
            }
        }
        None
    }
}
