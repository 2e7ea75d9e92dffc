//! The future event list alone: the "hold" model (pop the earliest event, push one a random
//! time later) at queue sizes 10^2..10^6, for convosim's calendar queue and, as a yardstick,
//! std's binary heap ordered by (time, seq). Increments follow the reference scenario's mix:
//! handle times (exp 4 min) and bimodal gaps (exp 2 min or exp 4 h).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use convosim::engine::event_queue::{Event, EventQueue};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const HOLDS: u64 = 100_000;

fn increment(rng: &mut Xoshiro256PlusPlus) -> f64 {
    let u: f64 = 1.0 - rng.random::<f64>();
    let mean = match rng.random_range(0..10) {
        0..=4 => 240.0,
        5..=7 => 120.0,
        _ => 14_400.0,
    };
    -u.ln() * mean
}

fn filled_queue(size: usize) -> (EventQueue, Xoshiro256PlusPlus) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let mut queue = EventQueue::with_capacity(size);
    for i in 0..size {
        queue.push(increment(&mut rng), Event::ContactReady { conversation: i as u32 });
    }
    (queue, rng)
}

fn hold(queue: &mut EventQueue, rng: &mut Xoshiro256PlusPlus) -> f64 {
    let mut last = 0.0;
    for _ in 0..HOLDS {
        let (now, event) = queue.pop().expect("queue is never empty");
        last = now;
        queue.push(now + increment(rng), event);
    }
    last
}

type Heap = BinaryHeap<Reverse<(u64, u64, u32)>>;

fn filled_heap(size: usize) -> (Heap, Xoshiro256PlusPlus) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let mut heap = BinaryHeap::with_capacity(size);
    for i in 0..size {
        heap.push(Reverse((increment(&mut rng).to_bits(), i as u64, i as u32)));
    }
    (heap, rng)
}

fn hold_heap(heap: &mut Heap, rng: &mut Xoshiro256PlusPlus) -> f64 {
    let first_seq = heap.len() as u64;
    let mut last = 0.0;
    for seq in first_seq..first_seq + HOLDS {
        let Reverse((bits, _, id)) = heap.pop().expect("heap is never empty");
        let now = f64::from_bits(bits);
        last = now;
        heap.push(Reverse(((now + increment(rng)).to_bits(), seq, id)));
    }
    last
}

fn event_queue(c: &mut Criterion) {
    let mut group = c.benchmark_group("event_queue/hold");
    group.sample_size(10);
    group.throughput(Throughput::Elements(HOLDS));
    for size in [100usize, 1_000, 10_000, 100_000, 1_000_000] {
        group.bench_with_input(BenchmarkId::new("calendar", size), &size, |b, &size| {
            b.iter_batched_ref(|| filled_queue(size), |(q, rng)| hold(q, rng), BatchSize::LargeInput)
        });
        group.bench_with_input(BenchmarkId::new("std_binary_heap", size), &size, |b, &size| {
            b.iter_batched_ref(|| filled_heap(size), |(h, rng)| hold_heap(h, rng), BatchSize::LargeInput)
        });
    }
    group.finish();
}

criterion_group!(benches, event_queue);
criterion_main!(benches);
