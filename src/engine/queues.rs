//! Waiting lines: one queue per channel ordered by ready time, and one FIFO personal queue per
//! agent.
//!
//! Entries are never removed from the middle: a contact that abandons or falls back leaves a
//! stale entry behind, recognised and skipped when it reaches the head (the engine decides what
//! is stale). The queues only hold ids.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// A reference to a waiting contact: its conversation and the contact's generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct WaitingContact {
    /// The conversation.
    pub conversation: u32,
    /// The contact's generation when it was queued.
    pub generation: u32,
}

/// Key of the global queue: ready time (as ordered bits), then ready sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReadyKey {
    ready_bits: u64,
    seq: u64,
}

impl ReadyKey {
    fn new(ready_at: f64, seq: u64) -> Self {
        debug_assert!(ready_at >= 0.0);
        // Non-negative floats order like their bit patterns.
        Self { ready_bits: ready_at.to_bits(), seq }
    }
}

/// The global queue, FIFO by original ready time.
///
/// Most contacts join in ready order (first contacts, and fallbacks after a common timeout),
/// so they go to a deque; the rare one that would overtake the deque's tail goes to a heap.
/// The head is the smaller of the two heads: O(1) in the common case.
#[derive(Debug, Default)]
pub struct GlobalQueue {
    in_order: VecDeque<(ReadyKey, WaitingContact)>,
    out_of_order: BinaryHeap<Reverse<(ReadyKey, WaitingContact)>>,
}

impl GlobalQueue {
    /// Adds a contact that became ready at `ready_at` with sequence number `seq`.
    pub fn push(&mut self, ready_at: f64, seq: u64, contact: WaitingContact) {
        let key = ReadyKey::new(ready_at, seq);
        match self.in_order.back() {
            Some((tail, _)) if key < *tail => self.out_of_order.push(Reverse((key, contact))),
            _ => self.in_order.push_back((key, contact)),
        }
    }

    /// The entry with the earliest ready time and its key, without removing it.
    pub fn peek(&self) -> Option<(ReadyKey, WaitingContact)> {
        let deque_head = self.in_order.front().copied();
        let heap_head = self.out_of_order.peek().map(|Reverse(entry)| *entry);
        match (deque_head, heap_head) {
            (Some(d), Some(h)) => Some(if h.0 < d.0 { h } else { d }),
            (d, h) => d.or(h),
        }
    }

    /// Removes and returns the entry with the earliest ready time.
    pub fn pop(&mut self) -> Option<WaitingContact> {
        let deque_head = self.in_order.front().map(|(k, _)| *k);
        let heap_head = self.out_of_order.peek().map(|Reverse((k, _))| *k);
        match (deque_head, heap_head) {
            (Some(d), Some(h)) if h < d => self.out_of_order.pop().map(|Reverse((_, c))| c),
            (Some(_), _) => self.in_order.pop_front().map(|(_, c)| c),
            (None, Some(_)) => self.out_of_order.pop().map(|Reverse((_, c))| c),
            (None, None) => None,
        }
    }

    /// Entries held, stale ones included.
    #[cfg(test)]
    pub fn raw_len(&self) -> usize {
        self.in_order.len() + self.out_of_order.len()
    }
}

/// One FIFO queue per agent.
#[derive(Debug)]
pub struct PersonalQueues {
    queues: Vec<VecDeque<WaitingContact>>,
}

impl PersonalQueues {
    /// Empty queues for `agents` agents.
    pub fn new(agents: usize) -> Self {
        Self { queues: (0..agents).map(|_| VecDeque::new()).collect() }
    }

    /// Adds a contact at the back of `agent`'s queue.
    pub fn push(&mut self, agent: u32, contact: WaitingContact) {
        self.queues[agent as usize].push_back(contact);
    }

    /// The front of `agent`'s queue, left in place.
    pub fn front(&self, agent: u32) -> Option<WaitingContact> {
        self.queues[agent as usize].front().copied()
    }

    /// Removes the front of `agent`'s queue.
    pub fn pop(&mut self, agent: u32) -> Option<WaitingContact> {
        self.queues[agent as usize].pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(conversation: u32) -> WaitingContact {
        WaitingContact { conversation, generation: 0 }
    }

    #[test]
    fn global_queue_orders_by_ready_time_even_for_late_joiners() {
        let mut q = GlobalQueue::default();
        q.push(10.0, 1, c(1));
        q.push(20.0, 2, c(2));
        q.push(5.0, 0, c(0)); // a fallback that became ready earlier
        q.push(20.0, 3, c(3));
        q.push(15.0, 9, c(9));
        let order: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|w| w.conversation).collect();
        assert_eq!(order, vec![0, 1, 9, 2, 3]);
        assert_eq!(q.raw_len(), 0);
    }
}
