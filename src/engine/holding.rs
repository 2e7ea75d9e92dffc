//! Capacity held between contacts (`[capacity]`, messaging semantics): what a conversation
//! holds at its owner after a reply, its go-inactive and close timers, the reactivation of a
//! held conversation by its next contact, and the split of occupancy into handling and held.
//!
//! Built only when some channel has a capacity model other than the plain one; the engine's
//! plain paths then test one `Option` and never come here. Timers are lazy like patience: they
//! carry the conversation's generation at the reply and are stale once its customer wrote
//! again (or it ended). Nothing here scans agents or conversations.

use super::conversations::{ContactState, NO_AGENT};
use super::event_queue::Event;
use super::Engine;
use crate::policy::AgentId;
use crate::scenario::capacity::{ChannelCapacity, Hold, Reactivation, SLOT_UNITS};
use crate::scenario::Scenario;

/// What a resumed contact's conversation held when the contact became ready.
pub(super) enum Reactivated {
    /// The holder took it at once.
    Taken,
    /// The hold was released at this agent; the policy routes the contact.
    Released(AgentId),
    /// Nothing was held (no hold on its channel).
    NotHeld,
}

/// One agent's units in handling and held, and since when (for the time integrals).
#[derive(Debug, Clone, Copy, Default)]
struct AgentUnits {
    since: f64,
    handling: u64,
    held: u64,
}

/// The engine's state for capacity held between contacts.
#[derive(Debug)]
pub(super) struct Holding {
    /// Each channel's capacity model.
    chan: Vec<ChannelCapacity>,
    /// Per conversation id: units it holds at its owner between contacts.
    held: Vec<u64>,
    /// Per conversation id: closed for inactivity; its next message opens a new conversation.
    closed: Vec<bool>,
    /// The pickup under way is a held conversation's reactivation to its holder.
    reactivating: bool,
    agents: Vec<AgentUnits>,
    warmup: f64,
    horizon: f64,
    /// On-shift unit-seconds in `[warmup, horizon]`, in handling and held.
    handling_unit_s: f64,
    held_unit_s: f64,
}

impl Holding {
    pub(super) fn new(scenario: &Scenario, agents: usize) -> Self {
        Self {
            chan: scenario.channels.iter().map(|c| c.capacity).collect(),
            held: Vec::new(),
            closed: Vec::new(),
            reactivating: false,
            agents: vec![AgentUnits { since: scenario.warmup, ..Default::default() }; agents],
            warmup: scenario.warmup,
            horizon: scenario.horizon,
            handling_unit_s: 0.0,
            held_unit_s: 0.0,
        }
    }

    /// Before an agent's units or shift state change: integrates the old state.
    pub(super) fn agent_changing(&mut self, agent: AgentId, now: f64, on_shift: bool) {
        let a = &mut self.agents[agent as usize];
        let span = (now.min(self.horizon) - a.since.max(self.warmup)).max(0.0);
        if span > 0.0 && on_shift {
            self.handling_unit_s += span * a.handling as f64;
            self.held_unit_s += span * a.held as f64;
        }
        a.since = now;
    }

    /// Occupancy in handling and held, as slot-seconds (for the recorder's shares).
    pub(super) fn slot_seconds(&self) -> (f64, f64) {
        let slot = SLOT_UNITS as f64;
        (self.handling_unit_s / slot, self.held_unit_s / slot)
    }

    fn slot(&mut self, id: u32) -> usize {
        let i = id as usize;
        if self.held.len() <= i {
            self.held.resize(i + 1, 0);
            self.closed.resize(i + 1, false);
        }
        i
    }

    /// Moves `id`'s hold at `agent` from what it is to `units`; returns the units it held.
    fn set_held(&mut self, id: u32, agent: AgentId, units: u64) -> u64 {
        let i = self.slot(id);
        let before = std::mem::replace(&mut self.held[i], units);
        let a = &mut self.agents[agent as usize];
        a.held = a.held + units - before;
        before
    }
}

impl Engine<'_> {
    /// The holding side of [`Engine::agent_changing`]: called before every change of an
    /// agent's units or shift state (kept out of the plain engine's line).
    #[cold]
    #[inline(never)]
    pub(super) fn holding_agent_changing(&mut self, agent: AgentId) {
        let (now, on_shift) = (self.now, self.capacity.is_on_shift(agent));
        self.holding_mut().agent_changing(agent, now, on_shift);
    }

    /// Before a change of the agent's units by this module: both integrals.
    fn units_changing(&mut self, agent: AgentId) {
        self.agent_changing(agent);
        self.holding_agent_changing(agent);
    }

    /// Whether `agent` has room for the contact of conversation `id` (its channel's weight).
    #[cold]
    #[inline(never)]
    pub(super) fn fits(&self, id: u32, agent: AgentId) -> bool {
        self.capacity.fits(agent, self.conversations.get(id).channel as usize)
    }

    fn holding_mut(&mut self) -> &mut Holding {
        self.holding.as_mut().expect("only called with a capacity model")
    }

    /// A pickup with capacity in units: the contact takes its channel's weight; past the
    /// agent's capacity only as a counted reactivation.
    #[cold]
    #[inline(never)]
    pub(super) fn take_units(&mut self, id: u32, agent: AgentId) {
        self.holding_agent_changing(agent);
        let c = self.conversations.get(id);
        let channel = c.channel as usize;
        let sent = self.sent_at(id);
        let holding = self.holding_mut();
        let weight = holding.chan[channel].active_units();
        holding.agents[agent as usize].handling += weight;
        let reactivating = holding.reactivating;
        let (used, cap) = self.capacity.units_of(agent);
        if used + weight > cap {
            if reactivating {
                self.audit.reactivations_over_capacity += 1;
                self.recorder.reactivation_over_capacity(sent);
            } else {
                self.audit.over_concurrency += 1;
                debug_assert!(false, "agent {agent} over its capacity");
            }
        }
        self.capacity.take_units(agent, weight);
    }

    /// The end of handling with capacity in units: the contact's weight is released, and a
    /// conversation that goes on holds its whole weight (with a hold), with its timers set.
    #[cold]
    #[inline(never)]
    pub(super) fn release_after_reply(&mut self, id: u32, agent: AgentId) {
        self.holding_agent_changing(agent);
        let c = self.conversations.get(id);
        let (channel, generation, continues) = (c.channel as usize, c.generation, c.exchanges_left > 1);
        let now = self.now;
        let holding = self.holding_mut();
        let model = holding.chan[channel];
        let weight = model.active_units();
        holding.agents[agent as usize].handling -= weight;
        let held = if continues && model.hold != Hold::None { weight } else { 0 };
        if continues || held > 0 {
            holding.set_held(id, agent, held);
        }
        self.capacity.release_units(agent, weight, held);
        if !continues {
            return;
        }
        if let (Hold::UntilInactive, Some(after)) = (model.hold, model.inactive_after) {
            if model.inactive_units() != held {
                self.schedule(now + after, Event::GoInactive { conversation: id, generation });
            }
        }
        if let Some(after) = model.close_after {
            self.schedule(now + after, Event::CloseIdle { conversation: id, generation });
        }
    }

    /// Whether a capacity timer of (`id`, `generation`) still concerns a silent, open
    /// conversation; counts it stale if not.
    fn capacity_timer_current(&mut self, id: u32, generation: u32) -> bool {
        let current = self.conversations.is_current(id, generation, ContactState::InGap)
            && self.holding.as_ref().is_none_or(|h| h.closed.get(id as usize) != Some(&true));
        if !current {
            self.stats.stale_timers += 1;
        }
        current
    }

    /// A held conversation goes inactive: it holds its inactive weight from now on, and the
    /// owner's freed capacity serves waiting work.
    pub(super) fn on_go_inactive(&mut self, id: u32, generation: u32) {
        if !self.capacity_timer_current(id, generation) {
            return;
        }
        let c = self.conversations.get(id);
        let (agent, channel) = (c.owner, c.channel as usize);
        self.units_changing(agent);
        let holding = self.holding_mut();
        let inactive = holding.chan[channel].inactive_units();
        let before = holding.set_held(id, agent, inactive);
        self.capacity.add_units(agent, inactive, before);
        self.serve_queues_units(agent, false);
    }

    /// A conversation silent for `close_after` closes: its hold is released, and its next
    /// message will open a new conversation.
    pub(super) fn on_close_idle(&mut self, id: u32, generation: u32) {
        if !self.capacity_timer_current(id, generation) {
            return;
        }
        let agent = self.conversations.get(id).owner;
        self.units_changing(agent);
        let holding = self.holding_mut();
        let before = holding.set_held(id, agent, 0);
        let i = holding.slot(id);
        holding.closed[i] = true;
        self.recorder.conversation_closed(self.now);
        if before > 0 {
            self.capacity.add_units(agent, 0, before);
            self.serve_queues_units(agent, false);
        }
    }

    /// A message of a conversation closed for inactivity opens a new one: no owner (its
    /// contact is a first contact), a new arrival time, no handoffs yet.
    #[cold]
    #[inline(never)]
    pub(super) fn reopen_if_closed(&mut self, id: u32) {
        let now = self.now;
        let holding = self.holding_mut();
        let i = holding.slot(id);
        if !std::mem::replace(&mut holding.closed[i], false) {
            return;
        }
        let c = self.conversations.get_mut(id);
        c.owner = NO_AGENT;
        c.first_agent = NO_AGENT;
        c.single_agent = true;
        c.handoffs = 0;
        c.arrived_at = now;
        c.last_reply_at = now;
    }

    /// A resumed contact of a conversation with a hold: with `reactivation = "holder"` and the
    /// holder on shift, the holder takes it at once (past its capacity if need be); otherwise
    /// the hold is released and the policy routes it.
    #[cold]
    #[inline(never)]
    pub(super) fn reactivate(&mut self, id: u32) -> Reactivated {
        let c = self.conversations.get(id);
        let (agent, channel) = (c.owner, c.channel as usize);
        let model = self.holding_mut().chan[channel];
        if model.hold == Hold::None {
            return Reactivated::NotHeld;
        }
        let held = self.holding.as_ref().and_then(|h| h.held.get(id as usize).copied()).unwrap_or(0);
        if held > 0 {
            self.units_changing(agent);
            self.holding_mut().set_held(id, agent, 0);
            self.capacity.add_units(agent, 0, held);
        }
        if model.reactivation == Reactivation::Holder && self.capacity.is_on_shift(agent) {
            self.holding_mut().reactivating = true;
            self.pick_up(id, agent);
            self.holding_mut().reactivating = false;
            return Reactivated::Taken;
        }
        Reactivated::Released(agent)
    }

    /// [`Engine::serve_queues`] (or, if `personal_only`, [`Engine::serve_personal`]) with
    /// capacity in units: the agent takes waiting work while a contact of its lightest channel
    /// fits, the head of its personal queue only if that contact fits.
    #[cold]
    #[inline(never)]
    pub(super) fn serve_queues_units(&mut self, agent: AgentId, personal_only: bool) {
        while self.capacity.has_free_slot(agent) {
            let next = if personal_only {
                self.pop_personal_fitting(agent)
            } else if self.options.personal_first {
                self.pop_personal_fitting(agent).or_else(|| self.pop_channels(agent))
            } else {
                self.pop_channels(agent).or_else(|| self.pop_personal_fitting(agent))
            };
            let Some(id) = next else { return };
            self.leave_queue(id);
            self.pick_up(id, agent);
        }
    }

    /// [`Engine::pop_personal`] with weights: the head of the agent's queue only if it fits.
    fn pop_personal_fitting(&mut self, agent: AgentId) -> Option<u32> {
        while let Some(entry) = self.personal.front(agent) {
            let id = entry.conversation;
            if !self.conversations.is_current(id, entry.generation, ContactState::WaitingPersonal) {
                self.personal.pop(agent);
                continue;
            }
            if !self.capacity.fits(agent, self.conversations.get(id).channel as usize) {
                return None;
            }
            self.personal.pop(agent);
            return Some(id);
        }
        None
    }
}
