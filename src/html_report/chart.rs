//! One chart kind, drawn with plotters' SVG backend: lines, steps, points or bars on numeric or
//! named x positions, with 95% CI whiskers, point labels and dashed reference lines, in the
//! Okabe–Ito palette (told apart by people with any common colour-vision deficiency). Shares are
//! drawn within [0, 100%] (`axes`), a week is ticked by day, and the legend is HTML under the
//! SVG (`legend`), never over the data.

use std::ops::Range;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Okabe & Ito's eight colours, most distinct first (yellow, faint on white, last).
const OKABE_ITO: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(240, 228, 66),  // yellow
];

/// Pixels: wide enough for a laptop screen, small enough for two to fit on it at once.
const WIDTH: u32 = 900;
const HEIGHT: u32 = 400;
/// The shading of every other day on a week's axis.
const DAY_BAND: RGBColor = RGBColor(236, 236, 236);
const FONT: &str = "sans-serif";

/// The colour of series `index` (colours repeat after eight; dashes tell kinds apart).
pub fn colour(index: usize) -> RGBColor {
    OKABE_ITO[index % OKABE_ITO.len()]
}

/// One plotted value, with its 95% CI half-widths and a label drawn beside it.
#[derive(Debug, Clone, Default)]
pub struct Mark {
    pub x: f64,
    pub y: f64,
    pub x_ci: Option<f64>,
    pub y_ci: Option<f64>,
    pub label: Option<String>,
}

impl Mark {
    pub fn at(x: f64, y: f64) -> Self {
        Self { x, y, ..Default::default() }
    }
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    Line,
    Dashed,
    /// A value held until the next mark (staffing per interval).
    Step,
    Points,
    /// Open circles (a second kind beside `Points`).
    Hollow,
    /// Bar `slot` of `slots` side by side at each (named) x.
    Bars {
        slot: usize,
        slots: usize,
    },
}

#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub colour: usize,
    pub style: Style,
    pub marks: Vec<Mark>,
}

#[derive(Debug, Clone)]
pub struct Chart {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub x: Range<f64>,
    pub y: Range<f64>,
    /// Names for whole x positions (categories, interval starts) instead of numbers.
    pub x_names: Option<Vec<String>>,
    pub x_ticks: usize,
    /// y values are shares, shown as percentages on [0, 100%] or a labelled zoom of it (the
    /// y range is then chosen when drawing).
    pub y_percent: bool,
    pub series: Vec<Series>,
    /// Dashed horizontal reference lines: (legend label, y).
    pub hlines: Vec<(String, f64)>,
}

impl Chart {
    pub fn new(title: &str, x_desc: &str, y_desc: &str) -> Self {
        Self {
            title: title.into(),
            x_desc: x_desc.into(),
            y_desc: y_desc.into(),
            x: 0.0..1.0,
            y: 0.0..1.0,
            x_names: None,
            x_ticks: 10,
            y_percent: false,
            series: Vec::new(),
            hlines: Vec::new(),
        }
    }

    /// Every y value drawn: marks, whisker ends and reference lines.
    fn ys(&self) -> impl Iterator<Item = f64> + '_ {
        let marks = self.series.iter().flat_map(|s| &s.marks);
        let ys = marks.flat_map(|m| [m.y - m.y_ci.unwrap_or(0.0), m.y + m.y_ci.unwrap_or(0.0)]);
        ys.chain(self.hlines.iter().map(|h| h.1))
    }

    /// Fits both ranges to the marks (whiskers and reference lines included), with headroom;
    /// `y_from_zero` keeps 0 on the y axis (bars, counts, shares).
    pub fn fit(&mut self, y_from_zero: bool) {
        let marks = self.series.iter().flat_map(|s| &s.marks);
        let xs = marks.flat_map(|m| [m.x - m.x_ci.unwrap_or(0.0), m.x + m.x_ci.unwrap_or(0.0)]);
        self.x = padded(xs, false, 0.04);
        // From zero: counts, waits and shares are never negative, nor their whiskers' ends.
        let ys = self.ys().map(|y| if y_from_zero { y.max(0.0) } else { y });
        self.y = padded(ys, y_from_zero, 0.08);
    }
}

/// The range of `values` widened by `pad` of its span (never empty, never NaN).
pub fn padded(values: impl Iterator<Item = f64>, from_zero: bool, pad: f64) -> Range<f64> {
    let (mut lo, mut hi) =
        values.filter(|v| v.is_finite()).fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if lo > hi {
        (lo, hi) = (0.0, 1.0);
    }
    if from_zero {
        lo = lo.min(0.0);
    }
    let span = if hi > lo { hi - lo } else { hi.abs().max(1.0) };
    let lo = if from_zero && lo >= 0.0 { 0.0 } else { lo - span * pad };
    lo..hi + span * pad
}

/// A number for an axis tick or table cell: at most 3 decimals, no trailing zeros.
pub fn number(v: f64) -> String {
    let text = if v.abs() >= 100.0 { format!("{v:.0}") } else { format!("{v:.3}") };
    let text =
        if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text };
    if text == "-0" {
        "0".into()
    } else {
        text
    }
}

fn category(names: &[String], v: f64) -> String {
    let r = v.round();
    if (v - r).abs() < 1e-6 && r >= 0.0 && (r as usize) < names.len() {
        names[r as usize].clone()
    } else {
        String::new()
    }
}

type Area<'a> = ChartContext<
    'a,
    SVGBackend<'a>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The chart as an SVG document followed by its legend (an HTML list, see `legend`).
pub fn svg(c: &Chart) -> Result<String, String> {
    let mut c = c.clone();
    if c.y_percent {
        let (range, zoom) = super::axes::share_range(c.ys());
        // A hair past the ends so that 0% and 100% (or the zoom's ends) get their ticks.
        c.y = range.start - 1e-9..range.end + 1e-9;
        if let Some(zoom) = zoom {
            c.title = format!("{} ({zoom})", c.title);
        }
    }
    let week = c.x_names.as_deref().and_then(super::axes::week_axis);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&c.title, (FONT, 22))
            .margin(14)
            .x_label_area_size(58)
            .y_label_area_size(84)
            .build_cartesian_2d(c.x.clone(), c.y.clone())
            .map_err(|e| e.to_string())?;
        let x_fmt = |v: &f64| match &c.x_names {
            Some(names) => category(names, *v),
            None => number(*v),
        };
        let y_fmt = |v: &f64| match c.y_percent {
            true if !(-1e-6..=1.0 + 1e-6).contains(v) => String::new(),
            true => format!("{}%", number(v * 100.0)),
            false => number(*v),
        };
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(c.x_desc.as_str())
            .y_desc(c.y_desc.as_str())
            .x_labels(c.x_ticks)
            .y_labels(8)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .light_line_style(RGBColor(238, 238, 238))
            .bold_line_style(RGBColor(215, 215, 215))
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 17));
        if week.is_some() {
            // Ticked by day below instead of at plotters' round numbers (odd hours).
            mesh.disable_x_mesh().x_labels(0);
        }
        mesh.draw().map_err(|e| e.to_string())?;
        if let Some(week) = &week {
            draw_week(&mut chart, week, &c.y)?;
        }
        for series in &c.series {
            draw(&mut chart, series, &c.y)?;
        }
        for (_, y) in &c.hlines {
            let line = [(c.x.start, *y), (c.x.end, *y)];
            chart
                .draw_series(DashedLineSeries::new(line, 8, 5, BLACK.stroke_width(1)))
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out + &super::legend::html(&c.series, &c.hlines))
}

/// A week's axis: every other day shaded, a grid line and tick label at each day's start
/// ("mon") and noon ("12:00").
fn draw_week(chart: &mut Area<'_>, week: &super::axes::TimeAxis, y: &Range<f64>) -> Result<(), String> {
    let bands =
        week.bands.iter().map(|b| Rectangle::new([(b.start, y.start), (b.end, y.end)], DAY_BAND.filled()));
    chart.draw_series(bands).map_err(|e| e.to_string())?;
    let grid = week.ticks.iter().map(|(x, label)| {
        let colour = if label.contains(':') { RGBColor(225, 225, 225) } else { RGBColor(170, 170, 170) };
        PathElement::new(vec![(*x, y.start), (*x, y.end)], colour.stroke_width(1))
    });
    chart.draw_series(grid).map_err(|e| e.to_string())?;
    let style = TextStyle::from((FONT, 16).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    let labels = week.ticks.iter().map(|(x, label)| {
        EmptyElement::at((*x, y.start))
            + PathElement::new(vec![(0, 0), (0, 5)], BLACK.stroke_width(1))
            + Text::new(label.clone(), (0, 8), style.clone())
    });
    chart.draw_series(labels).map_err(|e| e.to_string())?;
    Ok(())
}

/// Draws one series, then its whiskers and labels (the legend is `legend::html`).
fn draw(chart: &mut Area<'_>, s: &Series, y: &Range<f64>) -> Result<(), String> {
    let colour = colour(s.colour);
    let line = colour.stroke_width(2);
    let points: Vec<(f64, f64)> = s.marks.iter().map(|m| (m.x, m.y)).collect();
    let drawn = match s.style {
        Style::Line => chart.draw_series(LineSeries::new(points, line)),
        Style::Dashed => chart.draw_series(DashedLineSeries::new(points, 7, 4, line)),
        Style::Step => chart.draw_series(LineSeries::new(steps(&points), line)),
        Style::Points => chart.draw_series(points.iter().map(|p| Circle::new(*p, 4, colour.filled()))),
        Style::Hollow => chart.draw_series(points.iter().map(|p| Circle::new(*p, 4, colour.stroke_width(2)))),
        Style::Bars { slot, slots } => {
            let width = 0.8 / slots.max(1) as f64;
            let bars = s.marks.iter().map(|m| {
                let left = m.x - 0.4 + slot as f64 * width;
                Rectangle::new([(left + width * 0.05, 0.0), (left + width * 0.95, m.y)], colour.filled())
            });
            chart.draw_series(bars)
        }
    };
    drawn.map_err(|e| e.to_string())?;
    let centre = |m: &Mark| match s.style {
        Style::Bars { slot, slots } => {
            let width = 0.8 / slots.max(1) as f64;
            m.x - 0.4 + (slot as f64 + 0.5) * width
        }
        _ => m.x,
    };
    let whisker = BLACK.mix(0.75).stroke_width(1);
    let mut paths = Vec::new();
    for m in &s.marks {
        let x = centre(m);
        // Whiskers stop at the axis' ends (a share's CI can reach past 0 or 100%).
        if let Some(ci) = m.y_ci.filter(|c| *c > 0.0) {
            paths.push(vec![(x, (m.y - ci).max(y.start)), (x, (m.y + ci).min(y.end))]);
        }
        if let Some(ci) = m.x_ci.filter(|c| *c > 0.0) {
            paths.push(vec![(m.x - ci, m.y), (m.x + ci, m.y)]);
        }
    }
    chart.draw_series(paths.into_iter().map(|p| PathElement::new(p, whisker))).map_err(|e| e.to_string())?;
    // Labels of neighbouring marks are staggered in height so that close points stay legible;
    // below their mark near the top of the axis, where there is no room above.
    let labels = s.marks.iter().enumerate().filter_map(|(i, m)| {
        let text = m.label.as_ref()?;
        let near_top = (m.y - y.start) > (y.end - y.start) * 0.85;
        let lift = if near_top { 6 + 13 * (i % 3) as i32 } else { -16 - 13 * (i % 3) as i32 };
        Some(EmptyElement::at((centre(m), m.y)) + Text::new(text.clone(), (6, lift), (FONT, 15).into_font()))
    });
    chart.draw_series(labels).map_err(|e| e.to_string())?;
    Ok(())
}

/// Points joined as steps: each value held until the next x, the last one for a width of 1.
fn steps(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2 + 1);
    for (i, &(x, y)) in points.iter().enumerate() {
        out.push((x, y));
        let next = points.get(i + 1).map_or(x + 1.0, |p| p.0);
        out.push((next, y));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(120.0), "120");
        assert_eq!(number(2.0), "2");
        assert_eq!(number(-0.0001), "0");
    }

    #[test]
    fn ranges_are_never_empty() {
        assert_eq!(padded([].into_iter(), false, 0.1), -0.1..1.1);
        let r = padded([3.0, 3.0].into_iter(), true, 0.1);
        assert!(r.start == 0.0 && r.end > 3.0);
        assert_eq!(category(&["a".into(), "b".into()], 1.0), "b");
        assert_eq!(category(&["a".into()], 0.5), "");
    }

    #[test]
    fn a_chart_is_an_svg_with_its_titles() {
        let mut c = Chart::new("T", "wait (s)", "share");
        c.series.push(Series {
            label: "s1".into(),
            colour: 0,
            style: Style::Line,
            marks: vec![Mark::at(0.0, 0.0), Mark::at(1.0, 1.0)],
        });
        c.fit(true);
        let svg = svg(&c).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("wait (s)") && svg.contains("s1</li></ul>"), "{svg}");
    }
}
