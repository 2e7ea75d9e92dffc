//! What a planner sees of the HTML report in a real browser (headless Chromium, 1400 px wide):
//! each plot's legend is under its plot, never over the data; share axes stay within
//! [0, 100%] or say they are zoomed; a week is ticked at days and noon, with day bands and a
//! weekday × hour heat map; points of a sweep over two `.skills` axes are named by pool;
//! coinciding lines are said so; the key-numbers tables fit the page; chat replies' service
//! level and affinity are visible; a CDF of contacts that never waited is said in words.
//!
//! The page is laid out by Chromium and measured by a small script added to a copy of it (the
//! report itself has none), whose findings `--dump-dom` prints. These tests need Chromium, so
//! they are `#[ignore]`d (visible as "ignored" in the summary): `.ci/run` runs them with
//! `cargo test --release --test integration report_browser -- --ignored`, where a missing
//! browser is a failure.

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

use serde_json::Value as Json;

use crate::html_report::{assert_well_formed, read, run_ok, sweep_file, sweep_with_report};

/// Headless Chromium from PATH; a test that needs it and finds none fails (under CI, where
/// `.ci/run` installs it, and wherever it was asked for with `--ignored`).
fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file());
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    found.unwrap_or_else(|| {
        panic!(
            "no chromium on PATH{}: the report's browser tests need it (apt-get install chromium; .ci/run installs it as root)",
            if ci { " under CI" } else { "" }
        )
    })
}

fn browser(chromium: &Path, profile: &Path) -> Process {
    let mut command = Process::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// Measures the laid-out page: every figure's SVG, legend, texts, day bands and heat-map
/// cells, every table's overflow, every section's text; as JSON in `<pre id="probe">`.
const PROBE: &str = r#"<script>(function () {
  const r = e => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
  const out = { width: window.innerWidth, main: r(document.querySelector('main')), figures: [], tables: [], sections: [] };
  for (const f of document.querySelectorAll('figure.plot')) {
    const svg = f.querySelector('svg'), legend = f.querySelector('ul.legend');
    out.figures.push({ id: f.id, svg: r(svg), legend: legend ? r(legend) : null,
      legend_items: legend ? [...legend.querySelectorAll('li')].map(li => li.textContent) : [],
      texts: [...svg.querySelectorAll('text')].map(t => [t.textContent.trim(), ...r(t)]),
      bands: [...svg.querySelectorAll('rect')].filter(x => (x.getAttribute('fill') || '').toUpperCase() === '#ECECEC').map(r),
      cells: [...svg.querySelectorAll('rect.cell')].map(r) });
  }
  for (const t of document.querySelectorAll('table')) {
    out.tables.push({ id: t.id, rect: r(t), scroll: t.parentElement.scrollWidth, client: t.parentElement.clientWidth,
      shown: t.getClientRects().length > 0 && !t.closest('details:not([open])'), header: t.rows[0].textContent });
  }
  for (const s of document.querySelectorAll('section')) {
    out.sections.push({ id: s.id, svgs: s.querySelectorAll('svg').length, text: s.textContent });
  }
  const pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();</script>"#;

/// The report at `page` as Chromium lays it out at 1400 × 1000 px.
fn probe(chromium: &Path, page: &Path, tmp: &Path) -> Json {
    let html = read(page);
    assert_well_formed(&html);
    let probed = page.with_file_name("probed.html");
    std::fs::write(&probed, html.replace("</main></body>", &format!("</main>{PROBE}</body>")))
        .expect("written");
    let output = browser(chromium, &tmp.join("profile"))
        .args(["--window-size=1400,1000", "--dump-dom"])
        .arg(format!("file://{}", probed.display()))
        .output()
        .expect("chromium starts");
    assert!(output.status.success(), "chromium --dump-dom failed ({})", output.status);
    let dom = String::from_utf8_lossy(&output.stdout);
    let start = dom.find("<pre id=\"probe\">").expect("the probe ran") + "<pre id=\"probe\">".len();
    let json = dom[start..start + dom[start..].find("</pre>").expect("the probe ends")]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&");
    let probe: Json = serde_json::from_str(&json).expect("the probe is JSON");
    assert_eq!(probe["width"], 1400, "the page is laid out 1400 px wide");
    probe
}

fn rect(v: &Json) -> [f64; 4] {
    let n = |i: usize| v[i].as_f64().expect("a coordinate");
    [n(0), n(1), n(2), n(3)]
}

fn figure<'a>(probe: &'a Json, id: &str) -> &'a Json {
    let figures = probe["figures"].as_array().expect("figures");
    figures.iter().find(|f| f["id"] == id).unwrap_or_else(|| panic!("no figure {id}"))
}

/// (text, [left, top, right, bottom]) of a figure's SVG texts.
fn texts(figure: &Json) -> Vec<(String, [f64; 4])> {
    let list = figure["texts"].as_array().expect("texts");
    list.iter().map(|t| (t[0].as_str().unwrap_or_default().to_string(), rect(&json_tail(t)))).collect()
}

fn json_tail(t: &Json) -> Json {
    Json::Array(t.as_array().expect("a text")[1..].to_vec())
}

fn legend_items(figure: &Json) -> Vec<String> {
    let list = figure["legend_items"].as_array().expect("legend items");
    list.iter().map(|i| i.as_str().unwrap_or_default().to_string()).collect()
}

fn section<'a>(probe: &'a Json, id: &str) -> &'a Json {
    let sections = probe["sections"].as_array().expect("sections");
    sections.iter().find(|s| s["id"] == format!("section-{id}")).unwrap_or_else(|| panic!("no section {id}"))
}

/// Checks that hold on every page: legends under their plot (never over it), share axes within
/// [0, 100%] or labelled as zoomed, tables within the page.
fn assert_readable(probe: &Json) {
    for f in probe["figures"].as_array().expect("figures") {
        let id = f["id"].as_str().unwrap_or_default();
        let svg = rect(&f["svg"]);
        // Every plot but the heat map (its scale is drawn in it) has labelled series.
        if id != "interval-heatmap" {
            assert!(!f["legend"].is_null(), "{id}: no legend under the plot");
            let legend = rect(&f["legend"]);
            assert!(
                legend[1] >= svg[3] - 0.5,
                "{id}: the legend (top {}) overlaps the plot (bottom {})",
                legend[1],
                svg[3]
            );
        }
        let all = texts(f);
        let ticks: Vec<f64> = all.iter().filter_map(|(t, _)| t.strip_suffix('%')?.parse().ok()).collect();
        assert!(
            ticks.iter().all(|t| (0.0..=100.0).contains(t)),
            "{id}: a share tick past [0, 100%]: {ticks:?}"
        );
        let (lo, hi) = ticks.iter().fold((f64::MAX, f64::MIN), |(a, b), t| (a.min(*t), b.max(*t)));
        if id != "interval-heatmap" && !ticks.is_empty() && lo > 0.0 {
            let title = &all[0].0;
            let zoom = format!("zoomed: {}–{}%", lo, hi);
            assert!(
                title.contains(&zoom),
                "{id}: an axis from {lo}% without \"{zoom}\" in the title: {title}"
            );
        }
    }
    let main = rect(&probe["main"]);
    for t in probe["tables"].as_array().expect("tables") {
        if t["shown"] == true {
            let (id, table) = (t["id"].as_str().unwrap_or_default(), rect(&t["rect"]));
            assert!(t["scroll"].as_f64() <= t["client"].as_f64(), "{id} is cut off: {t}");
            assert!(table[2] <= main[2], "{id} runs past the page: {t}");
        }
    }
}

/// `chat-messaging.toml` with a shorter horizon, so that the sweep stays quick.
fn short_chat_messaging(dir: &Path) -> PathBuf {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/chat-messaging.toml");
    let text = read(&base).replacen("horizon = \"8d\"", "horizon = \"4d\"", 1);
    assert!(text.contains("horizon = \"4d\""), "chat-messaging.toml has an 8d horizon");
    let path = dir.join("chat-messaging.toml");
    std::fs::write(&path, text).expect("written");
    path
}

fn sweep(dir: &Path, name: &str, base: &Path, axes: &str) -> PathBuf {
    let file = dir.join(format!("{name}.toml"));
    let text = format!(
        "name = \"{name}\"\nbase = \"{}\"\nreplications = 2\nseed = 7\n\n[axes]\n{axes}",
        base.display()
    );
    std::fs::write(&file, text).expect("the sweep file is written");
    let out = dir.join(name);
    sweep_with_report(&file, &out);
    out.join("report.html")
}

fn run(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let out_arg = out.display().to_string();
    let mut all = vec!["run"];
    all.extend(args);
    all.extend(["--replications", "2", "--out", &out_arg, "--report"]);
    run_ok(&all);
    out.join("report.html")
}

#[test]
#[ignore = "needs chromium: .ci/run runs it with --ignored"]
fn a_sweep_over_two_skills_axes_reads_at_a_glance() {
    let chromium = chromium();
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let base = short_chat_messaging(tmp.path());
    let axes = "\"agents.chat_team.skills\" = [[\"chat\"], { chat = 1, messaging = 2 }]\n\"agents.generalists.skills\" = [[\"messaging\"], { chat = 1, messaging = 2 }]\n";
    let probe = probe(&chromium, &sweep(tmp.path(), "teams", &base, axes), tmp.path());
    assert_readable(&probe);
    // Points named by pool: every label says which pool's skills it is.
    let labels: Vec<String> = texts(figure(&probe, "frontier"))
        .into_iter()
        .map(|t| t.0)
        .filter(|t| t.contains("skills="))
        .collect();
    // (Points on one spot share a label, their names joined.)
    let named = labels.iter().map(|l| l.matches("chat_team.skills=").count()).sum::<usize>();
    let pooled = labels.iter().map(|l| l.matches(", generalists.skills=").count()).sum::<usize>();
    assert_eq!((named, pooled), (4, 4), "{labels:?}");
    assert!(labels.iter().all(|l| l.starts_with("chat_team.skills=")), "{labels:?}");
    // Affinity is zoomed and says so (asserted by assert_readable from its ticks).
    assert!(
        texts(figure(&probe, "frontier"))[0].0.contains("zoomed: "),
        "affinity is drawn on a zoomed axis"
    );
    // Both key-numbers tables are on the page (not folded away), affinity and occupancy included.
    let tables = probe["tables"].as_array().expect("tables");
    let shares = tables.iter().find(|t| t["id"] == "table-key-numbers-shares").expect("the shares table");
    assert!(shares["shown"] == true, "the shares table is visible");
    let header = shares["header"].as_str().unwrap_or_default();
    assert!(header.contains("affinity retention") && header.contains("occupancy"), "{header}");
    // Chat replies: each channel's resumed-contact service level beside its first contacts.
    let items = legend_items(figure(&probe, "channel-service-level"));
    assert_eq!(items.iter().filter(|i| i.ends_with("· resumed")).count(), 4, "{items:?}");
    let items = legend_items(figure(&probe, "channel-interval-service-level"));
    assert!(items.iter().any(|i| i.ends_with("· chat · resumed")), "{items:?}");
}

#[test]
#[ignore = "needs chromium: .ci/run runs it with --ignored"]
fn a_week_reads_by_day_with_a_heat_map() {
    let chromium = chromium();
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let page = run(tmp.path(), "week", &["scenarios/week-messaging.toml", "--set", "horizon=8d"]);
    let probe = probe(&chromium, &page, tmp.path());
    assert_readable(&probe);
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    for id in ["interval-service-level", "interval-wait", "interval-occupancy", "interval-agents"] {
        let f = figure(&probe, id);
        let svg = rect(&f["svg"]);
        // The x tick labels: below the plot, each day and its noon, in order, evenly spaced.
        let mut ticks: Vec<(String, [f64; 4])> = texts(f)
            .into_iter()
            .filter(|(t, r)| {
                (days.contains(&t.as_str()) || t == "12:00") && r[1] > svg[1] + (svg[3] - svg[1]) * 0.6
            })
            .collect();
        ticks.sort_by(|a, b| a.1[0].total_cmp(&b.1[0]));
        let names: Vec<&str> = ticks.iter().map(|t| t.0.as_str()).collect();
        let expected: Vec<&str> = days.iter().flat_map(|d| [*d, "12:00"]).collect();
        assert_eq!(names, expected, "{id}: ticks at days and noon");
        let centres: Vec<f64> = ticks.iter().map(|t| (t.1[0] + t.1[2]) / 2.0).collect();
        let step = (centres[13] - centres[0]) / 13.0;
        assert!(
            centres.windows(2).all(|w| (w[1] - w[0] - step).abs() < 1.5),
            "{id}: uneven ticks {centres:?}"
        );
        // Every other day shaded: tue, thu and sat, each a day (two tick steps) wide.
        let bands: Vec<[f64; 4]> = f["bands"].as_array().expect("bands").iter().map(rect).collect();
        assert_eq!(bands.len(), 3, "{id}: day bands");
        for (band, day) in bands.iter().zip([1, 3, 5]) {
            assert!(
                (band[0] - centres[2 * day]).abs() < 1.5 && (band[2] - band[0] - 2.0 * step).abs() < 1.5,
                "{id}: {band:?}"
            );
        }
    }
    // The heat map: seven rows (days) of 24 hours, day names beside them.
    let heat = figure(&probe, "interval-heatmap");
    let cells: Vec<[f64; 4]> = heat["cells"].as_array().expect("cells").iter().map(rect).collect();
    assert_eq!(cells.len(), 168);
    let distinct = |k: usize| {
        let mut v: Vec<i64> = cells.iter().map(|c| c[k].round() as i64).collect();
        v.sort_unstable();
        v.dedup();
        v.len()
    };
    assert_eq!((distinct(1), distinct(0)), (7, 24), "7 rows × 24 columns");
    let labels: Vec<String> =
        texts(heat).into_iter().map(|t| t.0).filter(|t| days.contains(&t.as_str())).collect();
    assert_eq!(labels, days);
}

#[test]
#[ignore = "needs chromium: .ci/run runs it with --ignored"]
fn coinciding_lines_flat_cdfs_and_channels_are_said_so() {
    let chromium = chromium();
    let tmp = tempfile::tempdir().expect("a temporary directory");
    // On the quickstart center hybrid-1h never falls back: it routes as sticky does.
    let quickstart = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart.toml");
    let axes = "policy = [\"next-available\", \"sticky\", \"hybrid-1h\"]\n";
    let probe_policies = probe(&chromium, &sweep(tmp.path(), "policies", &quickstart, axes), tmp.path());
    assert_readable(&probe_policies);
    for id in ["wait-cdf-first", "wait-cdf-resumed"] {
        let items = legend_items(figure(&probe_policies, id));
        assert!(
            items.contains(&"hybrid-1h = sticky here: the lines coincide".to_string()),
            "{id}: {items:?}"
        );
    }
    // With ample staff no first contact waits: said in words, no flat line at 100%.
    let page = run(tmp.path(), "ample", &["scenarios/quickstart.toml", "--set", "agents.team.count=20"]);
    let probe_ample = probe(&chromium, &page, tmp.path());
    let cdf = section(&probe_ample, "wait-cdf-first");
    assert_eq!(cdf["svgs"], 0, "no plot of a flat line");
    assert!(cdf["text"].as_str().unwrap_or_default().contains("no first contact waited"), "{cdf}");
    // A multi-channel run: each channel's first and resumed service level, legends below.
    let page = run(tmp.path(), "chat", &["scenarios/chat-messaging.toml"]);
    let probe_chat = probe(&chromium, &page, tmp.path());
    assert_readable(&probe_chat);
    assert_eq!(
        legend_items(figure(&probe_chat, "channel-service-level")),
        ["first contacts", "resumed contacts"]
    );
    let items = legend_items(figure(&probe_chat, "channel-interval-service-level"));
    for item in ["chat · first", "chat · resumed", "messaging · first", "messaging · resumed"] {
        assert!(items.iter().any(|i| i == item), "{item} in {items:?}");
    }
}

#[test]
#[ignore = "needs chromium: .ci/run runs it with --ignored"]
fn a_browser_renders_the_page_with_plots() {
    let chromium = chromium();
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let sweep = sweep_file(tmp.path());
    let out = tmp.path().join("whole");
    sweep_with_report(&sweep, &out);
    let png = tmp.path().join("page.png");
    let page = out.join("report.html").canonicalize().expect("the page exists");
    let status = browser(&chromium, &tmp.path().join("profile"))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1280,2000")
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::null())
        .status()
        .expect("chromium starts");
    assert!(status.success() && png.is_file(), "chromium wrote no screenshot ({status})");
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).expect("the PNG")));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buffer).expect("a frame");
    let channels = info.color_type.samples();
    assert!(channels >= 3, "a colour image");
    let pixels: Vec<[u8; 3]> =
        buffer[..info.buffer_size()].chunks(channels).map(|p| [p[0], p[1], p[2]]).collect();
    assert_eq!((info.width, info.height), (1280, 2000));
    let non_white = pixels.iter().filter(|p| p.iter().any(|c| *c < 235)).count() as f64 / pixels.len() as f64;
    let near =
        |p: &[u8; 3], c: [u8; 3]| p.iter().zip(c).all(|(a, b)| (i32::from(*a) - i32::from(b)).abs() <= 12);
    // The Okabe–Ito colours of the first three points (blue, orange, bluish green).
    let palette = [[0, 114, 178], [230, 159, 0], [0, 158, 115]];
    let found: Vec<usize> = palette.iter().map(|c| pixels.iter().filter(|p| near(p, *c)).count()).collect();
    assert!(non_white > 0.04, "the page looks blank: {:.2}% non-white", non_white * 100.0);
    assert!(found.iter().all(|n| *n >= 50), "the plots' colours are missing: {found:?}");
}
