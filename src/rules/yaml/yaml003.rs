//! YAML003 yaml-limits-exceeded: reported by the loader, not by a check over the index.

use crate::finding::Severity;
use crate::rules::Rule;

pub static RULE: Rule = Rule {
    code: "YAML003",
    id: "yaml-limits-exceeded",
    family: "yaml",
    severity: Severity::Error,
    summary: "A document exceeds meshlint's alias-expansion or nesting limits",
    docs: include_str!("yaml003.md"),
    check: |_, _| {},
    mitigations: &[],
};
