//! YAML001 invalid-yaml: reported by the loader, not by a check over the index.

use crate::finding::Severity;
use crate::rules::Rule;

pub static RULE: Rule = Rule {
    code: "YAML001",
    id: "invalid-yaml",
    family: "yaml",
    severity: Severity::Error,
    summary: "A document is not valid YAML",
    docs: include_str!("yaml001.md"),
    check: |_, _| {},
    mitigations: &[],
};
