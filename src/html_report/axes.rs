//! Axis ranges and ticks that a planner reads at a glance: a share's axis stays within
//! [0, 100%] (or a zoomed range that says so), and a week of intervals is ticked at day
//! boundaries and noon, with every other day shaded.

use std::ops::Range;

use super::chart::number;

/// A share axis is zoomed only when every value is at least this (else [0, 100%] shows it well).
const ZOOM_FROM: f64 = 0.5;

/// The y range of a share axis for `values` (marks, whisker ends, reference lines): [0, 1],
/// or a zoomed range on round steps when every value is high, with its label ("zoomed:
/// 80–100%"). Never past [0, 1]: shares cannot be.
pub fn share_range(values: impl Iterator<Item = f64>) -> (Range<f64>, Option<String>) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .map(|v| v.clamp(0.0, 1.0))
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if lo > hi || lo < ZOOM_FROM || hi <= lo {
        return (0.0..1.0, None);
    }
    let span = hi - lo;
    let step = if span <= 0.04 {
        0.01
    } else if span <= 0.2 {
        0.05
    } else {
        0.1
    };
    // Round in whole percent steps so that the label and the ticks say the same numbers.
    let start = (((lo - span * 0.05) / step).floor() * step).max(0.0);
    let end = (((hi + span * 0.05) / step).ceil() * step).min(1.0);
    let start = start.min(end - step);
    let label = format!("zoomed: {}–{}%", number(start * 100.0), number(end * 100.0));
    (start..end, Some(label))
}

/// Ticks and day bands for x positions named by interval starts.
pub struct TimeAxis {
    /// (x, label): day boundaries labelled by the day, noon by "12:00".
    pub ticks: Vec<(f64, String)>,
    /// The x spans of every other day (tue, thu, sat), shaded.
    pub bands: Vec<Range<f64>>,
}

/// For a week of intervals (names "mon 00:00" … "sun 23:00", any interval width): ticks at
/// each day's 00:00 (labelled "mon", "tue", …) and 12:00, and bands for every other day.
/// `None` for names that are not a week (a day's "00:00" … ticks well by itself).
pub fn week_axis(names: &[String]) -> Option<TimeAxis> {
    let parsed: Vec<(&str, &str)> = names.iter().map(|n| n.split_once(' ')).collect::<Option<_>>()?;
    let days: Vec<&str> = parsed.iter().map(|(day, _)| *day).fold(Vec::new(), |mut days, day| {
        if days.last() != Some(&day) {
            days.push(day);
        }
        days
    });
    if days.len() < 2 {
        return None;
    }
    let mut ticks = Vec::new();
    for (i, (day, time)) in parsed.iter().enumerate() {
        match *time {
            "00:00" => ticks.push((i as f64, (*day).to_string())),
            "12:00" => ticks.push((i as f64, "12:00".to_string())),
            _ => {}
        }
    }
    let starts: Vec<usize> =
        (0..parsed.len()).filter(|&i| i == 0 || parsed[i].0 != parsed[i - 1].0).collect();
    let bands = starts
        .iter()
        .enumerate()
        .filter(|(d, _)| d % 2 == 1)
        .map(|(d, &s)| s as f64..starts.get(d + 1).map_or(names.len(), |&e| e) as f64)
        .collect();
    Some(TimeAxis { ticks, bands })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_stay_within_0_and_100_percent_or_say_they_are_zoomed() {
        assert_eq!(share_range([-0.2, 0.3, 1.4].into_iter()), (0.0..1.0, None));
        let (range, label) = share_range([0.82, 0.97, 1.0].into_iter());
        assert!((range.start - 0.8).abs() < 1e-9 && range.end == 1.0, "{range:?}");
        assert_eq!(label.as_deref(), Some("zoomed: 80–100%"));
        // A flat line is drawn on the whole axis.
        assert_eq!(share_range([1.0, 1.0].into_iter()), (0.0..1.0, None));
    }

    #[test]
    fn a_week_is_ticked_at_days_and_noon_with_every_other_day_shaded() {
        let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let names: Vec<String> =
            days.iter().flat_map(|d| (0..24).map(move |h| format!("{d} {h:02}:00"))).collect();
        let axis = week_axis(&names).expect("a week");
        assert_eq!(axis.ticks.len(), 14);
        assert_eq!(axis.ticks[0], (0.0, "mon".to_string()));
        assert_eq!(axis.ticks[1], (12.0, "12:00".to_string()));
        assert_eq!(axis.ticks[2], (24.0, "tue".to_string()));
        assert_eq!(axis.bands, [24.0..48.0, 72.0..96.0, 120.0..144.0]);
        assert!(week_axis(&["00:00".to_string(), "01:00".to_string()]).is_none());
    }
}
