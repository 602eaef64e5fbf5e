//! Suppressions: the `meshlint.io/ignore` annotation on the resource a finding names, and
//! `# meshlint: ignore[CODE] reason` comments on the offending line or the line above. Both
//! need a reason; suppressions that silence nothing are reported (MLN001).

use std::collections::HashMap;

use crate::finding::{Finding, Location, Outcome, ResourceRef, Severity};
use crate::index::Index;
use crate::rules::registry;
use crate::source::{FileId, Sources, Span};

pub const ANNOTATION: &str = "meshlint.io/ignore";
pub const REASON_ANNOTATION: &str = "meshlint.io/ignore-reason";
const COMMENT: &str = "# meshlint: ignore[";

struct Suppression {
    /// Where it is written (for MLN001/MLN002).
    location: Location,
    /// Rule codes it silences (ids are mapped to codes; unknown names kept as written).
    codes: Vec<String>,
    target: Target,
    used: bool,
}

enum Target {
    /// Findings whose resource is this object.
    Resource(ResourceRef),
    /// Findings starting on one of these 1-based lines of a file.
    Lines(FileId, u32, u32),
}

fn code_of(name: &str) -> String {
    registry::find(name)
        .map(|r| r.code.to_string())
        .unwrap_or_else(|| name.to_string())
}

fn meta_finding(
    code: &'static str,
    id: &'static str,
    severity: Severity,
    location: Location,
    message: String,
    help: &str,
) -> Finding {
    Finding {
        code,
        id,
        severity,
        outcome: Outcome::Violation,
        message,
        help: help.to_string(),
        location,
        resource: None,
        related: Vec::new(),
        field_path: String::new(),
    }
}

fn missing_reason(location: Location, how: &str) -> Finding {
    meta_finding(
        "MLN002",
        "suppression-missing-reason",
        Severity::Warning,
        location,
        format!("{how} has no reason: a reviewer cannot tell why the finding is acceptable"),
        "say why, e.g. `meshlint.io/ignore-reason: \"internal NLB for in-VPC clients\"` or \
         `# meshlint: ignore[ALB002] internal NLB for in-VPC clients`",
    )
}

fn collect(index: &Index<'_, '_>, sources: &Sources, extra: &mut Vec<Finding>) -> Vec<Suppression> {
    let mut out = Vec::new();
    for o in &index.objects {
        if o.origin().is_some() {
            continue;
        }
        let Some((key, value)) = o.annotation_entry(ANNOTATION) else {
            continue;
        };
        let location = o.loc(key);
        if o.annotation(REASON_ANNOTATION)
            .is_none_or(|r| r.trim().is_empty())
        {
            extra.push(missing_reason(location, "`meshlint.io/ignore`"));
        }
        let codes = value
            .as_str()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(code_of)
            .collect();
        out.push(Suppression {
            location,
            codes,
            target: Target::Resource(o.resource()),
            used: false,
        });
    }
    // The roots of the manifests' objects by file, made on the first comment found: a comment
    // is checked against its own file's objects only, not against every object.
    let mut roots: Option<HashMap<FileId, Vec<crate::yaml::Node<'_, '_>>>> = None;
    for (i, f) in sources.files.iter().enumerate() {
        let file = FileId(i as u32);
        let text = f.text.as_str();
        let mut from = 0;
        while let Some(pos) = text[from..].find(COMMENT) {
            let start = from + pos;
            from = start + COMMENT.len();
            let line_end = text[start..].find('\n').map_or(text.len(), |e| start + e);
            let rest = &text[from..line_end];
            let Some(close) = rest.find(']') else {
                continue;
            };
            // Inside a block or quoted scalar it is text (a ConfigMap's script, a values
            // string), not a comment.
            let roots = roots.get_or_insert_with(|| {
                let mut by_file: HashMap<FileId, Vec<crate::yaml::Node<'_, '_>>> = HashMap::new();
                for o in index.objects.iter().filter(|o| o.origin().is_none()) {
                    by_file.entry(o.root.file()).or_default().push(o.root);
                }
                by_file
            });
            if roots
                .get(&file)
                .into_iter()
                .flatten()
                .filter(|root| {
                    let sp = root.span();
                    sp.start as usize <= start && start <= sp.end as usize
                })
                .any(|root| in_scalar(*root, start as u32))
            {
                continue;
            }
            let codes: Vec<String> = rest[..close]
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(code_of)
                .collect();
            // The reason ends where another comment starts.
            let reason = rest[close + 1..].split(" #").next().unwrap_or("").trim();
            let location = Location {
                file,
                span: Span::new(start, line_end),
            };
            if reason.is_empty() {
                extra.push(missing_reason(
                    location,
                    "this `# meshlint: ignore[…]` comment",
                ));
            }
            let line = f.line_col(start as u32).line;
            let line_start = f.line_starts().get(line as usize - 1).copied().unwrap_or(0);
            let alone = text[line_start as usize..start].trim().is_empty();
            // On its own line it covers the next line; at the end of a line, that line.
            let (a, b) = if alone {
                (line, line + 1)
            } else {
                (line, line)
            };
            out.push(Suppression {
                location,
                codes,
                target: Target::Lines(file, a, b),
                used: false,
            });
        }
    }
    out
}

/// True if byte `pos` lies inside a scalar's text below `node`. Descends
/// only into nodes whose span holds `pos`, with a bound on the nodes visited (aliases share
/// nodes).
fn in_scalar(node: crate::yaml::Node<'_, '_>, pos: u32) -> bool {
    let holds = |n: crate::yaml::Node<'_, '_>| {
        let sp = n.span();
        sp.start <= pos && pos <= sp.end
    };
    let mut stack = vec![node];
    let mut budget = 100_000;
    while let Some(n) = stack.pop() {
        budget -= 1;
        if budget == 0 {
            return false;
        }
        if n.is_scalar() {
            let sp = n.span();
            // A block scalar's span starts at its first content byte, where a comment-like
            // line would start; a plain scalar never starts with `#`.
            if sp.start <= pos && pos < sp.end {
                return true;
            }
        } else if n.is_map() {
            for (k, v) in n.entries() {
                stack.extend([k, v].into_iter().filter(|c| holds(*c)));
            }
        } else if n.is_seq() {
            stack.extend(n.items().filter(|c| holds(*c)));
        }
    }
    false
}

/// Removes suppressed findings and adds MLN001 (unused) and MLN002 (no reason) findings.
/// `ran(code)` tells whether a rule ran: a suppression naming only rules that did not run is not
/// reported as unused.
pub fn apply(
    findings: &mut Vec<Finding>,
    index: &Index<'_, '_>,
    sources: &Sources,
    ran: &dyn Fn(&str) -> bool,
) {
    let mut extra = Vec::new();
    let mut sups = collect(index, sources, &mut extra);
    if sups.is_empty() {
        findings.extend(extra);
        return;
    }
    let mut by_resource: HashMap<&ResourceRef, Vec<usize>> = HashMap::new();
    let mut by_line: HashMap<(FileId, u32), Vec<usize>> = HashMap::new();
    for (i, s) in sups.iter().enumerate() {
        match &s.target {
            Target::Resource(r) => by_resource.entry(r).or_default().push(i),
            Target::Lines(f, a, b) => {
                for l in *a..=*b {
                    by_line.entry((*f, l)).or_default().push(i);
                }
            }
        }
    }
    let mut used = vec![false; sups.len()];
    findings.retain(|f| {
        let mut hit = false;
        let mut check = |ids: Option<&Vec<usize>>| {
            for &i in ids.into_iter().flatten() {
                if sups[i].codes.iter().any(|c| c == f.code) {
                    used[i] = true;
                    hit = true;
                }
            }
        };
        if let Some(r) = &f.resource {
            check(by_resource.get(r));
        }
        let line = sources
            .files
            .get(f.location.file.0 as usize)
            .map(|file| file.line_col(f.location.span.start).line);
        if let Some(line) = line {
            check(by_line.get(&(f.location.file, line)));
        }
        !hit
    });
    for (s, u) in sups.iter_mut().zip(used) {
        s.used = u;
    }
    for s in &sups {
        if !s.used && !s.codes.is_empty() && s.codes.iter().all(|c| ran(c)) {
            extra.push(meta_finding(
                "MLN001",
                "unused-suppression",
                Severity::Info,
                s.location,
                format!(
                    "suppression of {} silences nothing here",
                    if s.codes.is_empty() {
                        "no rule".to_string()
                    } else {
                        s.codes.join(", ")
                    }
                ),
                "remove it, or fix the rule code or id it names",
            ));
        }
    }
    findings.extend(extra);
}
