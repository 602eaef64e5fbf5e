//! IRT009 vs-destination-host-unresolved.

use std::collections::HashMap;

use crate::finding::Severity;
use crate::index::hosts::{
    HostTable, Provider, SERVICE_EXPORT_TO, istio_fqdn, provider_display, service_ref,
};
use crate::index::vsroutes::{DestKind, VsDest, destinations};
use crate::index::{Host, Index, Resolved, fqdn};
use crate::model::istio::VirtualService;
use crate::rules::{Emitter, Rule};

pub static RULE: Rule = Rule {
    code: "IRT009",
    id: "vs-destination-host-unresolved",
    family: "istio-routing",
    severity: Severity::Error,
    summary: "A VirtualService route or mirror sends traffic to a host no visible Service or ServiceEntry provides",
    docs: include_str!("irt009.md"),
    check,
    mitigations: &[],
};

/// What happens to the traffic of a destination whose host has no cluster.
fn consequence(kind: DestKind) -> &'static str {
    match kind {
        DestKind::Mirror => "Envoy has no cluster for it, so the mirrored copy is silently dropped",
        _ => "Envoy has no cluster for it, so requests on this route get 503 (NC)",
    }
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let table = ix.host_table();
    let mut svc_cache: HashMap<(&str, &str, bool), Resolved<usize>> = HashMap::new();
    for vs in &ix.virtual_services {
        for d in destinations(vs) {
            check_dest(ix, table, &mut svc_cache, vs, &d, em);
        }
    }
}

fn check_dest<'d>(
    ix: &Index<'d, '_>,
    table: &HostTable<'_>,
    svc_cache: &mut HashMap<(&'d str, &'d str, bool), Resolved<usize>>,
    vs: &VirtualService<'d, '_>,
    d: &VsDest<'d, '_>,
    em: &mut Emitter<'_>,
) {
    let obj = &vs.obj;
    let ns = obj.namespace;
    let host = d.host;
    if host.contains('*') || host.parse::<std::net::IpAddr>().is_ok() {
        return;
    }
    let at = obj.loc(d.host_node);
    let what = format!("{} to `{host}` in {}", d.kind.label(), obj.display());
    let wanted = istio_fqdn(host, ns);
    let providers = table.providers(&wanted);
    if !providers.is_empty() {
        let consumers = d.binding.consumers(ns);
        let hidden: Vec<&str> = consumers
            .iter()
            .copied()
            .filter(|c| !providers.iter().any(|p| p.visible_from(c)))
            .collect();
        if hidden.is_empty() {
            return;
        }
        let p = providers[0];
        let who = if d.binding.gateways.iter().any(|(g, _)| hidden.contains(g)) {
            "the gateway"
        } else {
            "the sidecars"
        };
        let f = em.violation(
            at,
            Some(obj.resource()),
            format!(
                "{what} is used by proxies in namespace {}, but {} exports {wanted} only to {}: \
                 {who} cannot see the host, and {}",
                hidden.join(", "),
                provider_display(ix, p),
                p.export_to
                    .iter()
                    .map(|e| match *e {
                        "." => format!("its own namespace {}", p.namespace),
                        "~" => "no namespace".to_string(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                consequence(d.kind)
            ),
            format!(
                "export the host to {} (or `*`), or bind the route where the host is visible",
                hidden.join(", ")
            ),
        );
        match p.provider {
            Provider::Service(s) => {
                let svc = &ix.services[s].obj;
                if let Some((k, _)) = svc.annotation_entry(SERVICE_EXPORT_TO) {
                    f.related(svc.loc(k), format!("exportTo of {}", svc.display()));
                }
            }
            Provider::Entry(e, _) => {
                let se = &ix.service_entries[e].obj;
                if let Some(k) = se.spec().and_then(|s| s.key("exportTo")) {
                    f.related(se.loc(k), format!("exportTo of {}", se.display()));
                }
            }
        }
        return;
    }
    // `reviews.other` names Service reviews of namespace other to people (and to meshlint's
    // other rules), but istiod only expands names without a dot.
    let r14 = fqdn(host, ns);
    if r14 != wanted
        && let Host::Service(s) = ix.resolve_host(host, ns)
    {
        let svc = &ix.services[s].obj;
        em.violation(
            at,
            Some(obj.resource()),
            format!(
                "{what} looks like {} but istiod only expands names without a dot, so it \
                 reads `{host}` as a host of its own, which no Service or ServiceEntry \
                 provides: {}",
                svc.display(),
                consequence(d.kind)
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
                        format!(
                            "did you mean `{hname}.{hns}.svc.cluster.local`? Otherwise add the \
                             Service or a ServiceEntry for the host"
                        )
                    }
                    None => "add the Service, or correct the host".to_string(),
                };
                let f = em.violation(
                    at,
                    Some(obj.resource()),
                    format!(
                        "{what} names Service {sns}/{name}, {why}: {}",
                        consequence(d.kind)
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
                        "{what} names Service {sns}/{name}, which is not in the linted set and \
                         no Service there is a near miss of it: it may be rendered elsewhere"
                    ),
                    "lint the Service together with the VirtualService, or run with \
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
                "{what}: no Service or ServiceEntry provides this host {why}: {}",
                consequence(d.kind)
            ),
            help,
        );
    } else {
        em.unknown(
            at,
            Some(obj.resource()),
            format!(
                "{what}: no Service or ServiceEntry in the linted set provides this host, and no \
                 ServiceEntry of namespace {ns} is in the set: cannot tell whether one exists"
            ),
            "lint the ServiceEntry together with the VirtualService, or run with \
             --closed-world if everything is in the set",
        );
    }
}
