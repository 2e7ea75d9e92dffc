//! Before a human answers: the bot tier a new conversation may meet first, and the customer's
//! typing before each message (which, with preview, agents may watch).
//!
//! With preview a contact is routed when typing starts and its customer-facing clock (wait,
//! patience, fallback, response) runs from the send, kept in `Engine::sent_at` by
//! conversation id; without preview, typing only moves the send, so the send is the ready
//! time and nothing else changes. Bot and typing draw from their own random streams.

use super::channels::TypingMode;
use super::event_queue::Event;
use super::Engine;

impl Engine<'_> {
    /// A new conversation of `channel` opened as `id` at `now`: it meets the bot if the channel
    /// has one (and may end there), else its customer types the first message.
    pub(super) fn start_conversation(&mut self, id: u32, channel: usize) {
        if self.chan[channel].has_bot {
            self.meet_bot(id, channel);
            return;
        }
        match self.typing_delay(channel) {
            typed if typed > 0.0 => self.schedule(self.now + typed, Event::ContactReady { conversation: id }),
            _ => self.on_contact_ready(id),
        }
    }

    /// The new conversation `id` of `channel` spends the bot's time with it, and ends there or
    /// is handed over.
    fn meet_bot(&mut self, id: u32, channel: usize) {
        if let Some(bot) = &self.scenario.channels[channel].conversation.bot {
            let streams = &mut self.chan[channel].streams;
            let time = bot.time.sample(&mut streams.bot);
            let contained = rand::Rng::random::<f64>(&mut streams.bot) < bot.containment;
            self.recorder.bot(self.now, time, contained);
            if contained {
                self.conversations.close(id);
            } else if time > 0.0 {
                self.schedule(self.now + time, Event::ContactReady { conversation: id });
            } else {
                // A zero-time bot hands over at once, exactly as no bot.
                self.on_contact_ready(id);
            }
        }
    }

    /// How long typing delays the send of a message of `channel` when agents cannot watch it
    /// (0 without typing, and with preview, where the contact is routed when typing starts).
    #[inline]
    pub(super) fn typing_delay(&mut self, channel: usize) -> f64 {
        if self.chan[channel].typing != TypingMode::Delay {
            return 0.0;
        }
        match &self.scenario.channels[channel].conversation.typing {
            Some(typing) => typing.time.sample(&mut self.chan[channel].streams.typing),
            None => 0.0,
        }
    }

    /// With preview on `channel`, the send time of a contact whose typing starts now (a bot's
    /// handoff is sent at once); without, the ready time.
    #[inline]
    pub(super) fn typing_started(&mut self, id: u32, channel: usize, first: bool) -> f64 {
        if !self.previewing {
            return self.now;
        }
        let state = &mut self.chan[channel];
        let conversation = &self.scenario.channels[channel].conversation;
        let sent = match &conversation.typing {
            Some(typing) if state.typing == TypingMode::Preview && !(first && state.has_bot) => {
                self.now + typing.time.sample(&mut state.streams.typing)
            }
            _ => self.now,
        };
        let slot = id as usize;
        if self.sent_at.len() <= slot {
            self.sent_at.resize(slot + 1, 0.0);
        }
        self.sent_at[slot] = sent;
        sent
    }

    /// When the current contact of `id` was (or will be) sent: its ready time unless some
    /// channel previews typing.
    #[inline]
    pub(super) fn sent_at(&self, id: u32) -> f64 {
        if self.previewing {
            self.sent_at[id as usize]
        } else {
            self.conversations.get(id).ready_at
        }
    }

    /// When handling of `handle` seconds picked up at `now` ends for a contact sent at `sent`:
    /// an agent who picked it up while it was typed saved the watched time, up to
    /// `head_start` × the handle time.
    #[inline]
    pub(super) fn handling_ends(&self, channel: usize, sent: f64, handle: f64) -> f64 {
        if sent <= self.now {
            return self.now + handle;
        }
        let head_start =
            self.scenario.channels[channel].conversation.typing.as_ref().map_or(0.0, |t| t.head_start);
        sent + handle - (sent - self.now).min(head_start * handle)
    }
}
