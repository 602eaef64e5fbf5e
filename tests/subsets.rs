//! Removing documents never adds an error (catalog §0.4): for every fixture set (each file
//! directly under `fixtures/<CODE>/`, each subfolder as one set) with at most 12 documents, every
//! subset of its documents is linted (same file paths, each file holding only its chosen
//! documents), and no subset may have an error-level violation that the whole set does not
//! have, unless a removed document is a declared mitigation of that rule. `fixtures/examples`
//! has too many documents for that: there all subsets of size n-1 and n-2 and a seeded random
//! sample (about 3000 in all) are linted.
//!
//! A removed document is replaced by as many empty lines as it had, so that every remaining
//! document keeps its lines and columns and findings compare as (code, path, line, column).
//! Two documents of one file that define the same object (the later one wins, catalog §0.4)
//! are removed together: removing only the later would expose the earlier, an edit rather than
//! a removal.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

mod common;
use common::{Rng, fixtures_root, group_kind, metadata_field};

use meshlint::finding::{Outcome, Severity};
use meshlint::lint::{self, Settings};
use meshlint::load::files;
use meshlint::source::{SourceFile, Sources};

/// Rule codes → the `group/Kind`s whose removal may legitimately add that rule's finding.
fn mitigations(code: &str) -> &'static [&'static str] {
    meshlint::rules::registry::find(code).map_or(&[], |r| r.mitigations)
}

// ---------------------------------------------------------------------------------------------
// Loading (as tests/fixtures.rs does)

/// The files of a set as `(display path, text)`, in discovery order.
fn load(path: &Path) -> Vec<(String, String)> {
    let found = files::discover(&[path.to_string_lossy().into_owned()], "<stdin>");
    assert!(found.errors.is_empty(), "{:?}", found.errors);
    found.inputs.into_iter().map(|i| (i.path, i.text)).collect()
}

/// Every lint set of the fixtures (see [`common::fixture_set_paths`]).
fn fixture_sets() -> Vec<PathBuf> {
    common::fixture_set_paths()
}

// ---------------------------------------------------------------------------------------------
// Documents

/// One document of a set: a run of lines between lines that are exactly `---`, holding
/// something other than blank lines and comments.
struct Doc {
    file: usize,
    /// Indices into the file's lines.
    lines: std::ops::Range<usize>,
    /// 1-based line of its first non-blank line, for messages.
    line: usize,
    /// `group/Kind` from its top-level `apiVersion:` and `kind:` (core group as `/Kind`).
    group_kind: String,
    namespace: String,
    name: String,
}

struct Split {
    paths: Vec<String>,
    /// Each file's lines, with their line ends.
    lines: Vec<Vec<String>>,
    docs: Vec<Doc>,
    /// What is removed together: the documents of one file that define the same object (the
    /// later one wins, so removing only it would expose the other), else single documents.
    units: Vec<Vec<usize>>,
}

fn is_separator(line: &str) -> bool {
    line.trim_end_matches(['\n', '\r']) == "---"
}

fn split(files: &[(String, String)]) -> Split {
    let mut out = Split {
        paths: Vec::new(),
        lines: Vec::new(),
        docs: Vec::new(),
        units: Vec::new(),
    };
    for (fi, (path, text)) in files.iter().enumerate() {
        let lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
        let mut start = 0;
        for i in 0..=lines.len() {
            if i == lines.len() || is_separator(&lines[i]) {
                let body = &lines[start..i];
                let content = body.iter().position(|l| {
                    let t = l.trim();
                    !t.is_empty() && !t.starts_with('#')
                });
                if let Some(first) = content {
                    out.docs.push(Doc {
                        file: fi,
                        lines: start..i,
                        line: start + first + 1,
                        group_kind: group_kind(body),
                        namespace: metadata_field(body, "namespace"),
                        name: metadata_field(body, "name"),
                    });
                }
                start = i + 1;
            }
        }
        out.paths.push(path.clone());
        out.lines.push(lines);
    }
    for (i, d) in out.docs.iter().enumerate() {
        let same = |u: &Vec<usize>| {
            let e = &out.docs[u[0]];
            !d.name.is_empty()
                && (&e.group_kind, &e.namespace, &e.name) == (&d.group_kind, &d.namespace, &d.name)
        };
        match out.units.iter().position(same) {
            Some(u) => out.units[u].push(i),
            None => out.units.push(vec![i]),
        }
    }
    out
}

impl Split {
    /// A keep mask over documents from one over units.
    fn docs_kept(&self, units: &[bool]) -> Vec<bool> {
        let mut keep = vec![true; self.docs.len()];
        for (u, k) in self.units.iter().zip(units) {
            for &d in u {
                keep[d] = *k;
            }
        }
        keep
    }

    /// The set with only the documents where `keep` is true; the others become empty lines.
    fn sources(&self, keep: &[bool]) -> Sources {
        let mut lines = self.lines.clone();
        for (d, _) in self.docs.iter().zip(keep).filter(|(_, k)| !**k) {
            for l in &mut lines[d.file][d.lines.clone()] {
                let end = l.len() - l.trim_end_matches(['\n', '\r']).len();
                *l = l[l.len() - end..].to_string();
            }
        }
        let mut sources = Sources::default();
        for (path, lines) in self.paths.iter().zip(lines) {
            sources.add(SourceFile::new(path.clone(), lines.concat()));
        }
        sources
    }

    /// A unit as `path:line Kind name` (with `×2` when it is two definitions).
    fn describe(&self, unit: usize, root: &str) -> String {
        let u = &self.units[unit];
        let d = &self.docs[u[0]];
        let path = self.paths[d.file]
            .strip_prefix(root)
            .unwrap_or(&self.paths[d.file]);
        let kind = d.group_kind.rsplit('/').next().unwrap_or("");
        let times = if u.len() > 1 {
            format!(" ×{}", u.len())
        } else {
            String::new()
        };
        format!("{path}:{} {kind} {}{times}", d.line, d.name)
    }
}

/// Where an error-level violation is: (code, path, line, column).
type ErrorKey = (&'static str, String, u32, u32);
/// Error-level violations and their messages.
type Errors = BTreeMap<ErrorKey, String>;

fn errors(sources: &Sources) -> Errors {
    lint::run(sources, &Settings::default())
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error && f.outcome == Outcome::Violation)
        .map(|f| {
            let file = sources.get(f.location.file);
            let lc = file.line_col(f.location.span.start);
            (
                (f.code, file.path.clone(), lc.line, lc.column),
                f.message.clone(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The check

/// A new error, with the smallest removal that produced it and how many subsets did.
struct Failure {
    removed: Vec<usize>,
    message: String,
    subsets: usize,
}

/// Lints every subset given by `subsets` (each a keep mask over units) and collects new errors by set and
/// finding.
struct Checker<'a> {
    root: &'a str,
    failures: BTreeMap<(String, ErrorKey), Failure>,
    failing_subsets: BTreeMap<String, (usize, usize)>,
}

impl<'a> Checker<'a> {
    fn check(&mut self, name: &str, split: &Split, subsets: impl Iterator<Item = Vec<bool>>) {
        let whole = errors(&split.sources(&vec![true; split.docs.len()]));
        let (mut tried, mut failed) = (0, 0);
        for keep in subsets {
            tried += 1;
            let removed: Vec<usize> = (0..keep.len()).filter(|&i| !keep[i]).collect();
            let removed_kinds: BTreeSet<&str> = removed
                .iter()
                .flat_map(|&u| &split.units[u])
                .map(|&i| split.docs[i].group_kind.as_str())
                .collect();
            let mut any = false;
            for (key, message) in errors(&split.sources(&split.docs_kept(&keep))) {
                if whole.contains_key(&key)
                    || mitigations(key.0).iter().any(|m| removed_kinds.contains(m))
                {
                    continue;
                }
                any = true;
                let entry = self
                    .failures
                    .entry((name.to_string(), key))
                    .or_insert_with(|| Failure {
                        removed: removed.clone(),
                        message,
                        subsets: 0,
                    });
                entry.subsets += 1;
                if removed.len() < entry.removed.len() {
                    entry.removed = removed.clone();
                }
            }
            failed += usize::from(any);
        }
        if failed > 0 {
            self.failing_subsets
                .insert(name.to_string(), (failed, tried));
        }
    }

    fn report(&self, splits: &BTreeMap<String, Split>) -> Option<String> {
        if self.failures.is_empty() {
            return None;
        }
        let mut by_code: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, key) in self.failures.keys() {
            *by_code.entry(key.0).or_default() += 1;
        }
        let mut out = format!(
            "{} new error(s) in {} set(s) when documents are removed; by rule: {}\n",
            self.failures.len(),
            self.failing_subsets.len(),
            by_code
                .iter()
                .map(|(c, n)| format!("{c} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for (set, (failed, tried)) in &self.failing_subsets {
            if set.starts_with("examples") {
                out.push_str(&format!(
                    "{set}: {failed} of {tried} subsets have an error the whole set has not\n"
                ));
            }
        }
        const MAX: usize = 30;
        for ((set, (code, path, line, col)), f) in self.failures.iter().take(MAX) {
            let split = &splits[set];
            let path = path.strip_prefix(self.root).unwrap_or(path);
            let removed: Vec<String> = f
                .removed
                .iter()
                .map(|&i| split.describe(i, self.root))
                .collect();
            let mut message: String = f.message.chars().take(90).collect();
            if message.len() < f.message.len() {
                message.push('…');
            }
            out.push_str(&format!(
                "{set}: +{code} at {path}:{line}:{col} ({} subsets) removing [{}]: {message}\n",
                f.subsets,
                removed.join("; ")
            ));
        }
        if self.failures.len() > MAX {
            out.push_str(&format!("… and {} more\n", self.failures.len() - MAX));
        }
        Some(out)
    }
}

/// All subsets of sizes n-1 and n-2, then random ones (each document kept with a probability
/// drawn per subset) until `budget` distinct subsets are reached.
fn sampled_subsets(n: usize, budget: usize, seed: u64) -> Vec<Vec<bool>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut push = |keep: Vec<bool>, out: &mut Vec<Vec<bool>>| {
        if keep.contains(&false) && seen.insert(keep.clone()) {
            out.push(keep);
        }
    };
    for i in 0..n {
        let mut keep = vec![true; n];
        keep[i] = false;
        push(keep, &mut out);
    }
    for i in 0..n {
        for j in i + 1..n {
            let mut keep = vec![true; n];
            keep[i] = false;
            keep[j] = false;
            push(keep, &mut out);
        }
    }
    let mut rng = Rng(seed);
    let mut attempts = 0;
    while out.len() < budget && attempts < budget * 10 {
        attempts += 1;
        let p = [25u64, 50, 75, 90][(rng.next() % 4) as usize];
        let keep: Vec<bool> = (0..n).map(|_| rng.next() % 100 < p).collect();
        push(keep, &mut out);
    }
    out
}

fn all_subsets(n: usize) -> impl Iterator<Item = Vec<bool>> {
    // The whole set itself is skipped: it is the reference.
    (0..(1u32 << n) - 1).map(move |m| (0..n).map(|i| m & (1 << i) != 0).collect())
}

#[test]
fn removing_documents_never_adds_an_error() {
    let root_path = fixtures_root();
    let root = format!("{}/", root_path.to_string_lossy());
    let mut checker = Checker {
        root: &root,
        failures: BTreeMap::new(),
        failing_subsets: BTreeMap::new(),
    };
    let mut splits = BTreeMap::new();
    let sets = fixture_sets();
    assert!(sets.len() > 12, "fixtures not found");
    let (mut checked, mut skipped) = (0, Vec::new());
    for set in sets {
        let name = set
            .strip_prefix(&root_path)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let split = split(&load(&set));
        let n = split.units.len();
        if n > 12 {
            skipped.push(name);
            continue;
        }
        checked += 1;
        checker.check(&name, &split, all_subsets(n));
        splits.insert(name, split);
    }

    let examples = split(&load(&root_path.join("examples")));
    let n = examples.units.len();
    assert!(n > 12, "fixtures/examples has only {n} documents");
    checker.check(
        "examples",
        &examples,
        sampled_subsets(n, 3000, 0x6d65_7368_6c69_6e74).into_iter(),
    );
    splits.insert("examples".to_string(), examples);

    eprintln!(
        "checked every subset of {checked} fixture sets and a sample of fixtures/examples; \
         skipped (more than 12 documents): {skipped:?}"
    );
    if let Some(report) = checker.report(&splits) {
        panic!("\n{report}");
    }
}

#[test]
fn document_split_and_blanking_keep_positions() {
    let files = vec![(
        "a.yaml".to_string(),
        "# head\r\n---\r\napiVersion: networking.istio.io/v1\r\nkind: Gateway\r\nmetadata:\r\n  \
         name: gw\r\n---\r\n# only a comment\r\n---\r\napiVersion: v1\r\nkind: ConfigMap\r\n\
         metadata: {name: cm, namespace: x}\r\n"
            .to_string(),
    )];
    let s = split(&files);
    let kinds: Vec<(&str, &str, &str, usize)> = s
        .docs
        .iter()
        .map(|d| {
            let ns = d.namespace.as_str();
            (d.group_kind.as_str(), ns, d.name.as_str(), d.line)
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("networking.istio.io/Gateway", "", "gw", 3),
            ("/ConfigMap", "x", "cm", 10)
        ]
    );
    assert_eq!(s.units, [vec![0], vec![1]]);
    let twice = vec![(
        "b.yaml".to_string(),
        "kind: A\nmetadata:\n  name: a\n---\nkind: B\nmetadata:\n  name: a\n---\n\
         kind: A\nmetadata:\n  name: a\n"
            .to_string(),
    )];
    assert_eq!(split(&twice).units, [vec![0, 2], vec![1]]);
    let text = &s.sources(&[false, true]).files[0].text;
    assert_eq!(
        text,
        "# head\r\n---\r\n\r\n\r\n\r\n\r\n---\r\n# only a comment\r\n---\r\napiVersion: v1\r\n\
         kind: ConfigMap\r\nmetadata: {name: cm, namespace: x}\r\n"
    );
    assert_eq!(text.lines().count(), files[0].1.lines().count());
    assert_eq!(all_subsets(3).count(), 7);
    let sample = sampled_subsets(20, 300, 1);
    assert_eq!(sample.len(), 300);
    assert!(sample.iter().all(|k| k.len() == 20 && k.contains(&false)));
}
