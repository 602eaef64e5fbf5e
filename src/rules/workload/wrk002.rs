//! WRK002 service-targetport-unresolved.

use std::collections::HashSet;

use crate::finding::Severity;
use crate::index::{Index, LbKind, Meshed};
use crate::model::IntOrName;
use crate::model::service::ServicePort;
use crate::rules::{Emitter, Rule, origin_note};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "WRK002",
    id: "service-targetport-unresolved",
    family: "workload",
    severity: Severity::Error,
    summary: "A Service port's targetPort names or numbers no container port of the pods it selects",
    docs: include_str!("wrk002.md"),
    check,
    mitigations: &[],
};

/// Ports the Istio sidecar (or gateway proxy) adds at injection: the agent's status port, the
/// readiness port and Envoy's Prometheus port.
const PROXY_PORTS: &[i64] = &[15020, 15021, 15090];
/// Port names the injected proxy container declares.
const PROXY_PORT_NAMES: &[(&str, i64)] = &[("http-envoy-prom", 15090)];

/// How a targetPort resolves in one template.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Res {
    /// A container declares it (the number it resolves to).
    Declared(i64),
    /// A number no container declares (legal; kube-proxy forwards to it anyway).
    Undeclared,
    /// A name no container declares: the pod gets no endpoint for this port.
    Missing,
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    if ix.services.is_empty() || ix.templates.is_empty() {
        return;
    }
    let membership = ix.membership();
    // Whether each template's pods get a sidecar, decided once per template (a Service that
    // selects many templates asks for each of its ports).
    let proxied_cache: Vec<std::cell::OnceCell<bool>> = (0..ix.templates.len())
        .map(|_| std::cell::OnceCell::new())
        .collect();
    // Service ports a GKE Ingress sends traffic to: GKE infers their health check from the
    // readinessProbe of the container that declares the target port.
    let gke_backends: HashSet<(usize, usize)> = ix
        .lb_backends
        .iter()
        .filter(|b| b.kind == LbKind::GkeIngress)
        .filter_map(|b| Some((*b.service.found()?, b.port?)))
        .collect();
    for (s, svc) in ix.services.iter().enumerate() {
        if svc.multi_cluster || svc.effective_type() == "ExternalName" {
            continue;
        }
        let templates = ix.service_templates(s);
        if templates.is_empty() {
            continue; // WRK001's business
        }
        for (pi, port) in svc.ports.iter().enumerate() {
            let Some(target) = port.target else { continue };
            // Out-of-range numbers are schema errors, not this rule's business.
            if let IntOrName::Int(n) = target
                && !(1..=65535).contains(&n)
            {
                continue;
            }
            let per_tpl: Vec<(usize, Res)> = templates
                .iter()
                .map(|&t| {
                    // Injected proxies add their own ports; gateways listen where their
                    // Gateway servers say, whatever the containers declare.
                    let proxied = *proxied_cache[t]
                        .get_or_init(|| matches!(membership.of(t), Some(Meshed::Sidecar) | None));
                    (t, resolve(ix, t, target, proxied))
                })
                .collect();
            let at = target_node(port);
            match target {
                IntOrName::Name(name) => named(ix, em, s, port, name, at, &per_tpl),
                IntOrName::Int(n) => {
                    let gke = gke_backends.contains(&(s, pi));
                    numeric(ix, em, s, port, n, at, &per_tpl, gke)
                }
            }
        }
    }
}

/// The node findings about a port's target point at: `targetPort`, else `port` (defaulted).
fn target_node<'d, 's>(port: &ServicePort<'d, 's>) -> Node<'d, 's> {
    port.node
        .get("targetPort")
        .or_else(|| port.node.get("port"))
        .unwrap_or(port.node)
}

fn resolve(ix: &Index<'_, '_>, t: usize, target: IntOrName<'_>, proxied: bool) -> Res {
    match target {
        IntOrName::Name(name) => {
            if let Some(n) = ix.template_port_named(t, name) {
                return Res::Declared(n);
            }
            if proxied && let Some((_, n)) = PROXY_PORT_NAMES.iter().find(|(pn, _)| *pn == name) {
                return Res::Declared(*n);
            }
            Res::Missing
        }
        IntOrName::Int(n) => {
            let declared = ix.template_ports(t).iter().any(|(_, p)| *p == Some(n));
            if declared || ix.is_gateway_template(t) || (proxied && PROXY_PORTS.contains(&n)) {
                Res::Declared(n)
            } else {
                Res::Undeclared
            }
        }
    }
}

/// A declared port name the targetPort name was probably meant to be: a typo away, or the same
/// name with a `-suffix` added or dropped (`grpc` / `grpc-api`).
pub(crate) fn port_name_near_miss(wrote: &str, declared: &str) -> bool {
    let extends = |short: &str, long: &str| {
        long.strip_prefix(short)
            .is_some_and(|rest| rest.starts_with('-') && rest.len() > 1)
    };
    crate::index::typo_distance(wrote, declared).is_some()
        || extends(wrote, declared)
        || extends(declared, wrote)
}

/// The node a related location about a template points at: its first container's `ports`,
/// else the pod spec.
fn ports_anchor<'d, 's>(ix: &Index<'d, 's>, t: usize) -> Node<'d, 's> {
    let tpl = &ix.templates[t];
    tpl.containers()
        .find_map(|c| c.node.get("ports"))
        .unwrap_or(tpl.anchor())
}

fn named(
    ix: &Index<'_, '_>,
    em: &mut Emitter<'_>,
    s: usize,
    port: &ServicePort<'_, '_>,
    name: &str,
    at: Node<'_, '_>,
    per_tpl: &[(usize, Res)],
) {
    let svc = &ix.services[s];
    let missing: Vec<usize> = per_tpl
        .iter()
        .filter(|(_, r)| *r == Res::Missing)
        .map(|(t, _)| *t)
        .collect();
    let mut numbers: Vec<(usize, i64)> = per_tpl
        .iter()
        .filter_map(|(t, r)| match r {
            Res::Declared(n) => Some((*t, *n)),
            _ => None,
        })
        .collect();
    let what = format!(
        "{}{} port {} targets the container port named `{name}`",
        svc.obj.display(),
        origin_note(&svc.obj),
        port.display()
    );
    if missing.len() == per_tpl.len() {
        // Reference policy: that no pod in the set has the name is an error when a declared
        // name is a near miss (or in a closed world); otherwise other pods of the Service may
        // come from elsewhere, and only these pods are known to get no endpoint.
        let near = missing.iter().find_map(|&t| {
            ix.templates[t]
                .containers()
                .flat_map(|c| c.ports().filter_map(|(n, _, _)| n).collect::<Vec<_>>())
                .find(|n| port_name_near_miss(name, n))
        });
        let decided = near.is_some() || ix.absent_is_missing();
        let help = match near {
            Some(n) => format!(
                "did you mean `{n}`? Name the container port like the targetPort \
                 (`ports[].name`), or use the port number"
            ),
            None => "name the container port like the targetPort (`ports[].name`), or use the \
                     port number"
                .to_string(),
        };
        let message = if decided {
            format!(
                "{what}, but no container of the pods it selects declares a port with that name: \
                 no pod gets an endpoint for this port, so the load balancer's NEG or target \
                 group and Istio's cluster stay empty (502/503)"
            )
        } else {
            format!(
                "{what}, but no container of the pods it selects in the set declares a port with \
                 that name: those pods get no endpoint for this port (502/503 for whatever is \
                 sent to them)"
            )
        };
        let f = em.violation(svc.obj.loc(at), Some(svc.obj.resource()), message, help);
        if !decided {
            f.severity(Severity::Warning);
        }
        f.related_many(
            missing.len(),
            missing.iter().map(|&t| {
                let tpl = &ix.templates[t];
                (
                    tpl.obj.loc(ports_anchor(ix, t)),
                    format!(
                        "{}{} declares no port `{name}`",
                        tpl.obj.display(),
                        origin_note(&tpl.obj)
                    ),
                )
            }),
        );
        return;
    }
    numbers.sort_by_key(|(_, n)| *n);
    let distinct = {
        let mut v: Vec<i64> = numbers.iter().map(|(_, n)| *n).collect();
        v.dedup();
        v
    };
    if missing.is_empty() && distinct.len() <= 1 {
        return;
    }
    let message = if !missing.is_empty() {
        let names: Vec<String> = missing
            .iter()
            .map(|&t| ix.templates[t].obj.display())
            .collect();
        format!(
            "{what}, but the pods of {} declare no port with that name: those pods get no \
             endpoint for this port and receive none of its traffic",
            names.join(", ")
        )
    } else {
        format!(
            "{what}, which resolves to different numbers in the pods it selects ({}): each pod \
             is reached on its own number, so health checks and policies written for one \
             number miss the others",
            distinct
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let f = em.violation(
        svc.obj.loc(at),
        Some(svc.obj.resource()),
        message,
        "declare the named port with the same number in every workload the Service selects \
         (canary and stable alike)",
    );
    f.severity(Severity::Warning);
    f.related_many(
        per_tpl.len(),
        per_tpl.iter().map(|&(t, r)| {
            let tpl = &ix.templates[t];
            let msg = match r {
                Res::Declared(n) => format!("in {} `{name}` is {n}", tpl.obj.display()),
                _ => format!("{} declares no port `{name}`", tpl.obj.display()),
            };
            (tpl.obj.loc(ports_anchor(ix, t)), msg)
        }),
    );
}

#[allow(clippy::too_many_arguments)]
fn numeric(
    ix: &Index<'_, '_>,
    em: &mut Emitter<'_>,
    s: usize,
    port: &ServicePort<'_, '_>,
    number: i64,
    at: Node<'_, '_>,
    per_tpl: &[(usize, Res)],
    gke: bool,
) {
    // A template that declares no port at all is common and harmless unless GKE must infer a
    // health check; one that declares other ports most likely has the wrong number here.
    let undeclared: Vec<usize> = per_tpl
        .iter()
        .filter(|(t, r)| {
            *r == Res::Undeclared && (gke || ix.template_ports(*t).iter().any(|(_, p)| p.is_some()))
        })
        .map(|(t, _)| *t)
        .collect();
    if undeclared.is_empty() {
        return;
    }
    let svc = &ix.services[s];
    // Named in the message: the first few (the rest are counted).
    let names: Vec<String> = undeclared
        .iter()
        .take(3)
        .map(|&t| ix.templates[t].obj.display())
        .collect();
    let defaulted = if port.target_explicit {
        String::new()
    } else {
        " (targetPort defaults to the port)".to_string()
    };
    let mut declared: Vec<i64> = undeclared
        .iter()
        .flat_map(|&t| ix.template_ports(t).iter().filter_map(|(_, p)| *p))
        .collect();
    declared.sort_unstable();
    declared.dedup();
    let consequence = if declared.is_empty() {
        "traffic still reaches the pod, but GKE cannot infer the load balancer's health check \
         from a readinessProbe on an undeclared port and falls back to `GET /`"
            .to_string()
    } else {
        format!(
            "they declare {} instead, so the number is probably wrong: unless the app also \
             listens on {number}, every connection through this port is refused",
            crate::rules::fold_list(
                &declared.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
                5
            )
        )
    };
    let f = em.violation(
        svc.obj.loc(at),
        Some(svc.obj.resource()),
        format!(
            "{}{} port {} targets container port {number}{defaulted}, which no container of {} \
             declares: {consequence}",
            svc.obj.display(),
            origin_note(&svc.obj),
            port.display(),
            crate::rules::fold_shown(&names, undeclared.len())
        ),
        format!(
            "set targetPort to the port the app listens on and declare it \
             (`containerPort: {number}` with a name) on the serving container"
        ),
    );
    f.severity(Severity::Info);
    f.related_many(
        undeclared.len(),
        undeclared.iter().map(|&t| {
            let tpl = &ix.templates[t];
            (
                tpl.obj.loc(ports_anchor(ix, t)),
                format!("{} declares no port {number}", tpl.obj.display()),
            )
        }),
    );
}
