//! The reference policy (catalog §0.4, revised 2026-12): the one place that decides whether a
//! reference whose target is not in the linted set is a violation or undecided.
//!
//! 1. found (in the referring object's world: each world has its own index) → the rule goes on;
//! 2. missing, and the set holds a *near miss* (a same-kind object whose name is a typo away,
//!    the same name in another namespace, a workload whose labels differ from a selector by one
//!    small edit of one key or value) → violation, with the "did you mean" hint;
//! 3. otherwise → unknown; `--closed-world` makes it a violation.
//!
//! That the set holds *other* objects of the target's kind is not evidence: on real
//! repositories the missing object is installed by istioctl, lives in another repository or
//! sits in a file that was not staged. Rules never read `closed_world` themselves; they ask
//! here and word the answer.
//!
//! A hint always names a fix on the referring side (rename the reference, change the
//! selector); it never proposes changing the target, which other references may rely on.
//! Names that differ only in digits (`reviews-v1` / `reviews-v2`, `gateway` / `gateway2`) are
//! sibling objects, not typos, and are never near misses.

use super::{Index, ObjId, Resolved};
use crate::model::is_cluster_scoped;

/// Candidates scanned for a near miss, at most (a bound, not a tuning knob).
const MAX_CANDIDATES: usize = 20_000;

impl<'d, 's> Index<'d, 's> {
    /// Case 2 or 3 for a target that is missing: a violation with the near miss as hint, a
    /// violation without hint in a closed world, else undecided.
    pub fn missing<T>(&self, near_miss: Option<String>) -> Resolved<T> {
        match near_miss {
            Some(h) => Resolved::Missing { hint: Some(h) },
            None if self.options.closed_world => Resolved::Missing { hint: None },
            None => Resolved::Unknown,
        }
    }

    /// True if file `b` lies within the directory above file `a`'s directory (always, when
    /// either is unknown or paths are not known): evidence from `b` is about `a`'s sample.
    pub fn near(&self, a: Option<crate::source::FileId>, b: crate::source::FileId) -> bool {
        let paths = &self.options.paths;
        let (Some(a), Some(pa), Some(pb)) = (
            a,
            a.and_then(|a| paths.get(a.0 as usize)),
            paths.get(b.0 as usize),
        ) else {
            return true;
        };
        if a == b {
            return true;
        }
        fn dir(p: &str) -> Vec<&str> {
            let mut c: Vec<&str> = p.trim_start_matches("./").split('/').collect();
            c.pop();
            c
        }
        let (da, db) = (dir(pa), dir(pb));
        let scope = da.len().saturating_sub(1);
        db.len() >= scope && da[..scope] == db[..scope]
    }

    /// True if `file` holds a document that could not be parsed: the object a reference from
    /// it names may be the one that was lost, so its near misses prove nothing.
    pub fn incomplete(&self, file: crate::source::FileId) -> bool {
        self.options.broken_files.binary_search(&file).is_ok()
    }

    /// How a missing reference target is worded, from its near miss: `which does not exist
    /// (the set has `ns/name`)`, or, in a closed world without one, `which is not in the
    /// linted set (closed world)`.
    pub fn missing_reason(hint: Option<&String>) -> String {
        match hint {
            Some(h) => format!("which does not exist (the set has `{h}`)"),
            None => "which is not in the linted set (closed world)".to_string(),
        }
    }

    /// A Kubernetes Service named by an Istio host, resolved under the policy: a host that
    /// names its namespace (`name.ns…`) takes no same-name near miss from another namespace.
    pub fn resolve_service_host(
        &self,
        namespace: &str,
        name: &str,
        host: &str,
        from: crate::source::FileId,
    ) -> Resolved<ObjId> {
        self.resolve_ref(
            "",
            "Service",
            namespace,
            name,
            host.contains('.'),
            Some(from),
        )
    }

    /// True with `--closed-world`: the set is complete, so an absent object does not exist.
    /// For rules whose "target" is not a name (a revision a webhook would declare, a Service
    /// that would expose a port): they ask this instead of reading the option.
    pub fn absent_is_missing(&self) -> bool {
        self.options.closed_world
    }

    /// Resolves a name reference under the reference policy.
    pub fn resolve(&self, group: &str, kind: &str, namespace: &str, name: &str) -> Resolved<ObjId> {
        self.resolve_ref(group, kind, namespace, name, false, None)
    }

    /// [`Index::resolve`] for a reference that may name its namespace explicitly
    /// (`istio-system/web`): then the same name in another namespace is no near miss, since
    /// the author chose the namespace; only a typo of the name is.
    pub fn resolve_ref(
        &self,
        group: &str,
        kind: &str,
        namespace: &str,
        name: &str,
        explicit_namespace: bool,
        from: Option<crate::source::FileId>,
    ) -> Resolved<ObjId> {
        if let Some(id) = self.get(group, kind, namespace, name) {
            return Resolved::Found(id);
        }
        let ns = if is_cluster_scoped(kind) {
            ""
        } else {
            namespace
        };
        if self.is_external(kind, ns, name) {
            return Resolved::External;
        }
        let near = if from.is_some_and(|f| self.incomplete(f)) {
            None
        } else if explicit_namespace {
            self.typo_near_miss(group, kind, ns, name)
        } else {
            self.near_miss(group, kind, ns, name, from)
        };
        self.missing(near)
    }

    /// The closest name in the same namespace that a typo explains, as `namespace/name`.
    pub fn typo_near_miss(
        &self,
        group: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<String> {
        self.of_kind(group, kind)
            .iter()
            .take(MAX_CANDIDATES)
            .map(|&id| &self.objects[id])
            .filter(|o| o.namespace == namespace)
            .filter_map(|o| Some((typo_distance(name, o.name)?, o.namespace, o.name)))
            .min()
            .map(|(_, ns, n)| shown(ns, n))
    }

    /// The near miss of a missing `group/kind` `namespace/name`: the same name in another
    /// namespace, when it sits near the reference (within the directory above the referring
    /// file's: the same name in an unrelated sample elsewhere in the repository is another
    /// object), else [`Index::typo_near_miss`]. Rendered as `namespace/name` (`name` for
    /// cluster-scoped kinds).
    pub fn near_miss(
        &self,
        group: &str,
        kind: &str,
        namespace: &str,
        name: &str,
        from: Option<crate::source::FileId>,
    ) -> Option<String> {
        let other_namespace = self
            .of_kind(group, kind)
            .iter()
            .take(MAX_CANDIDATES)
            .map(|&id| &self.objects[id])
            .filter(|o| {
                o.name == name && o.namespace != namespace && self.near(from, o.root.file())
            })
            .map(|o| o.namespace)
            .min();
        match other_namespace {
            Some(ns) => Some(shown(ns, name)),
            None => self.typo_near_miss(group, kind, namespace, name),
        }
    }

    /// A pod template among `candidates` whose labels differ from `selector` in exactly one
    /// pair, by a typo in its key or its value: the workload the selector was meant for.
    ///
    /// `taken(t)` says that template `t` may only be named on strong evidence: another,
    /// working reference already relies on it (a Gateway that selects it), or it is far from
    /// the referrer (another namespace). Such a template is a near miss only by a typo, never
    /// by the weaker evidence of a label convention or an abbreviated key: the hint must not
    /// propose a target that is in use for something else.
    pub fn selector_near_miss(
        &self,
        selector: &[(&str, &str)],
        candidates: impl IntoIterator<Item = usize>,
        taken: &dyn Fn(usize) -> bool,
    ) -> Option<SelectorMiss> {
        if selector.is_empty() {
            return None;
        }
        let mut best: Option<(usize, SelectorMiss)> = None;
        for t in candidates.into_iter().take(MAX_CANDIDATES) {
            let tpl = &self.templates[t];
            let mut unmatched = selector
                .iter()
                .filter(|(k, v)| !tpl.labels.iter().any(|(lk, lv)| lk == k && lv == v));
            let (Some(&(k, v)), None) = (unmatched.next(), unmatched.next()) else {
                continue;
            };
            let weak_ok = !taken(t);
            let found = tpl.labels.iter().find_map(|&(lk, lv)| {
                if lk == k {
                    typo_distance(v, lv)
                        .or_else(|| (weak_ok && gateway_alias(v, lv)).then_some(3))
                        .map(|d| (d, lk, lv))
                } else if lv == v && !v.is_empty() {
                    typo_distance(k, lk)
                        .or_else(|| (weak_ok && abbreviated_key(k, lk)).then_some(3))
                        .map(|d| (d, lk, lv))
                } else {
                    None
                }
            });
            if let Some((d, lk, lv)) = found {
                let miss = SelectorMiss {
                    template: t,
                    wrote: format!("{k}: {v}"),
                    meant: format!("{lk}: {lv}"),
                };
                if best
                    .as_ref()
                    .is_none_or(|(bd, b)| (d, t) < (*bd, b.template))
                {
                    best = Some((d, miss));
                }
            }
        }
        best.map(|(_, m)| m)
    }
}

/// `namespace/name`, or `name` for cluster-scoped objects.
fn shown(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}/{name}")
    }
}

/// A selector that misses a workload by one typo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectorMiss {
    /// The pod template it was meant for.
    pub template: usize,
    /// The pair as the selector writes it, `key: value`.
    pub wrote: String,
    /// The pair the template carries, `key: value`.
    pub meant: String,
}

/// `ingressgateway` for `ingress` (and `egressgateway` for `egress`, either way): istioctl
/// and the IstioOperator label gateway pods `istio: ingressgateway`, Istio's `gateway` Helm
/// chart labels them `istio: <release name without "istio-">`, e.g. `istio: ingress`. A
/// selector written for one convention and pods labelled by the other is the classic miss.
fn gateway_alias(wrote: &str, meant: &str) -> bool {
    fn strip(s: &str) -> Option<&str> {
        s.strip_suffix("gateway").filter(|rest| !rest.is_empty())
    }
    strip(wrote) == Some(meant) || strip(meant) == Some(wrote)
}

/// A label key written as an abbreviation of the one the pods carry, or the other way round,
/// at a word boundary (`ver` / `version`, `app` / `app.kubernetes.io/name` is not one): the
/// same value under a shortened key.
fn abbreviated_key(wrote: &str, meant: &str) -> bool {
    let (short, long) = if wrote.len() < meant.len() {
        (wrote, meant)
    } else {
        (meant, wrote)
    };
    short.len() >= 3
        && long.starts_with(short)
        && long[short.len()..].chars().all(|c| c.is_ascii_lowercase())
}

/// Words that name a role among sibling objects: two names that differ in them are two
/// objects (the ingress and the egress gateway), not a typo.
const ROLE_WORDS: &[&str] = &[
    "ingress",
    "egress",
    "internal",
    "external",
    "public",
    "private",
    "primary",
    "secondary",
    "canary",
    "stable",
    "blue",
    "green",
    "east",
    "west",
    "north",
    "south",
];

/// The edit distance between `wrote` and `meant` when a typo explains it: at most one edit
/// per three characters (1..=3), and not a difference in digits only (`v1`/`v2` name
/// siblings, not typos). `None` otherwise, and for equal strings.
pub fn typo_distance(wrote: &str, meant: &str) -> Option<usize> {
    if wrote == meant || wrote.is_empty() || meant.is_empty() {
        return None;
    }
    let letters = |s: &str| -> String { s.chars().filter(|c| !c.is_ascii_digit()).collect() };
    if letters(wrote) == letters(meant) {
        return None;
    }
    // `ingressgateway` / `egressgateway`, `internal` / `external`: two roles, not a typo.
    let roles = |s: &str| -> Vec<&str> {
        let s = s.to_ascii_lowercase();
        ROLE_WORDS
            .iter()
            .copied()
            .filter(|r| s.contains(r))
            .collect()
    };
    let (rw, rm) = (roles(wrote), roles(meant));
    if !rw.is_empty() && !rm.is_empty() && rw != rm {
        return None;
    }
    let max = (wrote.chars().count() / 3).clamp(1, 3);
    super::edit_distance(wrote, meant, max)
}

#[cfg(test)]
mod tests {
    use super::typo_distance;

    #[test]
    fn typos_are_near_misses() {
        assert_eq!(typo_distance("sample-gatway", "sample-gateway"), Some(1));
        assert_eq!(typo_distance("reveiws", "reviews"), Some(1));
        assert_eq!(typo_distance("ingressgatewy", "ingressgateway"), Some(1));
    }

    #[test]
    fn label_conventions_and_abbreviations_are_near_misses() {
        use super::{abbreviated_key, gateway_alias};
        assert!(gateway_alias("ingressgateway", "ingress"));
        assert!(gateway_alias("egress", "egressgateway"));
        assert!(!gateway_alias("gateway", ""));
        assert!(!gateway_alias("ingressgateway", "internal"));
        assert!(abbreviated_key("ver", "version"));
        assert!(!abbreviated_key("app", "app.kubernetes.io/name"));
        assert!(!abbreviated_key("ap", "app"));
    }

    #[test]
    fn siblings_and_strangers_are_not() {
        assert_eq!(typo_distance("reviews-v3", "reviews-v1"), None);
        assert_eq!(typo_distance("gateway", "gateway2"), None);
        assert_eq!(typo_distance("web", "api"), None);
        assert_eq!(typo_distance("same", "same"), None);
        assert_eq!(typo_distance("bookinfo-gateway", "httpbin-gateway"), None);
        assert_eq!(typo_distance("ingressgateway", "egressgateway"), None);
        assert_eq!(typo_distance("istio-internal", "istio-external"), None);
        assert_eq!(typo_distance("ingresgateway", "ingressgateway"), Some(1));
    }
}
