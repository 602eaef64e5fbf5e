//! IGW002 gateway-port-not-on-service.

use crate::finding::Severity;
use crate::index::Index;
use crate::model::IntOrName;
use crate::model::service::ServicePort;
use crate::rules::{Emitter, Rule, origin_note};

pub static RULE: Rule = Rule {
    code: "IGW002",
    id: "gateway-port-not-on-service",
    family: "istio-gateway",
    severity: Severity::Warning,
    summary: "A Gateway server listens on a port that no Service in front of the gateway pods exposes",
    docs: include_str!("igw002.md"),
    check,
    mitigations: &[],
};

/// Services carrying this label opt out of Gateway port translation: a Gateway port is then a
/// pod port, never a Service port.
const NO_TRANSLATION: &str = "experimental.istio.io/disable-gateway-port-translation";

fn is_tcp(p: &ServicePort<'_, '_>) -> bool {
    p.protocol.is_none_or(|p| p.eq_ignore_ascii_case("TCP"))
}

/// The container port a Service port reaches in template `t` (R5).
fn target_in(ix: &Index<'_, '_>, t: usize, p: &ServicePort<'_, '_>) -> Option<i64> {
    match p.target? {
        IntOrName::Int(i) => Some(i),
        IntOrName::Name(name) => ix.templates[t]
            .containers()
            .find_map(|c| c.port_named(name)),
    }
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let workloads = ix.gateway_workloads();
    for (g, gw) in ix.gateways.iter().enumerate() {
        let templates = workloads.of(g);
        if templates.is_empty() {
            continue; // IGW001
        }
        // Pods on the host network take traffic on the node's ports directly.
        if templates.iter().any(|&t| {
            ix.templates[t]
                .spec
                .and_then(|s| s.get("hostNetwork"))
                .and_then(|n| n.as_bool())
                == Some(true)
        }) {
            continue;
        }
        let mut services: Vec<usize> = templates
            .iter()
            .flat_map(|&t| ix.template_services(t).iter().copied())
            .collect();
        services.sort_unstable();
        services.dedup();
        let uncovered = templates
            .iter()
            .any(|&t| ix.template_services(t).is_empty());
        let obj = &gw.obj;
        for server in &gw.servers {
            let Some(number) = server.number else {
                continue;
            };
            let reachable = templates.iter().any(|&t| {
                ix.template_services(t).iter().any(|&s| {
                    let svc = &ix.services[s];
                    let translated = svc
                        .obj
                        .labels()
                        .is_none_or(|l| l.entry(NO_TRANSLATION).is_none());
                    svc.ports.iter().filter(|p| is_tcp(p)).any(|p| {
                        (translated && p.port == Some(number))
                            || target_in(ix, t, p) == Some(number)
                    })
                })
            });
            if reachable {
                continue;
            }
            let at = obj.loc(server.port_node.unwrap_or(server.node));
            let closed = ix.absent_is_missing();
            if services.is_empty() || uncovered {
                if !closed {
                    em.unknown(
                        at,
                        Some(obj.resource()),
                        format!(
                            "{} listens on port {number}, and the Service in front of its gateway \
                             pods is not in the linted set: cannot tell whether the port is exposed",
                            obj.display()
                        ),
                        "lint the gateway's Service together with the Gateway, or run with \
                         --closed-world if everything is in the set",
                    );
                    continue;
                }
                if services.is_empty() {
                    let tpl = &ix.templates[templates[0]];
                    em.violation(
                        at,
                        Some(obj.resource()),
                        format!(
                            "{} listens on port {number}, but no Service selects its gateway pods \
                             ({}{}, closed world): no load balancer or client can reach the listener",
                            obj.display(),
                            tpl.obj.display(),
                            origin_note(&tpl.obj)
                        ),
                        "add a Service that selects the gateway pods and exposes this port",
                    )
                    .related(tpl.obj.loc(tpl.anchor()), "gateway pods defined here");
                    continue;
                }
            }
            let exposed: Vec<String> = services
                .iter()
                .flat_map(|&s| ix.services[s].ports.iter().filter(|p| is_tcp(p)))
                .filter_map(|p| p.port.map(|_| p.display()))
                .collect();
            let f = em.violation(
                at,
                Some(obj.resource()),
                format!(
                    "{} listens on port {number}, but no Service in front of its gateway pods \
                     exposes it (as `port` or as `targetPort`): istiod binds {number} on the pods, \
                     and no load balancer or client can reach that listener",
                    obj.display()
                ),
                format!(
                    "use a port the gateway Service exposes ({}), or add port {number} to the Service",
                    if exposed.is_empty() {
                        "none".to_string()
                    } else {
                        exposed.join(", ")
                    }
                ),
            );
            for &s in services.iter().take(3) {
                let svc = &ix.services[s];
                let node = svc
                    .spec
                    .and_then(|sp| sp.key("ports"))
                    .unwrap_or(svc.obj.root);
                f.related(
                    svc.obj.loc(node),
                    format!(
                        "ports of {}{}, which selects the gateway pods",
                        svc.obj.display(),
                        origin_note(&svc.obj)
                    ),
                );
            }
        }
    }
}
