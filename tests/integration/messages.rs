//! Messages that say the right thing: a channel's preset named at its own key, names the
//! command line cannot address refused at load, one rule for `default.METRIC` on one channel,
//! `staff --format` as its help says, `--policies` named as typed, axis tables compared whatever
//! their key order, and mixture weights that must sum to 1.

use std::fs;
use std::path::Path;

use crate::cli::{assert_one_line_error, convosim, SMALL_CENTER};

/// Two channels served by one pool; `{chat}`, `{policy}` and `{pool}` are filled in.
const TWO_CHANNELS: &str = r#"
name = "two"
horizon = "1d"
warmup = "1h"
replications = 2

[[channels]]
name = "{chat}"
policy = "{policy}"
arrivals = { rate_per_hour = 30 }
conversation = { exchanges = { dist = "fixed", value = 1 }, handle_time = { dist = "exponential", mean = "4m" } }

[[channels]]
name = "mail"
arrivals = { rate_per_hour = 30 }
conversation = { exchanges = { dist = "fixed", value = 1 }, handle_time = { dist = "exponential", mean = "4m" } }

[[agents]]
name = "{pool}"
count = 6

[policy]
kind = "next_available"
"#;

fn two_channels(chat: &str, policy: &str, pool: &str) -> String {
    TWO_CHANNELS.replace("{chat}", chat).replace("{policy}", policy).replace("{pool}", pool)
}

/// Writes `text` as `name` in `dir`; the path as a string.
fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn a_channels_preset_error_names_the_channels_key() {
    let dir = tempfile::tempdir().unwrap();
    let unknown = write(dir.path(), "unknown.toml", &two_channels("chat", "stiky", "team"));
    assert_one_line_error(
        convosim().args(["check", &unknown]),
        &["unknown.toml: channels[0].policy: unknown policy preset \"stiky\"", "did you mean \"sticky\"?"],
    );
    let missing = write(dir.path(), "missing.toml", &two_channels("chat", "nothere.toml", "team"));
    assert_one_line_error(
        convosim().args(["check", &missing]),
        &["missing.toml: channels[0].policy: the policy preset", "nothere.toml: cannot read the file"],
    );
}

#[test]
fn names_the_command_line_cannot_address_are_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let rule = "use letters, digits, '_' or '-'";
    for chat in ["chat.v2", "a<b", "two words", "q\\\"uote"] {
        let file = write(dir.path(), "channel.toml", &two_channels(chat, "sticky", "team"));
        let shown =
            format!("channels[0].name: \"{chat}\" cannot be used in --set, --assert or --target keys");
        assert_one_line_error(convosim().args(["check", &file]), &["channel.toml: ", &shown, rule]);
    }
    let file = write(dir.path(), "pool.toml", &two_channels("chat", "sticky", "team.a"));
    let target = ["--target", "wait_first_mean_s<=600"];
    assert_one_line_error(
        convosim().args(["staff", &file, "--pool", "team.a"]).args(target),
        &["pool.toml: agents[0].name: \"team.a\" cannot be used in --pool or --set keys", rule],
    );
    // Letters of any script, digits, '_' and '-' are addressable: --set, --assert and --pool.
    let file = write(dir.path(), "ok.toml", &two_channels("chat_v-2", "sticky", "équipe-1"));
    let output = convosim()
        .args([
            "run",
            &file,
            "--set",
            "agents.équipe-1.count=7",
            "--set",
            "channels.chat_v-2.arrivals.rate_per_hour=20",
        ])
        .args(["--assert", "chat_v-2.contacts_first>=1", "--format", "csv"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn default_names_the_one_channel_in_run_sweep_merge_and_staff() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(dir.path(), "base.toml", SMALL_CENTER);
    let sweep = "name = \"one\"\nbase = \"base.toml\"\n[axes]\n\"agents.team.count\" = [4, 5]\n";
    let sweep = write(dir.path(), "one.toml", sweep);
    let (holds, fails) = ("default.contacts_first>=1", "default.contacts_first>=1e9");
    let status = |args: &[&str]| {
        let output = convosim().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
        output.status.code()
    };
    assert_eq!(status(&["run", &base, "--format", "csv", "--assert", holds]), Some(0));
    assert_eq!(status(&["run", &base, "--format", "csv", "--assert", fails]), Some(1));
    let out = |name: &str| dir.path().join(name).display().to_string();
    assert_eq!(status(&["sweep", &sweep, "--quiet", "--out", &out("a"), "--assert", holds]), Some(0));
    assert_eq!(status(&["sweep", &sweep, "--quiet", "--out", &out("b"), "--assert", fails]), Some(1));
    for k in 1..=2 {
        let shard = format!("{k}/2");
        assert_eq!(
            status(&["sweep", &sweep, "--quiet", "--out", &out(&format!("s{k}")), "--shard", &shard]),
            Some(0)
        );
    }
    let merge = |to: &str, assertion: &str| {
        status(&["merge", &out("s1"), &out("s2"), "--out", &out(to), "--assert", assertion])
    };
    assert_eq!(merge("m1", holds), Some(0));
    assert_eq!(merge("m2", fails), Some(1));
    let staff =
        ["staff", &base, "--pool", "team", "--target", "default.wait_first_mean_s<=600", "--format", "json"];
    assert_eq!(status(&staff), Some(0));
}

#[test]
fn staff_format_is_table_or_json_in_help_and_in_use() {
    let help = convosim().args(["staff", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let line = help.lines().find(|l| l.trim_start().starts_with("--format")).expect("--format in help");
    assert!(line.contains("[possible values: table, json]"), "{line}");
    assert_one_line_error(
        convosim()
            .args(["staff", "scenarios/mmc.toml", "--pool", "team", "--target", "wait_first_mean_s<=60"])
            .args(["--format", "csv"]),
        &["--format", "expected one of table, json, got \"csv\""],
    );
}

#[test]
fn a_policy_flag_error_names_the_flag_as_typed() {
    let staff = ["staff", "scenarios/mmc.toml", "--pool", "team", "--target", "wait_first_mean_s<=60"];
    let mut cmd = convosim();
    cmd.args(staff).args(["--policies", "next-available,stiky"]);
    assert_one_line_error(
        &mut cmd,
        &["error: --policies stiky: unknown policy preset \"stiky\"; did you mean \"sticky\"?"],
    );
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("command line") && !stderr.contains("--policy:"), "{stderr}");
    assert_one_line_error(
        convosim().args(["run", "scenarios/mmc.toml", "--policy", "stiky"]),
        &["error: --policy stiky: unknown policy preset \"stiky\"; did you mean \"sticky\"?"],
    );
}

#[test]
fn an_axis_table_in_two_key_orders_is_one_value_listed_twice() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "base.toml", SMALL_CENTER);
    let sweep = r#"name = "twice"
base = "base.toml"
[axes]
"conversation.handle_time" = [{ dist = "exponential", mean = "4m" }, { mean = "4m", dist = "exponential" }]
"#;
    let sweep = write(dir.path(), "twice.toml", sweep);
    assert_one_line_error(
        convosim().args(["sweep", &sweep, "--quiet"]),
        &["twice.toml", "axes.\"conversation.handle_time\": the value", "is listed twice"],
    );
}

#[test]
fn mixture_weights_must_sum_to_one() {
    let dir = tempfile::tempdir().unwrap();
    let text = SMALL_CENTER.replace("weight = 0.7", "weight = 0.6").replace("weight = 0.3", "weight = 0.5");
    let file = write(dir.path(), "mixture.toml", &text);
    assert_one_line_error(
        convosim().args(["check", &file]),
        &["mixture.toml: conversation.gap.parts: expected weights that sum to 1, got weights [0.6, 0.5] (sum 1.1)"],
    );
    // Decimal shares that are not exact in binary still sum to 1.
    let text = SMALL_CENTER
        .replace("{ weight = 0.7,", "{ weight = 0.1, dist = \"fixed\", value = 1 },\n { weight = 0.6,");
    let file = write(dir.path(), "thirds.toml", &text);
    convosim().args(["check", &file]).assert().success();
}
