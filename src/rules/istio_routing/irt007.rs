//! IRT007 vs-destination-port-not-service-port.

use crate::finding::Severity;
use crate::index::Index;
use crate::index::hosts::Provider;
use crate::index::vsroutes::{DestKind, destinations};
use crate::model::IntOrName;
use crate::rules::{Emitter, Rule};

pub static RULE: Rule = Rule {
    code: "IRT007",
    id: "vs-destination-port-not-service-port",
    family: "istio-routing",
    severity: Severity::Error,
    summary: "A VirtualService destination names a port its Service or ServiceEntry does not have",
    docs: include_str!("irt007.md"),
    check,
    mitigations: &[],
};

/// `80 (http), 9090 (grpc)`.
fn list(ports: &[(i64, Option<&str>)]) -> String {
    ports
        .iter()
        .map(|(n, name)| match name {
            Some(name) => format!("{n} ({name})"),
            None => n.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let table = ix.host_table();
    for vs in &ix.virtual_services {
        let obj = &vs.obj;
        for d in destinations(vs) {
            let Some((number, number_node)) = d.port else {
                continue;
            };
            if d.host.contains('*') {
                continue;
            }
            let providers = table.destination_providers(ix, d.host, obj.namespace);
            let what = format!(
                "{} to `{}` port {number} in {}",
                d.kind.label(),
                d.host,
                obj.display()
            );
            if providers.is_empty() {
                if !ix.absent_is_missing() {
                    em.unknown(
                        obj.loc(number_node),
                        Some(obj.resource()),
                        format!(
                            "{what}: no Service or ServiceEntry for the host is in the linted \
                             set, so the port cannot be checked"
                        ),
                        "lint the Service (or ServiceEntry) together with the VirtualService",
                    );
                }
                continue;
            }
            // The ports of every provider; the destination is fine if any has the number.
            let mut owners: Vec<String> = Vec::new();
            let mut ports: Vec<(i64, Option<&str>)> = Vec::new();
            let mut target_hit: Option<(i64, Option<&str>)> = None;
            let mut related = Vec::new();
            let mut ok = false;
            for p in &providers {
                match *p {
                    Provider::Service(s) => {
                        let svc = &ix.services[s];
                        owners.push(svc.obj.display());
                        let at = match svc.spec.and_then(|sp| sp.key("ports")) {
                            Some(k) => svc.obj.loc(k),
                            None => svc.obj.name_loc(),
                        };
                        related.push((at, format!("ports of {}", svc.obj.display())));
                        for sp in &svc.ports {
                            let Some(pn) = sp.port else { continue };
                            ports.push((pn, sp.name));
                            if pn == number {
                                ok = true;
                            }
                            let reaches = match sp.target {
                                Some(IntOrName::Int(t)) => t == number,
                                Some(IntOrName::Name(_)) => ix
                                    .target_ports(s, sp)
                                    .iter()
                                    .any(|(_, t)| *t == Some(number)),
                                None => false,
                            };
                            if reaches && target_hit.is_none() && pn != number {
                                target_hit = Some((pn, sp.name));
                            }
                        }
                    }
                    Provider::Entry(e, _) => {
                        let se = &ix.service_entries[e];
                        if se.ports.is_empty() {
                            // No ports declared: nothing to compare with.
                            ok = true;
                            continue;
                        }
                        owners.push(se.obj.display());
                        let at = match se.obj.spec().and_then(|sp| sp.key("ports")) {
                            Some(k) => se.obj.loc(k),
                            None => se.obj.name_loc(),
                        };
                        related.push((at, format!("ports of {}", se.obj.display())));
                        for &(pn, name, _) in &se.ports {
                            let Some(pn) = pn else { continue };
                            ports.push((pn, name));
                            if pn == number {
                                ok = true;
                            }
                        }
                    }
                }
            }
            if ok {
                continue;
            }
            let consequence = if d.kind == DestKind::Mirror {
                "so the mirrored copy is silently dropped"
            } else {
                "so requests on this route get 503 (NC)"
            };
            let (message, help) = match target_hit {
                Some((pn, name)) => {
                    let named = name.map(|n| format!(" ({n})")).unwrap_or_default();
                    (
                        format!(
                            "{what}: {number} is the container port (targetPort) behind Service \
                             port {pn}{named} of {}, and Istio keys clusters by Service port: \
                             there is no cluster for {}:{number}, {consequence}",
                            owners.join(", "),
                            d.host
                        ),
                        format!("use the Service port: `port: {{number: {pn}}}`"),
                    )
                }
                None => (
                    format!(
                        "{what}: {} has no port {number} (ports: {}), and Istio keys clusters by \
                         Service port: there is no cluster for {}:{number}, {consequence}",
                        owners.join(", "),
                        list(&ports),
                        d.host
                    ),
                    format!("use one of the ports: {}", list(&ports)),
                ),
            };
            let f = em.violation(obj.loc(number_node), Some(obj.resource()), message, help);
            for (loc, note) in related {
                f.related(loc, note);
            }
        }
    }
}
