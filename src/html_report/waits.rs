//! Wait CDFs, first and resumed contacts, one line per point, from each point's merged HDR
//! histogram (all replications' contacts together). Answers "how long do customers wait, and
//! how do the policies of a sweep differ over the whole distribution, not only its mean?"
//! A point whose contacts never waited is said so in words, not drawn as a flat line at 100%.

use hdrhistogram::Histogram;

use super::chart::{self, Chart, Mark, Series, Style};
use super::page::{Block, Table};
use crate::metrics::{HISTOGRAM_UNIT_S, WAIT_FIRST, WAIT_RESUMED};

/// Points kept per CDF line: plenty for 900 pixels, and the page stays small.
const LINE_POINTS: f64 = 400.0;
/// The x axis ends at this quantile of the longest-tailed line (the rest is in the table).
const X_QUANTILE: f64 = 0.995;

/// One CDF block per wait kind that has contacts; `points` are (label, histograms) in order.
pub fn blocks(points: &[(String, &crate::metrics::Histograms)]) -> Result<Vec<Block>, String> {
    let kinds = [
        (WAIT_FIRST, "first contacts", "wait-cdf-first"),
        (WAIT_RESUMED, "resumed contacts", "wait-cdf-resumed"),
    ];
    let mut out = Vec::new();
    for (key, what, id) in kinds {
        let lines: Vec<(usize, &String, &Histogram<u64>)> = points
            .iter()
            .enumerate()
            .filter_map(|(i, (label, h))| h.get(key).filter(|h| !h.is_empty()).map(|h| (i, label, h)))
            .collect();
        if lines.is_empty() {
            continue;
        }
        out.push(cdf_block(key, what, id, &lines)?);
    }
    Ok(out)
}

fn seconds(units: u64) -> f64 {
    units as f64 * HISTOGRAM_UNIT_S
}

fn cdf_block(
    key: &str,
    what: &str,
    id: &str,
    lines: &[(usize, &String, &Histogram<u64>)],
) -> Result<Block, String> {
    let x_max = lines.iter().map(|(_, _, h)| seconds(h.value_at_quantile(X_QUANTILE))).fold(1.0, f64::max);
    let mut c =
        Chart::new(&format!("Wait CDF, {what}"), "wait (s)", "share of contacts answered within the wait");
    let never_waited = |h: &Histogram<u64>| h.count_between(0, 0) == h.len();
    c.series = lines
        .iter()
        .filter(|(_, _, h)| !never_waited(h))
        .map(|(i, label, h)| Series {
            label: (*label).clone(),
            colour: *i,
            style: Style::Line,
            marks: cdf(h, x_max),
        })
        .collect();
    c.x = 0.0..x_max * 1.02;
    c.y = 0.0..1.0;
    c.y_percent = true;
    let kind = what.trim_end_matches('s');
    let flat: Vec<String> = lines
        .iter()
        .filter(|(_, _, h)| never_waited(h))
        .map(|(_, label, h)| format!("{label}: no {kind} waited (all {} answered at once)", h.len()))
        .collect();
    let mut note = format!(
        "From the merged {key} histogram of every replication (HDR, 3 significant digits); the x axis ends at the {X_QUANTILE} quantile of the longest tail."
    );
    if !flat.is_empty() {
        note = if flat.len() == lines.len() {
            format!("{}.", flat.join("; "))
        } else {
            format!("{}. {note}", flat.join("; "))
        };
    }
    let header =
        ["point", "contacts", "waited (≥ 1 ms)", "p50 (s)", "p90 (s)", "p95 (s)", "p99 (s)", "max (s)"];
    let rows = lines
        .iter()
        .map(|(_, label, h)| {
            let q = |q: f64| chart::number(seconds(h.value_at_quantile(q)));
            let waited = 1.0 - h.count_between(0, 0) as f64 / h.len() as f64;
            vec![
                (*label).clone(),
                h.len().to_string(),
                format!("{}%", chart::number(waited * 100.0)),
                q(0.5),
                q(0.9),
                q(0.95),
                q(0.99),
                chart::number(seconds(h.max())),
            ]
        })
        .collect();
    Ok(Block {
        id: id.into(),
        title: format!("Wait distribution, {what}"),
        question: format!(
            "What share of {what} is answered within a given wait, and where do the points of the run differ: at once, in the body or in the tail?"
        ),
        // Every point answered at once: the words above say it, a flat line would not.
        svg: if c.series.is_empty() { String::new() } else { chart::svg(&c)? },
        table: Table { header: header.iter().map(|h| h.to_string()).collect(), rows },
        note,
    })
}

/// The CDF as marks up to `x_max` seconds: a step at each recorded value, thinned.
fn cdf(h: &Histogram<u64>, x_max: f64) -> Vec<Mark> {
    let total = h.len() as f64;
    let mut marks = vec![Mark::at(0.0, 0.0)];
    let mut seen = 0u64;
    let mut last_x = f64::NEG_INFINITY;
    for v in h.iter_recorded() {
        let x = seconds(h.highest_equivalent(v.value_iterated_to()));
        if x > x_max {
            break;
        }
        seen += v.count_since_last_iteration();
        if x - last_x >= x_max / LINE_POINTS || seen == h.len() {
            marks.push(Mark::at(x, seen as f64 / total));
            last_x = x;
        }
    }
    marks.dedup_by(|a, b| a.x == b.x && a.y == b.y);
    marks.push(Mark::at(x_max * 1.02, seen as f64 / total));
    marks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_rises_to_the_share_below_the_cut() {
        let mut h = crate::metrics::new_wait_histogram();
        for ms in [0, 0, 1000, 2000] {
            h.record(ms).unwrap();
        }
        let marks = cdf(&h, 1.5);
        assert!(marks.windows(2).all(|w| w[1].y >= w[0].y));
        assert_eq!(marks.last().unwrap().y, 0.75);
        assert!(marks.iter().any(|m| m.x == 0.0 && m.y == 0.5));
    }
}
