//! Worlds (catalog §0.4): the linted set split so that no world holds two definitions of one
//! object.
//!
//! In Git, two files that define the same `group/kind/namespace/name` are versions of one
//! object (two environments, the before and after of a sample), never two objects of one
//! cluster. The split is inferred from the directory tree: where definitions of one object sit
//! under sibling entries of their deepest common directory (`envs/dev/…` and `envs/prod/…`,
//! or two alternative files side by side), those entries ("branches") exclude each other;
//! everything outside them is shared by every world. `sets:` in the config declares
//! top-level worlds explicitly.
//!
//! The partition is a pure function of the file paths and the object keys each file defines,
//! computed before any rule runs. Its cost is linear in the definitions when nothing is
//! defined twice (the common case: one world, no extra work).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::Hash;

/// At most this many worlds; past it, remaining duplicates keep their last definition by path
/// (and a notice says so).
pub const MAX_WORLDS: usize = 256;
/// Directory names that hold layers every environment shares, never an environment.
const SHARED_DIRS: &[&str] = &[
    "base",
    "bases",
    "common",
    "shared",
    "global",
    "crds",
    "components",
    "lib",
    "library",
    "defaults",
];
/// Definitions of one key considered when building the exclusion graph.
const MAX_DEFS_PER_KEY: usize = 64;

/// How a split separates its branches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitKind {
    /// Sibling directories (environments): a finding in one of them is a finding.
    Directory,
    /// Alternative files in one directory (versions of a sample): a finding that holds for
    /// some alternatives only is undecided.
    Alternative,
}

/// One world: the files it holds, and how it was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct World {
    /// `files[i]` is true when file `i` belongs to this world.
    pub files: Vec<bool>,
    /// Definitions left out although their file belongs: `(file, key)` of objects that an
    /// alternative file of this world defines instead. An alternative file is excluded object
    /// by object, so that its other objects stay shared (removing the conflicting document
    /// then changes nothing else).
    pub excluded: BTreeSet<(usize, String)>,
    /// The directory-split choices that made this world (`envs/prod`), in split order: worlds
    /// with the same `env` differ only by alternatives.
    pub env: Vec<String>,
    /// The alternative files chosen at alternative splits.
    pub alternatives: Vec<String>,
}

impl World {
    /// A world of `files`, chosen by the directory splits `env` (no alternative yet).
    fn new(files: Vec<bool>, env: Vec<String>) -> World {
        World {
            files,
            excluded: BTreeSet::new(),
            env,
            alternatives: Vec::new(),
        }
    }

    pub fn contains(&self, file: usize) -> bool {
        self.files.get(file).copied().unwrap_or(false)
    }

    /// True if the definition of `key` in `file` belongs to this world.
    pub fn contains_object(&self, file: usize, key: &str) -> bool {
        self.contains(file)
            && (self.excluded.is_empty() || !self.excluded.contains(&(file, key.to_string())))
    }

    /// A short name for notices: the branches chosen, or `all files`.
    pub fn label(&self) -> String {
        let parts: Vec<&str> = self
            .env
            .iter()
            .chain(&self.alternatives)
            .map(String::as_str)
            .collect();
        if parts.is_empty() {
            "all files".to_string()
        } else {
            parts.join(" + ")
        }
    }
}

/// The worlds of a run, and why.
#[derive(Clone, Debug)]
pub struct Worlds {
    pub worlds: Vec<World>,
    /// One line per split: where, which branches, and an object both sides define.
    pub reasons: Vec<String>,
    /// Duplicates left after [`MAX_WORLDS`] was reached (resolved by path order).
    pub capped: bool,
}

impl Worlds {
    /// One world of every file.
    pub fn single(files: usize) -> Worlds {
        Worlds {
            worlds: vec![World::new(vec![true; files], Vec::new())],
            reasons: Vec::new(),
            capped: false,
        }
    }
}

/// A branch of a split: a directory or a file, as a path prefix.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Branch {
    path: String,
    dir: bool,
}

impl Branch {
    fn holds(&self, path: &str) -> bool {
        if self.dir {
            path.len() > self.path.len()
                && path.starts_with(&self.path)
                && path.as_bytes()[self.path.len()] == b'/'
                || self.path.is_empty()
        } else {
            path == self.path
        }
    }
}

/// Normalises a shown path for splitting: `./a/b` → `a/b`, backslashes as slashes.
fn norm(path: &str) -> String {
    let p = path.replace('\\', "/");
    let mut s = p.as_str();
    while let Some(rest) = s.strip_prefix("./") {
        s = rest;
    }
    s.trim_start_matches('/').to_string()
}

/// The deepest common directory of `paths` (components joined with `/`, `""` for the root)
/// and each path's branch below it.
fn split_point(paths: &[&str]) -> (String, Vec<Branch>) {
    let comps: Vec<Vec<&str>> = paths.iter().map(|p| p.split('/').collect()).collect();
    // Common prefix of the parent directories.
    let mut common = 0;
    if let Some(first) = comps.first() {
        while common + 1 < first.len()
            && comps
                .iter()
                .all(|p| common + 1 < p.len() && p[common] == first[common])
        {
            common += 1;
        }
    }
    let dir = comps
        .first()
        .map(|c| c[..common].join("/"))
        .unwrap_or_default();
    let branches = comps
        .iter()
        .map(|c| Branch {
            path: c[..=common.min(c.len() - 1)].join("/"),
            dir: c.len() > common + 1,
        })
        .collect();
    (dir, branches)
}

/// Splits the files into worlds.
///
/// `paths[i]` is file `i`'s path as shown; `defs` lists `(key, file)` for every object
/// definition (after same-file duplicates were resolved); `key_text` renders a key for the
/// reasons and the content signatures; `declared` gives, for a path, the declared world root
/// it belongs to (config `sets:`), if any.
pub fn partition<K: Hash + Eq + Ord + Clone>(
    paths: &[String],
    defs: &[(K, usize)],
    key_text: &dyn Fn(&K) -> String,
    declared: &dyn Fn(&str) -> Option<String>,
    content: &dyn Fn(usize) -> Option<u64>,
) -> Worlds {
    let n = paths.len();
    let normed: Vec<String> = paths.iter().map(|p| norm(p)).collect();
    let mut files_of: HashMap<&K, Vec<usize>> = HashMap::new();
    for (k, f) in defs {
        let v = files_of.entry(k).or_default();
        if !v.contains(f) && v.len() < MAX_DEFS_PER_KEY {
            v.push(*f);
        }
    }
    let roots: Vec<Option<String>> = normed.iter().map(|p| declared(p)).collect();
    let any_declared = roots.iter().any(Option::is_some);
    if !any_declared && files_of.values().all(|v| v.len() < 2) {
        return Worlds::single(n);
    }
    // Only keys defined in two files or more can conflict: those, with their text made once,
    // in key order.
    let mut multi: Vec<(&K, String, Vec<usize>)> = files_of
        .into_iter()
        .filter(|(_, fs)| fs.len() > 1)
        .map(|(k, fs)| (k, key_text(k), fs))
        .collect();
    multi.sort_by(|a, b| a.0.cmp(b.0));
    // Keys each file defines, for content signatures.
    let mut keys_of_file: Vec<Vec<String>> = vec![Vec::new(); n];
    for (k, f) in defs {
        if let Some(v) = keys_of_file.get_mut(*f) {
            v.push(key_text(k));
        }
    }
    for v in &mut keys_of_file {
        v.sort();
    }

    let mut reasons = Vec::new();
    let mut pending: Vec<World> = Vec::new();
    if any_declared {
        // Declared sets first: one world per declared root, sharing the undeclared files.
        let declared_roots: BTreeSet<&String> = roots.iter().flatten().collect();
        for root in &declared_roots {
            let files = (0..n)
                .map(|f| roots[f].as_ref().is_none_or(|r| r == *root))
                .collect();
            pending.push(World::new(files, vec![(*root).clone()]));
        }
        reasons.push(format!(
            "declared in the config (`sets:`): {}",
            declared_roots
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    } else {
        pending.push(World::new(vec![true; n], Vec::new()));
    }

    let mut done: Vec<World> = Vec::new();
    let mut capped = false;
    let mut seen_reasons: BTreeSet<String> = BTreeSet::new();
    // Each round removes every conflict whose split point is outermost, so rounds are
    // bounded by the path depth; the guard bounds them regardless.
    let mut rounds = 0;
    while let Some(w) = pending.pop() {
        rounds += 1;
        // Conflicts inside this world, grouped by split point.
        let mut by_dir: BTreeMap<String, Vec<(Vec<Branch>, String)>> = BTreeMap::new();
        let conflict_keys: Vec<(&str, Vec<usize>)> = multi
            .iter()
            .filter_map(|(_, text, fs)| {
                let inside: Vec<usize> = fs
                    .iter()
                    .copied()
                    .filter(|&f| w.contains_object(f, text))
                    .collect();
                (inside.len() > 1).then_some((text.as_str(), inside))
            })
            .collect();
        if conflict_keys.is_empty() {
            done.push(w);
            continue;
        }
        // A shared layer (`base/`, `common/` …) that defines an object a sibling directory
        // defines too is overridden there, as an overlay overrides its base: the shared
        // definition leaves this world, the layer itself stays shared.
        let mut w = w;
        let mut overridden = false;
        for (k, fs) in &conflict_keys {
            let ps: Vec<&str> = fs.iter().map(|&f| normed[f].as_str()).collect();
            let (_, branches) = split_point(&ps);
            let shared = |b: &Branch| {
                b.dir
                    && b.path
                        .rsplit('/')
                        .next()
                        .is_some_and(|last| SHARED_DIRS.contains(&last))
            };
            if branches.iter().any(shared) && !branches.iter().all(shared) {
                for (&f, b) in fs.iter().zip(&branches) {
                    if shared(b) {
                        w.excluded.insert((f, k.to_string()));
                        overridden = true;
                    }
                }
            }
        }
        if overridden {
            pending.push(w);
            continue;
        }
        if done.len() + pending.len() + 1 >= MAX_WORLDS || rounds > 4 * MAX_WORLDS {
            capped = true;
            done.push(w);
            continue;
        }
        for (k, fs) in &conflict_keys {
            let ps: Vec<&str> = fs.iter().map(|&f| normed[f].as_str()).collect();
            let (dir, branches) = split_point(&ps);
            by_dir
                .entry(dir)
                .or_default()
                .push((branches, k.to_string()));
        }
        // Outermost split points: not inside a directory branch of another split point.
        let dirs: Vec<&String> = by_dir.keys().collect();
        let dir_split =
            |cs: &Vec<(Vec<Branch>, String)>| cs.iter().all(|(bs, _)| bs.iter().all(|b| b.dir));
        // Below an environment split, every non-shared child directory is a branch.
        let below_dir_split = |d: &str| {
            by_dir.iter().any(|(other, cs)| {
                if other == d || !dir_split(cs) {
                    return false;
                }
                let rest = if other.is_empty() {
                    Some(d)
                } else {
                    d.strip_prefix(other.as_str())
                        .and_then(|r| r.strip_prefix('/'))
                };
                rest.and_then(|r| r.split('/').next())
                    .is_some_and(|child| !child.is_empty() && !SHARED_DIRS.contains(&child))
            })
        };
        let nested = |d: &str| {
            below_dir_split(d)
                || by_dir.iter().any(|(other, cs)| {
                    other != d
                        && cs
                            .iter()
                            .flat_map(|(bs, _)| bs)
                            .any(|b| b.dir && (d == b.path || b.holds(d)))
                })
        };
        let outer: Vec<&String> = dirs.iter().copied().filter(|d| !nested(d)).collect();
        let outer = if outer.is_empty() {
            dirs[..1].to_vec()
        } else {
            outer
        };

        // For each outermost split point: the branch classes that can coexist.
        struct Split {
            classes: Vec<Vec<Branch>>,
            all: Vec<Branch>,
            kind: SplitKind,
            /// The keys defined in more than one branch of this split.
            keys: BTreeSet<String>,
        }
        let mut splits: Vec<Split> = Vec::new();
        for d in outer {
            let conflicts = &by_dir[d];
            let mut nodes: BTreeSet<Branch> = BTreeSet::new();
            let mut edges: BTreeSet<(Branch, Branch)> = BTreeSet::new();
            for (bs, _) in conflicts {
                for (i, a) in bs.iter().enumerate() {
                    nodes.insert(a.clone());
                    for b in &bs[i + 1..] {
                        if a != b {
                            edges.insert((a.clone(), b.clone()));
                            edges.insert((b.clone(), a.clone()));
                        }
                    }
                }
            }
            // Sibling directories of an environment split are environments too, even those
            // that share no object with the others (`envs/staging` beside `envs/dev` and
            // `envs/prod`): each is its own world. Directories named as shared layers
            // (`base/`, `common/` …) and files directly in the split directory stay shared.
            if nodes.iter().all(|b| b.dir) {
                let prefix = if d.is_empty() {
                    String::new()
                } else {
                    format!("{d}/")
                };
                for (f, path) in normed.iter().enumerate() {
                    if !w.files[f] || keys_of_file[f].is_empty() || !path.starts_with(&prefix) {
                        continue;
                    }
                    let rest = &path[prefix.len()..];
                    if let Some((child, _)) = rest.split_once('/')
                        && !SHARED_DIRS.contains(&child)
                    {
                        nodes.insert(Branch {
                            path: format!("{prefix}{child}"),
                            dir: true,
                        });
                    }
                }
                let all: Vec<Branch> = nodes.iter().cloned().collect();
                for (i, a) in all.iter().enumerate() {
                    for b in &all[i + 1..] {
                        edges.insert((a.clone(), b.clone()));
                        edges.insert((b.clone(), a.clone()));
                    }
                }
            }
            let adjacent = |a: &Branch, b: &Branch| edges.contains(&(a.clone(), b.clone()));
            // Order: most conflicts first, then by content (so renaming files does not
            // change the worlds), then by path.
            let mut order: Vec<Branch> = nodes.iter().cloned().collect();
            let degree = |b: &Branch| nodes.iter().filter(|o| adjacent(b, o)).count();
            // A branch's content, independent of its file names: the sorted hashes of its
            // files' text (of the keys they define when no text hash is given).
            let signature = |b: &Branch| {
                let mut hashes: Vec<u64> = (0..n)
                    .filter(|&f| w.files[f] && b.holds(&normed[f]))
                    .map(|f| {
                        content(f).unwrap_or_else(|| {
                            crate::source::fnv_parts(keys_of_file[f].iter().map(String::as_str))
                        })
                    })
                    .collect();
                hashes.sort_unstable();
                hashes
            };
            order.sort_by_cached_key(|b| (std::cmp::Reverse(degree(b)), signature(b), b.clone()));
            let mut colour: Vec<(Branch, usize)> = Vec::new();
            for b in &order {
                let used: BTreeSet<usize> = colour
                    .iter()
                    .filter(|(o, _)| adjacent(b, o))
                    .map(|(_, c)| *c)
                    .collect();
                let c = (0..).find(|c| !used.contains(c)).unwrap_or(0);
                colour.push((b.clone(), c));
            }
            let count = colour.iter().map(|(_, c)| c + 1).max().unwrap_or(0);
            let mut classes: Vec<Vec<Branch>> = (0..count)
                .map(|c| {
                    colour
                        .iter()
                        .filter(|(_, cc)| *cc == c)
                        .map(|(b, _)| b.clone())
                        .collect()
                })
                .collect();
            // Make each class maximal: add every branch that conflicts with none of it.
            for class in &mut classes {
                for b in &order {
                    if !class.contains(b) && !class.iter().any(|m| adjacent(b, m)) {
                        class.push(b.clone());
                    }
                }
                class.sort();
            }
            classes.dedup();
            let kind = if order.iter().all(|b| b.dir) {
                SplitKind::Directory
            } else {
                SplitKind::Alternative
            };
            let example = conflicts
                .first()
                .map(|(_, k)| k.clone())
                .unwrap_or_default();
            let reason = format!(
                "{} `{}`: {} ({} defined in more than one of them)",
                match kind {
                    SplitKind::Directory => "sets under",
                    SplitKind::Alternative => "alternative files in",
                },
                if d.is_empty() { "." } else { d },
                order
                    .iter()
                    .map(|b| b.path.as_str())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", "),
                example
            );
            if seen_reasons.insert(reason.clone()) {
                reasons.push(reason);
            }
            splits.push(Split {
                classes,
                all: order,
                kind,
                keys: conflicts.iter().map(|(_, k)| k.clone()).collect(),
            });
        }
        let k = splits.iter().map(|s| s.classes.len()).max().unwrap_or(1);
        if done.len() + pending.len() + k > MAX_WORLDS {
            // Too many alternatives: lint them together; the engine keeps the last
            // definition of each object by path, and a notice says so.
            capped = true;
            done.push(w);
            continue;
        }
        for j in 0..k {
            let mut child = w.clone();
            for s in &splits {
                let Some(class) = s.classes.get(j).or_else(|| s.classes.last()) else {
                    continue;
                };
                for b in s.all.iter().filter(|b| !class.contains(b)) {
                    for (f, path) in normed.iter().enumerate() {
                        if !child.files[f] || !b.holds(path) {
                            continue;
                        }
                        match s.kind {
                            SplitKind::Directory => child.files[f] = false,
                            SplitKind::Alternative => {
                                for key in keys_of_file[f].iter().filter(|k| s.keys.contains(*k)) {
                                    child.excluded.insert((f, key.clone()));
                                }
                            }
                        }
                    }
                }
                let names = class
                    .iter()
                    .map(|b| b.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                match s.kind {
                    SplitKind::Directory => child.env.push(names),
                    SplitKind::Alternative => child.alternatives.push(names),
                }
            }
            if child != w {
                pending.push(child);
            } else {
                // No progress is possible (should not happen); keep it as it is.
                capped = true;
                done.push(child);
            }
        }
    }
    // Deterministic order, independent of the processing order.
    done.sort_by(|a, b| {
        (&a.env, &a.alternatives, &a.files, &a.excluded).cmp(&(
            &b.env,
            &b.alternatives,
            &b.files,
            &b.excluded,
        ))
    });
    done.dedup();
    Worlds {
        worlds: done,
        reasons,
        capped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(paths: &[&str], defs: &[(&str, usize)]) -> Worlds {
        let paths: Vec<String> = paths.iter().map(|s| s.to_string()).collect();
        let defs: Vec<(String, usize)> = defs.iter().map(|(k, f)| (k.to_string(), *f)).collect();
        partition(&paths, &defs, &|k: &String| k.clone(), &|_| None, &|_| None)
    }

    fn members(w: &Worlds) -> Vec<Vec<usize>> {
        w.worlds
            .iter()
            .map(|w| {
                (0..w.files.len())
                    .filter(|&f| w.files[f] && !w.excluded.iter().any(|(e, _)| *e == f))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn no_duplicates_is_one_world() {
        let w = run(&["a.yaml", "b.yaml"], &[("x", 0), ("y", 1)]);
        assert_eq!(members(&w), vec![vec![0, 1]]);
        assert!(w.reasons.is_empty());
    }

    #[test]
    fn environments_are_sibling_directories_sharing_the_rest() {
        let w = run(
            &[
                "envs/dev/app.yaml",
                "envs/dev/only-dev.yaml",
                "envs/prod/app.yaml",
                "envs/prod/only-prod.yaml",
                "base/gateway.yaml",
            ],
            &[("svc", 0), ("a", 1), ("svc", 2), ("b", 3), ("gw", 4)],
        );
        assert_eq!(members(&w), vec![vec![0, 1, 4], vec![2, 3, 4]]);
        assert_eq!(w.worlds[0].env, vec!["envs/dev".to_string()]);
        assert!(w.worlds[0].alternatives.is_empty());
        assert_eq!(
            w.reasons,
            vec!["sets under `envs`: envs/dev, envs/prod (svc defined in more than one of them)"]
        );
    }

    #[test]
    fn alternative_files_exclude_only_each_other() {
        // bookinfo-style: vs-all and vs-50 define `reviews`, dr-all and dr-mtls define `dr`.
        let w = run(
            &[
                "net/dr-all.yaml",
                "net/dr-mtls.yaml",
                "net/gateway.yaml",
                "net/vs-50.yaml",
                "net/vs-all.yaml",
            ],
            &[("dr", 0), ("dr", 1), ("gw", 2), ("vs", 3), ("vs", 4)],
        );
        let m = members(&w);
        assert_eq!(m.len(), 2, "{m:?}");
        for world in &m {
            assert!(world.contains(&2), "the shared gateway is in every world");
            assert_eq!(world.iter().filter(|f| [0, 1].contains(f)).count(), 1);
            assert_eq!(world.iter().filter(|f| [3, 4].contains(f)).count(), 1);
        }
        assert!(w.worlds.iter().all(|w| w.env.is_empty()));
    }

    #[test]
    fn nested_splits_expand_only_inside_their_branch() {
        let w = run(
            &[
                "envs/dev/vs.yaml",
                "envs/prod/vs.yaml",
                "envs/prod/alt/a.yaml",
                "envs/prod/alt/b.yaml",
            ],
            &[("vs", 0), ("vs", 1), ("x", 2), ("x", 3)],
        );
        assert_eq!(members(&w), vec![vec![0], vec![1, 2], vec![1, 3]]);
    }

    #[test]
    fn sibling_environments_are_worlds_even_without_shared_names() {
        let w = run(
            &[
                "envs/dev/a.yaml",
                "envs/prod/a.yaml",
                "envs/staging/b.yaml",
                "envs/base/gw.yaml",
                "envs/notes.yaml",
            ],
            &[("a", 0), ("a", 1), ("b", 2), ("gw", 3), ("n", 4)],
        );
        assert_eq!(
            members(&w),
            vec![vec![0, 3, 4], vec![1, 3, 4], vec![2, 3, 4]]
        );
    }

    #[test]
    fn a_shared_layer_is_overridden_not_split() {
        let w = run(
            &[
                "docs/shared/vs.yaml",
                "docs/guide/vs.yaml",
                "docs/shared/gw.yaml",
            ],
            &[("vs", 0), ("vs", 1), ("gw", 2)],
        );
        assert_eq!(w.worlds.len(), 1);
        let world = &w.worlds[0];
        assert!(!world.contains_object(0, "vs"));
        assert!(world.contains_object(1, "vs"));
        assert!(world.contains_object(2, "gw"));
    }

    #[test]
    fn an_alternative_file_is_excluded_object_by_object() {
        // a.yaml and b.yaml both define `vs`; b.yaml also holds `extra`, which no other
        // file defines: it stays in every world.
        let w = run(
            &["n/a.yaml", "n/b.yaml"],
            &[("vs", 0), ("vs", 1), ("extra", 1)],
        );
        assert_eq!(w.worlds.len(), 2);
        for world in &w.worlds {
            assert!(world.contains_object(1, "extra"));
            assert_ne!(
                world.contains_object(0, "vs"),
                world.contains_object(1, "vs")
            );
        }
    }

    #[test]
    fn renaming_files_keeps_the_partition_shape() {
        let a = run(
            &["n/a.yaml", "n/b.yaml", "n/c.yaml"],
            &[("vs", 0), ("vs", 1), ("dr", 1), ("dr", 2)],
        );
        let b = run(
            &["n/z.yaml", "n/y.yaml", "n/x.yaml"],
            &[("vs", 0), ("vs", 1), ("dr", 1), ("dr", 2)],
        );
        let mut ma = members(&a);
        let mut mb = members(&b);
        ma.sort();
        mb.sort();
        assert_eq!(ma, mb);
    }

    #[test]
    fn declared_sets_override_inference() {
        let paths: Vec<String> = ["clusters/a/x.yaml", "clusters/b/y.yaml", "common/z.yaml"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let defs = vec![
            ("x".to_string(), 0),
            ("y".to_string(), 1),
            ("z".to_string(), 2),
        ];
        let w = partition(
            &paths,
            &defs,
            &|k: &String| k.clone(),
            &|p: &str| {
                p.strip_prefix("clusters/")
                    .and_then(|r| r.split('/').next())
                    .map(|c| format!("clusters/{c}"))
            },
            &|_| None,
        );
        assert_eq!(members(&w), vec![vec![0, 2], vec![1, 2]]);
    }

    #[test]
    fn many_alternatives_are_bounded() {
        let paths: Vec<String> = (0..500).map(|i| format!("d/f{i:03}.yaml")).collect();
        let defs: Vec<(String, usize)> = (0..500).map(|i| ("same".to_string(), i)).collect();
        let w = partition(&paths, &defs, &|k: &String| k.clone(), &|_| None, &|_| None);
        assert!(w.worlds.len() <= MAX_WORLDS);
    }
}
