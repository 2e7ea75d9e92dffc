//! Queues, pickups and the end of handling: how waiting work meets free slots.

use super::conversations::{ContactState, NO_AGENT};
use super::event_queue::Event;
use super::queues::WaitingContact;
use super::Engine;
use crate::metrics::Pickup;
use crate::policy::AgentId;

impl Engine<'_> {
    // ----- queues ---------------------------------------------------------------------------

    pub(super) fn queue_changing(&mut self) {
        self.recorder.queue_changing(
            self.now,
            self.waiting_global + self.waiting_personal_total,
            self.waiting_personal_total,
        );
    }

    pub(super) fn queue_changed(&mut self, personal_agent: Option<AgentId>) {
        let len = personal_agent.map(|a| self.waiting_personal[a as usize]);
        self.recorder.queue_changed(self.now, self.waiting_global + self.waiting_personal_total, len);
    }

    pub(super) fn enqueue_global(&mut self, id: u32) {
        self.queue_changing();
        let c = self.conversations.get_mut(id);
        c.state = ContactState::WaitingGlobal;
        c.agent = NO_AGENT;
        let entry = WaitingContact { conversation: id, generation: c.generation };
        let channel = &mut self.chan[c.channel as usize];
        channel.queue.push(c.ready_at, c.ready_seq, entry);
        channel.waiting += 1;
        self.waiting_global += 1;
        self.queue_changed(None);
    }

    pub(super) fn enqueue_personal(&mut self, id: u32, agent: AgentId) {
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
    pub(super) fn leave_queue(&mut self, id: u32) {
        self.queue_changing();
        let c = self.conversations.get(id);
        match c.state {
            ContactState::WaitingGlobal => {
                self.waiting_global -= 1;
                self.chan[c.channel as usize].waiting -= 1;
            }
            ContactState::WaitingPersonal => {
                self.waiting_personal[c.agent as usize] -= 1;
                self.waiting_personal_total -= 1;
            }
            ContactState::WaitingTeam => {
                self.waiting_global -= 1;
                let (owner, channel) = (c.owner, c.channel as usize);
                self.steps.left_team(self.capacity.pool_of(owner), channel);
            }
            _ => unreachable!("only waiting contacts leave a queue"),
        }
    }

    pub(super) fn pop_personal(&mut self, agent: AgentId) -> Option<u32> {
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

    /// The first current entry of `channel`'s queue, stale ones dropped on the way.
    pub(super) fn pop_global(&mut self, channel: usize) -> Option<u32> {
        while let Some(entry) = self.chan[channel].queue.pop() {
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
    pub(super) fn serve_queues(&mut self, agent: AgentId) {
        while self.capacity.has_free_slot(agent) {
            let next = if self.options.personal_first {
                self.pop_personal(agent).or_else(|| self.pop_channels(agent))
            } else {
                self.pop_channels(agent).or_else(|| self.pop_personal(agent))
            };
            let Some(id) = next else { return };
            self.leave_queue(id);
            self.pick_up(id, agent);
        }
    }

    /// An agent with free slots takes work from its personal queue only.
    pub(super) fn serve_personal(&mut self, agent: AgentId) {
        if self.holding.is_some() {
            return self.serve_queues_units(agent, true);
        }
        while self.capacity.has_free_slot(agent) {
            let Some(id) = self.pop_personal(agent) else { return };
            self.leave_queue(id);
            self.pick_up(id, agent);
        }
    }

    // ----- pickup and handling --------------------------------------------------------------

    pub(super) fn agent_changing(&mut self, agent: AgentId) {
        let on_shift = self.capacity.is_on_shift(agent);
        self.recorder.agent_changing(agent, self.now, self.capacity.load(agent), on_shift);
    }

    pub(super) fn pick_up(&mut self, id: u32, agent: AgentId) {
        self.stats.events += 1;
        self.audit.picked += 1;
        if !self.capacity.is_on_shift(agent) {
            self.audit.off_shift_pickups += 1;
        }
        self.agent_changing(agent);
        if self.holding.is_some() {
            self.take_units(id, agent);
        } else {
            if self.capacity.load(agent) >= self.capacity.concurrency(agent) {
                self.audit.over_concurrency += 1;
                debug_assert!(false, "agent {agent} over its concurrency");
            }
            self.capacity.take_slot(agent);
        }
        self.in_handling += 1;
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
        let (first, channel, arrived_at, ready_at) =
            (c.is_first, c.channel as usize, c.arrived_at, c.ready_at);
        let sent = if self.previewing { self.sent_at[id as usize] } else { ready_at };

        let pool = self.capacity.pool_of(agent);
        if self.skill_masks[pool] & (1 << channel) == 0 {
            self.audit.unskilled_pickups += 1;
        }
        let slowdown = 1.0 + self.scenario.pools[pool].slowdown * f64::from(in_handling - 1);
        let handle_time = &self.scenario.channels[channel].conversation.handle_time;
        let handle = handle_time.sample(&mut self.chan[channel].streams.handle) * slowdown;
        let done = self.handling_ends(channel, sent, handle);
        // The reply's time is known now: recorded with the pickup, once per contact.
        self.recorder.contact_picked(Pickup {
            channel,
            first,
            sent_at: sent,
            wait: (now - sent).max(0.0),
            response: done - sent,
            by_owner,
            agent,
            since_arrival: now - arrived_at,
        });
        self.schedule(done, Event::HandlingDone { conversation: id });
    }

    pub(super) fn on_handling_done(&mut self, id: u32) {
        self.stats.events += 1;
        let now = self.now;
        let agent = self.conversations.get(id).agent;
        self.agent_changing(agent);
        if self.holding.is_some() {
            self.release_after_reply(id, agent);
        } else {
            self.capacity.release_slot(agent);
        }
        self.in_handling -= 1;

        let c = self.conversations.get_mut(id);
        c.exchanges_left -= 1;
        c.last_reply_at = now;
        c.state = ContactState::InGap;
        if c.exchanges_left == 0 {
            let (arrived_at, handoffs, single) = (c.arrived_at, c.handoffs, c.single_agent);
            self.recorder.conversation_resolved(now, arrived_at, handoffs, single);
            self.conversations.close(id);
        } else {
            let channel = c.channel as usize;
            let gap = match &self.scenario.channels[channel].conversation.gap {
                Some(gap) => gap.sample(&mut self.chan[channel].streams.gap),
                None => 0.0,
            };
            let typed = self.typing_delay(channel);
            self.schedule(now + gap + typed, Event::ContactReady { conversation: id });
        }
        if self.holding.is_some() {
            self.serve_queues_units(agent, false);
        } else {
            self.serve_queues(agent);
        }
    }
}
