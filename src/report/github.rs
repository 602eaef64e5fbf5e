//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` per finding, which
//! GitHub shows as an annotation on the pull request.
//!
//! Everything derived from manifest text is escaped as the workflow-command rules require, so a
//! crafted manifest can never end the command early or inject another one.

use std::io::{self, Write};

use super::Report;
use super::json::position;
use crate::finding::Severity;
use crate::source::Sources;

/// Escapes a command's data (the message): `%`, CR and LF as the workflow-command rules say,
/// and other control characters (ANSI escape sequences, bidirectional overrides) as `\u{1b}`,
/// as in the human format, since the runner's log shows annotations.
pub fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c if super::human::is_unsafe(c) => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a command's property value (file, title).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(report: &Report, sources: &Sources, out: &mut dyn Write) -> io::Result<()> {
    for f in &report.findings {
        let p = position(f.location, sources);
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            escape_property(p.path),
            p.line,
            p.column,
            p.end_line,
            p.end_column,
            escape_property(&format!("{} {}", f.code, f.id)),
            escape_data(&format!("{} (help: {})", f.message, f.help))
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crafted_text_cannot_inject_a_command() {
        let evil = "x\n::error file=a::owned%0A,y:z\r";
        let d = escape_data(evil);
        assert!(!d.contains('\n') && !d.contains('\r'));
        assert_eq!(d, "x%0A::error file=a::owned%250A,y:z%0D");
        let p = escape_property(evil);
        assert!(!p.contains(',') && !p.contains(':'));
        let ansi = "a\u{1b}[2J\u{7}\u{9b}\u{202e}\tb";
        assert_eq!(escape_data(ansi), "a\\u{1b}[2J\\u{7}\\u{9b}\\u{202e}\tb");
    }
}
