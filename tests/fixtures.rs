//! Runs every fixture under `fixtures/<CODE>/` in both reference modes (catalog §0.4) and
//! requires exactly the findings marked inline, on the line they point at:
//! - `# expect: CODE[, CODE…]`: a violation in both modes;
//! - `# expect-open: CODE`: a violation only in the default open world;
//! - `# expect-closed: CODE`: a violation only with `--closed-world`;
//! - `# expect-unknown: CODE`: undecided in the open world (what it becomes in a closed world is
//!   marked separately, usually with `expect-closed`).
//!
//! Each file directly in a rule folder is linted on its own; each subfolder is linted as one
//! set of files.

mod common;
use common::fixtures_root;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use meshlint::finding::Finding;
use meshlint::lint::{self, Settings};
use meshlint::load::files;
use meshlint::rules::registry;
use meshlint::source::{SourceFile, Sources};

type Marks = BTreeSet<(String, u32, String)>;

#[derive(Default)]
struct Expected {
    both: Marks,
    open: Marks,
    closed: Marks,
    unknown: Marks,
}

/// Parses the expectation markers of a set of sources.
fn expected(sources: &Sources) -> Expected {
    let mut e = Expected::default();
    for f in &sources.files {
        for (i, line) in f.text.lines().enumerate() {
            for (marker, set) in [
                ("# expect-unknown:", &mut e.unknown),
                ("# expect-open:", &mut e.open),
                ("# expect-closed:", &mut e.closed),
                ("# expect:", &mut e.both),
            ] {
                if let Some(pos) = line.find(marker) {
                    let codes = &line[pos + marker.len()..];
                    let codes = codes.split('#').next().unwrap_or("");
                    for code in codes.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                        set.insert((f.path.clone(), i as u32 + 1, code.to_string()));
                    }
                }
            }
        }
    }
    e
}

fn actual(sources: &Sources, findings: &[Finding]) -> Marks {
    findings
        .iter()
        .map(|f| {
            let file = sources.get(f.location.file);
            let lc = file.line_col(f.location.span.start);
            (file.path.clone(), lc.line, f.code.to_string())
        })
        .collect()
}

fn load(path: &Path) -> Sources {
    let found = files::discover(&[path.to_string_lossy().into_owned()], "<stdin>");
    assert!(found.errors.is_empty(), "{:?}", found.errors);
    let mut sources = Sources::default();
    for i in found.inputs {
        sources.add(SourceFile::new(i.path, i.text));
    }
    sources
}

/// Every lint set: the files and subfolders of `fixtures/<CODE>/`, then `fixtures/repos/*/`.
fn fixture_sets() -> Vec<PathBuf> {
    common::fixture_set_paths()
}

#[test]
fn every_fixture_yields_exactly_its_marked_findings() {
    let mut failures = Vec::new();
    let sets = fixture_sets();
    assert!(sets.len() > 12, "fixtures not found");
    for set in sets {
        let sources = load(&set);
        let want = expected(&sources);
        let open = lint::run(&sources, &Settings::default());
        let closed = lint::run(
            &sources,
            &Settings {
                closed_world: true,
                ..Settings::default()
            },
        );
        let open_v: Marks = want.both.union(&want.open).cloned().collect();
        let closed_v: Marks = want.both.union(&want.closed).cloned().collect();
        let checks = [
            ("violation", open_v, actual(&sources, &open.findings)),
            ("unknown", want.unknown, actual(&sources, &open.unknown)),
            (
                "closed-world violation",
                closed_v,
                actual(&sources, &closed.findings),
            ),
        ];
        for (kind, want, got) in checks {
            for m in got.difference(&want) {
                failures.push(format!("unexpected {kind} {} at {}:{}", m.2, m.0, m.1));
            }
            for m in want.difference(&got) {
                failures.push(format!("missing {kind} {} at {}:{}", m.2, m.0, m.1));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_rule_has_a_bad_fixture_that_fires_and_a_good_one() {
    for rule in registry::ALL {
        let dir = fixtures_root().join(rule.code);
        let bad = dir.join("bad.yaml");
        let good = dir.join("good.yaml");
        assert!(
            bad.is_file(),
            "{} has no fixtures/{}/bad.yaml",
            rule.code,
            rule.code
        );
        assert!(
            good.is_file(),
            "{} has no fixtures/{}/good.yaml",
            rule.code,
            rule.code
        );
        let sources = load(&bad);
        let out = lint::run(&sources, &Settings::default());
        assert!(
            out.findings.iter().any(|f| f.code == rule.code),
            "{}/bad.yaml does not trigger {}",
            rule.code,
            rule.code
        );
        let sources = load(&good);
        let out = lint::run(&sources, &Settings::default());
        assert!(
            !out.findings.iter().any(|f| f.code == rule.code),
            "{}/good.yaml triggers {}",
            rule.code,
            rule.code
        );
    }
}
