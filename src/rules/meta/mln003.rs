//! MLN003 duplicate-object-in-stream: reported by the engine when it collects objects, not by
//! a check over the index.

use crate::finding::Severity;
use crate::rules::Rule;

pub static RULE: Rule = Rule {
    code: "MLN003",
    id: "duplicate-object-in-stream",
    family: "meshlint",
    severity: Severity::Warning,
    summary: "One file or stream defines the same object twice; the later definition wins",
    docs: include_str!("mln003.md"),
    check: |_, _| {},
    mitigations: &[],
};
