//! End to end: one replication of the reference scenario (MODEL.md's example: 120
//! conversations/h, 16 agents × 3, 8 days, hybrid 10m), per policy, on one thread.
//! Throughput is reported in logical events per second (the engine's `events` count).

use std::path::Path;

use convosim::scenario::{load_policy, parse_scenario};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn reference_scenario() -> convosim::Scenario {
    let text = include_str!("../scenarios/reference.toml");
    parse_scenario(text, Path::new("scenarios/reference.toml")).expect("the bundled scenario is valid")
}

fn end_to_end(c: &mut Criterion) {
    let mut group = c.benchmark_group("end_to_end/reference");
    group.sample_size(20);
    for preset in ["hybrid-10m", "next-available", "sticky"] {
        let mut scenario = reference_scenario();
        scenario.policy = load_policy(preset).expect("bundled preset");
        let events = convosim::run(&scenario, 1).stats.events;
        group.throughput(Throughput::Elements(events));
        group.bench_with_input(BenchmarkId::from_parameter(preset), &scenario, |b, scenario| {
            b.iter(|| convosim::run(scenario, 1))
        });
    }
    group.finish();
}

criterion_group!(benches, end_to_end);
criterion_main!(benches);
