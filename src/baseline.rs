//! Baselines: record today's findings by fingerprint (rule, resource, field path: not line
//! numbers, so edits elsewhere keep them valid) and later report only new ones.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::finding::Finding;

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
pub fn write(findings: &[Finding]) -> String {
    let mut entries: Vec<Entry> = findings
        .iter()
        .map(|f| Entry {
            fingerprint: f.fingerprint(),
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
        version: 1,
        findings: entries,
    })
    .unwrap_or_default();
    s.push('\n');
    s
}

/// Drops the findings recorded in `baseline` (each entry absorbs one finding). Returns how
/// many were dropped, or an error message when the baseline cannot be read.
pub fn filter(findings: &mut Vec<Finding>, baseline: &str) -> Result<usize, String> {
    let file: File = serde_json::from_str(baseline).map_err(|e| e.to_string())?;
    if file.version != 1 {
        return Err(format!("unsupported baseline version {}", file.version));
    }
    let mut counts: HashMap<String, usize> = HashMap::new();
    for e in file.findings {
        *counts.entry(e.fingerprint).or_default() += 1;
    }
    let before = findings.len();
    findings.retain(|f| match counts.get_mut(&f.fingerprint()) {
        Some(n) if *n > 0 => {
            *n -= 1;
            false
        }
        _ => true,
    });
    Ok(before - findings.len())
}
