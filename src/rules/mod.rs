//! The rule engine: every rule lives in `src/rules/<family>/<code>.rs` and is listed in
//! [`registry::ALL`].

pub mod alb;
pub mod api;
pub mod gke;
pub mod grpc_h2;
pub mod istio_gateway;
pub mod istio_routing;
pub mod meta;
pub mod multicluster;
pub mod registry;
pub mod serviceentry;
pub mod tls;
pub mod workload;
pub mod yaml;

use crate::finding::{Finding, Location, Outcome, Related, ResourceRef, Severity};
use crate::index::Index;

/// A rule's declaration: metadata, documentation and its check.
pub struct Rule {
    pub code: &'static str,
    pub id: &'static str,
    pub family: &'static str,
    pub severity: Severity,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// Markdown documentation: what, why it breaks, bad and good examples, how to fix and
    /// suppress. `docs/rules/<id>.md` is generated from it.
    pub docs: &'static str,
    pub check: fn(&Index<'_, '_>, &mut Emitter<'_>),
    /// Kinds (`group/Kind`, the core group as `/Kind`) whose presence can legitimately
    /// silence this rule: a DestinationRule that makes Envoy speak HTTP/2 upstream, a mesh
    /// config that trusts the load balancer's headers. Removing such an object from a set may
    /// add a finding; the subset properties exclude exactly these (listed in the rule's doc).
    pub mitigations: &'static [&'static str],
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.id)
    }
}

/// Collects the findings of one rule.
pub struct Emitter<'r> {
    rule: &'r Rule,
    pub findings: Vec<Finding>,
}

impl<'r> Emitter<'r> {
    pub fn new(rule: &'r Rule) -> Self {
        Emitter {
            rule,
            findings: Vec::new(),
        }
    }

    /// Reports a violation at `location` with the rule's default severity.
    pub fn violation(
        &mut self,
        location: Location,
        resource: Option<ResourceRef>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> &mut Finding {
        self.push(
            Outcome::Violation,
            location,
            resource,
            message.into(),
            help.into(),
        )
    }

    /// Reports that the rule could not decide because a link is outside the linted set.
    pub fn unknown(
        &mut self,
        location: Location,
        resource: Option<ResourceRef>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> &mut Finding {
        self.push(
            Outcome::Unknown,
            location,
            resource,
            message.into(),
            help.into(),
        )
    }

    fn push(
        &mut self,
        outcome: Outcome,
        location: Location,
        resource: Option<ResourceRef>,
        message: String,
        help: String,
    ) -> &mut Finding {
        self.findings.push(Finding {
            code: self.rule.code,
            id: self.rule.id,
            severity: self.rule.severity,
            outcome,
            message,
            help,
            location,
            resource,
            related: Vec::new(),
            field_path: String::new(),
        });
        let last = self.findings.len() - 1;
        &mut self.findings[last]
    }
}

impl Finding {
    /// Adds a related location (builder style).
    pub fn related(&mut self, location: Location, message: impl Into<String>) -> &mut Self {
        self.related.push(Related {
            location,
            message: message.into(),
        });
        self
    }
    /// Adds the related locations of a cause shared by `total` objects, building only the
    /// first [`crate::lint::MAX_RELATED`] of them; the last one says how many more there are.
    pub fn related_many(
        &mut self,
        total: usize,
        items: impl Iterator<Item = (Location, String)>,
    ) -> &mut Self {
        let max = crate::lint::MAX_RELATED;
        self.related.extend(
            items
                .take(max)
                .map(|(location, message)| Related { location, message }),
        );
        if total > max {
            self.note_more_related(total - max);
        }
        self
    }

    /// Keeps at most [`crate::lint::MAX_RELATED`] related locations; the last one kept says
    /// how many were left out.
    pub fn cap_related(&mut self) {
        let max = crate::lint::MAX_RELATED;
        if self.related.len() > max {
            let more = self.related.len() - max;
            self.related.truncate(max);
            self.note_more_related(more);
        }
    }

    fn note_more_related(&mut self, more: usize) {
        if let Some(last) = self.related.last_mut() {
            last.message = format!("{} (and {more} more like it, not shown)", last.message);
        }
    }
    pub fn severity(&mut self, severity: Severity) -> &mut Self {
        self.severity = severity;
        self
    }
}

/// `a, b, c and 12 more`: a list for a message, folded after `max` items so that a cause
/// shared by many objects stays one readable line (the objects go in related locations).
pub fn fold_list<S: AsRef<str>>(items: &[S], max: usize) -> String {
    fold_shown(&items[..items.len().min(max.max(1))], items.len())
}

/// [`fold_list`] when only the `shown` items of `total` were made.
pub fn fold_shown<S: AsRef<str>>(shown: &[S], total: usize) -> String {
    let list: Vec<&str> = shown.iter().map(|s| s.as_ref()).collect();
    let rest = total.saturating_sub(list.len());
    if rest == 0 {
        list.join(", ")
    } else {
        format!("{} and {rest} more", list.join(", "))
    }
}

/// ` (synthesised from …)` for objects that are not in a manifest, else empty.
pub fn origin_note(obj: &crate::model::Object<'_, '_>) -> String {
    obj.origin().map(|o| format!(" ({o})")).unwrap_or_default()
}

/// The documentation page of a rule (`docs/rules/<id>.md`, and `meshlint rule CODE` later).
pub fn doc_page(rule: &Rule) -> String {
    let mitigations = if rule.mitigations.is_empty() {
        String::new()
    } else {
        format!(
            "\n- Mitigations: {} (objects whose presence can make this finding go away, so a \
             partial set without them may show it)",
            rule.mitigations
                .iter()
                .map(|m| format!("`{}`", m.trim_start_matches('/')))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    format!(
        "# {} `{}`\n\n{}\n\n- Family: `{}`\n- Default severity: {}\n- Suppress: annotation `meshlint.io/ignore: \"{}\"` on the resource, or `--ignore {}`{}\n\n{}\n",
        rule.code,
        rule.id,
        rule.summary,
        rule.family,
        rule.severity.as_str(),
        rule.code,
        rule.code,
        mitigations,
        rule.docs.trim_end()
    )
}

/// `docs/rules/README.md`: the table of all rules.
pub fn doc_index() -> String {
    let mut s = String::from(
        "# Rules\n\nGenerated from the rules' own documentation (`UPDATE_DOCS=1 cargo test --test docs`).\n\n| Code | Id | Severity | Summary |\n|---|---|---|---|\n",
    );
    for r in registry::ALL {
        s.push_str(&format!(
            "| {} | [`{}`]({}.md) | {} | {} |\n",
            r.code,
            r.id,
            r.id,
            r.severity.as_str(),
            r.summary
        ));
    }
    s
}
