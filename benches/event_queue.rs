//! The future event list alone: the "hold" model (pop the earliest event, push one a random
//! time later) at queue sizes 10^2..10^6, for convosim's radix heap and, as a yardstick,
//! std's binary heap ordered by (time, seq). Increments follow the reference scenario's mix:
//! handle times (exp 4 min) and bimodal gaps (exp 2 min or exp 4 h).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use convosim::engine::event_queue::{Event, EventQueue};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
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

fn hold_radix(size: usize) -> f64 {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let mut queue = EventQueue::with_capacity(size);
    for i in 0..size {
        queue.push(increment(&mut rng), Event::ContactReady { conversation: i as u32 });
    }
    let mut last = 0.0;
    for _ in 0..HOLDS {
        let (now, event) = queue.pop().expect("queue is never empty");
        last = now;
        queue.push(now + increment(&mut rng), event);
    }
    last
}

fn hold_binary_heap(size: usize) -> f64 {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let mut heap = BinaryHeap::with_capacity(size);
    let mut seq = 0u64;
    for i in 0..size {
        heap.push(Reverse((increment(&mut rng).to_bits(), seq, i as u32)));
        seq += 1;
    }
    let mut last = 0.0;
    for _ in 0..HOLDS {
        let Reverse((bits, _, id)) = heap.pop().expect("heap is never empty");
        let now = f64::from_bits(bits);
        last = now;
        heap.push(Reverse(((now + increment(&mut rng)).to_bits(), seq, id)));
        seq += 1;
    }
    last
}

fn event_queue(c: &mut Criterion) {
    let mut group = c.benchmark_group("event_queue/hold");
    group.sample_size(10);
    group.throughput(Throughput::Elements(HOLDS));
    for size in [100usize, 1_000, 10_000, 100_000, 1_000_000] {
        group.bench_with_input(BenchmarkId::new("radix_heap", size), &size, |b, &size| b.iter(|| hold_radix(size)));
        group.bench_with_input(BenchmarkId::new("binary_heap", size), &size, |b, &size| {
            b.iter(|| hold_binary_heap(size))
        });
    }
    group.finish();
}

criterion_group!(benches, event_queue);
criterion_main!(benches);
