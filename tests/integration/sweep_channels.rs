//! A sweep's figures channel by channel on the terminal: after the blended table, `sweep` and
//! `merge` print one table per channel (by default when a point has several channels, and with
//! `--by channel`), every metric column titled with its channel, the numbers those of
//! `channels.csv`.

use std::fs;
use std::path::Path;

use crate::cli::{convosim, SMALL_CENTER};

/// The bundled chat-teams sweep (its four ways to staff chat) over a 2-day chat + messaging
/// center with 2 replications, as `teams.toml` in a temp dir; and the one-channel `tiny.toml`
/// with a one-axis sweep `one.toml` over it.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = fs::read_to_string("scenarios/chat-messaging.toml").unwrap();
    let base =
        base.replace("horizon = \"8d\"", "horizon = \"2d\"").replace("replications = 4", "replications = 2");
    fs::write(dir.path().join("base.toml"), base).unwrap();
    let sweep = fs::read_to_string("scenarios/sweeps/chat-teams.toml").unwrap();
    let sweep =
        sweep.replace("../chat-messaging.toml", "base.toml").replace("replications = 10", "replications = 2");
    fs::write(dir.path().join("teams.toml"), sweep).unwrap();
    fs::write(dir.path().join("tiny.toml"), SMALL_CENTER).unwrap();
    let one = "name = \"one\"\nbase = \"tiny.toml\"\n[axes]\n\"agents.team.count\" = [4, 5]\n";
    fs::write(dir.path().join("one.toml"), one).unwrap();
    dir
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_string()
}

fn stdout(args: &[&str]) -> String {
    let output = convosim().args(args).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// The title line and the point rows of channel `name`'s table in `text`.
fn channel_table<'a>(text: &'a str, name: &str, points: usize) -> (&'a str, Vec<&'a str>) {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with(&format!("Channel {name} (")))
        .unwrap_or_else(|| panic!("no table for channel {name}:\n{text}"));
    // The group line, then the titles, then one row per point.
    (lines[start + 2], lines[start + 3..start + 3 + points].to_vec())
}

/// The cell under the `nth` occurrence of `title` (right-aligned: it ends where the title ends).
fn cell<'a>(titles: &str, row: &'a str, title: &str, nth: usize) -> &'a str {
    let at = titles.match_indices(title).nth(nth).unwrap_or_else(|| panic!("no {title} in {titles}")).0;
    let end = at + title.len();
    let start = row[..end].rfind("  ").map_or(0, |i| i + 2);
    row[start..end].trim()
}

/// Each point's channels.csv value of `metric` for `channel`, as a percentage with 2 decimals.
fn csv_shares(dir: &Path, channel: &str, metric: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_path(dir.join("channels.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let column = header.iter().position(|h| h == format!("{metric}_mean")).unwrap();
    let name = header.iter().position(|h| h == "channel").unwrap();
    reader
        .records()
        .map(Result::unwrap)
        .filter(|r| &r[name] == channel)
        .map(|r| format!("{:.2}%", r[column].parse::<f64>().unwrap() * 100.0))
        .collect()
}

/// Each channel's service levels (first and resumed contacts) as its table prints them, and
/// as channels.csv holds them.
fn assert_tables_match_csv(text: &str, folder: &Path) {
    for channel in ["chat", "messaging"] {
        let (titles, rows) = channel_table(text, channel, 4);
        assert!(titles.contains(&format!("{channel} p90 wait")), "{titles}");
        for (nth, metric) in [(0, "sl_first_share"), (1, "sl_resumed_share")] {
            let printed: Vec<&str> =
                rows.iter().map(|r| cell(titles, r, &format!("{channel} in SL"), nth)).collect();
            assert_eq!(printed, csv_shares(folder, channel, metric), "{channel} {metric}:\n{text}");
        }
    }
}

#[test]
fn a_multi_channel_sweep_prints_each_channels_table_with_channels_csv_numbers() {
    let dir = workspace();
    let whole = dir.path().join("whole");
    let text =
        stdout(&["sweep", &path(dir.path(), "teams.toml"), "--quiet", "--out", whole.to_str().unwrap()]);
    assert!(text.find("first contacts").unwrap() < text.find("Channel chat (").unwrap(), "{text}");
    assert_tables_match_csv(&text, &whole);
    // The dedicated chat team (point 0) is what the blend hid: chat's own service level differs.
    let (titles, rows) = channel_table(&text, "chat", 4);
    let blended = text.lines().nth(2).unwrap();
    assert_ne!(cell(titles, rows[0], "chat in SL", 0), "", "{text}");
    assert!(!blended.contains(cell(titles, rows[0], "chat in SL", 0)), "{text}");

    for shard in ["1/2", "2/2"] {
        let out = path(dir.path(), &format!("shard{}", &shard[..1]));
        stdout(&["sweep", &path(dir.path(), "teams.toml"), "--quiet", "--shard", shard, "--out", &out]);
    }
    let shards = [path(dir.path(), "shard1"), path(dir.path(), "shard2")];
    let merged = dir.path().join("merged");
    let merge = |by: &[&str], out: &Path| {
        let mut args = vec!["merge", &shards[0], &shards[1], "--out", out.to_str().unwrap()];
        args.extend(by);
        stdout(&args)
    };
    let default = merge(&[], &merged);
    assert_eq!(default, text, "a merge prints what the whole sweep printed");
    assert_eq!(merge(&["--by", "channel"], &dir.path().join("merged2")), text);
    assert_tables_match_csv(&default, &merged);
}

#[test]
fn a_one_channel_sweep_prints_no_channel_table_unless_asked() {
    let dir = workspace();
    let one = path(dir.path(), "one.toml");
    let plain = stdout(&["sweep", &one, "--quiet", "--out", &path(dir.path(), "a")]);
    assert!(!plain.contains("Channel ") && !plain.contains("By channel"), "{plain}");
    let asked = stdout(&["sweep", &one, "--quiet", "--out", &path(dir.path(), "b"), "--by", "channel"]);
    assert!(asked.starts_with(&plain), "{asked}");
    assert!(asked.contains("By channel: every point has one channel"), "{asked}");
    let merged =
        stdout(&["merge", &path(dir.path(), "a"), "--out", &path(dir.path(), "m"), "--by", "channel"]);
    assert!(merged.contains("By channel: every point has one channel"), "{merged}");
    let merged = stdout(&["merge", &path(dir.path(), "a"), "--out", &path(dir.path(), "m2")]);
    assert!(!merged.contains("Channel ") && !merged.contains("By channel"), "{merged}");
}
