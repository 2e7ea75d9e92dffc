//! Shift lists, `[{ days = "mon-fri", start = "08:00", end = "17:00" }, ...]`, turned into a
//! weekly schedule of on-shift intervals.

use toml::Value;

use super::fields::{expected, index, suggest, Section};
use crate::error::FieldError;
use crate::scenario::model::{ShiftSchedule, DAY_S, WEEK_S};

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const FULL_DAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const DAYS_HINT: &str = "days like \"mon-fri\", \"sat,sun\", \"mon,wed,fri\", \"fri-mon\" or \"daily\"";

/// The schedule of the shift list at `path` (an array of `{ days, start, end }` tables).
pub(crate) fn schedule(items: &[Value], path: &str) -> Result<ShiftSchedule, FieldError> {
    if items.is_empty() {
        return Err(FieldError::new(
            path,
            "expected at least one shift like { days = \"mon-fri\", start = \"08:00\", end = \"17:00\" } \
             (leave `shifts` out for agents on duty around the clock), got []",
        ));
    }
    let mut intervals = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let shift_path = index(path, i);
        let table = item.as_table().ok_or_else(|| {
            expected(
                &shift_path,
                "a shift like { days = \"mon-fri\", start = \"08:00\", end = \"17:00\" }",
                item,
            )
        })?;
        let sec = Section::new(table, &shift_path, &["days", "start", "end"])?;
        add_shift(&sec, &mut intervals)?;
    }
    Ok(ShiftSchedule { weekly_on: merge(intervals) })
}

/// Adds one shift's intervals (one per day it covers) to `out`.
fn add_shift(sec: &Section<'_>, out: &mut Vec<(f64, f64)>) -> Result<(), FieldError> {
    let days_text = sec.req_string("days")?;
    let days = parse_days(days_text).map_err(|message| FieldError::new(sec.path("days"), message))?;
    let start = time_of_day(sec, "start", false)?;
    let end = time_of_day(sec, "end", true)?;
    if start == end {
        let what = "an end time different from the start (a shift around the clock is \
                    start = \"00:00\", end = \"24:00\")";
        return Err(sec
            .get("end")
            .map_or_else(|| sec.missing("end", what), |v| expected(&sec.path("end"), what, v)));
    }
    // An end before the start crosses midnight into the next day.
    let length = if end > start { end - start } else { DAY_S - start + end };
    for (day, _) in days.iter().enumerate().filter(|(_, on)| **on) {
        let from = day as f64 * DAY_S + start;
        let to = from + length;
        if to <= WEEK_S {
            out.push((from, to));
        } else {
            // Sunday night into Monday: wrap to the start of the week.
            out.push((from, WEEK_S));
            out.push((0.0, to - WEEK_S));
        }
    }
    Ok(())
}

/// Seconds after midnight of `"HH:MM"` at `key`; `24:00` is allowed only as an end.
fn time_of_day(sec: &Section<'_>, key: &str, is_end: bool) -> Result<f64, FieldError> {
    let last = if is_end { "24:00" } else { "23:59" };
    let what = format!("a time of day \"HH:MM\" from \"00:00\" to \"{last}\"");
    let value = sec.get(key).ok_or_else(|| sec.missing(key, &what))?;
    let minutes = value.as_str().and_then(parse_hh_mm).filter(|m| *m < 24 * 60 || is_end);
    minutes.map(|m| m as f64 * 60.0).ok_or_else(|| expected(&sec.path(key), &what, value))
}

/// Minutes after midnight of `"HH:MM"` (`00:00` to `24:00`).
fn parse_hh_mm(text: &str) -> Option<u32> {
    let (h, m) = text.trim().split_once(':')?;
    let digits = |s: &str, max_len: usize| {
        (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let hours = digits(h, 2)?;
    let minutes = digits(m, 2).filter(|_| m.len() == 2)?;
    let total = hours * 60 + minutes;
    (minutes < 60 && total <= 24 * 60).then_some(total)
}

/// Which weekdays (Monday first) `text` names.
fn parse_days(text: &str) -> Result<[bool; 7], String> {
    let text = text.trim().to_lowercase();
    let mut on = [false; 7];
    match text.as_str() {
        "daily" | "all" | "every day" | "everyday" => return Ok([true; 7]),
        "weekdays" => return Ok([true, true, true, true, true, false, false]),
        "weekend" | "weekends" => return Ok([false, false, false, false, false, true, true]),
        _ => {}
    }
    for item in text.split(',').map(str::trim) {
        match item.split_once('-') {
            Some((a, b)) => {
                let (first, last) = (day(a)?, day(b)?);
                // Ranges may wrap: "fri-mon" is Friday to Monday.
                let length = (last + 7 - first) % 7;
                for k in 0..=length {
                    on[(first + k) % 7] = true;
                }
            }
            None => on[day(item)?] = true,
        }
    }
    Ok(on)
}

/// Index (Monday = 0) of a day name.
fn day(name: &str) -> Result<usize, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("expected {DAYS_HINT}, got an empty day name"));
    }
    DAYS.iter().position(|d| *d == name).or_else(|| FULL_DAYS.iter().position(|d| *d == name)).ok_or_else(
        || {
            let hint = suggest(name, &DAYS)
                .map(|d| format!("; did you mean \"{d}\"?"))
                .unwrap_or_else(|| ";".into());
            format!("unknown day \"{}\"{hint} expected {DAYS_HINT}", name.escape_debug())
        },
    )
}

/// Sorted intervals with overlapping or touching ones merged.
fn merge(mut intervals: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    intervals.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(intervals.len());
    for (start, end) in intervals {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<ShiftSchedule, FieldError> {
        let table: toml::Table = toml::from_str(toml_text).expect("valid TOML");
        let items = table["shifts"].as_array().expect("an array");
        schedule(items, "agents[0].shifts")
    }

    const H: f64 = 3600.0;

    #[test]
    fn weekdays_nine_to_five() {
        let s = parse(r#"shifts = [{ days = "mon-fri", start = "09:00", end = "17:00" }]"#).unwrap();
        assert_eq!(s.weekly_on.len(), 5);
        assert_eq!(s.weekly_on[0], (9.0 * H, 17.0 * H));
        assert_eq!(s.weekly_on[4], (4.0 * DAY_S + 9.0 * H, 4.0 * DAY_S + 17.0 * H));
    }

    #[test]
    fn night_shift_wraps_from_sunday_into_monday() {
        let s = parse(r#"shifts = [{ days = "sun", start = "22:00", end = "06:00" }]"#).unwrap();
        assert_eq!(s.weekly_on, vec![(0.0, 6.0 * H), (WEEK_S - 2.0 * H, WEEK_S)]);
    }

    #[test]
    fn adjacent_and_overlapping_shifts_merge() {
        let s = parse(
            r#"shifts = [{ days = "daily", start = "00:00", end = "12:00" },
                         { days = "all", start = "11:00", end = "24:00" }]"#,
        )
        .unwrap();
        assert_eq!(s.weekly_on, vec![(0.0, WEEK_S)]);
    }

    #[test]
    fn day_lists_and_wrapping_ranges() {
        assert_eq!(parse_days("mon,wed,fri"), Ok([true, false, true, false, true, false, false]));
        assert_eq!(parse_days("fri-mon"), Ok([true, false, false, false, true, true, true]));
        assert_eq!(parse_days("Sat, Sunday"), Ok([false, false, false, false, false, true, true]));
        assert!(parse_days("mun").unwrap_err().contains("did you mean \"mon\"?"));
        assert!(parse_days("mon,,fri").is_err());
    }

    #[test]
    fn times_of_day() {
        assert_eq!(parse_hh_mm("08:30"), Some(510));
        assert_eq!(parse_hh_mm("8:30"), Some(510));
        assert_eq!(parse_hh_mm("24:00"), Some(1440));
        for bad in ["25:00", "24:01", "12:60", "12", "12:3", "-1:00", "ab:cd", ""] {
            assert_eq!(parse_hh_mm(bad), None, "{bad}");
        }
        let err = parse(r#"shifts = [{ days = "mon", start = "24:00", end = "06:00" }]"#).unwrap_err();
        assert_eq!(err.key, "agents[0].shifts[0].start");
    }
}
