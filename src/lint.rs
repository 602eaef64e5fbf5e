//! One lint run: parse every source in parallel, build the index once, run every selected rule.

use rayon::prelude::*;

use crate::finding::{Finding, Location, Outcome, Severity};
use crate::index::{Index, Options};
use crate::model::{Object, synth};
use crate::rules::{Emitter, Rule, registry};
use crate::source::{FileId, Sources, Span};
use crate::yaml::{Document, ParseErrorKind, ParseLimits, parse_stream};

/// What to run and how.
#[derive(Clone, Debug)]
pub struct Settings {
    pub closed_world: bool,
    /// Namespace for namespaced objects without one (R1).
    pub default_namespace: String,
    /// Rules to run (all when `None`).
    pub select: Option<Vec<&'static Rule>>,
    pub ignore: Vec<&'static Rule>,
    /// Objects that exist outside the linted set: `(kind, namespace, name)`.
    pub external: Vec<(String, String, String)>,
    /// Severity overrides by rule code (from the config file).
    pub severity: Vec<(&'static str, Severity)>,
    pub limits: ParseLimits,
    /// `--istio-version` as `(major, minor)`: version-dependent rules use it (IRT006).
    pub istio_version: Option<(u32, u32)>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            closed_world: false,
            default_namespace: "default".into(),
            select: None,
            ignore: Vec::new(),
            external: Vec::new(),
            severity: Vec::new(),
            limits: ParseLimits::default(),
            istio_version: None,
        }
    }
}

impl Settings {
    pub fn enabled(&self, rule: &Rule) -> bool {
        let selected = match &self.select {
            Some(list) => list.iter().any(|r| r.code == rule.code),
            None => true,
        };
        selected && !self.ignore.iter().any(|r| r.code == rule.code)
    }
}

/// Parses an Istio version for `--istio-version`: `1.14`, `1.14.3`, `v1.22.0-beta.1` →
/// `(major, minor)`.
pub fn parse_istio_version(s: &str) -> Result<(u32, u32), String> {
    let t = s.trim().trim_start_matches(['v', 'V']);
    let mut parts = t.split(['.', '-', '+']);
    let major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let minor = parts.next().and_then(|p| p.parse::<u32>().ok());
    match (major, minor) {
        (Some(major), Some(minor)) => Ok((major, minor)),
        _ => Err(format!("`{s}` is not an Istio version such as 1.22")),
    }
}

/// The result of a run, before rendering.
#[derive(Debug, Default)]
pub struct Outcomes {
    /// Violations, sorted by file, position, code.
    pub findings: Vec<Finding>,
    /// Undecided findings, sorted likewise.
    pub unknown: Vec<Finding>,
    /// Kubernetes objects linted (synthesised ones included).
    pub objects: usize,
}

/// Lints all `sources` together.
pub fn run(sources: &Sources, settings: &Settings) -> Outcomes {
    let parsed: Vec<_> = sources
        .files
        .par_iter()
        .enumerate()
        .map(|(i, f)| parse_stream(FileId(i as u32), &f.text, &settings.limits))
        .collect();

    let mut raw: Vec<Finding> = Vec::new();
    let mut docs: Vec<Document<'_>> = Vec::new();
    for (i, out) in parsed.into_iter().enumerate() {
        let file = FileId(i as u32);
        for e in out.errors {
            raw.push(parse_finding(file, e));
        }
        docs.extend(out.docs);
    }

    let ns = settings.default_namespace.as_str();
    let mut objects: Vec<Object<'_, '_>> = Vec::with_capacity(docs.len());
    for d in &docs {
        if let Some(root) = d.root() {
            collect_objects(root, ns, &mut objects);
        }
    }
    let helm_repos = synth::HelmRepos::new(&objects);
    let synthesised: Vec<Document<'_>> = objects
        .iter()
        .flat_map(|o| {
            let mut d = synth::istio_operator(o);
            d.extend(synth::helm_gateway(o, &helm_repos));
            d
        })
        .collect();
    for d in &synthesised {
        if let Some(root) = d.root() {
            collect_objects(root, ns, &mut objects);
        }
    }
    let count = objects.len();
    let index = Index::build(
        objects,
        Options {
            closed_world: settings.closed_world,
            external: settings.external.clone(),
            istio_version: settings.istio_version,
        },
    );

    let rule_findings: Vec<Vec<Finding>> = registry::ALL
        .par_iter()
        .filter(|r| settings.enabled(r))
        .map(|r| {
            let mut em = Emitter::new(r);
            (r.check)(&index, &mut em);
            em.findings
        })
        .collect();
    raw.extend(rule_findings.into_iter().flatten());
    let enabled = |code: &str| registry::find(code).is_none_or(|r| settings.enabled(r));
    raw.retain(|f| enabled(f.code));
    crate::suppress::apply(&mut raw, &index, sources, &enabled);
    raw.retain(|f| enabled(f.code));

    for f in &mut raw {
        f.field_path = field_path(&docs, &synthesised, f.location);
        if let Some((_, s)) = settings.severity.iter().find(|(c, _)| *c == f.code) {
            f.severity = *s;
        }
    }

    let mut out = Outcomes {
        objects: count,
        ..Outcomes::default()
    };
    for f in raw {
        match f.outcome {
            Outcome::Violation => out.findings.push(f),
            Outcome::Unknown => out.unknown.push(f),
        }
    }
    for list in [&mut out.findings, &mut out.unknown] {
        list.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        list.dedup_by(|a, b| {
            a.code == b.code && a.location == b.location && a.message == b.message
        });
    }
    out
}

/// Adds the object(s) of a document root: one object, or the items of a `kind: List`.
fn collect_objects<'d, 's>(
    root: crate::yaml::Node<'d, 's>,
    ns: &'d str,
    out: &mut Vec<Object<'d, 's>>,
) {
    let Some(obj) = Object::from_root(root, ns) else {
        return;
    };
    if obj.kind == "List"
        || (obj.kind.ends_with("List") && root.get("items").is_some_and(|i| i.is_seq()))
    {
        for item in root.get("items").into_iter().flat_map(|i| i.items()) {
            if let Some(o) = Object::from_root(item, ns) {
                out.push(o);
            }
        }
    } else {
        out.push(obj);
    }
}

fn parse_finding(file: FileId, e: crate::yaml::ParseError) -> Finding {
    let (code, id, help) = match e.kind {
        ParseErrorKind::Syntax => (
            "YAML001",
            "invalid-yaml",
            "fix the syntax; the other documents of this file were still linted",
        ),
        ParseErrorKind::DuplicateKey { .. } => (
            "YAML002",
            "duplicate-key",
            "remove one of the two keys: the API server rejects the object (or one value is silently lost)",
        ),
        ParseErrorKind::Limit => (
            "YAML003",
            "yaml-limits-exceeded",
            "this document was not linted; simplify it (fewer aliases, less nesting)",
        ),
    };
    let mut f = Finding {
        code,
        id,
        severity: Severity::Error,
        outcome: Outcome::Violation,
        message: e.message,
        help: help.to_string(),
        location: Location { file, span: e.span },
        resource: None,
        related: Vec::new(),
        field_path: String::new(),
    };
    if let ParseErrorKind::DuplicateKey { first } = e.kind {
        f.related.push(crate::finding::Related {
            location: Location {
                file,
                span: Span { ..first },
            },
            message: "first defined here".into(),
        });
    }
    f
}

/// The path of the node a location points at, e.g. `spec.rules[0].http.paths[0].backend`, found
/// by descending the document of that file whose span contains it. Empty when none does.
fn field_path(docs: &[Document<'_>], synthesised: &[Document<'_>], loc: Location) -> String {
    let contains = |d: &&Document<'_>| {
        d.file == loc.file && d.span.start <= loc.span.start && loc.span.start <= d.span.end
    };
    let Some(doc) = docs
        .iter()
        .find(contains)
        .or_else(|| synthesised.iter().find(contains))
    else {
        return String::new();
    };
    let Some(mut node) = doc.root() else {
        return String::new();
    };
    let inside = |n: crate::yaml::Node<'_, '_>| {
        let s = n.span();
        s.start <= loc.span.start && loc.span.start <= s.end.max(s.start)
    };
    let mut path = String::new();
    for _ in 0..256 {
        if node.span() == loc.span {
            break;
        }
        let next = if node.is_map() {
            node.entries().find_map(|(k, v)| {
                let key = k.as_str().unwrap_or("?");
                if k.span() == loc.span || inside(k) && !inside(v) {
                    Some((key.to_string(), None))
                } else if inside(v) {
                    Some((key.to_string(), Some(v)))
                } else {
                    None
                }
            })
        } else if node.is_seq() {
            node.items()
                .enumerate()
                .find(|(_, it)| inside(*it))
                .map(|(i, it)| (format!("[{i}]"), Some(it)))
        } else {
            None
        };
        let Some((seg, child)) = next else { break };
        if !path.is_empty() && !seg.starts_with('[') {
            path.push('.');
        }
        path.push_str(&seg);
        match child {
            Some(c) => node = c,
            None => break,
        }
    }
    path
}
