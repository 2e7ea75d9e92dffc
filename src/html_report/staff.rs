//! The plots of a staffing run (`staff --out DIR` writes `staff.json`): for the level search,
//! each policy's staffing curve (the target metric at every count tried, the target as a
//! dashed line); per interval, each policy's staffing vector and what it achieves against the
//! target in every interval; for both, the agent-hours per week each policy needs.

use serde_json::Value as Json;

use super::chart::{self, Chart, Mark, Series, Style};
use super::page::{Block, Table};
use super::ReportError;

fn num(v: &Json) -> Option<f64> {
    v.as_f64().filter(|v| v.is_finite())
}

fn text(v: &Json) -> String {
    v.as_str().map(String::from).unwrap_or_else(|| v.to_string())
}

fn share(metric: &str) -> bool {
    metric.ends_with("_share")
}

/// `{"mean": m, "ci95": c}` as a table cell.
fn cell(v: &Json, metric: &str) -> String {
    let s = crate::metrics::MetricSummary { mean: num(&v["mean"]), ci95: num(&v["ci95"]), n: 0 };
    super::frontier::cell(&s, share(metric))
}

/// The targets: (metric, bound, as written).
fn targets(doc: &Json) -> Vec<(String, f64, String)> {
    let list = doc["targets"].as_array().cloned().unwrap_or_default();
    list.iter().filter_map(|t| Some((text(&t["metric"]), num(&t["bound"])?, text(&t["text"])))).collect()
}

pub fn blocks(doc: &Json) -> Result<Vec<Block>, ReportError> {
    let answers = doc["answers"].as_array().cloned().unwrap_or_default();
    let mut out = Vec::new();
    if doc["mode"] == "per_interval" {
        out.push(vector(&answers)?);
        for (metric, bound, written) in targets(doc) {
            out.push(achieved(&answers, &metric, bound, &written)?);
        }
    } else {
        for (metric, bound, written) in targets(doc) {
            out.push(curve(&answers, &metric, bound, &written)?);
        }
    }
    out.push(agent_hours(&answers)?);
    Ok(out)
}

fn draw(c: &Chart) -> Result<String, ReportError> {
    chart::svg(c).map_err(ReportError::Draw)
}

/// Level mode: the target metric against the count, one line per policy.
fn curve(answers: &[Json], metric: &str, bound: f64, written: &str) -> Result<Block, ReportError> {
    let mut c = Chart::new(&format!("Staffing curve: {metric}"), "agents in the pool", metric);
    let mut rows = Vec::new();
    for (i, a) in answers.iter().enumerate() {
        let mut evaluations: Vec<&Json> =
            a["evaluations"].as_array().map(|e| e.iter().collect()).unwrap_or_default();
        evaluations.sort_by_key(|e| e["count"].as_u64().unwrap_or(0));
        let marks = evaluations
            .iter()
            .filter_map(|e| {
                let v = &e["metrics"][metric];
                Some(Mark { y_ci: num(&v["ci95"]), ..Mark::at(num(&e["count"])?, num(&v["mean"])?) })
            })
            .collect();
        let hours = num(&a["agent_hours_per_week"]).map_or("–".into(), chart::number);
        let label = format!("{}: {} agents, {hours} agent-h/week", text(&a["policy"]), a["count"]);
        c.series.push(Series { label, colour: i, style: Style::Line, marks });
        for e in &evaluations {
            rows.push(vec![
                text(&a["policy"]),
                e["count"].to_string(),
                cell(&e["metrics"][metric], metric),
                if e["meets"] == true { "meets".into() } else { "misses".into() },
            ]);
        }
    }
    c.hlines.push((format!("target {written}"), bound));
    c.fit(share(metric));
    c.y_percent = share(metric);
    Ok(Block {
        id: format!("staff-curve-{metric}"),
        title: format!("Staffing curve ({metric})"),
        question: "How does the target metric change with the number of agents, and where does each policy first meet the target?".into(),
        svg: draw(&c)?,
        table: Table { header: vec!["policy".into(), "agents".into(), metric.into(), "target".into()], rows },
        note: "Every count the search tried, on common random numbers; whiskers are 95% CIs. The chosen count (in the legend) was checked again on fresh seeds.".into(),
    })
}

/// Per-interval mode: each policy's staffing vector.
fn vector(answers: &[Json]) -> Result<Block, ReportError> {
    let starts = starts(answers);
    let mut c = Chart::new("Staffing by interval", "interval start", "agents on shift");
    c.x_names = Some(starts.clone());
    c.x_ticks = 12;
    let mut header = vec!["interval".to_string()];
    for (i, a) in answers.iter().enumerate() {
        let staffing: Vec<f64> =
            a["staffing"].as_array().map(|s| s.iter().filter_map(num).collect()).unwrap_or_default();
        let hours = num(&a["agent_hours_per_week"]).map_or("–".into(), chart::number);
        let label = format!("{} ({hours} agent-h/week)", text(&a["policy"]));
        header.push(text(&a["policy"]));
        let marks = staffing.iter().enumerate().map(|(k, v)| Mark::at(k as f64, *v)).collect();
        c.series.push(Series { label, colour: i, style: Style::Step, marks });
    }
    c.fit(true);
    let rows = (0..starts.len())
        .map(|k| {
            let mut row = vec![starts[k].clone()];
            row.extend(answers.iter().map(|a| a["staffing"][k].to_string()));
            row
        })
        .collect();
    Ok(Block {
        id: "staff-vector".into(),
        title: "Staffing by interval".into(),
        question:
            "How many agents does each policy need in each interval of the day or week to meet every target?"
                .into(),
        svg: draw(&c)?,
        table: Table { header, rows },
        note: "The staffing vector found per policy; the legend gives its agent-hours per week.".into(),
    })
}

fn starts(answers: &[Json]) -> Vec<String> {
    let intervals = answers.first().and_then(|a| a["intervals"].as_array().cloned()).unwrap_or_default();
    intervals.iter().map(|r| text(&r["start"])).collect()
}

/// Per-interval mode: the achieved metric against its target, per interval and policy.
fn achieved(answers: &[Json], metric: &str, bound: f64, written: &str) -> Result<Block, ReportError> {
    let starts = starts(answers);
    let mut c = Chart::new(&format!("Achieved vs target by interval: {metric}"), "interval start", metric);
    c.x_names = Some(starts.clone());
    c.x_ticks = 12;
    let mut rows = Vec::new();
    for (i, a) in answers.iter().enumerate() {
        let intervals = a["intervals"].as_array().cloned().unwrap_or_default();
        let marks = intervals
            .iter()
            .enumerate()
            .filter_map(|(k, r)| {
                let v = &r["achieved"][metric];
                Some(Mark { y_ci: num(&v["ci95"]), ..Mark::at(k as f64, num(&v["mean"])?) })
            })
            .collect();
        c.series.push(Series { label: text(&a["policy"]), colour: i, style: Style::Line, marks });
        for r in &intervals {
            rows.push(vec![
                text(&a["policy"]),
                text(&r["start"]),
                r["agents"].to_string(),
                cell(&r["achieved"][metric], metric),
                if r["meets"] == true { "meets".into() } else { "misses".into() },
            ]);
        }
    }
    c.hlines.push((format!("target {written}"), bound));
    c.fit(share(metric));
    c.y_percent = share(metric);
    Ok(Block {
        id: format!("staff-achieved-{metric}"),
        title: format!("Achieved vs target by interval ({metric})"),
        question: "With the staffing found, does every interval meet the target, and by how much?".into(),
        svg: draw(&c)?,
        table: Table {
            header: vec!["policy".into(), "interval".into(), "agents".into(), metric.into(), "target".into()],
            rows,
        },
        note: "On fresh seeds; whiskers are 95% CIs over replications.".into(),
    })
}

/// Agent-hours per week by policy: what each routing choice costs in staff.
fn agent_hours(answers: &[Json]) -> Result<Block, ReportError> {
    let names: Vec<String> = answers.iter().map(|a| text(&a["policy"])).collect();
    let mut c = Chart::new("Agent-hours per week by policy", "policy", "agent-hours per week");
    c.x_names = Some(names.clone());
    c.x_ticks = names.len() + 1;
    let retention = |a: &Json| cell(&a["achieved"]["affinity_retention_share"], "affinity_retention_share");
    // One series per policy, in the colour its lines have in the other plots.
    for (i, a) in answers.iter().enumerate() {
        // Each bar says what affinity its policy keeps: the other half of the trade-off.
        let label = format!("affinity {}", retention(a));
        let marks = num(&a["agent_hours_per_week"])
            .map(|h| Mark { label: Some(label.clone()), ..Mark::at(i as f64, h) })
            .into_iter()
            .collect();
        c.series.push(Series {
            label: text(&a["policy"]),
            colour: i,
            style: Style::Bars { slot: 0, slots: 1 },
            marks,
        });
    }
    c.fit(true);
    // Room above the bars for their affinity labels.
    c.y.end *= 1.15;
    c.x = -0.6..names.len() as f64 - 0.4;
    let rows = answers
        .iter()
        .map(|a| {
            let hours = num(&a["agent_hours_per_week"]).map_or("–".into(), chart::number);
            let agents = if a["count"].is_null() { "per interval".into() } else { a["count"].to_string() };
            vec![text(&a["policy"]), agents, hours, retention(a)]
        })
        .collect();
    Ok(Block {
        id: "staff-agent-hours".into(),
        title: "Agent-hours per week by policy".into(),
        question:
            "What does each policy cost in staff to meet the same targets, and what affinity does it keep?"
                .into(),
        svg: draw(&c)?,
        table: Table {
            header: vec![
                "policy".into(),
                "agents".into(),
                "agent-hours per week".into(),
                "affinity retention".into(),
            ],
            rows,
        },
        note: String::new(),
    })
}
