//! Machine-readable output (schema version 1, documented in `docs/output.md`).
//!
//! The output is deterministic: same report and sources, same bytes (no timings, struct field
//! order, findings in report order).

use std::io::{self, Write};

use serde::Serialize;

use super::Report;
use crate::finding::{Finding, Location, ResourceRef, Severity};
use crate::source::Sources;

/// Bumped on any breaking change of the schema.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Output<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    unknown: Vec<JsonFinding<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    code: &'a str,
    id: &'a str,
    severity: &'static str,
    message: &'a str,
    help: &'a str,
    #[serde(flatten)]
    position: Position<'a>,
    resource: Option<JsonResource<'a>>,
    related: Vec<JsonRelated<'a>>,
}

#[derive(Serialize)]
pub(crate) struct Position<'a> {
    pub(crate) path: &'a str,
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) end_line: u32,
    pub(crate) end_column: u32,
}

#[derive(Serialize)]
struct JsonResource<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    namespace: Option<&'a str>,
    name: &'a str,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    #[serde(flatten)]
    position: Position<'a>,
    message: &'a str,
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    infos: usize,
    unknown: usize,
    files: usize,
    objects: usize,
}

/// Renders `report` as pretty-printed JSON (2-space indent) followed by a newline.
pub fn render(report: &Report, sources: &Sources, out: &mut dyn Write) -> io::Result<()> {
    let output = Output {
        version: SCHEMA_VERSION,
        findings: report
            .findings
            .iter()
            .map(|f| finding(f, sources))
            .collect(),
        unknown: report.unknown.iter().map(|f| finding(f, sources)).collect(),
        summary: Summary {
            errors: report.count(Severity::Error),
            warnings: report.count(Severity::Warning),
            infos: report.count(Severity::Info),
            unknown: report.unknown.len(),
            files: report.files,
            objects: report.objects,
        },
    };
    let mut buf = serde_json::to_vec_pretty(&output).map_err(io::Error::other)?;
    buf.push(b'\n');
    out.write_all(&buf)
}

fn finding<'a>(f: &'a Finding, sources: &'a Sources) -> JsonFinding<'a> {
    JsonFinding {
        code: f.code,
        id: f.id,
        severity: f.severity.as_str(),
        message: &f.message,
        help: &f.help,
        position: position(f.location, sources),
        resource: f.resource.as_ref().map(resource),
        related: f
            .related
            .iter()
            .map(|r| JsonRelated {
                position: position(r.location, sources),
                message: &r.message,
            })
            .collect(),
    }
}

fn resource(r: &ResourceRef) -> JsonResource<'_> {
    JsonResource {
        api_version: &r.api_version,
        kind: &r.kind,
        namespace: r.namespace.as_deref(),
        name: &r.name,
    }
}

/// 1-based lines and character columns of the span's start and end. Offsets out of range are
/// clamped by [`crate::source::SourceFile::line_col`]; a file id that is not in `sources` (a bug)
/// yields path `<unknown>` at 1:1.
pub(crate) fn position(loc: Location, sources: &Sources) -> Position<'_> {
    let Some(file) = sources.files.get(loc.file.0 as usize) else {
        return Position {
            path: "<unknown>",
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
        };
    };
    let start = file.line_col(loc.span.start);
    let end = file.line_col(loc.span.end.max(loc.span.start));
    Position {
        path: &file.path,
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::Value;

    use super::*;
    use crate::finding::{Outcome, Related};
    use crate::source::{FileId, SourceFile, Span};

    fn report() -> (Report, Sources) {
        let mut sources = Sources::default();
        // 'é' is two bytes: "name" starts at byte 10 but column 5.
        let a = sources.add(SourceFile::new(
            "a.yaml".into(),
            "x: 1\n  é name: web\n".into(),
        ));
        let b = sources.add(SourceFile::new(
            "dir/b.yaml".into(),
            "kind: Service\r\nmetadata:\r\n  name: web\r\n".into(),
        ));
        let finding = Finding {
            code: "GKE001",
            id: "gke-sni-less-https-backend",
            severity: Severity::Error,
            outcome: Outcome::Violation,
            message: "bad \u{1b}[31m \"thing\"".into(),
            help: "fix it".into(),
            location: Location {
                file: a,
                span: Span::new(10, 14),
            },
            resource: Some(ResourceRef {
                api_version: "networking.k8s.io/v1".into(),
                kind: "Ingress".into(),
                namespace: None,
                name: "web".into(),
            }),
            related: vec![Related {
                location: Location {
                    file: b,
                    // "web" on line 3 (after two CRLF lines), up to the end of line incl. CR.
                    span: Span::new(34, 38),
                },
                message: "Service here".into(),
            }],
            field_path: String::new(),
        };
        let mut info = finding.clone();
        info.severity = Severity::Info;
        info.related.clear();
        info.resource = None;
        let mut unknown = finding.clone();
        unknown.outcome = Outcome::Unknown;
        unknown.severity = Severity::Warning;
        unknown.location.span = Span::new(4, 4);
        unknown.resource.as_mut().unwrap().namespace = Some("ns".into());
        let report = Report {
            findings: vec![finding, info],
            unknown: vec![unknown],
            show_unknown: false,
            files: 2,
            objects: 5,
            elapsed: Duration::from_millis(1234),
            quiet: false,
        };
        (report, sources)
    }

    fn render_bytes(report: &Report, sources: &Sources) -> Vec<u8> {
        let mut out = Vec::new();
        render(report, sources, &mut out).unwrap();
        out
    }

    #[test]
    fn schema_and_positions() {
        let (report, sources) = report();
        let out = render_bytes(&report, &sources);
        assert!(out.ends_with(b"}\n"));
        assert!(!out.contains(&0x1b));
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["version"], 1);
        let f = &v["findings"][0];
        assert_eq!(f["code"], "GKE001");
        assert_eq!(f["id"], "gke-sni-less-https-backend");
        assert_eq!(f["severity"], "error");
        assert_eq!(f["message"], "bad \u{1b}[31m \"thing\"");
        assert_eq!(f["help"], "fix it");
        assert_eq!(f["path"], "a.yaml");
        assert_eq!((&f["line"], &f["column"]), (&2.into(), &5.into()));
        assert_eq!((&f["end_line"], &f["end_column"]), (&2.into(), &9.into()));
        assert_eq!(
            f["resource"],
            serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                               "namespace": null, "name": "web"})
        );
        let r = &f["related"][0];
        assert_eq!(r["path"], "dir/b.yaml");
        assert_eq!((&r["line"], &r["column"]), (&3.into(), &9.into()));
        // The CR of CRLF is not a column.
        assert_eq!((&r["end_line"], &r["end_column"]), (&3.into(), &12.into()));
        assert_eq!(r["message"], "Service here");
        assert_eq!(v["findings"][1]["severity"], "info");
        assert_eq!(v["findings"][1]["resource"], Value::Null);
        assert_eq!(v["findings"][1]["related"], serde_json::json!([]));
        let u = &v["unknown"][0];
        assert_eq!(u["severity"], "warning");
        assert_eq!((&u["line"], &u["column"]), (&1.into(), &5.into()));
        assert_eq!((&u["end_line"], &u["end_column"]), (&1.into(), &5.into()));
        assert_eq!(u["resource"]["namespace"], "ns");
        assert_eq!(
            v["summary"],
            serde_json::json!({"errors": 1, "warnings": 0, "infos": 1, "unknown": 1,
                               "files": 2, "objects": 5})
        );
    }

    #[test]
    fn key_order_indent_and_determinism() {
        let (report, sources) = report();
        let out = render_bytes(&report, &sources);
        assert_eq!(out, render_bytes(&report, &sources));
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("{\n  \"version\": 1,\n  \"findings\": [\n    {\n      \"code\""));
        let keys = [
            "\"code\"",
            "\"id\"",
            "\"severity\"",
            "\"message\"",
            "\"help\"",
            "\"path\"",
            "\"line\"",
            "\"column\"",
            "\"end_line\"",
            "\"end_column\"",
            "\"resource\"",
            "\"apiVersion\"",
            "\"kind\"",
            "\"namespace\"",
            "\"name\"",
            "\"related\"",
            "\"unknown\"",
            "\"summary\"",
        ];
        let mut at = 0;
        for k in keys {
            let i = text[at..]
                .find(k)
                .unwrap_or_else(|| panic!("{k} after {at}"));
            at += i;
        }
        assert!(!text.contains("elapsed"));
        assert!(!text.contains("1.23"));
    }

    #[test]
    fn empty_report_and_bad_locations() {
        let sources = Sources::default();
        let out = render_bytes(&Report::default(), &sources);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\n  \"version\": 1,\n  \"findings\": [],\n  \"unknown\": [],\n  \"summary\": {\n    \
             \"errors\": 0,\n    \"warnings\": 0,\n    \"infos\": 0,\n    \"unknown\": 0,\n    \
             \"files\": 0,\n    \"objects\": 0\n  }\n}\n"
        );
        let (mut report, sources) = report();
        report.findings[0].location.span = Span::new(1000, 2000);
        report.findings[1].location.file = FileId(9);
        let v: Value = serde_json::from_slice(&render_bytes(&report, &sources)).unwrap();
        assert_eq!(
            (&v["findings"][0]["line"], &v["findings"][0]["column"]),
            (&3.into(), &1.into())
        );
        assert_eq!(v["findings"][1]["path"], "<unknown>");
    }
}
