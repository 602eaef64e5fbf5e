//! IRT014 dr-host-unresolved.

use std::collections::{HashMap, HashSet};

use crate::finding::Severity;
use crate::index::hosts::{HostTable, istio_fqdn, provider_display, service_ref};
use crate::index::{Host, Index, Resolved, fqdn};
use crate::model::istio::DestinationRule;
use crate::rules::{Emitter, Rule};

pub static RULE: Rule = Rule {
    code: "IRT014",
    id: "dr-host-unresolved",
    family: "istio-routing",
    severity: Severity::Warning,
    summary: "A DestinationRule host matches no Service or ServiceEntry visible from its namespace",
    docs: include_str!("irt014.md"),
    check,
    mitigations: &[],
};

const NO_EFFECT: &str = "the DestinationRule applies to no traffic, so its traffic policy and \
                         subsets are silently ignored";

/// Wildcards meant to cover every host of the mesh (or of the cluster domain).
fn mesh_wide(host: &str) -> bool {
    matches!(
        host,
        "*" | "*.local" | "*.cluster.local" | "*.svc.cluster.local"
    )
}

/// Every proper parent domain of the hosts of Services and ServiceEntries
/// (`b.c` and `c` for `a.b.c`): a wildcard `*.b.c` covers some host iff `b.c` is in it.
fn parent_domains(ix: &Index<'_, '_>) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut add = |h: &str| {
        let h = h.trim_start_matches("*.").to_ascii_lowercase();
        let mut rest = h.as_str();
        while let Some((_, parent)) = rest.split_once('.') {
            if !out.insert(parent.to_string()) {
                break;
            }
            rest = parent;
        }
    };
    for s in &ix.services {
        if !s.multi_cluster {
            add(&format!(
                "{}.{}.svc.cluster.local",
                s.obj.name, s.obj.namespace
            ));
        }
    }
    for se in &ix.service_entries {
        for (h, _) in &se.hosts {
            add(&istio_fqdn(h, se.obj.namespace));
        }
    }
    out
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    if ix.destination_rules.is_empty() {
        return;
    }
    let table = ix.host_table();
    let mut parents: Option<HashSet<String>> = None;
    let mut svc_cache: HashMap<(&str, &str, bool), Resolved<usize>> = HashMap::new();
    for dr in &ix.destination_rules {
        let Some((host, _)) = dr.host else { continue };
        if host.is_empty() || mesh_wide(host) || host.parse::<std::net::IpAddr>().is_ok() {
            continue;
        }
        if let Some(suffix) = host.strip_prefix("*.") {
            let parents = parents.get_or_insert_with(|| parent_domains(ix));
            let suffix = suffix.to_ascii_lowercase();
            if parents.contains(&suffix) || !table.providers(host).is_empty() {
                continue;
            }
            wildcard_unmatched(ix, dr, host, &suffix, em);
            continue;
        }
        concrete(ix, table, &mut svc_cache, dr, host, em);
    }
}

/// A wildcard host that covers no Service or ServiceEntry host of the set.
fn wildcard_unmatched(
    ix: &Index<'_, '_>,
    dr: &DestinationRule<'_, '_>,
    host: &str,
    suffix: &str,
    em: &mut Emitter<'_>,
) {
    let Some((_, node)) = dr.host else { return };
    let obj = &dr.obj;
    // `*.ns.svc.cluster.local` stands for the Services of one namespace.
    let (decided, what) = match suffix.strip_suffix(".svc.cluster.local") {
        Some(ns) if !ns.contains('.') => (
            ix.absent_is_missing(),
            format!("no Service of namespace {ns} is in the linted set"),
        ),
        _ => (
            ix.absent_is_missing(),
            format!("no Service or ServiceEntry host of the linted set is under `{suffix}`"),
        ),
    };
    if decided {
        em.violation(
            obj.loc(node),
            Some(obj.resource()),
            format!("{} is for `{host}`, but {what}: {NO_EFFECT}", obj.display()),
            "correct the host, or add the ServiceEntry for the hosts it should cover",
        );
    } else {
        em.unknown(
            obj.loc(node),
            Some(obj.resource()),
            format!(
                "{} is for `{host}`, and {what}: cannot tell whether it covers anything",
                obj.display()
            ),
            "lint the Services or ServiceEntries together with the DestinationRule, or run with \
             --closed-world if everything is in the set",
        );
    }
}

fn concrete<'d>(
    ix: &Index<'d, '_>,
    table: &HostTable<'_>,
    svc_cache: &mut HashMap<(&'d str, &'d str, bool), Resolved<usize>>,
    dr: &DestinationRule<'d, '_>,
    host: &'d str,
    em: &mut Emitter<'_>,
) {
    let Some((_, node)) = dr.host else { return };
    let obj = &dr.obj;
    let ns = obj.namespace;
    let at = obj.loc(node);
    let wanted = istio_fqdn(host, ns);
    let providers = table.providers(&wanted);
    if !providers.is_empty() {
        if providers.iter().any(|p| p.visible_from(ns)) {
            return;
        }
        let p = providers[0];
        let exported = p
            .export_to
            .iter()
            .map(|e| match *e {
                "." => format!("its own namespace {}", p.namespace),
                "~" => "no namespace".to_string(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        em.violation(
            at,
            Some(obj.resource()),
            format!(
                "{} is for {wanted}, but {} exports that host only to {exported}, not to {ns}: \
                 {NO_EFFECT}",
                obj.display(),
                provider_display(ix, p)
            ),
            format!(
                "export the host to {ns} (or `*`), or move the DestinationRule to a namespace \
                 that sees it"
            ),
        );
        return;
    }
    // `reviews.other` reads like Service reviews of namespace other, but istiod expands only
    // names without a dot.
    let r14 = fqdn(host, ns);
    if r14 != wanted
        && let Host::Service(s) = ix.resolve_host(host, ns)
    {
        let svc = &ix.services[s].obj;
        em.violation(
            at,
            Some(obj.resource()),
            format!(
                "{}'s host `{host}` looks like {} but istiod expands only names without a dot, \
                 so it reads `{host}` as a host of its own that nothing provides: {NO_EFFECT}",
                obj.display(),
                svc.display()
            ),
            format!("write the full name `{r14}`"),
        )
        .related(svc.name_loc(), format!("{} is defined here", svc.display()));
        return;
    }
    if let Some((sns, name)) = service_ref(ix, host, ns) {
        let resolved = svc_cache
            .entry((sns, name, host.contains('.')))
            .or_insert_with(|| ix.resolve_service_host(sns, name, host, obj.root.file()))
            .clone();
        match resolved {
            Resolved::Found(_) | Resolved::External => {}
            Resolved::Missing { hint } => {
                let why = Index::missing_reason(hint.as_ref());
                let help = match &hint {
                    Some(h) => {
                        let (hns, hname) = h.split_once('/').unwrap_or((sns, h));
                        format!("did you mean `{hname}.{hns}.svc.cluster.local`?")
                    }
                    None => "correct the host, or delete the DestinationRule".to_string(),
                };
                let f = em.violation(
                    at,
                    Some(obj.resource()),
                    format!(
                        "{} is for Service {sns}/{name}, {why}: {NO_EFFECT}",
                        obj.display()
                    ),
                    help,
                );
                if let Some(h) = hint
                    && let Some((hns, hname)) = h.split_once('/')
                    && let Some(id) = ix.get("", "Service", hns, hname)
                {
                    let o = &ix.objects[id];
                    f.related(o.name_loc(), format!("{} is defined here", o.display()));
                }
            }
            Resolved::Unknown => {
                em.unknown(
                    at,
                    Some(obj.resource()),
                    format!(
                        "{} is for Service {sns}/{name}, which is not in the linted set and no \
                         Service there is a near miss of it: it may be rendered elsewhere",
                        obj.display()
                    ),
                    "lint the Service together with the DestinationRule, or run with \
                     --closed-world if everything is in the set",
                );
            }
        }
        return;
    }
    // A host outside the cluster domain needs a ServiceEntry.
    // Reference policy: a violation on a near miss (a host a typo away) or in a closed world.
    let near = table.closest(&wanted);
    if ix.absent_is_missing() || near.is_some() {
        let why = if near.is_some() {
            "(a typo?)".to_string()
        } else {
            "in the linted set (closed world)".to_string()
        };
        let help = match near {
            Some(h) => format!("did you mean `{h}`? Otherwise add a ServiceEntry for `{host}`"),
            None => format!("add a ServiceEntry for `{host}` (or correct the host)"),
        };
        em.violation(
            at,
            Some(obj.resource()),
            format!(
                "{} is for `{host}`, which no Service or ServiceEntry provides {why}: {NO_EFFECT}",
                obj.display()
            ),
            help,
        );
    } else {
        em.unknown(
            at,
            Some(obj.resource()),
            format!(
                "{} is for `{host}`: no Service or ServiceEntry in the linted set provides it, and \
                 no ServiceEntry of namespace {ns} is in the set: cannot tell whether one exists",
                obj.display()
            ),
            "lint the ServiceEntry together with the DestinationRule, or run with \
             --closed-world if everything is in the set",
        );
    }
}
