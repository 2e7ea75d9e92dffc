//! Staffing vectors, `staffing = [4, 3, 3, ...]`: how many of a pool's agents are on shift in
//! each interval of a day or a week, with `staffing_interval` (default `"1h"`) and
//! `staffing_scale` (default 1, so sweep axes can scale the whole vector).

use toml::Value;

use super::fields::{as_integer, expected, index, render, Section, Sign};
use crate::error::FieldError;
use crate::scenario::model::{Staffing, DAY_S};

/// The pool keys that describe staffing by vector; `count` and `shifts` are the alternative.
pub(super) const STAFFING_KEYS: [&str; 3] = ["staffing", "staffing_interval", "staffing_scale"];
const DEFAULT_INTERVAL_S: f64 = 3600.0;

/// The pool's staffing vector, if it gives one; `None` if it uses `count` (and `shifts`).
/// `max_agents` bounds each (scaled) value.
pub(super) fn staffing(sec: &Section<'_>, max_agents: i64) -> Result<Option<Staffing>, FieldError> {
    let vector_what = "an array of agents on shift per interval, like [2, 2, 3, ...]";
    let Some(items) = sec.array("staffing", vector_what)? else {
        return match STAFFING_KEYS.iter().skip(1).find(|k| sec.get(k).is_some()) {
            Some(key) => Err(FieldError::new(
                sec.path(key),
                "only with a staffing vector: add staffing = [...] to this pool, or remove this key",
            )),
            None => Ok(None),
        };
    };
    if let Some(key) = ["count", "shifts"].iter().find(|k| sec.get(k).is_some()) {
        return Err(FieldError::new(
            sec.path("staffing"),
            format!(
                "expected either `count` (with optional `shifts`) or a `staffing` vector, not both; \
                 remove `{key}` (the pool has max(staffing) agents)"
            ),
        ));
    }
    let interval_s = interval(sec)?;
    let per_day = (DAY_S / interval_s) as usize;
    let path = sec.path("staffing");
    if items.len() != per_day && items.len() != 7 * per_day {
        let width = sec.get("staffing_interval").map_or_else(|| "\"1h\"".to_string(), super::fields::render);
        return Err(FieldError::new(
            &path,
            format!(
                "expected {per_day} values (one day) or {} (one week, Monday 00:00 first) at \
                 staffing_interval = {width}, got {} values",
                7 * per_day,
                items.len()
            ),
        ));
    }
    let mut on = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let n = as_integer(item, &index(&path, i), 0, max_agents)?;
        on.push(u32::try_from(n).unwrap_or(0));
    }
    if on.iter().all(|n| *n == 0) {
        return Err(FieldError::new(
            path,
            "expected at least one interval with agents on shift, got all zeros",
        ));
    }
    let Some(scale) = sec.number("staffing_scale", Sign::Positive, "a positive number like 1.5")? else {
        return Ok(Some(Staffing::new(on, interval_s)));
    };
    scaled(&on, scale, max_agents)
        .map(|on| Some(Staffing::new(on, interval_s)))
        .map_err(|message| FieldError::new(sec.path("staffing_scale"), message))
}

/// The interval width in whole seconds; it must divide a day.
fn interval(sec: &Section<'_>) -> Result<f64, FieldError> {
    let Some(width) = sec.duration("staffing_interval", Sign::Positive, "1h")? else {
        return Ok(DEFAULT_INTERVAL_S);
    };
    let divides = width.fract() == 0.0 && width <= DAY_S && DAY_S % width == 0.0;
    if !divides {
        let value = sec.get("staffing_interval").cloned().unwrap_or(Value::Float(width));
        return Err(expected(
            &sec.path("staffing_interval"),
            "a whole number of seconds that divides a day, like \"15m\", \"30m\", \"1h\" or \"2h\"",
            &value,
        ));
    }
    Ok(width)
}

/// Every value × `scale`, rounded to the nearest integer (halves away from zero; 0 stays 0).
fn scaled(on: &[u32], scale: f64, max_agents: i64) -> Result<Vec<u32>, String> {
    // As TOML writes it: 1e300 rather than its 301 digits.
    let shown = render(&Value::Float(scale));
    let out: Vec<f64> = on.iter().map(|&n| (f64::from(n) * scale).round()).collect();
    let largest = out.iter().copied().fold(0.0, f64::max);
    if largest > max_agents as f64 {
        return Err(format!(
            "expected a scale that keeps every value at most {max_agents} agents, got {shown} \
             (the largest value becomes {largest:e})"
        ));
    }
    if largest == 0.0 {
        return Err(format!(
            "expected a scale that leaves at least one interval with agents on shift, got {shown} \
             (every value rounds to 0)"
        ));
    }
    Ok(out.into_iter().map(|x| x as u32).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pool: &str) -> Result<Option<Staffing>, FieldError> {
        let table: toml::Table = toml::from_str(pool).expect("valid TOML");
        let mut known = vec!["count", "shifts"];
        known.extend(STAFFING_KEYS);
        staffing(&Section::new(&table, "agents[0]", &known)?, 1_000_000)
    }

    fn err(pool: &str) -> String {
        let e = parse(pool).unwrap_err();
        format!("{}: {}", e.key, e.message)
    }

    fn day(values: &str) -> String {
        format!("staffing = [{values}]")
    }

    #[test]
    fn a_daily_and_a_weekly_vector() {
        let s = parse(&day(&["3"; 24].join(","))).unwrap().unwrap();
        assert_eq!((s.values().len(), s.interval_s(), s.max()), (24, 3600.0, 3));
        let week =
            parse(&format!("staffing = [{}]\nstaffing_interval = \"4h\"", ["1"; 42].join(","))).unwrap();
        assert_eq!(week.unwrap().period_s(), 7.0 * DAY_S);
        assert_eq!(parse("count = 4").unwrap(), None);
    }

    #[test]
    fn scale_multiplies_and_rounds() {
        let values = [0, 1, 2, 3].repeat(6).iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        let s = parse(&format!("{}\nstaffing_scale = 1.5", day(&values))).unwrap().unwrap();
        assert_eq!(&s.values()[..4], &[0, 2, 3, 5]);
        let e = err(&format!("{}\nstaffing_scale = 0.1", day(&values)));
        assert!(e.starts_with("agents[0].staffing_scale: ") && e.contains("rounds to 0"), "{e}");
        let huge = err(&format!("{}\nstaffing_scale = 1e300", day(&values)));
        assert!(huge.contains("at most 1000000 agents, got 1e300 (the largest"), "{huge}");
        assert!(
            err(&format!("{}\nstaffing_scale = 0", day(&values))).starts_with("agents[0].staffing_scale: ")
        );
    }

    #[test]
    fn every_mistake_names_its_key() {
        let ones = ["1"; 24].join(",");
        let both = err(&format!("count = 3\n{}", day(&ones)));
        assert!(both.starts_with("agents[0].staffing: expected either `count`") && both.contains("`count`"));
        assert!(err(&format!("shifts = []\n{}", day(&ones))).contains("remove `shifts`"));
        let short = err(&day(&["1"; 23].join(",")));
        assert_eq!(
            short,
            "agents[0].staffing: expected 24 values (one day) or 168 (one week, Monday 00:00 first) at \
             staffing_interval = \"1h\", got 23 values"
        );
        let half_hours = err(&format!("{}\nstaffing_interval = \"30m\"", day(&ones)));
        assert!(half_hours.contains("expected 48 values (one day) or 336"), "{half_hours}");
        let negative = err(&day(&format!("-1,{}", ["1"; 23].join(","))));
        assert!(negative.starts_with("agents[0].staffing[0]: expected an integer from 0 to"), "{negative}");
        let fraction = err(&day(&format!("{},2.5", ["1"; 23].join(","))));
        assert!(fraction.starts_with("agents[0].staffing[23]: expected an integer"), "{fraction}");
        assert!(err(&day(&["0"; 24].join(","))).ends_with("got all zeros"));
        let odd = err(&format!("{}\nstaffing_interval = \"7m\"", day(&ones)));
        assert!(odd.starts_with("agents[0].staffing_interval: expected a whole number of seconds"), "{odd}");
        assert!(err("count = 2\nstaffing_scale = 2").starts_with("agents[0].staffing_scale: only with"));
        assert!(err("count = 2\nstaffing_interval = \"1h\"").starts_with("agents[0].staffing_interval: only"));
        assert!(err("staffing = 3").starts_with("agents[0].staffing: expected an array"));
    }
}
