//! MLN001 unused-suppression: reported by the suppression pass, not by a check over the index.

use crate::finding::Severity;
use crate::rules::Rule;

pub static RULE: Rule = Rule {
    code: "MLN001",
    id: "unused-suppression",
    family: "meshlint",
    severity: Severity::Info,
    summary: "A suppression silences no finding",
    docs: include_str!("mln001.md"),
    check: |_, _| {},
    mitigations: &[],
};
