//! SARIF 2.1.0, as GitHub code scanning accepts it: one run, every rule in
//! `tool.driver.rules`, results with regions, related locations and stable fingerprints.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::Report;
use super::json::position;
use crate::finding::{Finding, Location, Severity};
use crate::rules::registry;
use crate::source::Sources;

/// Where the rule pages live; GitHub links each result's rule to its page.
pub const DOCS_BASE: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/rules/");

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn physical(loc: Location, sources: &Sources) -> Value {
    let p = position(loc, sources);
    json!({
        "artifactLocation": {"uri": uri(p.path)},
        "region": {
            "startLine": p.line,
            "startColumn": p.column,
            "endLine": p.end_line,
            "endColumn": p.end_column,
        }
    })
}

/// A relative URI reference for a path (spaces and `%` escaped; `<stdin>` kept readable).
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out.trim_start_matches("./").to_string()
}

/// Identifies a finding across edits elsewhere in the file: rule, resource and field path.
pub fn fingerprint(f: &Finding, _sources: &Sources) -> String {
    f.fingerprint()
}

pub fn render(report: &Report, sources: &Sources, out: &mut dyn Write) -> io::Result<()> {
    let rules: Vec<Value> = registry::ALL
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "name": r.id,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.summary},
                "help": {"text": r.docs, "markdown": r.docs},
                "helpUri": format!("{DOCS_BASE}{}.md", r.id),
                "defaultConfiguration": {"level": level(r.severity)},
                "properties": {"tags": [r.family]},
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = registry::ALL.iter().position(|r| r.code == f.code);
            let related: Vec<Value> = f
                .related
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    json!({
                        "id": i,
                        "physicalLocation": physical(r.location, sources),
                        "message": {"text": r.message},
                    })
                })
                .collect();
            let mut result = json!({
                "ruleId": f.code,
                "level": level(f.severity),
                "message": {"text": format!("{}\nhelp: {}", f.message, f.help)},
                "locations": [{"physicalLocation": physical(f.location, sources)}],
                "relatedLocations": related,
                "partialFingerprints": {"meshlintFingerprint/v1": fingerprint(f, sources)},
            });
            if let (Some(i), Some(obj)) = (index, result.as_object_mut()) {
                obj.insert("ruleIndex".into(), json!(i));
            }
            result
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "meshlint",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    let mut buf = serde_json::to_vec_pretty(&doc).map_err(io::Error::other)?;
    buf.push(b'\n');
    out.write_all(&buf)
}
