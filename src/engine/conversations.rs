//! The table of open conversations: a slab with a free list, so that a conversation's slot is
//! reused once it ends and the hot loop allocates nothing in steady state.

use crate::policy::AgentId;

/// No agent (no owner yet, or not with an agent).
pub const NO_AGENT: AgentId = AgentId::MAX;

/// Where a conversation's current contact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactState {
    /// The customer is silent between exchanges.
    InGap,
    /// Waiting in the personal queue of `Conversation::agent`.
    WaitingPersonal,
    /// Waiting in its channel's queue.
    WaitingGlobal,
    /// Waiting in the team queue of (the owner's pool, its channel), at a routing step.
    WaitingTeam,
    /// In handling by `Conversation::agent`.
    InHandling,
    /// The conversation is over; the slot is free.
    Ended,
}

/// One open conversation and its current contact.
#[derive(Debug, Clone, Copy)]
pub struct Conversation {
    /// When the conversation opened.
    pub arrived_at: f64,
    /// Exchanges still to come, the current one included.
    pub exchanges_left: u32,
    /// The agent who handled the latest exchange.
    pub owner: AgentId,
    /// The first agent to handle it.
    pub first_agent: AgentId,
    /// Whether every exchange so far went to `first_agent`.
    pub single_agent: bool,
    /// Resumed contacts picked up by someone other than the owner.
    pub handoffs: u32,
    /// When the latest exchange's handling ended.
    pub last_reply_at: f64,
    /// When the current contact became ready.
    pub ready_at: f64,
    /// Global order of ready instants, to keep FIFO among equal ready times.
    pub ready_seq: u64,
    /// Bumped each time a contact becomes ready; timers and queue entries that carry an older
    /// value are stale.
    pub generation: u32,
    /// Where the current contact is.
    pub state: ContactState,
    /// The agent whose queue holds the contact, or who handles it.
    pub agent: AgentId,
    /// Whether the current contact is the conversation's first.
    pub is_first: bool,
    /// The conversation's channel.
    pub channel: u16,
}

/// Open conversations by id.
#[derive(Debug, Default)]
pub struct Conversations {
    slots: Vec<Conversation>,
    free: Vec<u32>,
}

impl Conversations {
    /// Room for `capacity` open conversations before growing.
    pub fn with_capacity(capacity: usize) -> Self {
        Self { slots: Vec::with_capacity(capacity), free: Vec::with_capacity(capacity) }
    }

    /// Opens a conversation, reusing a free slot if there is one.
    pub fn open(&mut self, arrived_at: f64, exchanges: u32, channel: u16) -> u32 {
        let fresh = |generation| Conversation {
            arrived_at,
            exchanges_left: exchanges,
            owner: NO_AGENT,
            first_agent: NO_AGENT,
            single_agent: true,
            handoffs: 0,
            last_reply_at: arrived_at,
            ready_at: arrived_at,
            ready_seq: 0,
            generation,
            state: ContactState::InGap,
            agent: NO_AGENT,
            is_first: true,
            channel,
        };
        match self.free.pop() {
            Some(id) => {
                // Keep the generation running so stale entries of the previous tenant stay stale.
                let generation = self.slots[id as usize].generation;
                self.slots[id as usize] = fresh(generation);
                id
            }
            None => {
                self.slots.push(fresh(0));
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// Ends a conversation and frees its slot.
    pub fn close(&mut self, id: u32) {
        let conversation = &mut self.slots[id as usize];
        conversation.state = ContactState::Ended;
        conversation.generation = conversation.generation.wrapping_add(1);
        self.free.push(id);
    }

    /// Conversations open now.
    pub fn open_count(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// The conversation `id`.
    #[inline]
    pub fn get(&self, id: u32) -> &Conversation {
        &self.slots[id as usize]
    }

    /// The conversation `id`, mutably.
    #[inline]
    pub fn get_mut(&mut self, id: u32) -> &mut Conversation {
        &mut self.slots[id as usize]
    }

    /// Hints the CPU to load conversation `id` into cache: the engine calls it for the next
    /// event's conversation while it handles the current one, hiding a memory round trip in
    /// large centers.
    #[inline]
    pub fn prefetch(&self, id: u32) {
        #[cfg(target_arch = "x86_64")]
        if let Some(slot) = self.slots.get(id as usize) {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            // SAFETY: SSE is part of the x86_64 baseline, and a prefetch of a valid reference
            // neither reads nor writes memory as far as the program can observe.
            unsafe { _mm_prefetch::<_MM_HINT_T0>((slot as *const Conversation).cast::<i8>()) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = id;
    }

    /// Whether a timer or queue entry for (`id`, `generation`) still refers to a contact in
    /// `state`.
    #[inline]
    pub fn is_current(&self, id: u32, generation: u32, state: ContactState) -> bool {
        let c = &self.slots[id as usize];
        c.generation == generation && c.state == state
    }

    /// Every slot with its id, ended ones included.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Conversation)> {
        self.slots.iter().enumerate().map(|(i, c)| (i as u32, c))
    }
}
