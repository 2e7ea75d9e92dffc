//! `convosim report RESULTS_DIR [--out FILE.html]`, and the `--report` of `run`, `sweep` and
//! `staff`: the HTML page of [`crate::html_report`], written beside the results.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

/// Arguments of `convosim report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A results folder: `run --out`, `sweep`, `merge` or `staff --out`.
    pub results: PathBuf,
    /// The HTML file to write (default: RESULTS_DIR/report.html).
    #[arg(long, value_name = "FILE.html")]
    pub out: Option<PathBuf>,
}

/// `--out FILE.html`: a file path (not a folder) ending in .html whose folder exists.
pub(super) fn check_report_file(out: &Path) -> Result<()> {
    let shown = out.display();
    if out.is_dir() {
        bail!("--out {shown}: expected an HTML file path (e.g. report.html), but it is a folder");
    }
    if out.extension().and_then(|e| e.to_str()).map(|e| e.eq_ignore_ascii_case("html")) != Some(true) {
        bail!("--out {shown}: expected a file name ending in .html");
    }
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent.filter(|p| !p.is_dir()) {
        bail!("--out {shown}: expected an existing folder, and {} is not one", parent.display());
    }
    Ok(())
}

pub(super) fn report(args: &ReportArgs) -> Result<i32> {
    if let Some(out) = &args.out {
        check_report_file(out)?;
        crate::sweep::check_report_outside(&args.results, out)?;
    }
    let path = crate::html_report::write(&args.results, args.out.as_deref())?;
    errln!("wrote {}", path.display());
    Ok(0)
}

/// `--report` after a command wrote its results folder `dir`.
pub(super) fn beside(dir: &Path) -> Result<()> {
    let path = crate::html_report::write(dir, None)?;
    errln!("wrote {}", path.display());
    Ok(())
}
