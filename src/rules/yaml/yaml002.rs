//! YAML002 duplicate-key: reported by the loader, not by a check over the index.

use crate::finding::Severity;
use crate::rules::Rule;

pub static RULE: Rule = Rule {
    code: "YAML002",
    id: "duplicate-key",
    family: "yaml",
    severity: Severity::Error,
    summary: "A mapping repeats a key",
    docs: include_str!("yaml002.md"),
    check: |_, _| {},
    mitigations: &[],
};
