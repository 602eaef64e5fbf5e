//! MLN002 suppression-missing-reason: reported by the suppression pass, not by a check over the index.

use crate::finding::Severity;
use crate::rules::Rule;

pub static RULE: Rule = Rule {
    code: "MLN002",
    id: "suppression-missing-reason",
    family: "meshlint",
    severity: Severity::Warning,
    summary: "A suppression gives no reason",
    docs: include_str!("mln002.md"),
    check: |_, _| {},
    mitigations: &[],
};
