//! SE002 serviceentry-protocol-conflict.

use std::collections::{BTreeMap, HashSet};

use crate::finding::Severity;
use crate::index::Index;
use crate::model::Object;
use crate::model::istio::GROUP;
use crate::rules::{Emitter, Rule};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "SE002",
    id: "serviceentry-protocol-conflict",
    family: "serviceentry",
    severity: Severity::Warning,
    summary: "ServiceEntries visible in the same namespace give one host and port different protocols",
    docs: include_str!("se002.md"),
    check,
    mitigations: &[],
};

/// Where a ServiceEntry is visible: every namespace, or some.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Scope<'d> {
    All,
    Some(Vec<&'d str>),
}

impl Scope<'_> {
    fn overlap(&self, other: &Scope<'_>) -> Option<String> {
        match (self, other) {
            (Scope::All, Scope::All) => Some("every namespace".into()),
            (Scope::All, Scope::Some(ns)) | (Scope::Some(ns), Scope::All) => {
                (!ns.is_empty()).then(|| format!("namespace {}", ns.join(", ")))
            }
            (Scope::Some(a), Scope::Some(b)) => {
                let common: Vec<&str> = a.iter().filter(|n| b.contains(n)).copied().collect();
                (!common.is_empty()).then(|| format!("namespace {}", common.join(", ")))
            }
        }
    }
}

/// `exportTo` as istiod reads it: absent or `*` → everywhere, `.` → the entry's namespace,
/// `~` → nowhere.
fn scope<'d>(se: &Object<'d, '_>) -> Scope<'d> {
    let list: Vec<&'d str> = se
        .spec()
        .and_then(|s| s.get("exportTo"))
        .into_iter()
        .flat_map(|e| e.items())
        .filter_map(|n| n.as_text())
        .collect();
    if list.is_empty() || list.contains(&"*") {
        return Scope::All;
    }
    let mut out: Vec<&'d str> = list
        .into_iter()
        .filter(|n| *n != "~")
        .map(|n| if n == "." { se.namespace } else { n })
        .collect();
    out.sort_unstable();
    out.dedup();
    Scope::Some(out)
}

struct PortDecl<'a, 'd, 's> {
    se: &'a Object<'d, 's>,
    scope: Scope<'d>,
    /// Upper-cased `protocol`, empty when absent.
    protocol: String,
    at: Node<'d, 's>,
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    // (host, port) → declarations, in input order.
    let mut by_key: BTreeMap<(String, i64), Vec<PortDecl<'_, '_, '_>>> = BTreeMap::new();
    for &id in ix.of_kind(GROUP, "ServiceEntry") {
        let se = &ix.objects[id];
        let Some(spec) = se.spec() else { continue };
        let sc = scope(se);
        if sc == Scope::Some(Vec::new()) {
            continue; // exported nowhere
        }
        let hosts: Vec<String> = spec
            .get("hosts")
            .into_iter()
            .flat_map(|h| h.items())
            .filter_map(|h| h.as_text())
            .map(str::to_ascii_lowercase)
            .collect();
        for p in spec.get("ports").into_iter().flat_map(|p| p.items()) {
            let Some(number) = p.get("number").and_then(|n| n.as_int()) else {
                continue;
            };
            let protocol = p.str_at("protocol").unwrap_or("").to_ascii_uppercase();
            let at = p.get("protocol").or_else(|| p.get("number")).unwrap_or(p);
            for h in &hosts {
                by_key
                    .entry((h.clone(), number))
                    .or_default()
                    .push(PortDecl {
                        se,
                        scope: sc.clone(),
                        protocol: protocol.clone(),
                        at,
                    });
            }
        }
    }
    let mut reported: HashSet<(usize, u32, String, i64)> = HashSet::new();
    for ((host, port), decls) in &by_key {
        if decls.len() < 2 || decls.iter().all(|d| d.protocol == decls[0].protocol) {
            continue;
        }
        for (i, later) in decls.iter().enumerate().skip(1) {
            // The first earlier declaration with another protocol that shares a namespace.
            let Some((earlier, shared)) = decls[..i].iter().take(256).find_map(|e| {
                if e.protocol == later.protocol || std::ptr::eq(e.se, later.se) {
                    return None;
                }
                e.scope.overlap(&later.scope).map(|s| (e, s))
            }) else {
                continue;
            };
            let key = (
                later.se.root.file().0 as usize,
                later.se.root.span().start,
                host.clone(),
                *port,
            );
            if !reported.insert(key) {
                continue;
            }
            let proto = |p: &str| {
                if p.is_empty() {
                    "no protocol (sniffed)".to_string()
                } else {
                    p.to_string()
                }
            };
            em.violation(
                later.se.loc(later.at),
                Some(later.se.resource()),
                format!(
                    "{} declares {host}:{port} as {} while {} declares it as {}, and both are \
                     visible in {shared}: sidecars there get one listener and cluster for the \
                     host and port, so one protocol wins and the other's clients break (TLS or \
                     TCP bytes parsed as HTTP, or HTTP routing lost)",
                    later.se.display(),
                    proto(&later.protocol),
                    earlier.se.display(),
                    proto(&earlier.protocol),
                ),
                "declare the same protocol for this host and port in every ServiceEntry, or \
                 limit their `exportTo` to different namespaces",
            )
            .related(
                earlier.se.loc(earlier.at),
                format!(
                    "{} declares {}",
                    earlier.se.display(),
                    proto(&earlier.protocol)
                ),
            );
        }
    }
}
