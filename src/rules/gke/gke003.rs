//! GKE003 gke-default-healthcheck-on-istio-gateway.

use std::collections::HashSet;

use crate::finding::Severity;
use crate::index::{BcBinding, GatewayBindings, Index, ProbeInference, catch_all_http_route};
use crate::model::service::ServicePort;
use crate::rules::{Emitter, Rule, origin_note};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "GKE003",
    id: "gke-default-healthcheck-on-istio-gateway",
    family: "gke",
    severity: Severity::Error,
    summary: "GKE load balancer health-checks an Istio gateway with its default `GET /` instead of the status port",
    docs: include_str!("gke003.md"),
    check,
    mitigations: &[
        "networking.istio.io/VirtualService",
        "networking.istio.io/Gateway",
        "cloud.google.com/BackendConfig",
    ],
};

/// A catch-all route behind a `hosts: ["*"]` server: the VirtualService and the route node.
struct CatchAll<'d, 's> {
    vs: usize,
    node: Node<'d, 's>,
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    if !ix.lb_backends.iter().any(|b| b.kind.is_gke()) {
        return;
    }
    let bindings = ix.gateway_bindings();
    // One backend service (and health check) per Service port and load balancer.
    let mut seen = HashSet::new();
    for b in &ix.lb_backends {
        if !b.kind.is_gke() {
            continue;
        }
        let Some((s, sp)) = ix.backend_target(b) else {
            continue;
        };
        let Some(hc) = ix.lb_health_check(b) else {
            continue;
        };
        if !seen.insert((b.lb, s, hc.service_port)) {
            continue;
        }
        // A BackendConfig that sets both is a deliberate health check (GKE004/GKE005 check it).
        let bc_path = hc.backend_config_field("requestPath");
        let bc_port = hc.backend_config_field("port");
        if bc_path.is_some() && bc_port.is_some() {
            continue;
        }
        let lb = &ix.objects[b.lb];
        let svc = &ix.services[s];
        let at = lb.loc(b.backend.port_anchor());
        let target = format!(
            "{} sends traffic to {} port {}{}",
            lb.display(),
            svc.obj.display(),
            sp.display(),
            origin_note(&svc.obj)
        );

        let templates = ix.service_templates(s);
        if templates.is_empty() {
            // In a closed world, pods missing from the set do not exist: not a gateway.
            if !ix.absent_is_missing() {
                em.unknown(
                    at,
                    Some(lb.resource()),
                    format!(
                        "{target}, whose pods are not in the linted set: cannot tell whether they \
                         are an Istio gateway, which the default `GET /` health check marks \
                         unhealthy"
                    ),
                    "lint the backend's Deployment (or IstioOperator / Helm values) together with \
                     this load balancer",
                )
                .related(svc.obj.loc(sp.node), "backend Service port");
            }
            continue;
        }
        if !templates.iter().any(|&t| ix.is_gateway_template(t)) {
            continue;
        }
        // A readinessProbe on the serving port is used by ingress-gce (GKE014 covers the rest).
        if matches!(hc.probe, ProbeInference::Inferred(_)) {
            continue;
        }
        match &hc.backend_config {
            BcBinding::Invalid { annotation } => {
                em.unknown(
                    at,
                    Some(lb.resource()),
                    format!(
                        "{target}, an Istio gateway, but its backend-config annotation is not \
                         valid JSON (GKE008): cannot tell whether a BackendConfig health check \
                         replaces the default `GET /`"
                    ),
                    "fix the annotation (see GKE008)",
                )
                .related(svc.obj.loc(*annotation), "backend-config annotation");
                continue;
            }
            BcBinding::Unresolved {
                name, annotation, ..
            } => {
                em.unknown(
                    at,
                    Some(lb.resource()),
                    format!(
                        "{target}, an Istio gateway, and names BackendConfig `{name}`, which is \
                         not in the linted set: cannot tell whether its health check replaces \
                         the default `GET /`"
                    ),
                    format!(
                        "lint BackendConfig `{}/{name}` together with the Service",
                        svc.obj.namespace
                    ),
                )
                .related(svc.obj.loc(*annotation), "BackendConfig named here");
                continue;
            }
            BcBinding::None | BcBinding::Found { .. } => {}
        }

        let catch_all = catch_all_route(ix, &bindings, s, sp);
        let check_desc = format!(
            "`{} GET {}` on {}",
            hc.protocol.value,
            hc.path.value,
            hc.describe_port()
        );
        let (cause, help) = match &hc.backend_config {
            BcBinding::Found { name, .. } => (
                format!(
                    "BackendConfig `{name}` sets {}",
                    match (bc_path.is_some(), bc_port.is_some()) {
                        (true, false) => "a requestPath but no port",
                        (false, true) => "a port but no requestPath",
                        _ => "no requestPath and no port",
                    }
                ),
                format!(
                    "set `healthCheck: {{type: HTTP, requestPath: /healthz/ready, port: 15021}}` \
                     in BackendConfig `{}/{name}` (the gateway's status port)",
                    svc.obj.namespace
                ),
            ),
            _ => (
                "no BackendConfig health check is bound to this port and no readinessProbe on \
                 the serving port can replace the default"
                    .to_string(),
                format!(
                    "create a BackendConfig in `{}` with `healthCheck: {{type: HTTP, requestPath: \
                     /healthz/ready, port: 15021}}` and bind it with the Service annotation \
                     `cloud.google.com/backend-config: '{{\"default\": \"<name>\"}}'`",
                    svc.obj.namespace
                ),
            ),
        };
        let f = match &catch_all {
            None => em.violation(
                at,
                Some(lb.resource()),
                format!(
                    "{target}, an Istio gateway, but the load balancer health-checks it with \
                     {check_desc}, because {cause}: the gateway answers 404 to a request whose Host is \
                     the pod IP, so every endpoint is unhealthy and the load balancer returns \
                     502 for all traffic"
                ),
                help,
            ),
            Some(c) => {
                let vs = &ix.virtual_services[c.vs];
                em.violation(
                    at,
                    Some(lb.resource()),
                    format!(
                        "{target}, an Istio gateway, but the load balancer health-checks it with \
                         {check_desc}, because {cause}; {} routes every path of `*` to an app, so the \
                         gateway's health now depends on that one app: when it fails or answers \
                         non-200, the load balancer returns 502 for all hosts",
                        vs.obj.display()
                    ),
                    help,
                )
                .severity(Severity::Warning)
            }
        };
        f.related(svc.obj.loc(sp.node), "Istio gateway Service port");
        if let BcBinding::Found { id, .. } = &hc.backend_config {
            let bc = &ix.objects[*id];
            let n = bc_path
                .or(bc_port)
                .or_else(|| bc.spec().and_then(|sp| sp.key("healthCheck")))
                .or_else(|| bc.metadata().and_then(|m| m.get("name")))
                .unwrap_or(bc.root);
            f.related(bc.loc(n), cause.as_str());
        }
        if let Some(c) = &catch_all {
            let vs = &ix.virtual_services[c.vs];
            f.related(vs.obj.loc(c.node), "catch-all route on a `*` server");
        }
    }
}

/// A VirtualService with host `*`, bound to a Gateway whose server for this Service port has
/// `hosts: ["*"]`, that routes prefix `/`: the health check's IP Host reaches that app.
fn catch_all_route<'d, 's>(
    ix: &Index<'d, 's>,
    bindings: &GatewayBindings,
    s: usize,
    sp: &ServicePort<'_, '_>,
) -> Option<CatchAll<'d, 's>> {
    let servers = ix.receiving_servers(s, sp)?;
    for (g, i) in servers {
        let server = &ix.gateways[g].servers[i];
        if !server.has_catch_all_host() {
            continue;
        }
        for &v in bindings.bound_to(g) {
            let vs = &ix.virtual_services[v];
            if !vs.hosts.iter().any(|(h, _)| *h == "*") {
                continue;
            }
            if let Some(node) = catch_all_http_route(vs) {
                return Some(CatchAll { vs: v, node });
            }
        }
    }
    None
}
