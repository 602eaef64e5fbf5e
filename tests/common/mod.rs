//! Helpers shared by the test binaries that walk the fixture sets or scan documents:
//! which sets exist, and a tiny scan of a document's identity that needs no YAML parser (so
//! that tests can cut and recombine documents without trusting the code under test).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use meshlint::rules::registry;

pub fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every lint set of the fixtures: the single files and subfolders of each `fixtures/<CODE>/`
/// (registered codes only), then each `fixtures/repos/<set>/`.
pub fn fixture_set_paths() -> Vec<PathBuf> {
    let root = fixtures_root();
    let mut sets = Vec::new();
    let mut rule_dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .is_some_and(|n| registry::find(&n.to_string_lossy()).is_some())
        })
        .collect();
    rule_dirs.sort();
    for dir in rule_dirs {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("rule fixture dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_dir()
                    || p.extension()
                        .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            })
            .collect();
        entries.sort();
        sets.extend(entries);
    }
    let mut repos: Vec<PathBuf> = std::fs::read_dir(root.join("repos"))
        .expect("fixtures/repos/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    repos.sort();
    sets.extend(repos);
    sets
}

/// A tiny scan of a document's top-level `apiVersion:` and `kind:` (JSON: the first
/// `"apiVersion"` and `"kind"`): `group/Kind`, the core group as `/Kind`.
pub fn group_kind(body: &[String]) -> String {
    let top = |key: &str| -> String {
        let yaml = body.iter().find_map(|l| {
            let v = l.strip_prefix(key)?.strip_prefix(':')?;
            let v = v.split(" #").next().unwrap_or("").trim();
            Some(v.trim_matches(|c| c == '"' || c == '\'').to_string())
        });
        yaml.or_else(|| json_field(body, key)).unwrap_or_default()
    };
    let api = top("apiVersion");
    let group = api.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    format!("{group}/{}", top("kind"))
}

/// The first `"key": "value"` of a JSON document.
pub fn json_field(body: &[String], key: &str) -> Option<String> {
    let pat = format!("\"{key}\"");
    body.iter().find_map(|l| {
        let rest = &l[l.find(&pat)? + pat.len()..];
        let rest = rest.trim_start().strip_prefix(':')?.trim_start();
        let rest = rest.strip_prefix('"')?;
        Some(rest[..rest.find('"')?].to_string())
    })
}

/// `metadata.<key>` from a tiny scan: block style (`metadata:` then `  key: v`), flow style
/// (`metadata: {key: v, …}`) or JSON; empty when not found.
pub fn metadata_field(body: &[String], key: &str) -> String {
    let clean = |v: &str| {
        let v = v.split(" #").next().unwrap_or("").trim();
        v.trim_matches(|c| c == '"' || c == '\'').to_string()
    };
    let pat = format!("{key}:");
    let mut in_meta = false;
    for l in body {
        let l = l.trim_end_matches(['\n', '\r']);
        if let Some(rest) = l.strip_prefix("metadata:") {
            if rest.trim().is_empty() {
                in_meta = true;
                continue;
            }
            let inner = rest.trim().trim_start_matches('{').trim_end_matches('}');
            return inner
                .split(',')
                .find_map(|e| e.trim().strip_prefix(&pat).map(clean))
                .unwrap_or_default();
        } else if in_meta {
            if !l.starts_with([' ', '\t']) && !l.trim().is_empty() {
                break;
            }
            let indent = l.len() - l.trim_start().len();
            if indent <= 2
                && let Some(v) = l.trim_start().strip_prefix(&pat)
            {
                return clean(v);
            }
        }
    }
    json_field(body, key).unwrap_or_default()
}

/// splitmix64: a small deterministic generator for the variations and samples the tests try.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// A permutation of `0..n` (Fisher-Yates).
    pub fn shuffled(&mut self, n: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            v.swap(i, self.below(i + 1));
        }
        v
    }
}
