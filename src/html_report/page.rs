//! The HTML around the plots: one self-contained page (inline CSS and SVG, no script, no
//! network), a contents list, and one section per plot with the question it answers and the
//! numbers behind it in a table. Everything is written as well-formed XML so that any parser
//! (and the structural tests) can read it.

/// One plot (or table) of the page.
pub struct Block {
    /// The `id` of the figure; its table is `table-<id>`.
    pub id: String,
    pub title: String,
    /// The question the plot answers, in a sentence.
    pub question: String,
    /// The SVG with its legend (HTML), or empty for a section that is a table only.
    pub svg: String,
    /// The numbers behind the plot.
    pub table: Table,
    /// A note under the plot (what was left out, how it was computed).
    pub note: String,
}

/// A table of text cells (numbers already formatted).
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;background:#fafafa;color:#222}\
main{max-width:1200px;margin:0 auto;padding:16px 24px 48px;background:#fff}\
h1{font-size:1.6em;margin:.4em 0 .2em}h2{font-size:1.25em;margin:1.6em 0 .3em;border-bottom:1px solid #ddd}\
.meta{color:#555;font-size:.9em}.question{margin:.2em 0 .6em;color:#333}\
figure{margin:0}svg{max-width:100%;height:auto;display:block;margin:0 auto}figcaption,.note{font-size:.85em;color:#555}\
nav ul{columns:2;font-size:.9em}details{margin:.4em 0 1em}summary{cursor:pointer;color:#0072b2}\
main .scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.8em;margin:.4em 0}th,td{border:1px solid #ddd;padding:2px 6px;text-align:right;white-space:nowrap}th{white-space:normal}\
th{background:#f2f2f2}td:first-child,th:first-child{text-align:left;white-space:normal;overflow-wrap:anywhere;min-width:10em}\
ul.legend{list-style:none;display:flex;flex-wrap:wrap;gap:2px 18px;max-width:900px;margin:2px auto 6px;padding:0;font-size:.85em}\
ul.legend li{display:flex;align-items:center;gap:6px}ul.legend li.coincide{font-style:italic}\
.swatch{display:inline-block;flex:none;width:22px}.swatch.line{border-top:3px solid}.swatch.dashed{border-top:3px dashed}\
.swatch.point,.swatch.hollow{width:9px;height:9px;border-radius:50%}.swatch.hollow{border:2px solid;width:7px;height:7px}.swatch.bar{height:11px;width:16px}\
@media print{details{display:block}summary{display:none}}";

/// Text made safe for HTML text and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn table_html(id: &str, table: &Table) -> String {
    let mut html = format!("<div class=\"scroll\"><table id=\"table-{}\"><thead><tr>", esc(id));
    for h in &table.header {
        html += &format!("<th>{}</th>", esc(h));
    }
    html += "</tr></thead><tbody>";
    for row in &table.rows {
        html += "<tr>";
        for cell in row {
            html += &format!("<td>{}</td>", esc(cell));
        }
        html += "</tr>";
    }
    html + "</tbody></table></div>"
}

fn block_html(b: &Block) -> String {
    let mut html = format!("<section id=\"section-{}\"><h2>{}</h2>", esc(&b.id), esc(&b.title));
    html += &format!("<p class=\"question\">{}</p>", esc(&b.question));
    if b.svg.is_empty() {
        html += &table_html(&b.id, &b.table);
    } else {
        html += &format!("<figure id=\"{}\" class=\"plot\">{}", esc(&b.id), b.svg);
        if !b.note.is_empty() {
            html += &format!("<figcaption>{}</figcaption>", esc(&b.note));
        }
        html += "</figure>";
        html += &format!(
            "<details><summary>Numbers behind the plot</summary>{}</details>",
            table_html(&b.id, &b.table)
        );
    }
    if b.svg.is_empty() && !b.note.is_empty() {
        html += &format!("<p class=\"note\">{}</p>", esc(&b.note));
    }
    html + "</section>"
}

/// The whole page: a title, lines about the results folder, contents, then the blocks.
pub fn render(title: &str, meta: &[String], blocks: &[Block]) -> String {
    let mut html = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>");
    html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>";
    html += &format!("<title>{}</title><style>{CSS}</style></head><body><main>", esc(title));
    html += &format!("<h1>{}</h1>", esc(title));
    for line in meta {
        html += &format!("<p class=\"meta\">{}</p>", esc(line));
    }
    html += "<nav><ul>";
    for b in blocks {
        html += &format!("<li><a href=\"#section-{}\">{}</a></li>", esc(&b.id), esc(&b.title));
    }
    html += "</ul></nav>";
    for b in blocks {
        html += &block_html(b);
    }
    html + "</main></body></html>\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_tables_have_ids() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        let t = Table { header: vec!["x".into()], rows: vec![vec!["<1".into()]] };
        let b = Block {
            id: "p".into(),
            title: "T".into(),
            question: "Q?".into(),
            svg: String::new(),
            table: t,
            note: String::new(),
        };
        let page = render("R", &[], &[b]);
        assert!(page.contains("<table id=\"table-p\">") && page.contains("<td>&lt;1</td>"), "{page}");
    }
}
