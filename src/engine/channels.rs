//! Channels in the engine: each channel's arrivals, queue and policy, and which waiting contact
//! a free agent takes among the queues of the channels it serves.
//!
//! A scenario without `[[channels]]` is one channel here, and every path below does for it
//! exactly what the single-queue engine did (same draws, same order), so its results are
//! bit-identical.

use super::conversations::ContactState;
use super::event_queue::Event;
use super::queues::{GlobalQueue, ReadyKey};
use super::Engine;
use crate::policy::{AgentId, FirstContact, Policy};
use crate::rng::Streams;
use crate::scenario::{Scenario, Skill};

/// What the engine keeps per channel.
pub(super) struct ChannelState<'a> {
    /// The channel's routing policy.
    pub(super) policy: &'a dyn Policy,
    /// Where its first contacts go (its policy's `first_contact`).
    pub(super) first_contact: FirstContact,
    /// Whether its policy routes first contacts itself (else the engine skips the call).
    pub(super) routes_first: bool,
    /// Its queue, by ready time.
    pub(super) queue: GlobalQueue,
    /// Valid entries in `queue`.
    pub(super) waiting: u64,
    /// The peak arrival rate, per second (for thinning).
    pub(super) max_arrival_rate: f64,
    /// Its random streams (channel 0's also serve routing).
    pub(super) streams: Streams,
    /// Whether new conversations meet a bot, and how customers type: read on every contact,
    /// so kept here rather than looked up in the scenario.
    pub(super) has_bot: bool,
    pub(super) typing: TypingMode,
}

/// How a channel's customers type their messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TypingMode {
    /// Sent at once.
    None,
    /// Typing delays the send.
    Delay,
    /// Agents may watch the typing.
    Preview,
}

impl<'a> ChannelState<'a> {
    pub(super) fn new(scenario: &'a Scenario, index: usize, seed: u64) -> Self {
        let channel = &scenario.channels[index];
        let policy = scenario.channel_policy(index);
        Self {
            policy: policy.policy.as_ref(),
            first_contact: policy.options.first_contact,
            routes_first: policy.policy.routes_first_contacts(),
            queue: GlobalQueue::default(),
            waiting: 0,
            max_arrival_rate: channel.arrivals.max_rate_per_s(),
            streams: Streams::for_channel(seed, index),
            has_bot: channel.conversation.bot.is_some(),
            typing: match &channel.conversation.typing {
                None => TypingMode::None,
                Some(t) if t.preview => TypingMode::Preview,
                Some(_) => TypingMode::Delay,
            },
        }
    }
}

impl Engine<'_> {
    // ----- arrivals -------------------------------------------------------------------------

    /// Non-homogeneous Poisson arrivals by thinning a process at the channel's peak rate.
    pub(super) fn schedule_next_arrival(&mut self, channel: usize) {
        let rate_max = self.chan[channel].max_arrival_rate;
        if rate_max <= 0.0 {
            return;
        }
        let scenario = self.scenario;
        let arrivals = &scenario.channels[channel].arrivals;
        let rng = &mut self.chan[channel].streams.arrivals;
        let mut t = self.now;
        loop {
            let u: f64 = rand::Rng::random(rng);
            t -= (1.0 - u).ln() / rate_max;
            if t >= scenario.horizon {
                return;
            }
            let rate = arrivals.rate_per_s_at(t);
            if rate >= rate_max || rand::Rng::random::<f64>(rng) * rate_max < rate {
                break;
            }
        }
        self.schedule(t, Event::Arrival { channel: channel as u32 });
    }

    pub(super) fn on_arrival(&mut self, channel: usize) {
        self.stats.events += 1;
        let scenario = self.scenario;
        let exchanges = &scenario.channels[channel].conversation.exchanges;
        let exchanges = exchanges.sample(&mut self.chan[channel].streams.exchanges).max(1.0) as u32;
        let id = self.conversations.open(self.now, exchanges, channel as u16);
        self.schedule_next_arrival(channel);
        self.start_conversation(id, channel);
    }

    // ----- channel queues -------------------------------------------------------------------

    /// The head of `channel`'s queue once stale entries are dropped, if any contact waits.
    pub(super) fn queue_head(&mut self, channel: usize) -> Option<ReadyKey> {
        if self.chan[channel].waiting == 0 {
            return None;
        }
        while let Some((key, entry)) = self.chan[channel].queue.peek() {
            if self.conversations.is_current(
                entry.conversation,
                entry.generation,
                ContactState::WaitingGlobal,
            ) {
                return Some(key);
            }
            self.chan[channel].queue.pop();
        }
        None
    }

    /// The contact `agent` takes from its channels' queues: the highest priority with a
    /// waiting contact, and among equal priorities the contact ready first.
    pub(super) fn pop_channels(&mut self, agent: AgentId) -> Option<u32> {
        if self.steps.has_teams() {
            return self.pop_channels_and_team(agent);
        }
        // One channel: every pool serves it; skip the skill lookup on this hot path.
        if self.chan.len() == 1 {
            return self.pop_global(0);
        }
        let scenario = self.scenario;
        let skills: &[Skill] = &scenario.pools[self.capacity.pool_of(agent)].skills;
        if let [only] = skills {
            return self.pop_global(only.channel);
        }
        let mut rest = skills;
        while let Some(first) = rest.first() {
            let level = rest.iter().take_while(|s| s.priority == first.priority).count();
            let mut best: Option<(ReadyKey, usize)> = None;
            for skill in &rest[..level] {
                // With weights, a channel whose contact would not fit is passed over.
                if self.holding.is_some() && !self.capacity.fits(agent, skill.channel) {
                    continue;
                }
                if let Some(key) = self.queue_head(skill.channel) {
                    if best.is_none_or(|(k, _)| key < k) {
                        best = Some((key, skill.channel));
                    }
                }
            }
            if let Some((_, channel)) = best {
                return self.pop_global(channel);
            }
            rest = &rest[level..];
        }
        None
    }

    /// The backlog of the channel queues goes to free agents one contact at a time. One channel:
    /// its head to the best free agent, in `select` order. Several: the channel whose head is
    /// oldest among those with a free skilled agent names the agent (its `select` rule), who
    /// then takes what its own priorities say.
    pub(super) fn spread_global_backlog(&mut self) {
        if self.chan.len() == 1 {
            while self.waiting_global > 0 {
                let Some(agent) = self.capacity.select_free(0, &mut self.chan[0].streams.routing) else {
                    return;
                };
                let Some(id) = self.pop_global(0) else { return };
                self.leave_queue(id);
                self.pick_up(id, agent);
            }
            return;
        }
        while self.waiting_global > 0 {
            let mut oldest: Option<(ReadyKey, usize)> = None;
            for channel in 0..self.chan.len() {
                if !self.capacity.any_free(channel) {
                    continue;
                }
                if let Some(key) = self.queue_head(channel) {
                    if oldest.is_none_or(|(k, _)| key < k) {
                        oldest = Some((key, channel));
                    }
                }
            }
            let Some((_, channel)) = oldest else { return };
            let Some(agent) = self.capacity.select_free(channel, &mut self.chan[0].streams.routing) else {
                return;
            };
            let Some(id) = self.pop_channels(agent) else { return };
            self.leave_queue(id);
            self.pick_up(id, agent);
        }
    }
}
