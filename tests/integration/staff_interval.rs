//! `convosim staff --per-interval` on the exact case θ = μ: one exchange, exponential handle
//! and patience with the same mean, next_available, concurrency 1, an hourly profile. Every
//! customer leaves at rate μ whether waiting or served, so the number in system is Poisson
//! with mean m(t), m' = λ(t) − μ·m, and an arrival waits with probability
//! P(Poisson(m(t)) ≥ s(t)) while staffing has not just dropped. Also: JSON shape, `--out`,
//! one-line errors for what is not supported yet.

use std::path::Path;

use serde_json::Value;

use crate::cli::{assert_one_line_error, convosim};

/// Arrivals per hour at multiplier 1.
const RATE_PER_HOUR: f64 = 60.0;
/// Mean handle time = mean patience, hours (5 minutes).
const MEAN_H: f64 = 5.0 / 60.0;
/// Hour-of-day multipliers.
const PROFILE: [f64; 24] = [
    0.5, 0.4, 0.4, 0.4, 0.5, 0.7, 1.0, 1.4, 1.8, 2.0, 2.0, 1.9, 1.8, 1.8, 1.9, 1.8, 1.6, 1.4, 1.2, 1.0, 0.9,
    0.8, 0.7, 0.6,
];
/// The delay target.
const ALPHA: f64 = 0.2;

fn scenario_text(pool: &str) -> String {
    let profile: Vec<String> = PROFILE.iter().map(|p| format!("{p}")).collect();
    format!(
        r#"
name = "theta-mu"
horizon = "15d"
warmup = "1d"
seed = 5
replications = 6

[arrivals]
rate_per_hour = {RATE_PER_HOUR}
profile = [{}]

[conversation]
exchanges = {{ dist = "fixed", value = 1 }}
handle_time = {{ dist = "exponential", mean = "5m" }}
patience_first = {{ dist = "exponential", mean = "5m" }}

[[agents]]
name = "team"
{pool}

[policy]
kind = "next_available"

[report]
fold = "day"
interval = "1h"
"#,
        profile.join(", ")
    )
}

/// m(t) at `steps` points per hour (midpoints), periodic over the day: m on hour h relaxes
/// towards λ_h/μ as m(t) = λ_h/μ + (m_0 − λ_h/μ)·e^(−μt); ten days from 0 reach the cycle.
fn mean_in_system(steps: usize) -> Vec<Vec<f64>> {
    let mu = 1.0 / MEAN_H;
    let mut m0 = 0.0;
    let mut hours = vec![Vec::new(); 24];
    for _day in 0..10 {
        for (h, p) in PROFILE.iter().enumerate() {
            let target = RATE_PER_HOUR * p / mu;
            hours[h] = (0..steps)
                .map(|i| target + (m0 - target) * (-mu * (i as f64 + 0.5) / steps as f64).exp())
                .collect();
            m0 = target + (m0 - target) * (-mu).exp();
        }
    }
    hours
}

/// P(Poisson(m) ≥ s).
fn tail(m: f64, s: u32) -> f64 {
    let mut term = (-m).exp();
    let mut below = 0.0;
    for k in 0..s {
        below += term;
        term *= m / f64::from(k + 1);
    }
    (1.0 - below).max(0.0)
}

/// P(wait) in each hour at staffing `s`: the tail averaged over the hour.
fn p_wait(ms: &[Vec<f64>], s: &[u32]) -> Vec<f64> {
    ms.iter().zip(s).map(|(m, &s)| m.iter().map(|m| tail(*m, s)).sum::<f64>() / m.len() as f64).collect()
}

/// The exact ISA staffing: per hour, the smallest s whose averaged tail is at most α.
fn exact_isa(ms: &[Vec<f64>]) -> Vec<u32> {
    ms.iter()
        .map(|m| {
            let mut s = 1;
            while m.iter().map(|m| tail(*m, s)).sum::<f64>() / m.len() as f64 > ALPHA {
                s += 1;
            }
            s
        })
        .collect()
}

fn write(dir: &Path, text: &str) -> String {
    let path = dir.join("theta-mu.toml");
    std::fs::write(&path, text).expect("the scenario is written");
    path.display().to_string()
}

fn json_of(args: &[&str]) -> Value {
    let output = convosim().args(args).args(["--format", "json", "--threads", "2"]).output().expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[test]
fn fixed_staffing_waits_as_the_infinite_server_queue_says() {
    let ms = mean_in_system(60);
    let staffing = exact_isa(&ms);
    let theory = p_wait(&ms, &staffing);
    let vector: Vec<String> = staffing.iter().map(ToString::to_string).collect();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write(dir.path(), &scenario_text(&format!("staffing = [{}]", vector.join(", "))));
    let doc = json_of(&["run", &file]);
    let rows = doc["intervals"]["rows"].as_array().expect("interval rows");
    assert_eq!(rows.len(), 24);
    let mut checked = 0;
    for (h, row) in rows.iter().enumerate() {
        // An hour right after a drop still has agents finishing above s(t): not the formula's.
        if staffing[h] < staffing[(h + 23) % 24] {
            continue;
        }
        let metric = &row["metrics"]["waited_first_share"];
        let (mean, ci) = (metric["mean"].as_f64().expect("mean"), metric["ci95"].as_f64().expect("ci"));
        println!("hour {h:2} s {:2}: P(wait) {mean:.4} ± {ci:.4} vs theory {:.4}", staffing[h], theory[h]);
        assert!((mean - theory[h]).abs() <= ci + 0.02, "hour {h}: {mean} ± {ci} vs {}", theory[h]);
        checked += 1;
    }
    assert!(checked >= 12, "{checked} hours checked");
}

#[test]
fn per_interval_staffing_is_within_one_agent_of_the_exact_isa() {
    let exact = exact_isa(&mean_in_system(60));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write(dir.path(), &scenario_text("count = 3"));
    let out = dir.path().join("out");
    let target = format!("waited_first_share<={ALPHA}");
    let out_arg = out.display().to_string();
    let doc = json_of(&[
        "staff",
        &file,
        "--pool",
        "team",
        "--per-interval",
        "--target",
        &target,
        "--out",
        &out_arg,
    ]);
    assert_eq!(doc["mode"], "per_interval");
    let found: Vec<u32> = doc["staffing"]
        .as_array()
        .expect("a staffing vector")
        .iter()
        .map(|n| u32::try_from(n.as_u64().expect("a count")).expect("small"))
        .collect();
    println!("per-interval {found:?}\nexact ISA    {exact:?}");
    assert_eq!(found.len(), 24);
    for (h, (f, e)) in found.iter().zip(&exact).enumerate() {
        assert!(f.abs_diff(*e) <= 1, "hour {h}: {f} agents vs exact {e}");
    }
    assert_eq!(doc["intervals"].as_array().map(Vec::len), Some(24));
    let hours = doc["agent_hours_per_week"].as_f64().expect("agent-hours");
    assert!((hours - 7.0 * f64::from(found.iter().sum::<u32>())).abs() < 1e-9, "{hours}");
    // The staffed scenario loads and carries the vector.
    let staffed = out.join("staffed.toml");
    convosim().arg("check").arg(&staffed).assert().success();
    let text = std::fs::read_to_string(&staffed).expect("staffed.toml");
    assert!(text.contains("staffing = ["), "{text}");
}

#[test]
fn unsupported_targets_and_policies_are_one_line_errors() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write(dir.path(), &scenario_text("count = 3"));
    let mut cmd = convosim();
    cmd.args(["staff", &file, "--pool", "team", "--per-interval", "--target", "sl_first_share>=0.8"]);
    assert_one_line_error(&mut cmd, &["--target", "delay-probability targets only"]);
    let mut cmd = convosim();
    cmd.args(["staff", &file, "--pool", "team", "--per-interval", "--target", "waited_first_share<=0.2"]);
    cmd.args(["--policies", "next-available,sticky"]);
    assert_one_line_error(&mut cmd, &["--policies", "--per-interval"]);
}
