//! Human-readable output: one rustc-style diagnostic per finding (rendered with
//! `codespan-reporting`), followed by a summary line.
//!
//! Manifest text never reaches the terminal raw: messages, paths and resource names have their
//! control characters escaped (`\u{1b}`), and source snippets are rendered from a copy of the file
//! in which unsafe characters are replaced by `?` of the same byte length, so spans stay valid.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::io::{self, Write};
use std::ops::Range;

use codespan_reporting::diagnostic::{Diagnostic, Label, Severity as CsSeverity};
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term::termcolor::{Ansi, ColorSpec, NoColor, WriteColor};
use codespan_reporting::term::{self, Config};

use super::Report;
use crate::finding::{Finding, Location, ResourceRef, Severity};
use crate::source::{SourceFile, Sources};

/// Renders `report` for a terminal. With `color`, ANSI colour sequences are emitted (only ours:
/// the manifest text is always sanitized, with or without colour).
pub fn render(
    report: &Report,
    sources: &Sources,
    out: &mut dyn Write,
    color: bool,
) -> io::Result<()> {
    let files = SafeFiles::new(sources);
    let config = Config::default();
    for finding in &report.findings {
        emit(
            &files,
            &config,
            &diagnostic(finding, &files, false),
            color,
            out,
        )?;
    }
    if report.show_unknown {
        for finding in &report.unknown {
            emit(
                &files,
                &config,
                &diagnostic(finding, &files, true),
                color,
                out,
            )?;
        }
    }
    if report.quiet {
        return Ok(());
    }
    write_line(out, color, &summary(report))?;
    if !report.unknown.is_empty() {
        let n = report.unknown.len();
        let line = if report.show_unknown {
            format!("{n} undecided")
        } else {
            format!("{n} undecided (run with --show-unknown)")
        };
        write_line(out, color, &line)?;
    }
    Ok(())
}

/// The summary line, e.g. `Found 3 errors, 1 warning in 12 files (34 objects) in 0.12s`.
pub(crate) fn summary(report: &Report) -> String {
    let scope = format!(
        "{} ({})",
        plural(report.files, "file", "files"),
        plural(report.objects, "object", "objects"),
    );
    let time = format!("{:.2}s", report.elapsed.as_secs_f64());
    let parts: Vec<String> = [
        (Severity::Error, "error", "errors"),
        (Severity::Warning, "warning", "warnings"),
        (Severity::Info, "info", "infos"),
    ]
    .into_iter()
    .map(|(s, one, many)| (report.count(s), one, many))
    .filter(|&(n, _, _)| n > 0)
    .map(|(n, one, many)| plural(n, one, many))
    .collect();
    if parts.is_empty() {
        format!("No problems found in {scope} in {time}")
    } else {
        format!("Found {} in {scope} in {time}", parts.join(", "))
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn write_line(out: &mut dyn Write, color: bool, line: &str) -> io::Result<()> {
    if color {
        let mut w = Ansi::new(&mut *out);
        w.set_color(ColorSpec::new().set_bold(true))?;
        w.write_all(line.as_bytes())?;
        w.reset()?;
        w.write_all(b"\n")
    } else {
        writeln!(out, "{line}")
    }
}

/// Emits one diagnostic. It is rendered into a buffer first so that a (should-not-happen) lookup
/// error leaves no partial output: the diagnostic is then rendered again without source labels.
fn emit(
    files: &SafeFiles<'_>,
    config: &Config,
    diagnostic: &Diagnostic<usize>,
    color: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let render = |d: &Diagnostic<usize>| -> Result<Vec<u8>, FilesError> {
        let mut buf = Vec::new();
        if color {
            term::emit_to_write_style(&mut Ansi::new(&mut buf), config, files, d)?;
        } else {
            term::emit_to_write_style(&mut NoColor::new(&mut buf), config, files, d)?;
        }
        Ok(buf)
    };
    let buf = match render(diagnostic) {
        Ok(buf) => buf,
        Err(FilesError::Io(e)) => return Err(e),
        Err(_) => {
            let mut d = diagnostic.clone();
            d.labels.clear();
            render(&d).map_err(|e| match e {
                FilesError::Io(e) => e,
                e => io::Error::other(e.to_string()),
            })?
        }
    };
    out.write_all(&buf)
}

fn diagnostic(finding: &Finding, files: &SafeFiles<'_>, unknown: bool) -> Diagnostic<usize> {
    let severity = match (unknown, finding.severity) {
        (true, _) => CsSeverity::Note,
        (false, Severity::Error) => CsSeverity::Error,
        (false, Severity::Warning) => CsSeverity::Warning,
        (false, Severity::Info) => CsSeverity::Note,
    };
    let message = if unknown {
        format!("unknown: {}", escape(&finding.message, false))
    } else {
        escape(&finding.message, false).into_owned()
    };
    let mut labels = Vec::new();
    let mut notes = Vec::new();
    match files.range(finding.location) {
        Some(range) => labels.push(Label::primary(finding.location.file.0 as usize, range)),
        None => notes.push("location: unavailable".to_string()),
    }
    for related in &finding.related {
        let message = escape(&related.message, false).into_owned();
        match files.range(related.location) {
            Some(range) => labels.push(
                Label::secondary(related.location.file.0 as usize, range).with_message(message),
            ),
            None => notes.push(format!("related: {message}")),
        }
    }
    // A snippet shows whole lines: one of a minified or generated file can be megabytes long.
    // Give the positions instead.
    if labels
        .iter()
        .any(|l| files.has_long_line(l.file_id, &l.range))
    {
        labels.clear();
        notes.clear();
        notes.push(format!("at: {}", files.position(finding.location)));
        for related in &finding.related {
            notes.push(format!(
                "related: {}: {}",
                files.position(related.location),
                escape(&related.message, false)
            ));
        }
        notes.push(format!(
            "source not shown: a line is longer than {MAX_SHOWN_LINE} bytes"
        ));
    }
    if let Some(resource) = &finding.resource {
        notes.push(format!("resource: {}", resource_name(resource)));
    }
    if !finding.help.is_empty() {
        notes.push(format!("help: {}", escape(&finding.help, true)));
    }
    notes.push(format!(
        "id: {} (explained by `meshlint rule {}`)",
        escape(finding.id, false),
        escape(finding.code, false)
    ));
    Diagnostic::new(severity)
        .with_code(escape(finding.code, false))
        .with_message(message)
        .with_labels(labels)
        .with_notes(notes)
}

/// `Ingress istio-system/web`, or `ClusterIssuer letsencrypt` without a namespace.
fn resource_name(r: &ResourceRef) -> String {
    let s = match &r.namespace {
        Some(ns) => format!("{} {}/{}", r.kind, ns, r.name),
        None => format!("{} {}", r.kind, r.name),
    };
    escape(&s, false).into_owned()
}

/// Characters that must not reach a terminal from manifest text: control characters (C0, DEL,
/// C1) other than `\t`, `\n`, `\r`, and invisible bidirectional/line-separator characters that
/// can make the displayed text differ from the real one.
pub(crate) fn is_unsafe(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'..='\u{2064}'
                | '\u{FEFF}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// Escapes unsafe characters, `\r`, `\t` and (unless `keep_newlines`) `\n` as `\u{..}`, so
/// that text from manifests or file names can be written to a terminal (also used for stderr).
pub fn escape(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    let bad = |c: char| is_unsafe(c) || matches!(c, '\r' | '\t') || (c == '\n' && !keep_newlines);
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A copy of `text` where unsafe characters, and `\r` not followed by `\n`, are replaced by as
/// many `?` as they have bytes. Byte offsets and line starts are unchanged.
fn sanitize_source(text: &str) -> Cow<'_, str> {
    // Fast path: every unsafe character contains one of these bytes (C0/DEL, or the lead byte of
    // U+0080..U+00BF, U+061C, U+1000..U+1FFF, U+2000..U+2FFF, U+F000..U+FFFF).
    let suspicious = |b: u8| {
        (b < 0x20 && b != b'\t' && b != b'\n')
            || matches!(b, 0x7f | 0xc2 | 0xd8 | 0xe1 | 0xe2 | 0xef)
    };
    if !text.bytes().any(suspicious) {
        return Cow::Borrowed(text);
    }
    let mut out: Option<String> = None;
    for (i, c) in text.char_indices() {
        let bad = if c == '\r' {
            !text[i + 1..].starts_with('\n')
        } else {
            is_unsafe(c)
        };
        if bad {
            let s = out.get_or_insert_with(|| text[..i].to_owned());
            s.extend(std::iter::repeat_n('?', c.len_utf8()));
        } else if let Some(s) = &mut out {
            s.push(c);
        }
    }
    match out {
        Some(s) => Cow::Owned(s),
        None => Cow::Borrowed(text),
    }
}

/// Longest source line shown in a snippet, in bytes; findings on longer lines give positions.
const MAX_SHOWN_LINE: usize = 4096;

/// [`Files`] over [`Sources`], serving sanitized text and escaped names, with line/column
/// numbers from [`SourceFile::line_col`] so they match the JSON output.
struct SafeFiles<'s> {
    sources: &'s Sources,
    texts: Vec<OnceCell<Cow<'s, str>>>,
}

impl<'s> SafeFiles<'s> {
    fn new(sources: &'s Sources) -> Self {
        SafeFiles {
            sources,
            texts: sources.files.iter().map(|_| OnceCell::new()).collect(),
        }
    }

    fn file(&self, id: usize) -> Result<&'s SourceFile, FilesError> {
        self.sources.files.get(id).ok_or(FilesError::FileMissing)
    }

    /// Whether `range` starts or ends on a line longer than [`MAX_SHOWN_LINE`] bytes.
    fn has_long_line(&self, id: usize, range: &Range<usize>) -> bool {
        let Ok(file) = self.file(id) else {
            return false;
        };
        let starts = file.line_starts();
        [range.start, range.end].iter().any(|&at| {
            let i = match starts.binary_search(&offset(at)) {
                Ok(i) => i,
                Err(i) => i - 1,
            };
            let end = starts.get(i + 1).map_or(file.text.len(), |&e| e as usize);
            end - starts[i] as usize > MAX_SHOWN_LINE
        })
    }

    /// `path:line:column` of `loc`, the path escaped.
    fn position(&self, loc: Location) -> String {
        let p = super::json::position(loc, self.sources);
        format!("{}:{}:{}", escape(p.path, false), p.line, p.column)
    }

    /// The byte range to label for `loc`: clamped to the file and to character boundaries, with
    /// a trailing line break dropped (so a span ending at a line end is not drawn as reaching
    /// into the next line). `None` if the file does not exist.
    fn range(&self, loc: Location) -> Option<Range<usize>> {
        let text = &self.file(loc.file.0 as usize).ok()?.text;
        let mut start = (loc.span.start as usize).min(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (loc.span.end as usize).clamp(start, text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        if end > start && text[..end].ends_with('\n') {
            end -= 1;
            if end > start && text[..end].ends_with('\r') {
                end -= 1;
            }
        }
        Some(start..end)
    }
}

fn offset(byte_index: usize) -> u32 {
    u32::try_from(byte_index).unwrap_or(u32::MAX)
}

impl<'a, 's: 'a> Files<'a> for SafeFiles<'s> {
    type FileId = usize;
    type Name = String;
    type Source = &'a str;

    fn name(&'a self, id: usize) -> Result<String, FilesError> {
        Ok(escape(&self.file(id)?.path, false).into_owned())
    }

    fn source(&'a self, id: usize) -> Result<&'a str, FilesError> {
        let file = self.file(id)?;
        Ok(self.texts[id].get_or_init(|| sanitize_source(&file.text)))
    }

    fn line_index(&'a self, id: usize, byte_index: usize) -> Result<usize, FilesError> {
        let starts = self.file(id)?.line_starts();
        Ok(match starts.binary_search(&offset(byte_index)) {
            Ok(i) => i,
            Err(i) => i - 1,
        })
    }

    fn column_number(
        &'a self,
        id: usize,
        _line_index: usize,
        byte_index: usize,
    ) -> Result<usize, FilesError> {
        Ok(self.file(id)?.line_col(offset(byte_index)).column as usize)
    }

    fn line_range(&'a self, id: usize, line_index: usize) -> Result<Range<usize>, FilesError> {
        let file = self.file(id)?;
        let starts = file.line_starts();
        let max = starts.len() - 1;
        if line_index > max {
            return Err(FilesError::LineTooLarge {
                given: line_index,
                max,
            });
        }
        let start = starts[line_index] as usize;
        let end = starts
            .get(line_index + 1)
            .map_or(file.text.len(), |&e| e as usize);
        Ok(start..end)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::finding::{Outcome, Related};
    use crate::source::{FileId, Span};

    #[test]
    fn invisible_characters_are_escaped() {
        let name = "web\u{200B}\u{FEFF}-gw\u{00AD}";
        assert_eq!(escape(name, false), "web\\u{200b}\\u{feff}-gw\\u{ad}");
        assert_eq!(sanitize_source("a: x\u{200D}y\n"), "a: x???y\n");
        assert_eq!(escape("名前: ✓", false), "名前: ✓");
    }

    fn finding(file: u32, span: Span, severity: Severity) -> Finding {
        Finding {
            code: "GKE001",
            id: "gke-sni-less-https-backend",
            severity,
            outcome: Outcome::Violation,
            message: "backend uses HTTPS without SNI".into(),
            help: "set `spec.host` or disable HTTPS to the backend".into(),
            location: Location {
                file: FileId(file),
                span,
            },
            resource: Some(ResourceRef {
                api_version: "networking.k8s.io/v1".into(),
                kind: "Ingress".into(),
                namespace: Some("istio-system".into()),
                name: "web".into(),
            }),
            related: vec![],
            field_path: String::new(),
        }
    }

    fn sources() -> Sources {
        let mut s = Sources::default();
        s.add(SourceFile::new(
            "ingress.yaml".into(),
            "kind: Ingress\nmetadata:\n  name: web\n".into(),
        ));
        s.add(SourceFile::new(
            "svc.yaml".into(),
            "kind: Service\r\nmetadata:\r\n  name: çweb\r\n".into(),
        ));
        s
    }

    fn render_str(report: &Report, sources: &Sources, color: bool) -> String {
        let mut out = Vec::new();
        render(report, sources, &mut out, color).unwrap();
        let again = {
            let mut v = Vec::new();
            render(report, sources, &mut v, color).unwrap();
            v
        };
        assert_eq!(out, again, "rendering is deterministic");
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn renders_finding_with_related_and_summary() {
        let sources = sources();
        let mut f = finding(0, Span::new(32, 35), Severity::Error);
        f.related.push(Related {
            location: Location {
                file: FileId(1),
                span: Span::new(34, 39),
            },
            message: "the Service is here".into(),
        });
        let mut w = finding(1, Span::new(0, 4), Severity::Warning);
        w.resource = None;
        let report = Report {
            findings: vec![f, w],
            files: 2,
            objects: 3,
            elapsed: Duration::from_millis(120),
            ..Report::default()
        };
        let out = render_str(&report, &sources, false);
        assert!(
            out.contains("error[GKE001]: backend uses HTTPS without SNI"),
            "{out}"
        );
        assert!(out.contains("warning[GKE001]"), "{out}");
        assert!(out.contains("ingress.yaml:3:9"), "{out}");
        // Related location in the second file: line 3, column 9 (after "  name: ").
        assert!(out.contains("svc.yaml:3:9"), "{out}");
        assert!(out.contains("the Service is here"), "{out}");
        assert!(out.contains("çweb"), "{out}");
        assert!(!out.contains('\r'), "{out:?}");
        assert!(out.contains("= help: set `spec.host` or disable HTTPS to the backend"));
        assert!(out.contains("= resource: Ingress istio-system/web"));
        assert!(out.contains("= id: gke-sni-less-https-backend"));
        assert!(
            out.ends_with("Found 1 error, 1 warning in 2 files (3 objects) in 0.12s\n"),
            "{out}"
        );
    }

    #[test]
    fn no_problems_and_hidden_unknown() {
        let sources = sources();
        let mut u = finding(0, Span::new(0, 4), Severity::Error);
        u.outcome = Outcome::Unknown;
        let mut report = Report {
            unknown: vec![u],
            files: 1,
            objects: 1,
            ..Report::default()
        };
        let out = render_str(&report, &sources, false);
        assert_eq!(
            out,
            "No problems found in 1 file (1 object) in 0.00s\n\
             1 undecided (run with --show-unknown)\n"
        );
        report.show_unknown = true;
        let out = render_str(&report, &sources, false);
        assert!(
            out.starts_with("note[GKE001]: unknown: backend uses"),
            "{out}"
        );
        assert!(out.ends_with("1 undecided\n"), "{out}");
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let mut sources = Sources::default();
        sources.add(SourceFile::new(
            "evil\u{1b}.yaml".into(),
            "name: \u{1b}[31mred\u{7}\u{85}x\rhidden\u{202e}z\n".into(),
        ));
        let mut f = finding(0, Span::new(6, 12), Severity::Error);
        f.message = "bad \u{1b}[2J name\nsecond line".into();
        f.help = "help \u{9b}31m".into();
        f.related.push(Related {
            location: Location {
                file: FileId(0),
                span: Span::new(13, 14),
            },
            message: "\u{1b}]0;title\u{7}".into(),
        });
        let report = Report {
            findings: vec![f],
            ..Report::default()
        };
        let out = render_str(&report, &sources, false);
        assert!(
            !out.bytes().any(|b| b == 0x1b || b == 0x07 || b == b'\r'),
            "{out:?}"
        );
        assert!(!out.contains(['\u{85}', '\u{9b}', '\u{202e}']), "{out:?}");
        assert!(
            out.contains("bad \\u{1b}[2J name\\u{a}second line"),
            "{out}"
        );
        assert!(out.contains("evil\\u{1b}.yaml:1:7"), "{out}");
        assert!(out.contains("name: ?[31mred???x?hidden???z"), "{out}");

        // With colour, escapes appear (ours) but the manifest's ones are still neutralised.
        let colored = render_str(&report, &sources, true);
        assert!(colored.contains('\u{1b}'));
        assert!(!colored.contains("\u{1b}[2J"));
        assert!(!colored.contains("\u{1b}]0;"));
        assert!(!colored.contains("\u{1b}[31mred"));
    }

    #[test]
    fn odd_spans_do_not_panic() {
        let mut sources = Sources::default();
        sources.add(SourceFile::new("a.yaml".into(), "a: é\nb: 1".into()));
        sources.add(SourceFile::new("empty.yaml".into(), String::new()));
        sources.add(SourceFile::new("nl.yaml".into(), "a: 1\n".into()));
        let spans = [
            (0, Span::new(3, 3)),     // empty
            (0, Span::new(4, 4)),     // inside 'é'
            (0, Span::new(4, 5)),     // inside 'é'
            (0, Span::new(10, 10)),   // EOF
            (0, Span::new(10, 99)),   // past EOF
            (0, Span::new(500, 600)), // far past EOF
            (0, Span::new(0, 10)),    // multi-line
            (1, Span::new(0, 0)),     // empty file
            (1, Span::new(3, 9)),     // empty file, out of range
            (2, Span::new(5, 5)),     // EOF after trailing newline
            (2, Span::new(0, 5)),     // whole line incl. newline
            (7, Span::new(0, 1)),     // no such file
        ];
        for (file, span) in spans {
            let report = Report {
                findings: vec![finding(file, span, Severity::Info)],
                ..Report::default()
            };
            let out = render_str(&report, &sources, false);
            assert!(out.contains("note[GKE001]"), "{out}");
        }
        let report = Report {
            findings: vec![finding(0, Span::new(3, 3), Severity::Info)],
            ..Report::default()
        };
        let out = render_str(&report, &sources, false);
        assert!(out.contains("a.yaml:1:4"), "{out}");
        assert!(out.contains("1 │ a: é\n  │    ^"), "{out}");
        let report = Report {
            findings: vec![finding(7, Span::new(0, 1), Severity::Info)],
            ..Report::default()
        };
        let out = render_str(&report, &sources, false);
        assert!(out.contains("= location: unavailable"), "{out}");
    }

    #[test]
    fn long_lines_are_not_printed() {
        let mut sources = Sources::default();
        let long = format!("a: \"{}\"\nb: 1\n", "x".repeat(100_000));
        sources.add(SourceFile::new("long.yaml".into(), long.clone()));
        sources.add(SourceFile::new("short.yaml".into(), "c: 1\n".into()));
        let b = long.find("b:").unwrap();
        let mut f = finding(0, Span::new(3, 10), Severity::Error);
        f.related.push(Related {
            location: Location {
                file: FileId(1),
                span: Span::new(0, 1),
            },
            message: "related here".into(),
        });
        let report = Report {
            findings: vec![f.clone()],
            ..Report::default()
        };
        let out = render_str(&report, &sources, false);
        assert!(out.len() < 2000, "{} bytes", out.len());
        assert!(out.contains("= at: long.yaml:1:4"), "{out}");
        assert!(
            out.contains("= related: short.yaml:1:1: related here"),
            "{out}"
        );
        assert!(out.contains("source not shown"), "{out}");
        // A finding on a short line of the same file keeps its snippet.
        f.location.span = Span::new(b, b + 1);
        let report = Report {
            findings: vec![f],
            ..Report::default()
        };
        let out = render_str(&report, &sources, false);
        assert!(out.contains("┌─ long.yaml:2:1"), "{out}");
        assert!(out.contains("2 │ b: 1"), "{out}");
    }

    #[test]
    fn sanitize_keeps_byte_length() {
        let text = "a\u{1b}b\u{85}c\r\nd\re\u{2066}\t";
        let s = sanitize_source(text);
        assert_eq!(s.len(), text.len());
        assert_eq!(s, "a?b??c\r\nd?e???\t");
        assert!(matches!(
            sanitize_source("plain: text\r\n"),
            Cow::Borrowed(_)
        ));
    }
}
