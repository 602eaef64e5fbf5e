//! Findings: what a rule reports.

use crate::source::{FileId, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Whether a finding is a confirmed violation or could not be decided (catalog §0.1, §0.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Violation,
    /// A link of the chain is outside the linted set: listed with `--show-unknown`, never fails.
    Unknown,
}

/// A place in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub file: FileId,
    pub span: Span,
}

/// The object a finding is about.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceRef {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    pub location: Location,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub code: &'static str,
    pub id: &'static str,
    pub severity: Severity,
    pub outcome: Outcome,
    /// What is wrong and why it breaks.
    pub message: String,
    /// How to fix it.
    pub help: String,
    pub location: Location,
    pub resource: Option<ResourceRef>,
    pub related: Vec<Related>,
    /// Where in its document the finding points, e.g. `spec.rules[0].http.paths[0].backend`;
    /// filled in by the engine after the rules ran.
    pub field_path: String,
}

impl Finding {
    /// Stable order: file, position, code, message.
    pub fn sort_key(&self) -> (FileId, u32, u32, &'static str, &str) {
        (
            self.location.file,
            self.location.span.start,
            self.location.span.end,
            self.code,
            self.message.as_str(),
        )
    }
}

impl Finding {
    /// A stable identity across edits elsewhere: rule, resource and field path (no line numbers).
    pub fn fingerprint(&self) -> String {
        self.identity(&[])
    }

    /// The identity a baseline records (version 2): [`Finding::fingerprint`]'s parts plus the
    /// file's path, so a baseline written for `staging/` never silences `prod/`; for findings
    /// without a resource (YAML001-003, MLN003 …) also the position and text of the offending
    /// node, so one baselined syntax error never absorbs another.
    pub fn baseline_fingerprint(&self, sources: &crate::source::Sources) -> String {
        let file = sources.files.get(self.location.file.0 as usize);
        let path = file.map(|f| f.path.trim_start_matches("./")).unwrap_or("");
        let (position, text) = match (&self.resource, file) {
            (None, Some(f)) => {
                let lc = f.line_col(self.location.span.start);
                let text: String = f
                    .text
                    .get(self.location.span.range())
                    .unwrap_or("")
                    .chars()
                    .take(200)
                    .collect();
                (format!("{}:{}", lc.line, lc.column), text)
            }
            _ => (String::new(), String::new()),
        };
        self.identity(&[path, &position, &text])
    }

    /// The hash of rule, resource and field path, then `extra`.
    fn identity(&self, extra: &[&str]) -> String {
        let r = self.resource.clone().unwrap_or_default();
        let mut parts = vec![
            self.code,
            &r.api_version,
            &r.kind,
            r.namespace.as_deref().unwrap_or(""),
            &r.name,
            &self.field_path,
        ];
        parts.extend_from_slice(extra);
        fnv(&parts)
    }
}

/// [`crate::source::fnv_parts`] as 16 hex digits.
fn fnv(parts: &[&str]) -> String {
    format!("{:016x}", crate::source::fnv_parts(parts.iter().copied()))
}
