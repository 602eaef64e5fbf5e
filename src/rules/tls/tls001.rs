//! TLS001 lb-terminated-https-redirect-loop.

use std::collections::BTreeSet;

use crate::finding::{Location, Severity};
use crate::index::Index;
use crate::model::istio::annotation_trusted_proxies;
use crate::model::service::ServicePort;
use crate::rules::{Emitter, Rule};

pub static RULE: Rule = Rule {
    code: "TLS001",
    id: "lb-terminated-https-redirect-loop",
    family: "tls",
    severity: Severity::Error,
    summary: "Gateway redirects HTTP to HTTPS behind a load balancer that already terminated TLS",
    docs: include_str!("tls001.md"),
    check,
    mitigations: &[],
};

/// A TLS-terminating load balancer hop to a Service port, in plaintext.
struct Hop<'a> {
    svc: usize,
    port: &'a ServicePort<'a, 'a>,
    lb_desc: String,
    evidence: Location,
    l7: bool,
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let mut hops: Vec<Hop<'_>> = Vec::new();
    for b in &ix.lb_backends {
        let Some(term) = ix.termination(b.lb, b.kind) else {
            continue;
        };
        let Some((s, port)) = ix.backend_target(b) else {
            continue;
        };
        if ix.app_protocol(b).is_none_or(|ap| ap.protocol != "HTTP") {
            continue;
        }
        let lb = &ix.objects[b.lb];
        hops.push(Hop {
            svc: s,
            port,
            lb_desc: lb.display(),
            evidence: lb.loc(term.evidence),
            l7: term.l7,
        });
    }
    // A Service of type LoadBalancer with an AWS certificate terminates TLS itself.
    for hop in ix.aws_tls_service_ports() {
        let svc = &ix.services[hop.svc];
        hops.push(Hop {
            svc: hop.svc,
            port: &svc.ports[hop.port],
            lb_desc: format!("the load balancer of {}", svc.obj.display()),
            evidence: svc.obj.loc(hop.cert),
            l7: hop.l7,
        });
    }

    let mut seen = BTreeSet::new();
    for hop in hops {
        let Some(servers) = ix.receiving_servers(hop.svc, hop.port) else {
            continue;
        };
        for (g, i) in servers {
            let gw = &ix.gateways[g];
            let srv = &gw.servers[i];
            let Some(redirect) = srv.https_redirect else {
                continue;
            };
            if !seen.insert((g, i)) {
                continue;
            }
            let svc = &ix.services[hop.svc];
            let trusted = ix
                .service_templates(hop.svc)
                .iter()
                .filter_map(|&t| ix.templates[t].annotation("proxy.istio.io/config"))
                .filter_map(annotation_trusted_proxies)
                .max()
                .or(ix.mesh.num_trusted_proxies)
                .unwrap_or(0);
            let base = format!(
                "{} terminates TLS and forwards plain HTTP to {}{} port {}, and this server of {} \
                 redirects HTTP to HTTPS",
                hop.lb_desc,
                svc.obj.display(),
                crate::rules::origin_note(&svc.obj),
                hop.port.display(),
                gw.obj.display()
            );
            let help = "do the redirect at the load balancer (GKE FrontendConfig \
                        `redirectToHttps`, ALB `ssl-redirect`) and remove `httpsRedirect`, or \
                        trust the load balancer's X-Forwarded-Proto with \
                        `gatewayTopology.numTrustedProxies: 1`";
            let (severity, message) = if trusted >= 1 && hop.l7 {
                (
                    Severity::Info,
                    format!(
                        "{base}; numTrustedProxies is {trusted}, so Envoy keeps the load \
                         balancer's X-Forwarded-Proto: this works only while the hop count is right"
                    ),
                )
            } else if trusted >= 1 {
                (
                    Severity::Error,
                    format!(
                        "{base}; the load balancer works at L4 and sets no X-Forwarded-Proto, so \
                         trusting proxies does not help: every request is redirected again, \
                         forever (ERR_TOO_MANY_REDIRECTS)"
                    ),
                )
            } else if ix.mesh.present {
                (
                    Severity::Error,
                    format!(
                        "{base}; with no trusted proxies Envoy sees every request as `http` and \
                         answers 301 to https://…, which comes back as plain HTTP again: an \
                         endless redirect loop (ERR_TOO_MANY_REDIRECTS)"
                    ),
                )
            } else {
                (
                    Severity::Warning,
                    format!(
                        "{base}; unless the mesh config (not in the linted set) sets \
                         `gatewayTopology.numTrustedProxies`, Envoy sees every request as `http` \
                         and redirects forever (ERR_TOO_MANY_REDIRECTS): verify numTrustedProxies"
                    ),
                )
            };
            let f = em.violation(gw.obj.loc(redirect), Some(gw.obj.resource()), message, help);
            f.severity(severity);
            f.related(hop.evidence, "TLS terminates at the load balancer here");
        }
    }
}
