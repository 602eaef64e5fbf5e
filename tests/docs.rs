//! `docs/rules/` is generated from each rule's own documentation; this test fails when a page
//! is stale. Regenerate with: `UPDATE_DOCS=1 cargo test --test docs`.

use std::collections::BTreeSet;
use std::path::Path;

use meshlint::rules::{doc_index, doc_page, registry};

#[test]
fn rule_docs_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules");
    let update = std::env::var_os("UPDATE_DOCS").is_some();
    let mut pages: Vec<(String, String)> = registry::ALL
        .iter()
        .map(|r| (format!("{}.md", r.id), doc_page(r)))
        .collect();
    pages.push(("README.md".into(), doc_index()));
    if update {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let mut stale = Vec::new();
    for (name, want) in &pages {
        let path = dir.join(name);
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have != *want {
            if update {
                std::fs::write(&path, want).unwrap();
            } else {
                stale.push(name.clone());
            }
        }
    }
    let expected: BTreeSet<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
    let extra: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !expected.contains(n.as_str()))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        stale.is_empty() && extra.is_empty(),
        "docs/rules is stale (stale: {stale:?}, not a rule: {extra:?}); regenerate with `UPDATE_DOCS=1 cargo test --test docs`"
    );
}

#[test]
fn every_rule_is_documented_and_unique() {
    let mut codes = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for r in registry::ALL {
        assert!(codes.insert(r.code), "duplicate code {}", r.code);
        assert!(ids.insert(r.id), "duplicate id {}", r.id);
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## Use instead",
        ] {
            assert!(r.docs.contains(section), "{} docs lack `{section}`", r.code);
        }
        assert!(
            !r.docs.contains("TODO"),
            "{} docs are a placeholder",
            r.code
        );
        assert!(!r.summary.is_empty());
    }
}
