//! IRT011 vs-mesh-host-conflict.

use std::collections::{HashMap, HashSet};

use crate::finding::Severity;
use crate::index::{Index, fqdn};
use crate::rules::{Emitter, Rule};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "IRT011",
    id: "vs-mesh-host-conflict",
    family: "istio-routing",
    severity: Severity::Error,
    summary: "Two mesh VirtualServices claim the same host for the same namespaces",
    docs: include_str!("irt011.md"),
    check,
    mitigations: &[],
};

/// Where a mesh VirtualService is visible, in istiod's order of precedence for the sidecars of
/// one namespace: private to it, exported to it by name, public.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Tier<'d> {
    /// Namespace of the VirtualService, with `exportTo` `.` or its own name.
    Private(&'d str),
    /// Another namespace named in `exportTo`.
    Exported(&'d str),
    /// `exportTo` empty (the mesh default `*`) or containing `*`.
    Public,
}

impl Tier<'_> {
    fn describe(&self) -> String {
        match self {
            Tier::Private(ns) => format!("private to namespace {ns}"),
            Tier::Exported(ns) => format!("exported to namespace {ns} by name"),
            Tier::Public => "exported to every namespace".to_string(),
        }
    }
}

/// The tiers a VirtualService's `exportTo` puts it in (istio `initVirtualServices`).
fn tiers<'d>(ns: &'d str, export_to: &[&'d str]) -> Vec<Tier<'d>> {
    let list: Vec<&str> = export_to.iter().map(|e| e.trim()).collect();
    if list.is_empty() || list.contains(&"*") {
        return vec![Tier::Public];
    }
    if list.contains(&"~") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for e in list {
        let t = if e == "." || e == ns {
            Tier::Private(ns)
        } else {
            Tier::Exported(e)
        };
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// One host claim: the VirtualService (index into `ix.virtual_services`) and its host entry.
type Claim<'d, 's> = (usize, Node<'d, 's>);

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    // Buckets of claims by (host FQDN, tier), in order of first appearance.
    let mut bucket_of: HashMap<(String, Tier<'_>), usize> = HashMap::new();
    let mut buckets: Vec<((String, Tier<'_>), Vec<Claim<'_, '_>>)> = Vec::new();
    for (v, vs) in ix.virtual_services.iter().enumerate() {
        let mesh = vs.gateways.is_empty() || vs.gateways.iter().any(|(g, _)| *g == "mesh");
        if !mesh {
            continue;
        }
        let ns = vs.obj.namespace;
        let export_to: Vec<&str> = vs.export_to.iter().map(|(e, _)| *e).collect();
        let tiers = tiers(ns, &export_to);
        let mut seen: HashSet<String> = HashSet::new();
        for &(host, node) in &vs.hosts {
            if host == "*" || host.is_empty() {
                continue;
            }
            let h = fqdn(host, ns).to_ascii_lowercase();
            if !seen.insert(h.clone()) {
                continue;
            }
            for &t in &tiers {
                let key = (h.clone(), t);
                let b = *bucket_of.entry(key.clone()).or_insert_with(|| {
                    buckets.push((key, Vec::new()));
                    buckets.len() - 1
                });
                buckets[b].1.push((v, node));
            }
        }
    }

    // Same tier: istiod keeps whichever it sees first (the oldest), the others are ignored.
    for ((host, tier), claims) in &buckets {
        if claims.len() < 2 {
            continue;
        }
        for (i, &(v, node)) in claims.iter().enumerate() {
            let vs = &ix.virtual_services[v];
            // Lazily: a bucket may hold thousands of claims.
            let others = || {
                claims
                    .iter()
                    .enumerate()
                    .filter(move |(j, _)| *j != i)
                    .map(|(_, c)| c)
            };
            let count = claims.len() - 1;
            let names: Vec<String> = others()
                .take(3)
                .map(|(o, _)| ix.virtual_services[*o].obj.display())
                .collect();
            let (all, more) = match count {
                1 => ("both", String::new()),
                2 | 3 => ("all", String::new()),
                n => ("all", format!(" and {} more", n - 3)),
            };
            let f = em.violation(
                vs.obj.loc(node),
                Some(vs.obj.resource()),
                format!(
                    "{} and {}{more} {all} route host {host} for the sidecars and are {}: istiod \
                     uses only one of them (the oldest) for that host, so the routes of the \
                     others are silently ignored",
                    vs.obj.display(),
                    names.join(", "),
                    tier.describe()
                ),
                "merge them into one VirtualService, or scope each with `exportTo` so that no \
                 namespace sees two of them",
            );
            for (o, onode) in others().take(5) {
                let other = &ix.virtual_services[*o];
                f.related(
                    other.obj.loc(*onode),
                    format!("{} claims {host} here", other.obj.display()),
                );
            }
        }
    }

    // Different tiers seen from one namespace: the more private one wins there, which is how a
    // consumer overrides a public route; worth knowing, not broken.
    for ((host, tier), claims) in &buckets {
        let (ns, lower): (&str, Vec<Tier<'_>>) = match *tier {
            Tier::Private(ns) => (ns, vec![Tier::Exported(ns), Tier::Public]),
            Tier::Exported(ns) => (ns, vec![Tier::Public]),
            Tier::Public => continue,
        };
        if claims.len() != 1 {
            continue;
        }
        let Some(shadowed) = lower
            .iter()
            .find_map(|&t| bucket_of.get(&(host.clone(), t)).map(|&b| &buckets[b]))
        else {
            continue;
        };
        let (v, node) = claims[0];
        let vs = &ix.virtual_services[v];
        let ((_, stier), sclaims) = shadowed;
        let (sv, snode) = sclaims[0];
        if sv == v {
            continue;
        }
        let other = &ix.virtual_services[sv];
        em.violation(
            vs.obj.loc(node),
            Some(vs.obj.resource()),
            format!(
                "{} ({}) and {} ({}) both route host {host} for the sidecars: in namespace {ns} \
                 the first one wins and the routes of {} do not apply there",
                vs.obj.display(),
                tier.describe(),
                other.obj.display(),
                stier.describe(),
                other.obj.display()
            ),
            "if this override is deliberate, nothing to do; otherwise merge the routes into one \
             VirtualService or narrow `exportTo`",
        )
        .severity(Severity::Info)
        .related(
            other.obj.loc(snode),
            format!("{} claims {host} here", other.obj.display()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_to_tiers() {
        assert_eq!(tiers("a", &[]), vec![Tier::Public]);
        assert_eq!(tiers("a", &[".", "*"]), vec![Tier::Public]);
        assert_eq!(tiers("a", &["~"]), vec![]);
        assert_eq!(
            tiers("a", &[".", "a", "b"]),
            vec![Tier::Private("a"), Tier::Exported("b")]
        );
    }
}
