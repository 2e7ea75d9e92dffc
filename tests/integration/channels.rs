//! Channels and skills against theory and against the single-channel engine: two channels on
//! one pool with strict priority are the non-preemptive priority M/M/c queue; two pools each
//! skilled for one channel are two independent Erlang C queues; a scenario written with one
//! `[[channels]]` table runs bit for bit like the same scenario without it.

use convosim::metrics::catalog::{scope_metrics, Scope};
use convosim::metrics::summary::summarize;
use convosim::runner::Replication;

use crate::common::{run_summary, scenario, ErlangC, Summary, MESSAGING_DAY};

/// Absolute slack added to the CI for shares and for mean waits (seconds).
const SHARE_SLACK: f64 = 0.005;
const MEAN_SLACK_S: f64 = 1.0;

/// One channel table: Poisson arrivals, one exchange, exponential handle time, no patience.
fn channel(name: &str, rate_per_hour: f64, handle: &str) -> String {
    format!(
        r#"
[[channels]]
name = "{name}"
arrivals = {{ rate_per_hour = {rate_per_hour} }}
conversation = {{ exchanges = {{ dist = "fixed", value = 1 }}, handle_time = {{ dist = "exponential", mean = "{handle}" }} }}
"#
    )
}

/// 31 days after a 1-day warm-up, next_available; `body` holds channels and pools.
fn center(name: &str, body: &str) -> String {
    format!("name = \"{name}\"\nhorizon = \"31d\"\nwarmup = \"1d\"\n{body}\n[policy]\nkind = \"next_available\"\n")
}

/// Mean and CI half-width over replications of channel `channel`'s metric `name`.
fn channel_metric(reps: &[Replication], channel: usize, name: &str) -> (f64, f64) {
    let column = scope_metrics(Scope::Channel).iter().position(|m| m.name == name).expect("a channel metric");
    let s = summarize(reps.iter().map(|r| r.output.metrics.channels[channel][column]));
    (s.mean.expect("defined"), s.ci95.unwrap_or(0.0))
}

/// Passes iff channel `channel`'s `name` is within its CI + `slack` of `theory`; prints both.
#[track_caller]
fn assert_channel_matches(s: &Summary, channel: usize, name: &str, theory: f64, slack: f64) {
    let (mean, ci) = channel_metric(&s.reps, channel, name);
    let ok = (mean - theory).abs() <= ci + slack;
    eprintln!(
        "[{} channel {channel}] {name}: sim {mean:.4} ± {ci:.4} vs theory {theory:.4} (slack {slack}){}",
        s.label,
        if ok { "" } else { "  <-- FAIL" }
    );
    assert!(ok, "[{} channel {channel}] {name}: simulated {mean} ± {ci} vs theory {theory}", s.label);
}

#[test]
fn strict_priority_on_one_pool_is_the_priority_mmc_queue() {
    // c = 10, mean handle 5 min, λ1 = 40/h (served first), λ2 = 60/h: a = 8.33 Erlangs.
    let (c, lambda1, lambda2, handle_s) = (10u32, 40.0, 60.0, 300.0);
    let body = format!(
        "{}{}\n[[agents]]\nname = \"team\"\ncount = {c}\nskills = {{ high = 1, low = 2 }}\n",
        channel("high", lambda1, "5m"),
        channel("low", lambda2, "5m")
    );
    let s = run_summary(&scenario(&center("priority", &body)), 211, 30);
    let total = ErlangC::new(c, lambda1 + lambda2, handle_s);
    let (p_wait, c_mu) = (total.p_wait(), f64::from(c) / handle_s);
    let sigma1 = lambda1 / 3600.0 / c_mu;
    let sigma = total.occupancy();
    let w1 = p_wait / (c_mu * (1.0 - sigma1));
    let w2 = p_wait / (c_mu * (1.0 - sigma1) * (1.0 - sigma));
    assert_channel_matches(&s, 0, "waited_first_share", p_wait, SHARE_SLACK);
    assert_channel_matches(&s, 1, "waited_first_share", p_wait, SHARE_SLACK);
    assert_channel_matches(&s, 0, "wait_first_mean_s", w1, MEAN_SLACK_S);
    assert_channel_matches(&s, 1, "wait_first_mean_s", w2, MEAN_SLACK_S);
    // The whole center is still M/M/c for the total load.
    crate::common::assert_matches_theory("waited_first_share", &s, p_wait, SHARE_SLACK);
    crate::common::assert_matches_theory("occupancy_share", &s, sigma, SHARE_SLACK);
}

#[test]
fn two_pools_each_skilled_for_one_channel_are_two_erlang_c_queues() {
    let body = format!(
        "{}{}\n[[agents]]\nname = \"chat_team\"\ncount = 5\nskills = [\"chat\"]\n\
         \n[[agents]]\nname = \"messaging_team\"\ncount = 8\nskills = [\"messaging\"]\n",
        channel("chat", 40.0, "5m"),
        channel("messaging", 60.0, "6m")
    );
    let s = run_summary(&scenario(&center("dedicated", &body)), 307, 30);
    for (i, theory) in [ErlangC::new(5, 40.0, 300.0), ErlangC::new(8, 60.0, 360.0)].iter().enumerate() {
        assert_channel_matches(&s, i, "waited_first_share", theory.p_wait(), SHARE_SLACK);
        assert_channel_matches(&s, i, "wait_first_mean_s", theory.mean_wait(), MEAN_SLACK_S);
        assert_channel_matches(&s, i, "sl_first_share", theory.p_wait_at_most(60.0), SHARE_SLACK);
    }
}

/// The messaging day of `common`, 4 days, hybrid, with or without a `[[channels]]` table.
fn messaging_day(with_channels: bool) -> String {
    let head = "name = \"day\"\nhorizon = \"4d\"\nwarmup = \"1d\"\n";
    let pool = "[[agents]]\nname = \"team\"\ncount = 9\nconcurrency = 3\nslowdown = 0.1\n";
    let policy = "[policy]\nkind = \"hybrid\"\ntimeout = \"5m\"\n";
    if with_channels {
        let day = MESSAGING_DAY.replace("[conversation]", "[channels.conversation]");
        format!(
            "{head}[[channels]]\nname = \"messaging\"\nservice_level = {{ first = \"60s\" }}\n\
             [channels.arrivals]\nrate_per_hour = 70\n{day}\n{pool}skills = [\"messaging\"]\n{policy}"
        )
    } else {
        format!("{head}[arrivals]\nrate_per_hour = 70\n{MESSAGING_DAY}\n{pool}{policy}")
    }
}

#[test]
fn one_channel_table_runs_bit_for_bit_like_the_single_channel_form() {
    let (plain, listed) = (scenario(&messaging_day(false)), scenario(&messaging_day(true)));
    assert!(listed.channels_declared && !plain.channels_declared);
    for seed in [1, 2, 3] {
        let (a, b) = (convosim::run(&plain, seed).unwrap(), convosim::run(&listed, seed).unwrap());
        let bits = |v: &[Option<f64>]| v.iter().map(|x| x.map(f64::to_bits)).collect::<Vec<_>>();
        assert_eq!(bits(&a.metrics.values), bits(&b.metrics.values), "seed {seed}");
        assert_eq!(a.metrics.intervals.len(), b.metrics.intervals.len());
        for (x, y) in a.metrics.intervals.iter().zip(&b.metrics.intervals) {
            assert_eq!(bits(x), bits(y), "seed {seed}: an interval differs");
        }
        assert_eq!(a.audit, b.audit);
        assert!(a.metrics.channels.is_empty() && b.metrics.channels.is_empty(), "one channel: no breakdown");
    }
}

#[test]
fn priorities_decide_who_waits_and_channel_counts_add_up() {
    // Generalists (concurrency 2) and a messaging team: chat first, then messaging first. Chat
    // waits less when it comes first; nobody serves a channel it lacks (the audit, checked by
    // run_summary); per-channel counts add up to the run's.
    let mixed = |skills: &str| {
        let body = format!(
            "{}{}\n[[agents]]\nname = \"generalists\"\ncount = 4\nconcurrency = 2\nskills = {skills}\n\
             \n[[agents]]\nname = \"messaging_team\"\ncount = 2\nconcurrency = 3\nskills = [\"messaging\"]\n",
            channel("chat", 80.0, "4m"),
            channel("messaging", 60.0, "6m")
        );
        run_summary(&scenario(&center("mixed", &body).replace("31d", "5d")), 5, 4)
    };
    let chat_first = mixed("{ chat = 1, messaging = 2 }");
    let messaging_first = mixed("{ chat = 2, messaging = 1 }");
    let (a, _) = channel_metric(&chat_first.reps, 0, "wait_first_mean_s");
    let (b, _) = channel_metric(&messaging_first.reps, 0, "wait_first_mean_s");
    assert!(a < b, "chat waits {a} s when first, {b} s when second");
    let columns = scope_metrics(Scope::Channel);
    for r in chat_first.reps.iter().chain(&messaging_first.reps) {
        let m = &r.output.metrics;
        for name in ["contacts_first", "contacts_resumed", "unfinished_contacts", "conversations_abandoned"] {
            let i = columns.iter().position(|c| c.name == name).unwrap();
            let sum: f64 = m.channels.iter().map(|row| row[i].unwrap()).sum();
            assert_eq!(Some(sum), m.get(name), "{name}: channels add up to the run");
        }
        channel_intervals_add_up(m);
    }
}

/// Each channel's interval rows add up to the channel, and each interval's channel rows to
/// the interval.
fn channel_intervals_add_up(m: &convosim::metrics::ReplicationMetrics) {
    let column = |scope, name| scope_metrics(scope).iter().position(|c| c.name == name).unwrap();
    let rows = m.intervals.len();
    assert_eq!(m.channel_intervals.len(), m.channels.len() * rows, "channel-major rows");
    for name in ["contacts_first", "contacts_resumed", "unfinished_contacts", "conversations_abandoned"] {
        let at = |c: usize, r: usize| {
            m.channel_intervals[c * rows + r][column(Scope::ChannelInterval, name)].unwrap()
        };
        for (c, channel) in m.channels.iter().enumerate() {
            let sum: f64 = (0..rows).map(|r| at(c, r)).sum();
            assert_eq!(
                Some(sum),
                channel[column(Scope::Channel, name)],
                "{name}: intervals add up to channel {c}"
            );
        }
        for (r, interval) in m.intervals.iter().enumerate() {
            let sum: f64 = (0..m.channels.len()).map(|c| at(c, r)).sum();
            assert_eq!(
                Some(sum),
                interval[column(Scope::Interval, name)],
                "{name}: channels add up to interval {r}"
            );
        }
    }
}

/// `convosim run` on the bundled chat + messaging scenario, 3 days and 2 replications.
fn run_bundled(extra: &[&str]) -> std::process::Output {
    let mut cmd = crate::cli::convosim();
    cmd.args(["run", "scenarios/chat-messaging.toml", "--set", "horizon=3d", "--replications", "2"])
        .args(extra);
    let output = cmd.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    output
}

#[test]
fn json_csv_and_tables_break_results_down_by_channel() {
    let json: serde_json::Value = serde_json::from_slice(&run_bundled(&["--format", "json"]).stdout).unwrap();
    let chat = &json["channels"]["chat"]["metrics"];
    assert!(chat["sl_first_share"]["mean"].as_f64().is_some(), "{json}");
    assert!(json["channels"]["messaging"]["metrics"]["wait_resumed_mean_s"]["mean"].is_number());
    // --set addresses a channel by name: no chat arrivals, no chat contacts.
    let quiet = run_bundled(&["--format", "json", "--set", "channels.chat.arrivals.rate_per_hour=0.001"]);
    let quiet: serde_json::Value = serde_json::from_slice(&quiet.stdout).unwrap();
    assert!(quiet["channels"]["chat"]["metrics"]["contacts_first"]["mean"].as_f64().unwrap() < 5.0);
    let table = String::from_utf8(run_bundled(&["--by", "channel"]).stdout).unwrap();
    assert!(table.contains("By channel") && table.contains("messaging"), "{table}");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cm");
    run_bundled(&["--out", out.to_str().unwrap()]);
    let csv = std::fs::read_to_string(out.join("channels.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "header, chat, messaging:\n{csv}");
    assert!(lines[0].starts_with("point,channel,channel_index,replications,wait_first_mean_s_mean"), "{csv}");
    assert!(lines[1].starts_with("0,chat,0,2,") && lines[2].starts_with("0,messaging,1,2,"), "{csv}");
    // By channel and interval: the CSV rows are the JSON's channel intervals.
    let csv = std::fs::read_to_string(out.join("channel_intervals.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 2 * 24, "header, then 24 hours of chat and of messaging:\n{csv}");
    assert!(lines[0].starts_with("point,channel,channel_index,interval,start,replications,"), "{csv}");
    assert!(lines[1].starts_with("0,chat,0,0,00:00,2,") && lines[25].starts_with("0,messaging,1,0,00:00,2,"));
    let header: Vec<&str> = lines[0].split(',').collect();
    let nine: Vec<&str> = lines[1 + 9].split(',').collect();
    let cell = |name: &str| nine[header.iter().position(|h| *h == name).unwrap()].parse::<f64>().unwrap();
    let row = &json["channels"]["chat"]["intervals"]["rows"][9];
    assert_eq!(row["start"], "09:00");
    for name in ["sl_first_share", "wait_resumed_mean_s", "contacts_first"] {
        // serde_json (without its float_roundtrip feature) may read a number one ulp off.
        let (json_mean, csv_mean) =
            (row["metrics"][name]["mean"].as_f64().unwrap(), cell(&format!("{name}_mean")));
        assert!((json_mean - csv_mean).abs() <= 1e-12 * csv_mean.abs(), "{name}: {json_mean} vs {csv_mean}");
    }
}

#[test]
fn a_single_channel_report_has_no_channels_section() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tiny.toml");
    std::fs::write(&file, crate::cli::SMALL_CENTER).unwrap();
    let output =
        crate::cli::convosim().args(["run", file.to_str().unwrap(), "--format", "json"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(json.get("channels").is_none() && json.get("pools").is_some());
}

#[test]
fn channel_mistakes_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("scenarios/chat-messaging.toml").unwrap();
    let cases = [
        ("skills = [\"chat\"]", "skills = [\"caht\"]", "agents[0].skills[0]"),
        ("name = \"messaging\"", "name = \"chat\"", "channels[1].name"),
        ("skills = { chat = 1, messaging = 2 }", "skills = { chat = 1 }", "channels[1].name"),
    ];
    for (i, (from, to, key)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&file, text.replacen(from, to, 1)).unwrap();
        crate::cli::assert_one_line_error(
            crate::cli::convosim().args(["run", file.to_str().unwrap()]),
            &[key],
        );
    }
}

#[test]
fn check_lists_channels_and_the_audit_counts_unskilled_pickups() {
    let output = crate::cli::convosim().args(["check", "scenarios/chat-messaging.toml"]).output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{text}");
    assert!(text.contains("  channel chat: 100.0 new conversations/h"), "{text}");
    assert!(text.contains("served by chat_team, generalists (priority 1)"), "{text}");
    assert!(text.contains("  channel messaging: 70.0 new conversations/h"), "{text}");
    // Without [[channels]], check keeps its one line.
    let plain = crate::cli::convosim().args(["check", "scenarios/quickstart.toml"]).output().unwrap();
    assert_eq!(String::from_utf8(plain.stdout).unwrap().lines().count(), 1);
    let json: serde_json::Value = serde_json::from_slice(&run_bundled(&["--format", "json"]).stdout).unwrap();
    assert_eq!(json["audit"]["unskilled_pickups"], 0, "{}", json["audit"]);
}

#[test]
fn a_sweep_axis_value_may_be_a_whole_skills_list_or_table() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string("scenarios/chat-messaging.toml").unwrap().replace("\"8d\"", "\"3d\"");
    std::fs::write(dir.path().join("base.toml"), base).unwrap();
    let sweep = "name = \"teams\"\nbase = \"base.toml\"\nreplications = 2\nseed = 11\n[axes]\n\
                 \"agents.generalists.skills\" = [[\"messaging\"], { chat = 1, messaging = 2 }]\n";
    let file = dir.path().join("teams.toml");
    std::fs::write(&file, sweep).unwrap();
    let out = dir.path().join("out");
    let status =
        crate::cli::convosim().args(["sweep", "--quiet", "--out"]).arg(&out).arg(&file).output().unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let lines: Vec<&str> = summary.lines().collect();
    assert!(lines[1].starts_with(r#"0,"[""messaging""]","#), "{summary}");
    assert!(lines[2].starts_with(r#"1,"{""chat"":1,""messaging"":2}","#), "{summary}");
    // Point 0 is the dedicated team: the run with the same skills and seed, bit for bit.
    let run_out = dir.path().join("run");
    let run = crate::cli::convosim()
        .args([
            "run",
            dir.path().join("base.toml").to_str().unwrap(),
            "--set",
            r#"agents.generalists.skills=["messaging"]"#,
        ])
        .args(["--seed", "11", "--replications", "2", "--out", run_out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let run_summary = std::fs::read_to_string(run_out.join("summary.csv")).unwrap();
    // Without its axis cell, the point's row is the run's: policy, replications, every metric.
    let point_row = lines[1].replacen(r#""[""messaging""]","#, "", 1);
    assert_eq!(point_row, run_summary.lines().nth(1).unwrap());
}
