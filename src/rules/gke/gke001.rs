//! GKE001 gke-sni-less-https-backend.

use crate::finding::Severity;
use crate::index::Index;
use crate::rules::{Emitter, Rule, origin_note};

pub static RULE: Rule = Rule {
    code: "GKE001",
    id: "gke-sni-less-https-backend",
    family: "gke",
    severity: Severity::Error,
    summary: "GKE load balancer re-encrypts to an Istio gateway server that selects on SNI, but sends no SNI",
    docs: include_str!("gke001.md"),
    check,
    mitigations: &["networking.istio.io/Gateway"],
};

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    for b in &ix.lb_backends {
        if !b.kind.is_gke() {
            continue;
        }
        let Some((s, port)) = ix.backend_target(b) else {
            continue;
        };
        let Some(ap) = ix.app_protocol(b) else {
            continue;
        };
        if !matches!(ap.protocol, "HTTPS" | "HTTP2") {
            continue;
        }
        let lb = &ix.objects[b.lb];
        let svc = &ix.services[s];
        let at = lb.loc(b.backend.port_anchor());
        let what = format!(
            "{} sends {} to {} port {}{}",
            lb.display(),
            ap.protocol,
            svc.obj.display(),
            port.display(),
            origin_note(&svc.obj)
        );
        match ix.receiving_servers(s, port) {
            None => {
                // In a closed world, pods missing from the set do not exist: not a gateway.
                if ix.service_templates(s).is_empty() && !ix.absent_is_missing() {
                    let f = em.unknown(
                        at,
                        Some(lb.resource()),
                        format!(
                            "{what}, but the pods behind it are not in the linted set: cannot tell \
                             whether they are an Istio gateway that selects on SNI"
                        ),
                        "lint the gateway's Deployment (or IstioOperator / Helm values) together \
                         with this Ingress",
                    );
                    if let Some(src) = ap.source {
                        f.related(svc.obj.loc(src), format!("{} set here", ap.protocol));
                    }
                }
            }
            Some(servers) if servers.is_empty() => {
                let f = em.violation(
                    at,
                    Some(lb.resource()),
                    format!(
                        "{what}, an Istio gateway, but no Gateway server for port {} is in the set: \
                         the Google front end sends no SNI, so a server with specific hosts would \
                         reset every connection (502)",
                        port.port.unwrap_or_default()
                    ),
                    "check the Gateway for this port: it needs `hosts: [\"*\"]`, or let the load \
                     balancer speak plain HTTP to the gateway",
                );
                f.severity(Severity::Warning);
                if let Some(src) = ap.source {
                    f.related(svc.obj.loc(src), format!("{} set here", ap.protocol));
                }
            }
            Some(servers) => {
                let tls: Vec<_> = servers
                    .iter()
                    .map(|&(g, i)| (&ix.gateways[g], &ix.gateways[g].servers[i]))
                    .filter(|(_, srv)| srv.is_tls())
                    .collect();
                if tls.is_empty() || tls.iter().any(|(_, srv)| srv.has_catch_all_host()) {
                    continue;
                }
                let hosts: Vec<&str> = tls
                    .iter()
                    .flat_map(|(_, srv)| srv.hosts.iter().map(|(h, _)| *h))
                    .collect();
                let f = em.violation(
                    at,
                    Some(lb.resource()),
                    format!(
                        "{what}, but the Google front end sends no SNI and the receiving Gateway \
                         server only matches SNI {}: Envoy finds no filter chain and resets every \
                         connection (502) while the health check stays green",
                        hosts.join(", ")
                    ),
                    "send plain HTTP from the load balancer to the gateway (backend port 80, \
                     app protocol HTTP), or give that Gateway server `hosts: [\"*\"]`",
                );
                for (gw, srv) in tls {
                    let n = srv.hosts.first().map(|(_, n)| *n).unwrap_or(srv.node);
                    f.related(
                        gw.obj.loc(n),
                        format!(
                            "{} server on port {} selects on SNI",
                            gw.obj.display(),
                            srv.number.unwrap_or_default()
                        ),
                    );
                }
                if let Some(src) = ap.source {
                    f.related(svc.obj.loc(src), format!("{} set here", ap.protocol));
                }
            }
        }
    }
}
