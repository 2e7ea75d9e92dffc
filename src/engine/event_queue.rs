//! The future event list: a binary heap ordered by (time, insertion sequence).
//!
//! Equal times pop in insertion order, so a run is a pure function of the scenario and the
//! seed. Cancelled timers are not removed: the engine recognises them as stale when they pop
//! (generation counters), so cancelling never scans the heap.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Something scheduled to happen, with the ids it concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The next new conversation arrives.
    Arrival,
    /// A customer writes again after a gap.
    ContactReady {
        /// The conversation.
        conversation: u32,
    },
    /// An agent finishes handling a conversation's current contact.
    HandlingDone {
        /// The conversation.
        conversation: u32,
    },
    /// A waiting contact's patience runs out (stale if it was picked up meanwhile).
    PatienceExpired {
        /// The conversation.
        conversation: u32,
        /// The contact's generation when the timer was set.
        generation: u32,
    },
    /// A contact waiting for its owner may now go to anyone (stale if picked up meanwhile).
    FallBack {
        /// The conversation.
        conversation: u32,
        /// The contact's generation when the timer was set.
        generation: u32,
    },
    /// A pool's shift starts or ends.
    ShiftChange {
        /// The pool.
        pool: u32,
    },
}

#[derive(Debug, Clone, Copy)]
struct Scheduled {
    time: f64,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Scheduled {}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scheduled {
    /// Reversed, so that the max-heap pops the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.time.total_cmp(&self.time).then_with(|| other.seq.cmp(&self.seq))
    }
}

/// A min-queue of events by (time, insertion order).
#[derive(Debug, Default)]
pub struct EventQueue {
    heap: BinaryHeap<Scheduled>,
    next_seq: u64,
}

impl EventQueue {
    /// An empty queue with room for `capacity` events.
    pub fn with_capacity(capacity: usize) -> Self {
        Self { heap: BinaryHeap::with_capacity(capacity), next_seq: 0 }
    }

    /// Schedules `event` at `time`.
    #[inline]
    pub fn push(&mut self, time: f64, event: Event) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Scheduled { time, seq, event });
    }

    /// The earliest event, ties in insertion order.
    #[inline]
    pub fn pop(&mut self) -> Option<(f64, Event)> {
        self.heap.pop().map(|s| (s.time, s.event))
    }

    /// The time of the earliest event.
    pub fn peek_time(&self) -> Option<f64> {
        self.heap.peek().map(|s| s.time)
    }

    /// Number of scheduled events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_insertion_order() {
        let mut q = EventQueue::with_capacity(8);
        q.push(5.0, Event::ContactReady { conversation: 1 });
        q.push(1.0, Event::ContactReady { conversation: 2 });
        q.push(5.0, Event::ContactReady { conversation: 3 });
        q.push(5.0, Event::Arrival);
        q.push(0.5, Event::ShiftChange { pool: 0 });
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![
                (0.5, Event::ShiftChange { pool: 0 }),
                (1.0, Event::ContactReady { conversation: 2 }),
                (5.0, Event::ContactReady { conversation: 1 }),
                (5.0, Event::ContactReady { conversation: 3 }),
                (5.0, Event::Arrival),
            ]
        );
        assert!(q.is_empty());
    }
}
