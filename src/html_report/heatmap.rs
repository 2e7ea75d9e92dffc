//! A week at a glance: the first-contact service level as a weekday × hour heat map, one per
//! point (168 intervals read as seven rows of a day each, instead of one long line). Written as
//! plain SVG (rectangles and text), with the value in every cell and a colour scale that is
//! [0, 100%] or a labelled zoom of it.

use super::axes::share_range;
use super::chart::number;
use super::page::{esc, Block, Table};

const WIDTH: f64 = 900.0;
const LEFT: f64 = 56.0;
const ROW: f64 = 22.0;
/// Cividis-like, dark (low service level) to light (high): ordered in lightness, readable
/// with any common colour-vision deficiency.
const STOPS: [(f64, [f64; 3]); 3] =
    [(0.0, [0.0, 32.0, 81.0]), (0.5, [123.0, 123.0, 120.0]), (1.0, [253.0, 231.0, 55.0])];

/// A point's heat map: its label, and each interval's start ("mon 00:00") and service level.
pub type PointWeek = (String, Vec<(String, Option<f64>)>);

fn colour(t: f64) -> String {
    let t = t.clamp(0.0, 1.0);
    let (i, j) = if t <= STOPS[1].0 { (0, 1) } else { (1, 2) };
    let f = (t - STOPS[i].0) / (STOPS[j].0 - STOPS[i].0);
    let c: Vec<u8> =
        (0..3).map(|k| (STOPS[i].1[k] + (STOPS[j].1[k] - STOPS[i].1[k]) * f).round() as u8).collect();
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

fn text(x: f64, y: f64, anchor: &str, size: u32, fill: &str, body: &str) -> String {
    format!(
        "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\" dominant-baseline=\"middle\" font-family=\"sans-serif\" font-size=\"{size}\" fill=\"{fill}\">{}</text>",
        esc(body)
    )
}

/// The heat map block of `points`: (label, [(interval start "mon 00:00", service level)]) in
/// week order; at most `max` points are drawn (the table has all).
pub fn block(points: &[PointWeek], max: usize) -> Block {
    let values = points.iter().flat_map(|(_, cells)| cells.iter().filter_map(|c| c.1));
    let (range, zoom) = share_range(values);
    let per_day = points.first().map_or(24, |(_, cells)| (cells.len() / 7).max(1));
    let width = (WIDTH - LEFT - 16.0) / per_day as f64;
    let label_every = (34.0 / width).ceil().max(1.0) as usize;
    let drawn = &points[..points.len().min(max)];
    let block_height = 24.0 + 7.0 * ROW + 10.0;
    let height = 30.0 + block_height * drawn.len() as f64 + 44.0;
    let mut svg = format!(
        "<svg width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" xmlns=\"http://www.w3.org/2000/svg\"><rect width=\"{WIDTH}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );
    if let Some((_, cells)) = points.first() {
        for (k, (start, _)) in cells.iter().take(per_day).enumerate().filter(|(k, _)| k % label_every == 0) {
            let hour = start.split_once(' ').map_or(start.as_str(), |(_, t)| t);
            let x = LEFT + (k as f64 + 0.5) * width;
            svg += &text(x, 20.0, "middle", 12, "#333333", hour.strip_suffix(":00").unwrap_or(hour));
        }
    }
    for (p, (label, cells)) in drawn.iter().enumerate() {
        let top = 30.0 + block_height * p as f64;
        svg += &text(LEFT, top + 10.0, "start", 14, "#000000", label);
        for (i, (start, value)) in cells.iter().enumerate() {
            let (day, column) = (i / per_day, i % per_day);
            let (x, y) = (LEFT + column as f64 * width, top + 24.0 + day as f64 * ROW);
            if column == 0 {
                let name = start.split_once(' ').map_or("", |(d, _)| d);
                svg += &text(LEFT - 8.0, y + ROW / 2.0, "end", 13, "#000000", name);
            }
            let t = value.map(|v| (v - range.start) / (range.end - range.start));
            let fill = t.map_or("#f2f2f2".to_string(), colour);
            svg += &format!(
                "<rect class=\"cell\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\" stroke=\"#ffffff\"/>",
                width,
                ROW
            );
            let ink = if t.is_some_and(|t| t > 0.55) { "#000000" } else { "#ffffff" };
            let shown = value.map_or("–".to_string(), |v| format!("{:.0}", (v * 100.0).floor()));
            if width >= 22.0 {
                svg += &text(
                    x + width / 2.0,
                    y + ROW / 2.0,
                    "middle",
                    11,
                    if value.is_some() { ink } else { "#777777" },
                    &shown,
                );
            }
        }
    }
    // The colour scale.
    let y = height - 34.0;
    for k in 0..20 {
        let x = LEFT + k as f64 * 12.0;
        svg += &format!(
            "<rect x=\"{x}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{}\"/>",
            colour(k as f64 / 19.0)
        );
    }
    svg += &text(LEFT, y + 24.0, "start", 12, "#333333", &format!("{}%", number(range.start * 100.0)));
    svg += &text(LEFT + 240.0, y + 24.0, "end", 12, "#333333", &format!("{}%", number(range.end * 100.0)));
    let scale = format!(
        "first contacts within the threshold, % (darker is worse){}",
        zoom.as_ref().map_or(String::new(), |z| format!("; colours {z}"))
    );
    svg += &text(LEFT + 256.0, y + 6.0, "start", 12, "#333333", &scale);
    svg += "</svg>";
    Block {
        id: "interval-heatmap".into(),
        title: "Service level by weekday and hour".into(),
        question: "Which hours of which days miss the first-contact service level? One row per day, one column per interval; each cell gives its percentage (rounded down).".into(),
        svg,
        table: table(points, per_day),
        note: if points.len() > max {
            format!("The first {max} of {} points; the table has them all.", points.len())
        } else {
            String::new()
        },
    }
}

fn table(points: &[PointWeek], per_day: usize) -> Table {
    let mut header = vec!["point".to_string(), "day".to_string()];
    if let Some((_, cells)) = points.first() {
        header.extend(
            cells.iter().take(per_day).map(|(s, _)| s.split_once(' ').map_or(s.clone(), |(_, t)| t.into())),
        );
    }
    let mut rows = Vec::new();
    for (label, cells) in points {
        for day in cells.chunks(per_day) {
            let mut row =
                vec![label.clone(), day[0].0.split_once(' ').map_or(String::new(), |(d, _)| d.into())];
            row.extend(day.iter().map(|(_, v)| v.map_or("–".into(), |v| format!("{}%", number(v * 100.0)))));
            rows.push(row);
        }
    }
    Table { header, rows }
}
