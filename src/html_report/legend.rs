//! A chart's legend, as an HTML list under its SVG: outside the plotting area, so that it never
//! covers data, and wrapping with the page. Series that coincide (equal values at every x) are
//! said so in their entry ("hybrid-1h = sticky here: the lines coincide") rather than left hidden
//! under each other.

use super::chart::{colour, Series, Style};
use super::page::esc;

/// A y value equal to another within this (relative, plus an absolute floor) is the same.
const SAME: f64 = 1e-9;

fn same_marks(a: &Series, b: &Series) -> bool {
    a.marks.len() == b.marks.len()
        && !a.marks.is_empty()
        && a.marks.iter().zip(&b.marks).all(|(m, n)| {
            let close = |u: f64, v: f64| (u - v).abs() <= SAME * (1.0 + u.abs().max(v.abs()));
            close(m.x, n.x) && close(m.y, n.y)
        })
}

/// For each series, the first earlier labelled series that it coincides with.
pub fn coinciding(series: &[Series]) -> Vec<Option<usize>> {
    series
        .iter()
        .enumerate()
        .map(|(j, s)| (0..j).find(|&i| !series[i].label.is_empty() && same_marks(&series[i], s)))
        .collect()
}

fn hex(index: usize) -> String {
    let c = colour(index);
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

fn swatch(style: Style, colour: &str) -> String {
    let (class, css) = match style {
        Style::Line | Style::Step => ("line", format!("border-top-color:{colour}")),
        Style::Dashed => ("dashed", format!("border-top-color:{colour}")),
        Style::Points => ("point", format!("background:{colour}")),
        Style::Hollow => ("hollow", format!("border-color:{colour}")),
        Style::Bars { .. } => ("bar", format!("background:{colour}")),
    };
    format!("<span class=\"swatch {class}\" style=\"{css}\"></span>")
}

/// The legend of `series` and the dashed reference lines `hlines`, or "" with no entry.
pub fn html(series: &[Series], hlines: &[(String, f64)]) -> String {
    let same = coinciding(series);
    let mut items = String::new();
    for (s, same) in series.iter().zip(same) {
        if s.label.is_empty() {
            continue;
        }
        let (class, text) = match same {
            Some(i) => {
                (" class=\"coincide\"", format!("{} = {} here: the lines coincide", s.label, series[i].label))
            }
            None => ("", s.label.clone()),
        };
        items += &format!("<li{class}>{}{}</li>", swatch(s.style, &hex(s.colour)), esc(&text));
    }
    for (label, _) in hlines {
        items += &format!("<li>{}{}</li>", swatch(Style::Dashed, "#000000"), esc(label));
    }
    if items.is_empty() {
        String::new()
    } else {
        format!("<ul class=\"legend\">{items}</ul>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html_report::chart::Mark;

    fn line(label: &str, ys: &[f64]) -> Series {
        let marks = ys.iter().enumerate().map(|(x, y)| Mark::at(x as f64, *y)).collect();
        Series { label: label.into(), colour: 0, style: Style::Line, marks }
    }

    #[test]
    fn coinciding_lines_are_said_so() {
        let series = [line("sticky", &[1.0, 2.0]), line("next", &[1.0, 2.5]), line("hybrid-1h", &[1.0, 2.0])];
        assert_eq!(coinciding(&series), [None, None, Some(0)]);
        let legend = html(&series, &[]);
        assert!(legend.contains("hybrid-1h = sticky here: the lines coincide"), "{legend}");
    }
}
