//! Timers (patience, hybrid fallback), shift changes and the horizon.

use super::conversations::ContactState;
use super::event_queue::Event;
use super::{Engine, RunOutput};

impl Engine<'_> {
    // ----- timers ---------------------------------------------------------------------------

    pub(super) fn on_patience_expired(&mut self, id: u32, generation: u32) {
        let waiting = self.conversations.is_current(id, generation, ContactState::WaitingGlobal)
            || self.conversations.is_current(id, generation, ContactState::WaitingPersonal)
            || self.conversations.is_current(id, generation, ContactState::WaitingTeam);
        if !waiting {
            self.stats.stale_timers += 1;
            return;
        }
        self.stats.events += 1;
        self.audit.abandoned += 1;
        self.leave_queue(id);
        let sent = self.sent_at(id);
        let c = self.conversations.get(id);
        self.recorder.contact_abandoned(c.channel as usize, c.is_first, sent, self.now - sent);
        self.conversations.close(id);
    }

    pub(super) fn on_fall_back(&mut self, id: u32, generation: u32) {
        if !self.conversations.is_current(id, generation, ContactState::WaitingPersonal) {
            self.stats.stale_timers += 1;
            return;
        }
        self.stats.events += 1;
        self.recorder.fallback(self.sent_at(id));
        self.leave_queue(id);
        let channel = self.conversations.get(id).channel as usize;
        match self.capacity.select_free(channel, &mut self.chan[0].streams.routing) {
            Some(agent) => self.pick_up(id, agent),
            None => self.enqueue_global(id),
        }
    }

    // ----- shifts ---------------------------------------------------------------------------

    pub(super) fn pool_agents(&self, pool: usize) -> std::ops::Range<u32> {
        self.pool_start[pool]..self.pool_start[pool + 1]
    }

    pub(super) fn start_shifts(&mut self) {
        let pools: Vec<usize> = (0..self.scenario.pools.len()).collect();
        self.change_shifts(&pools);
    }

    /// A pool's shift changes; so, at this instant, may others' (their changes queued next are
    /// taken together, so that all agents who come on shift now share the backlog).
    pub(super) fn on_shift_change(&mut self, pool: usize) {
        self.stats.events += 1;
        let mut pools = vec![pool];
        while let Some(Event::ShiftChange { pool }) =
            self.events.pop_at_if(self.now, |e| matches!(e, Event::ShiftChange { .. }))
        {
            self.stats.events += 1;
            pools.push(pool as usize);
        }
        self.change_shifts(&pools);
    }

    /// Puts the pools' agents on or off shift as their shifts or staffing vectors say now, schedules each pool's
    /// next change, and lets the agents who came on shift take the waiting backlog.
    fn change_shifts(&mut self, pools: &[usize]) {
        let mut came_on = Vec::new();
        for &pool in pools {
            let definition = &self.scenario.pools[pool];
            // Agents 0..n of the pool are on: with a staffing vector the same agents stay on as
            // long as possible, which keeps owners available.
            let on_count = definition.on_shift_at(self.now);
            let next = definition.next_change_after(self.now);
            for (rank, agent) in self.pool_agents(pool).enumerate() {
                let on = (rank as u64) < u64::from(on_count);
                if self.capacity.is_on_shift(agent) != on {
                    self.agent_changing(agent);
                    if self.holding.is_some() {
                        self.holding_agent_changing(agent);
                    }
                    self.capacity.set_on_shift(agent, on);
                    if on {
                        came_on.push(agent);
                    }
                }
            }
            if let Some(next) = next {
                self.schedule(next, Event::ShiftChange { pool: pool as u32 });
            }
        }
        self.take_backlog(&came_on);
    }

    /// Agents who just came on shift take the waiting work: each its own personal queue, and
    /// the global backlog one contact at a time, each to the best free agent in `select` order
    /// (not one agent filling all its slots before the next gets any).
    fn take_backlog(&mut self, came_on: &[u32]) {
        if came_on.is_empty() {
            return;
        }
        if self.options.personal_first {
            came_on.iter().for_each(|&agent| self.serve_personal(agent));
        }
        self.spread_global_backlog();
        if !self.options.personal_first {
            came_on.iter().for_each(|&agent| self.serve_personal(agent));
        }
        if self.steps.has_teams() {
            // Team queues: each agent who came on takes what its teams still hold.
            came_on.iter().for_each(|&agent| self.serve_queues(agent));
        }
    }

    // ----- the horizon ----------------------------------------------------------------------

    pub(super) fn finish(mut self) -> RunOutput {
        for agent in 0..self.capacity.agent_count() as u32 {
            self.agent_changing(agent);
            if self.holding.is_some() {
                self.holding_agent_changing(agent);
            }
        }
        if let Some(holding) = &self.holding {
            let (handling, held) = holding.slot_seconds();
            self.recorder.capacity_totals(handling, held);
        }
        self.queue_changing();
        for (id, c) in self.conversations.iter() {
            if matches!(
                c.state,
                ContactState::WaitingGlobal | ContactState::WaitingPersonal | ContactState::WaitingTeam
            ) {
                self.audit.waiting_at_horizon += 1;
                let sent = self.sent_at(id);
                self.recorder.contact_unfinished(c.channel as usize, c.is_first, sent);
            }
        }
        RunOutput {
            metrics: self.recorder.finish(),
            audit: self.audit,
            stats: self.stats,
            in_system: self.in_system,
        }
    }
}
