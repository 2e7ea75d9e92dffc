//! The future event list: a monotone priority queue ordered by (time, insertion sequence).
//!
//! Equal times pop in insertion order, so a run is a pure function of the scenario and the
//! seed. Cancelled timers are not removed: the engine recognises them as stale when they pop
//! (generation counters), so cancelling never scans the heap.

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

/// Key of an event: time bits in the high half, insertion sequence in the low half. For
/// non-negative times the bit pattern orders like the number, so keys order by (time, seq) and
/// are all distinct.
#[inline]
fn key(time: f64, seq: u64) -> u128 {
    (u128::from(time.to_bits()) << 64) | u128::from(seq)
}

#[inline]
fn time_of(key: u128) -> f64 {
    f64::from_bits((key >> 64) as u64)
}

/// A monotone priority queue of events: a radix heap over (time, seq) keys.
///
/// Discrete-event simulation never schedules before the last event popped, which is what a
/// radix heap needs. Bucket `i > 0` holds keys whose highest bit differing from the last popped
/// key is bit `i - 1`; popping refills from the lowest non-empty bucket, moving each key to a
/// lower bucket. Each key moves at most 128 times and in practice a handful, all sequential
/// memory traffic: several times faster than a binary heap at the sizes a center produces.
#[derive(Debug)]
pub struct EventQueue {
    buckets: Vec<Vec<(u128, Event)>>,
    /// Bit `i` set when `buckets[i + 1]` is non-empty.
    non_empty: u128,
    last: u128,
    len: usize,
    next_seq: u64,
}

impl Default for EventQueue {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl EventQueue {
    /// An empty queue with room for `capacity` events in its first bucket.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut buckets: Vec<Vec<(u128, Event)>> = (0..129).map(|_| Vec::new()).collect();
        buckets[128].reserve(capacity);
        Self { buckets, non_empty: 0, last: 0, len: 0, next_seq: 0 }
    }

    #[inline]
    fn bucket_of(&self, key: u128) -> usize {
        128 - (key ^ self.last).leading_zeros() as usize
    }

    #[inline]
    fn insert(&mut self, key: u128, event: Event) {
        let bucket = self.bucket_of(key);
        self.buckets[bucket].push((key, event));
        if bucket > 0 {
            self.non_empty |= 1 << (bucket - 1);
        }
    }

    /// Schedules `event` at `time` (never before the last event popped).
    #[inline]
    pub fn push(&mut self, time: f64, event: Event) {
        debug_assert!(time >= time_of(self.last), "event scheduled in the past");
        // Times come from `now + non-negative`, so they never go back; the max only guards
        // the queue's invariant against a stray rounding.
        let time = time.max(time_of(self.last));
        let key = key(time, self.next_seq);
        self.next_seq += 1;
        self.len += 1;
        self.insert(key, event);
    }

    /// The earliest event, ties in insertion order.
    #[inline]
    pub fn pop(&mut self) -> Option<(f64, Event)> {
        if self.buckets[0].is_empty() {
            if self.non_empty == 0 {
                return None;
            }
            let bucket = self.non_empty.trailing_zeros() as usize + 1;
            let mut items = std::mem::take(&mut self.buckets[bucket]);
            self.non_empty &= !(1 << (bucket - 1));
            self.last = items.iter().map(|(k, _)| *k).min().expect("bucket is non-empty");
            for (key, event) in items.drain(..) {
                self.insert(key, event);
            }
            // Keep the emptied bucket's allocation for later.
            self.buckets[bucket] = items;
        }
        let (key, event) = self.buckets[0].pop()?;
        self.len -= 1;
        Some((time_of(key), event))
    }

    /// Number of scheduled events.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.len == 0
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
                let delta = match step % 4 {
                    0 => 0.0,
                    1 => rng.random::<f64>(),
                    2 => rng.random::<f64>() * 1e4,
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
