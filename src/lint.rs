//! One lint run: parse every source in parallel, build the index once, run every selected rule.

use rayon::prelude::*;

use crate::finding::{Finding, Location, Outcome, Severity};
use std::collections::HashMap;

use crate::index::{Index, Options, worlds};
use crate::model::{Object, synth};
use crate::rules::meta::mln001::RULE as MLN001;
use crate::rules::meta::mln003::RULE as MLN003;
use crate::rules::{Emitter, Rule, registry};
use crate::source::{FNV_OFFSET, FileId, Sources, Span, fnv1a};
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
    /// Declared world roots (config `sets:`): a file below a path these globs match belongs
    /// to that world only; the others are shared. `None`: inferred from the tree.
    pub sets: Option<globset::GlobSet>,
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
            sets: None,
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
    /// The worlds the set was split into (catalog §0.4), for `--show-sets` and notices.
    pub worlds: Vec<String>,
    /// Why: one line per split.
    pub world_reasons: Vec<String>,
    /// More alternatives than worlds allowed: the rest were linted together, keeping the
    /// last definition of each object by path.
    pub worlds_capped: bool,
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
    // Objects read, duplicates included (the summary counts what was in the files).
    let read = objects.len();
    let defined_twice = drop_same_stream_duplicates(&mut objects, &mut raw);
    let dropped = read - objects.len();
    // Embedded Helm values that do not parse: a syntax error at the value, never a gateway
    // dropped in silence.
    for o in &objects {
        for (node, message) in synth::embedded_values_errors(o) {
            let mut f = parse_finding(
                node.file(),
                crate::yaml::ParseError {
                    span: node.span(),
                    message: format!(
                        "the Helm values of {} are not valid YAML ({message}): the gateway it \
                         installs cannot be checked",
                        o.display()
                    ),
                    kind: ParseErrorKind::Syntax,
                },
            );
            f.resource = Some(o.resource());
            f.help = "fix the values string (YAML inside the manifest's YAML), or move the values \
                      to `valuesObject`"
                .into();
            raw.push(f);
        }
    }
    let helm_repos = synth::HelmRepos::new(&objects);
    // Each synthesised document remembers the object it comes from: it belongs to the
    // worlds that object belongs to.
    let mut synth_origin: Vec<usize> = Vec::new();
    let synthesised: Vec<Document<'_>> = objects
        .iter()
        .enumerate()
        .flat_map(|(i, o)| {
            let mut d = synth::istio_operator(o);
            d.extend(synth::helm_gateway(o, &helm_repos));
            synth_origin.extend(std::iter::repeat_n(i, d.len()));
            d
        })
        .collect();
    let real = objects.len();
    // For every object, the real object whose world membership it shares (itself if real).
    let mut member_of: Vec<usize> = (0..real).collect();
    for (d, &origin) in synthesised.iter().zip(&synth_origin) {
        if let Some(root) = d.root() {
            let before = objects.len();
            collect_objects(root, ns, &mut objects);
            member_of.extend(std::iter::repeat_n(origin, objects.len() - before));
        }
    }
    let count = objects.len() + dropped;

    // Worlds: no world holds two definitions of one object (catalog §0.4).
    let paths: std::sync::Arc<Vec<String>> =
        std::sync::Arc::new(sources.files.iter().map(|f| f.path.clone()).collect());
    let defs: Vec<(Key<'_>, usize)> = objects[..real]
        .iter()
        // Nameless IstioOperators (istioctl `-f` overlays) in different files are
        // alternatives of one install too.
        .filter(|o| !o.name.is_empty() || o.is("install.istio.io", "IstioOperator"))
        .map(|o| (key(o), o.root.file().0 as usize))
        .collect();
    let declared = |p: &str| declared_root(settings.sets.as_ref(), p);
    // Content hashes of the files (asked only when something is defined twice): the split's
    // tie-breaks must not depend on file names.
    let content = |f: usize| sources.files.get(f).map(|f| text_hash(&f.text));
    // Nothing defined in two files and no declared sets: one world, no partition work.
    let worlds = if !defined_twice && settings.sets.is_none() {
        worlds::Worlds::single(paths.len())
    } else {
        worlds::partition(&paths, &defs, &key_text, &declared, &content)
    };

    let mut broken_files: Vec<FileId> = raw
        .iter()
        .filter(|f| matches!(f.code, "YAML001" | "YAML003") && f.resource.is_none())
        .map(|f| f.location.file)
        .collect();
    broken_files.sort_unstable();
    broken_files.dedup();
    let options = Options {
        closed_world: settings.closed_world,
        external: settings.external.clone(),
        istio_version: settings.istio_version,
        broken_files,
        paths: paths.clone(),
    };
    let enabled = |code: &str| registry::find(code).is_none_or(|r| settings.enabled(r));
    let pre = std::mem::take(&mut raw);
    // Rules see the files in an order of their content, not of their names or of the command
    // line (objects of one file stay together, in document order), so that which of two
    // objects a pairwise finding lands on never depends on how the files are named. Ties
    // (files with the same content): path.
    let file_rank: Vec<usize> = {
        let mut keyed: Vec<(u64, &str, usize)> = sources
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (order_hash(&f.text), f.path.as_str(), i))
            .collect();
        keyed.sort_unstable();
        let mut rank = vec![0usize; keyed.len()];
        for (r, &(_, _, i)) in keyed.iter().enumerate() {
            rank[i] = r;
        }
        rank
    };
    let lint_world = |mut objects: Vec<Object<'_, '_>>| -> Vec<Finding> {
        objects.sort_by_key(|o| {
            let file = o.root.file().0 as usize;
            (
                file_rank.get(file).copied().unwrap_or(usize::MAX),
                o.origin().is_some(),
                o.root.span().start,
            )
        });
        let index = Index::build(objects, options.clone());
        let rule_findings: Vec<Vec<Finding>> = registry::ALL
            .par_iter()
            .filter(|r| settings.enabled(r))
            .map(|r| {
                let mut em = Emitter::new(r);
                (r.check)(&index, &mut em);
                em.findings
            })
            .collect();
        // Parse findings and MLN003 go through each world's suppressions too (merged below).
        let mut found: Vec<Finding> = pre.clone();
        found.extend(rule_findings.into_iter().flatten());
        found.retain(|f| enabled(f.code));
        crate::suppress::apply(&mut found, &index, sources, &enabled);
        found.retain(|f| enabled(f.code));
        found
    };
    if worlds.worlds.len() == 1 && !worlds.capped && worlds.worlds[0].excluded.is_empty() {
        raw.extend(lint_world(objects));
    } else {
        // File order by path, for "the last definition wins" when worlds were capped.
        let mut rank: Vec<usize> = (0..paths.len()).collect();
        rank.sort_by(|&a, &b| paths[a].cmp(&paths[b]).then(a.cmp(&b)));
        let mut pos = vec![0usize; paths.len()];
        for (r, &f) in rank.iter().enumerate() {
            pos[f] = r;
        }
        let keys: Vec<String> = objects[..real].iter().map(|o| key_text(&key(o))).collect();
        // Whether world `w` holds real object `i` (synthesised ones follow their origin).
        let holds = |w: &worlds::World, i: usize| {
            let o = &objects[i];
            w.contains_object(o.root.file().0 as usize, &keys[i])
        };
        let per_world: Vec<Vec<Finding>> = worlds
            .worlds
            .iter()
            .map(|w| {
                let members: Vec<Object<'_, '_>> = objects
                    .iter()
                    .zip(&member_of)
                    .filter(|&(_, &m)| holds(w, m))
                    .map(|(o, _)| *o)
                    .collect();
                lint_world(last_definition_wins(members, &pos))
            })
            .collect();
        // Which real object each finding's location lies in, and the worlds holding it.
        let mut spans: Vec<(usize, u32, u32, usize)> = objects[..real]
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let sp = o.root.span();
                (o.root.file().0 as usize, sp.start, sp.end, i)
            })
            .collect();
        spans.sort_unstable();
        let located = |loc: Location| -> Option<usize> {
            let (file, at) = (loc.file.0 as usize, loc.span.start);
            let upto = spans.partition_point(|&(f, s, _, _)| (f, s) <= (file, at));
            // The innermost (latest starting) object whose span holds the location.
            spans[..upto]
                .iter()
                .rev()
                .take_while(|&&(f, _, _, _)| f == file)
                .find(|&&(_, s, e, _)| s <= at && at <= e)
                .map(|&(_, _, _, i)| i)
        };
        let containing = |f: &Finding| -> Vec<usize> {
            let object = located(f.location);
            (0..worlds.worlds.len())
                .filter(|&w| {
                    let world = &worlds.worlds[w];
                    match object {
                        Some(i) => holds(world, i),
                        None => world.contains(f.location.file.0 as usize),
                    }
                })
                .collect()
        };
        raw.extend(merge_worlds(&worlds, per_world, &containing));
    }

    for f in &mut raw {
        f.cap_related();
        f.field_path = field_path(&docs, &synthesised, f.location);
        if let Some((_, s)) = settings.severity.iter().find(|(c, _)| *c == f.code) {
            f.severity = *s;
        }
    }

    let mut out = Outcomes {
        objects: count,
        worlds: if worlds.worlds.len() > 1 {
            worlds.worlds.iter().map(|w| w.label()).collect()
        } else {
            Vec::new()
        },
        world_reasons: worlds.reasons.clone(),
        worlds_capped: worlds.capped,
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

type Key<'d> = (&'d str, &'d str, &'d str, &'d str);

fn key<'d>(o: &Object<'d, '_>) -> Key<'d> {
    (o.group, o.kind, o.namespace, o.name)
}

fn key_text(k: &Key<'_>) -> String {
    let (group, kind, ns, name) = k;
    let kind = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    if ns.is_empty() {
        format!("{kind} {name}")
    } else {
        format!("{kind} {ns}/{name}")
    }
}

/// Related locations shown per finding, at most: a cause shared by N×M objects must not
/// print N×M lines (the last one kept says how many were left out; see
/// `Finding::cap_related`).
pub const MAX_RELATED: usize = 20;

/// A cheap hash of a file's content for ordering: its length and its first and last 4 KiB.
fn order_hash(text: &str) -> u64 {
    let b = text.as_bytes();
    let head = &b[..b.len().min(4096)];
    let tail = &b[b.len().saturating_sub(4096)..];
    fnv1a(
        FNV_OFFSET ^ b.len() as u64,
        head.iter().chain(tail).copied(),
    )
}

/// FNV-1a over a file's text.
fn text_hash(text: &str) -> u64 {
    fnv1a(FNV_OFFSET, text.bytes())
}

/// The declared world root (config `sets:`) a path lies under: the shortest prefix of it
/// (a directory or the file itself) that one of the globs matches.
fn declared_root(sets: Option<&globset::GlobSet>, path: &str) -> Option<String> {
    let sets = sets?;
    let mut prefix = String::new();
    for (i, c) in path.split('/').enumerate() {
        if i > 0 {
            prefix.push('/');
        }
        prefix.push_str(c);
        if sets.is_match(&prefix) {
            return Some(prefix);
        }
    }
    None
}

/// Two definitions of one object in one file (or stdin stream) are a mistake in that stream:
/// MLN003 at the later one, which is the object (`kubectl apply` leaves the last one).
/// Returns whether some object is defined in two different files (alternatives: worlds).
fn drop_same_stream_duplicates(objects: &mut Vec<Object<'_, '_>>, raw: &mut Vec<Finding>) -> bool {
    let mut last: HashMap<Key<'_>, usize> = HashMap::with_capacity(objects.len());
    let mut dropped = vec![false; objects.len()];
    let mut in_two_files = false;
    for (i, o) in objects.iter().enumerate() {
        if o.name.is_empty() && !o.is("install.istio.io", "IstioOperator") {
            continue;
        }
        if let Some(prev) = last.insert(key(o), i) {
            let first = &objects[prev];
            if first.root.file() != o.root.file() {
                in_two_files = true;
                continue;
            }
            if o.name.is_empty() {
                continue;
            }
            // Config Sync hierarchical repositories: one object per selected namespace, told
            // apart by its namespace selector. Both stay.
            const SELECTOR: &str = "configmanagement.gke.io/namespace-selector";
            if first.annotation(SELECTOR) != o.annotation(SELECTOR) {
                continue;
            }
            dropped[prev] = true;
            // An exact copy loses nothing: the later one wins silently.
            if same_text(first, o) {
                continue;
            }
            let mut f = Finding {
                code: MLN003.code,
                id: MLN003.id,
                severity: MLN003.severity,
                outcome: Outcome::Violation,
                message: format!(
                    "{} is defined twice in this file; `kubectl apply` keeps only this later definition, so everything the earlier one says is lost",
                    key_text(&key(o))
                ),
                help: "rename one of the two objects, or delete the stale copy".into(),
                location: o.name_loc(),
                resource: Some(o.resource()),
                related: Vec::new(),
                field_path: String::new(),
            };
            f.related(first.name_loc(), "first defined here");
            raw.push(f);
        }
    }
    let mut i = 0;
    objects.retain(|_| {
        i += 1;
        !dropped[i - 1]
    });
    in_two_files
}

/// True if two objects' documents have the same text.
fn same_text(a: &Object<'_, '_>, b: &Object<'_, '_>) -> bool {
    fn text<'s>(o: &Object<'_, 's>) -> Option<&'s str> {
        let sp = o.root.span();
        o.root
            .doc()
            .source()
            .get(sp.start as usize..sp.end as usize)
    }
    matches!((text(a), text(b)), (Some(x), Some(y)) if x == y)
}

/// Inside one world, at most one definition per object: the last by path order (only
/// reached when the number of worlds was capped).
fn last_definition_wins<'d, 's>(
    members: Vec<Object<'d, 's>>,
    pos: &[usize],
) -> Vec<Object<'d, 's>> {
    let mut best: HashMap<Key<'d>, (usize, usize)> = HashMap::new();
    for (i, o) in members.iter().enumerate() {
        if o.name.is_empty() || o.origin().is_some() {
            continue;
        }
        let p = pos.get(o.root.file().0 as usize).copied().unwrap_or(0);
        let e = best.entry(key(o)).or_insert((p, i));
        if (p, i) >= *e {
            *e = (p, i);
        }
    }
    members
        .into_iter()
        .enumerate()
        .filter(|(i, o)| {
            o.name.is_empty()
                || o.origin().is_some()
                || best.get(&key(o)).is_none_or(|&(_, b)| b == *i)
        })
        .map(|(_, o)| o)
        .collect()
}

/// Merges the findings of every world into one list (catalog §0.4):
/// - a finding on an object several worlds share is reported once;
/// - among worlds that differ only by alternative files in one directory, a violation holds
///   only if it holds with every alternative; with some, it is undecided and says with which;
/// - across environments (sibling directories), a violation in one is a violation; when not
///   every environment has it, the message names those that do.
fn merge_worlds(
    worlds: &worlds::Worlds,
    per_world: Vec<Vec<Finding>>,
    containing: &dyn Fn(&Finding) -> Vec<usize>,
) -> Vec<Finding> {
    type FKey = (&'static str, Location, String);
    let n = worlds.worlds.len();
    let mut order: Vec<FKey> = Vec::new();
    let mut seen: HashMap<FKey, (Finding, Vec<bool>, bool)> = HashMap::new();
    for (w, findings) in per_world.into_iter().enumerate() {
        for f in findings {
            let k = (f.code, f.location, f.message.clone());
            let violation = f.outcome == Outcome::Violation;
            match seen.get_mut(&k) {
                Some((first, hit, unknown)) => {
                    if violation {
                        hit[w] = true;
                        if first.outcome != Outcome::Violation {
                            *first = f;
                        }
                    } else {
                        *unknown = true;
                    }
                }
                None => {
                    let mut hit = vec![false; n];
                    hit[w] = violation;
                    order.push(k.clone());
                    seen.insert(k, (f, hit, !violation));
                }
            }
        }
    }
    let mut out = Vec::with_capacity(order.len());
    for k in order {
        let Some((mut f, hit, unknown)) = seen.remove(&k) else {
            continue;
        };
        if !hit.iter().any(|&h| h) {
            if unknown {
                out.push(f);
            }
            continue;
        }
        // The worlds holding the object the finding points into.
        let containing = containing(&f);
        // Suppressions are judged over every world: unused only if unused in all.
        let all_alternatives = f.code == MLN001.code;
        let mut envs: Vec<(&Vec<String>, Vec<usize>)> = Vec::new();
        for &w in &containing {
            let env = &worlds.worlds[w].env;
            let env = if all_alternatives {
                &worlds.worlds[0].env
            } else {
                env
            };
            match envs.iter_mut().find(|(e, _)| *e == env) {
                Some((_, ws)) => ws.push(w),
                None => envs.push((env, vec![w])),
            }
        }
        let full: Vec<&Vec<String>> = envs
            .iter()
            .filter(|(_, ws)| ws.iter().all(|&w| hit[w]))
            .map(|(e, _)| *e)
            .collect();
        if !full.is_empty() {
            if full.len() < envs.len() && !all_alternatives {
                let names = |es: &[&Vec<String>]| {
                    es.iter()
                        .map(|e| e.join(" + "))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let rest: Vec<&Vec<String>> = envs
                    .iter()
                    .map(|(e, _)| *e)
                    .filter(|e| !full.contains(e))
                    .collect();
                f.message = format!(
                    "{} (in {}; not in {})",
                    f.message,
                    names(&full),
                    names(&rest)
                );
            }
            out.push(f);
        } else if !all_alternatives {
            let with: Vec<String> = containing
                .iter()
                .filter(|&&w| hit[w])
                .map(|&w| worlds.worlds[w].alternatives.join(" + "))
                .take(3)
                .collect();
            let without: Vec<String> = containing
                .iter()
                .filter(|&&w| !hit[w])
                .map(|&w| worlds.worlds[w].alternatives.join(" + "))
                .take(3)
                .collect();
            f.outcome = Outcome::Unknown;
            f.message = format!(
                "{} (only with the alternative {}, not with {}: undecided until one of them is chosen)",
                f.message,
                with.join(", "),
                without.join(", ")
            );
            out.push(f);
        }
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
