//! Output formats. Each format renders a whole [`Report`].

pub mod concise;
pub mod github;
pub mod human;
pub mod json;
pub mod sarif;

use std::io::{self, Write};
use std::time::Duration;

use crate::finding::{Finding, Severity};
use crate::source::Sources;

/// Everything a run produced, ready to render.
#[derive(Debug, Default)]
pub struct Report {
    /// Violations after filtering, sorted by path, line, column, code.
    pub findings: Vec<Finding>,
    /// Undecided findings (catalog §0.4); shown with `--show-unknown`, always in JSON.
    pub unknown: Vec<Finding>,
    /// Whether the human format shows `unknown`.
    pub show_unknown: bool,
    /// Files read (including skipped and failed ones).
    pub files: usize,
    /// Kubernetes objects linted (synthesised ones included).
    pub objects: usize,
    pub elapsed: Duration,
    /// Findings only: no summary line.
    pub quiet: bool,
}

impl Report {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    /// `path:line:col: CODE [severity] message`, one line each.
    Concise,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
}

/// Renders `report` in `format` to `out`. `color` enables ANSI colours where the format has any
/// (human); formats meant for machines ignore it.
pub fn render(
    format: Format,
    report: &Report,
    sources: &Sources,
    out: &mut dyn Write,
    color: bool,
) -> io::Result<()> {
    match format {
        Format::Human => human::render(report, sources, out, color),
        Format::Json => json::render(report, sources, out),
        Format::Concise => concise::render(report, sources, out),
        Format::Github => github::render(report, sources, out),
        Format::Sarif => sarif::render(report, sources, out),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
