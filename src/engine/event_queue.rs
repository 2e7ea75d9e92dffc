//! The future event list: a calendar queue ordered by (time, tie rank, insertion sequence).
//!
//! Equal times pop in insertion order, so a run is a pure function of the scenario and the
//! seed, except that timers go last at their instant: a contact abandons only if its wait
//! *exceeds* its patience, and a hybrid timeout fires only if the owner has not picked the
//! contact up by then, so a slot that frees (or a shift that starts) at the same instant wins
//! ([`Event::tie_rank`]). Cancelled timers are not removed: the engine recognises them as stale when they pop
//! (generation counters), so cancelling never scans the heap.

use std::collections::BinaryHeap;

/// Something scheduled to happen, with the ids it concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The next new conversation of a channel arrives.
    Arrival {
        /// The channel.
        channel: u32,
    },
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
    /// A waiting contact's routing step ends: the next step widens who may take it (stale if
    /// picked up meanwhile).
    Step {
        /// The conversation.
        conversation: u32,
        /// The contact's generation when the timer was set.
        generation: u32,
    },
    /// A conversation holding capacity between contacts goes inactive (`[capacity]`; stale if
    /// its customer wrote meanwhile).
    GoInactive {
        /// The conversation.
        conversation: u32,
        /// Its generation when the timer was set (at the reply).
        generation: u32,
    },
    /// A conversation whose customer stayed silent `close_after` closes (`[capacity]`; stale
    /// if its customer wrote meanwhile).
    CloseIdle {
        /// The conversation.
        conversation: u32,
        /// Its generation when the timer was set (at the reply).
        generation: u32,
    },
    /// A pool's shift starts or ends.
    ShiftChange {
        /// The pool.
        pool: u32,
    },
}

impl Event {
    /// Order among events at the same instant: 0 for everything that can pick a contact up,
    /// 1 for hybrid fallbacks (a fallback can still lead to a pickup at that instant), 2 for
    /// patience (abandonment comes last, once nothing else can serve the contact), 3 for the
    /// capacity timers (a customer message at the very instant a conversation would go
    /// inactive or close came within the time).
    #[inline]
    pub fn tie_rank(&self) -> u64 {
        match self {
            Event::FallBack { .. } | Event::Step { .. } => 1,
            Event::PatienceExpired { .. } => 2,
            Event::GoInactive { .. } | Event::CloseIdle { .. } => 3,
            _ => 0,
        }
    }
}

/// Bits of the sequence key below the tie rank: 2^62 insertions before a rank could be misread.
const RANK_SHIFT: u32 = 62;

/// An event with its ordering key.
#[derive(Debug, Clone, Copy)]
struct Scheduled {
    time: f64,
    /// The tie rank in the top bits, the insertion sequence below.
    seq: u64,
    /// The calendar slice of `time`, kept so a bucket scan need not recompute it (fits in what
    /// would be padding).
    slice: u32,
    event: Event,
}

impl Scheduled {
    /// (time bits, rank and seq): for non-negative times the bit pattern orders like the number.
    #[inline]
    fn key(&self) -> (u64, u64) {
        (self.time.to_bits(), self.seq)
    }
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Scheduled {}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scheduled {
    /// Reversed, so that std's max-heap pops the earliest (time, seq) first.
    #[inline]
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.key().cmp(&self.key())
    }
}

/// Width of a calendar slice, seconds. Small enough that the near heap holds a handful of
/// events (its pops are then cheap and branch-predictable), large enough that time rarely
/// steps over empty slices; 1 s measured best on the ×10 reference (see benches/end_to_end.rs).
const SLICE_S: f64 = 1.0;
/// Slices in the calendar ring (a power of two): 4,096 × 1 s ≈ 68 minutes; a later event waits
/// in its bucket through the turns of the ring that are not its own. A larger ring measured
/// slower: its bucket headers no longer stay in cache.
const SLICES: usize = 4096;

/// The future event list: a two-tier calendar queue.
///
/// Events of the current time slice live in a small binary heap ordered by (time, seq); later
/// events are appended, unsorted, to the ring bucket of their slice and move into the heap when
/// time reaches that slice. Pushing a far event is O(1) and the heap stays small enough to sit
/// in cache, whatever the number of open conversations. Events more than a ring's length ahead
/// share a bucket with nearer ones and simply wait in it for their own turn.
#[derive(Debug)]
pub struct EventQueue {
    near: BinaryHeap<Scheduled>,
    ring: Vec<Vec<Scheduled>>,
    /// Events in the ring.
    in_ring: usize,
    /// Absolute index of the slice whose events are all in `near`.
    current_slice: u32,
    last_time: f64,
    next_seq: u64,
}

impl Default for EventQueue {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

/// The slice of a time: a float-to-int conversion of a non-negative time (saturating at about
/// 136 years of simulated time, beyond which everything shares the last slice, still in order).
#[inline]
fn slice_of(time: f64) -> u32 {
    // i64 conversion is one instruction; the clamp keeps the result in range.
    ((time / SLICE_S) as i64).clamp(0, i64::from(u32::MAX)) as u32
}

impl EventQueue {
    /// An empty queue with room for about `capacity` events.
    pub fn with_capacity(capacity: usize) -> Self {
        let per_slice = capacity / SLICES + 1;
        Self {
            near: BinaryHeap::with_capacity(4 * per_slice + 64),
            ring: (0..SLICES).map(|_| Vec::with_capacity(per_slice)).collect(),
            in_ring: 0,
            current_slice: 0,
            last_time: 0.0,
            next_seq: 0,
        }
    }

    /// Schedules `event` at `time` (never before the last event popped).
    #[inline]
    pub fn push(&mut self, time: f64, event: Event) {
        debug_assert!(time >= self.last_time, "event scheduled in the past");
        // Times come from `now + non-negative`, so they never go back; the max only guards
        // the ordering against a stray rounding.
        let time = time.max(self.last_time);
        let slice = slice_of(time);
        let seq = (event.tie_rank() << RANK_SHIFT) | self.next_seq;
        let scheduled = Scheduled { time, seq, slice, event };
        self.next_seq += 1;
        if slice <= self.current_slice {
            self.near.push(scheduled);
        } else {
            self.ring[slice as usize % SLICES].push(scheduled);
            self.in_ring += 1;
        }
    }

    /// Moves time to the next slice and its events into the heap.
    fn advance(&mut self) {
        if self.current_slice == u32::MAX {
            // The last slice holds everything later; drain it whole (the heap orders it).
            for bucket in &mut self.ring {
                self.near.extend(bucket.drain(..));
            }
            self.in_ring = 0;
            return;
        }
        self.current_slice += 1;
        let current = self.current_slice;
        let bucket = &mut self.ring[current as usize % SLICES];
        let mut i = 0;
        while i < bucket.len() {
            if bucket[i].slice == current {
                self.near.push(bucket.swap_remove(i));
                self.in_ring -= 1;
            } else {
                i += 1;
            }
        }
    }

    /// The earliest event; ties by rank, then in insertion order.
    #[inline]
    pub fn pop(&mut self) -> Option<(f64, Event)> {
        loop {
            if let Some(next) = self.near.pop() {
                self.last_time = next.time;
                return Some((next.time, next.event));
            }
            if self.in_ring == 0 {
                return None;
            }
            self.advance();
        }
    }

    /// Pops the next event if it is in the near heap at exactly `time` and `accept` takes it.
    pub fn pop_at_if(&mut self, time: f64, accept: impl Fn(&Event) -> bool) -> Option<Event> {
        let next = self.near.peek()?;
        if next.time.to_bits() != time.to_bits() || !accept(&next.event) {
            return None;
        }
        self.near.pop().map(|s| s.event)
    }

    /// The event that [`Self::pop`] would return next, if it is already in the near heap.
    #[inline]
    pub fn peek_near(&self) -> Option<Event> {
        self.near.peek().map(|s| s.event)
    }

    /// Number of scheduled events.
    pub fn len(&self) -> usize {
        self.near.len() + self.in_ring
    }

    /// Whether nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
        q.push(5.0, Event::Arrival { channel: 0 });
        q.push(0.5, Event::ShiftChange { pool: 0 });
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![
                (0.5, Event::ShiftChange { pool: 0 }),
                (1.0, Event::ContactReady { conversation: 2 }),
                (5.0, Event::ContactReady { conversation: 1 }),
                (5.0, Event::ContactReady { conversation: 3 }),
                (5.0, Event::Arrival { channel: 0 }),
            ]
        );
        assert!(q.is_empty());
    }

    #[test]
    fn timers_pop_after_other_events_at_the_same_instant() {
        let mut q = EventQueue::with_capacity(8);
        q.push(5.0, Event::PatienceExpired { conversation: 1, generation: 0 });
        q.push(5.0, Event::FallBack { conversation: 2, generation: 0 });
        q.push(5.0, Event::HandlingDone { conversation: 3 });
        q.push(4.0, Event::PatienceExpired { conversation: 4, generation: 0 });
        assert_eq!(q.pop(), Some((4.0, Event::PatienceExpired { conversation: 4, generation: 0 })));
        // Pushed at the current instant after the timers, still ahead of them.
        q.push(5.0, Event::ShiftChange { pool: 0 });
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(
            order,
            vec![
                Event::HandlingDone { conversation: 3 },
                Event::ShiftChange { pool: 0 },
                Event::FallBack { conversation: 2, generation: 0 },
                Event::PatienceExpired { conversation: 1, generation: 0 },
            ]
        );
    }

    #[test]
    fn matches_a_sorted_order_under_interleaved_pushes_and_pops() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        let mut q = EventQueue::default();
        let mut reference = std::collections::BTreeSet::new();
        let mut now = 0.0f64;
        let mut seq = 0u64;
        for step in 0..20_000u32 {
            if rng.random::<f64>() < 0.55 || reference.is_empty() {
                // Some exact ties, some near, some far in the future.
                // Exact ties, the same slice, later slices, and beyond one turn of the ring.
                let delta = match step % 5 {
                    0 => 0.0,
                    1 => rng.random::<f64>(),
                    2 => rng.random::<f64>() * 1e4,
                    3 => rng.random::<f64>() * 1e6,
                    _ => (rng.random::<f64>() * 3.0).floor(),
                };
                let t = now + delta;
                q.push(t, Event::ContactReady { conversation: step });
                reference.insert((t.to_bits(), seq, step));
                seq += 1;
            } else {
                let (t_bits, _, id) = reference.pop_first().unwrap();
                let (t, event) = q.pop().unwrap();
                assert_eq!((t.to_bits(), event), (t_bits, Event::ContactReady { conversation: id }));
                now = t;
            }
            assert_eq!(q.len(), reference.len());
        }
    }
}
