//! One line per finding: `path:line:col: CODE [severity] message`.

use std::io::{self, Write};

use super::Report;
use super::human;
use super::json::position;
use crate::source::Sources;

pub fn render(report: &Report, sources: &Sources, out: &mut dyn Write) -> io::Result<()> {
    for f in &report.findings {
        let p = position(f.location, sources);
        writeln!(
            out,
            "{}:{}:{}: {} [{}] {}",
            human::escape(p.path, false),
            p.line,
            p.column,
            f.code,
            f.severity.as_str(),
            human::escape(&f.message, false)
        )?;
    }
    Ok(())
}
