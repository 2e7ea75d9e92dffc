//! End to end: one replication on one thread, per policy, of the reference scenario (the
//! reference center of docs/model.md: 120 conversations/h, 16 agents × 3, 8 days) and its ×10
//! and ×100 versions (1,200 and 12,000 conversations/h with 160 and 1,600 agents). Throughput
//! is reported in contacts (contacts that became ready): the measure that does not depend on how
//! events are counted.
//! `convosim run ... --format json` reports events/s for the same runs. `breakdowns/` is the
//! same-binary A/B of recording the breakdowns by interval and pool.

use std::path::Path;

use convosim::scenario::{load_policy, parse_scenario};
use convosim::{run_with, RunOptions};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const SCENARIOS: [(&str, &str); 3] = [
    ("reference", include_str!("../scenarios/reference.toml")),
    ("ref_x10", include_str!("../scenarios/scale/ref_x10.toml")),
    ("ref_x100", include_str!("../scenarios/scale/ref_x100.toml")),
];

fn end_to_end(c: &mut Criterion) {
    for (name, text) in SCENARIOS {
        let mut group = c.benchmark_group(format!("end_to_end/{name}"));
        group.sample_size(10);
        for preset in ["hybrid-10m", "next-available", "sticky"] {
            let mut scenario = parse_scenario(text, Path::new(name)).expect("bundled scenario is valid");
            scenario.policy = load_policy(preset).expect("bundled preset");
            let contacts = convosim::run(&scenario, 1).expect("the bundled scenario runs").audit.ready;
            group.throughput(Throughput::Elements(contacts));
            group.bench_with_input(BenchmarkId::from_parameter(preset), &scenario, |b, scenario| {
                b.iter(|| convosim::run(scenario, 1))
            });
        }
        group.finish();
    }
}

/// Same-binary A/B of the breakdowns: the reference scenario with the breakdowns by interval
/// and pool recorded (the default) and skipped.
fn breakdowns(c: &mut Criterion) {
    let (name, text) = SCENARIOS[0];
    let mut group = c.benchmark_group(format!("breakdowns/{name}"));
    group.sample_size(20);
    for preset in ["hybrid-10m", "next-available"] {
        let mut scenario = parse_scenario(text, Path::new(name)).expect("bundled scenario is valid");
        scenario.policy = load_policy(preset).expect("bundled preset");
        for (label, breakdowns) in [("on", true), ("off", false)] {
            let options = RunOptions { breakdowns, ..RunOptions::default() };
            let id = BenchmarkId::new(preset, label);
            group.bench_with_input(id, &scenario, |b, scenario| b.iter(|| run_with(scenario, 1, options)));
        }
    }
    group.finish();
}

criterion_group!(benches, end_to_end, breakdowns);
criterion_main!(benches);
