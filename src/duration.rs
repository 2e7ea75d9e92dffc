//! Human durations: `"45s"`, `"10m"`, `"4h"`, `"3d"`, `"250ms"`, or plain numbers of seconds.

/// Longest duration of any kind: a typo like "1e11d" should be an error, not a run that never
/// ends or a handle time that overflows the clock.
pub const MAX_DURATION_S: f64 = 100.0 * 365.0 * 86_400.0;

/// Parses a duration string into seconds. Accepts an optional sign so that a negative value
/// can be reported as out of range rather than as unreadable.
pub fn parse_duration(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    // "e" inside the number is an exponent only when digits follow; "1e3s" is rare, but
    // a unit never starts with 'e', so this split is unambiguous.
    let value: f64 = number.trim().parse().ok()?;
    let scale = match unit.trim() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "ms" => 0.001,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        "w" | "week" | "weeks" => 604_800.0,
        _ => return None,
    };
    let seconds = value * scale;
    seconds.is_finite().then_some(seconds)
}

/// Formats seconds compactly for labels: `600` → `"10m"`, `90` → `"90s"`, `5400` → `"1.5h"`.
pub fn format_duration(seconds: f64) -> String {
    let units = [(86_400.0, "d"), (3600.0, "h"), (60.0, "m")];
    for (scale, unit) in units {
        let value = seconds / scale;
        if seconds >= scale && (value * 10.0).fract().abs() < 1e-9 {
            return format!("{}{unit}", trim_number(value));
        }
    }
    format!("{}s", trim_number(seconds))
}

fn trim_number(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_plain_seconds() {
        assert_eq!(parse_duration("45s"), Some(45.0));
        assert_eq!(parse_duration("10m"), Some(600.0));
        assert_eq!(parse_duration("4h"), Some(14_400.0));
        assert_eq!(parse_duration("3d"), Some(259_200.0));
        assert_eq!(parse_duration("1.5h"), Some(5400.0));
        assert_eq!(parse_duration("250ms"), Some(0.25));
        assert_eq!(parse_duration("30"), Some(30.0));
        assert_eq!(parse_duration("-3m"), Some(-180.0));
        assert_eq!(parse_duration("4 parsecs"), None);
        assert_eq!(parse_duration("m"), None);
    }

    #[test]
    fn formats_round_values_with_the_largest_unit() {
        assert_eq!(format_duration(600.0), "10m");
        assert_eq!(format_duration(90.0), "1.5m");
        assert_eq!(format_duration(45.0), "45s");
        assert_eq!(format_duration(5400.0), "1.5h");
        assert_eq!(format_duration(86_400.0 * 1000.0), "1000d");
        assert_eq!(format_duration(0.0), "0s");
    }
}
