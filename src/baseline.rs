//! Baselines: record today's findings by fingerprint (rule, resource, field path and file: not
//! line numbers, so edits elsewhere keep them valid) and later report only new ones. Version 1
//! files (no file path in the fingerprint) are still read.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::finding::Finding;
use crate::source::Sources;

/// The version [`write`] produces.
const VERSION: u32 = 2;

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    findings: Vec<Entry>,
}

#[derive(Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    fingerprint: String,
    code: String,
    resource: String,
    path: String,
}

/// Serialises the findings as a baseline document.
pub fn write(findings: &[Finding], sources: &Sources) -> String {
    let mut entries: Vec<Entry> = findings
        .iter()
        .map(|f| Entry {
            fingerprint: f.baseline_fingerprint(sources),
            code: f.code.to_string(),
            resource: f
                .resource
                .as_ref()
                .map(|r| match &r.namespace {
                    Some(ns) => format!("{} {}/{}", r.kind, ns, r.name),
                    None => format!("{} {}", r.kind, r.name),
                })
                .unwrap_or_default(),
            path: f.field_path.clone(),
        })
        .collect();
    entries.sort();
    let mut s = serde_json::to_string_pretty(&File {
        version: VERSION,
        findings: entries,
    })
    .unwrap_or_default();
    s.push('\n');
    s
}

/// Drops the findings recorded in `baseline` (each entry absorbs one finding). Returns how
/// many were dropped, or an error message when the baseline cannot be read.
pub fn filter(
    findings: &mut Vec<Finding>,
    baseline: &str,
    sources: &Sources,
) -> Result<usize, String> {
    let file: File = serde_json::from_str(baseline).map_err(|e| e.to_string())?;
    let fingerprint: fn(&Finding, &Sources) -> String = match file.version {
        1 => |f, _| f.fingerprint(),
        VERSION => |f, s| f.baseline_fingerprint(s),
        v => return Err(format!("unsupported baseline version {v}")),
    };
    let mut counts: HashMap<String, usize> = HashMap::new();
    for e in file.findings {
        *counts.entry(e.fingerprint).or_default() += 1;
    }
    let before = findings.len();
    findings.retain(|f| match counts.get_mut(&fingerprint(f, sources)) {
        Some(n) if *n > 0 => {
            *n -= 1;
            false
        }
        _ => true,
    });
    Ok(before - findings.len())
}
