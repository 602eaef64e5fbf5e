//! WRK005 mesh-backend-not-injected.

use std::collections::BTreeMap;

use crate::finding::{Location, Severity};
use crate::index::hosts::{exported_to, spec_export_to};
use crate::index::vsroutes::{DestKind, destinations};
use crate::index::{Host, Index, Meshed};
use crate::rules::{Emitter, Rule, origin_note};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "WRK005",
    id: "mesh-backend-not-injected",
    family: "workload",
    severity: Severity::Info,
    summary: "A workload an Istio gateway routes to runs without a sidecar",
    docs: include_str!("wrk005.md"),
    check,
    mitigations: &[],
};

/// One gateway route that reaches a workload.
struct Route {
    /// The route's destination host (in the VirtualService).
    at: Location,
    what: String,
}

/// Everything found about one pod template.
#[derive(Default)]
struct Reached {
    routes: Vec<Route>,
    /// DestinationRule `tls.mode: ISTIO_MUTUAL` nodes that apply to a route to it.
    mutual: Vec<(Location, String)>,
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    if ix.virtual_services.is_empty() || ix.templates.is_empty() {
        return;
    }
    let membership = ix.membership();
    let hosts = ix.host_table();
    // Template → the gateway routes that reach it (BTreeMap: stable output order).
    let mut reached: BTreeMap<usize, Reached> = BTreeMap::new();
    for vs in &ix.virtual_services {
        let ns = vs.obj.namespace;
        for d in destinations(vs) {
            if d.kind == DestKind::Mirror || d.binding.gateways.is_empty() {
                continue;
            }
            let Host::Service(s) = ix.resolve_host(d.host, ns) else {
                continue;
            };
            let svc = &ix.services[s];
            let gateways: Vec<String> = d
                .binding
                .gateways
                .iter()
                .map(|(gns, g)| format!("{gns}/{g}"))
                .collect();
            let what = format!(
                "{} routes Gateway {} traffic to {}",
                vs.obj.display(),
                gateways.join(", "),
                svc.obj.display()
            );
            // ISTIO_MUTUAL DestinationRules the gateways apply to this destination.
            let fq = format!("{}.{}.svc.cluster.local", svc.obj.name, svc.obj.namespace);
            let number = d
                .port
                .map(|(n, _)| n)
                .or_else(|| (svc.ports.len() == 1).then(|| svc.ports[0].port).flatten());
            let mut mutual = Vec::new();
            for dr_i in hosts.destination_rules(ix, &fq) {
                let dr = &ix.destination_rules[dr_i];
                let export = spec_export_to(&dr.obj);
                if !d
                    .binding
                    .gateways
                    .iter()
                    .any(|(gns, _)| exported_to(&export, dr.obj.namespace, gns))
                {
                    continue;
                }
                if let Some(n) = istio_mutual(dr.obj.spec(), number, d.subset.map(|(s, _)| s)) {
                    mutual.push((
                        dr.obj.loc(n),
                        format!("{} makes the gateway send Istio mTLS", dr.obj.display()),
                    ));
                }
            }
            for &t in ix.service_templates(s) {
                let r = reached.entry(t).or_default();
                r.routes.push(Route {
                    at: vs.obj.loc(d.host_node),
                    what: what.clone(),
                });
                for m in &mutual {
                    if !r.mutual.iter().any(|(l, _)| *l == m.0) {
                        r.mutual.push(m.clone());
                    }
                }
            }
        }
    }

    for (t, r) in reached {
        let tpl = &ix.templates[t];
        let Some(first) = r.routes.first() else {
            continue;
        };
        match membership.of(t) {
            Some(Meshed::Sidecar | Meshed::Ambient) => {}
            None => {
                // At the workload the finding is about; the route is related.
                let f = em.unknown(
                    tpl.obj.loc(tpl.anchor()),
                    Some(tpl.obj.resource()),
                    format!(
                        "{}, whose pods ({}) may run without an Istio sidecar: namespace {} is \
                         not in the linted set, so its injection labels are unknown",
                        first.what,
                        tpl.obj.display(),
                        tpl.obj.namespace
                    ),
                    format!(
                        "lint the Namespace {} (with its `istio-injection` / `istio.io/rev` \
                         labels) together with the workload",
                        tpl.obj.namespace
                    ),
                );
                f.related(first.at, first.what.clone());
                for (at, m) in &r.mutual {
                    f.related(*at, m.clone());
                }
            }
            Some(Meshed::No) => {
                let (at, why) = cause(ix, t);
                let mesh_effect = if r.mutual.is_empty() {
                    "the hop from the gateway is plain text and mesh policies (mTLS, \
                     AuthorizationPolicy, retries, telemetry) do not apply to it"
                } else {
                    "and a DestinationRule makes the gateway send Istio mutual TLS, which a pod \
                     without a sidecar cannot accept, so every request fails (503, connection \
                     reset)"
                };
                let f = em.violation(
                    at,
                    Some(tpl.obj.resource()),
                    format!(
                        "{}{} receives gateway traffic but gets no Istio sidecar ({why}): \
                         {mesh_effect}",
                        tpl.obj.display(),
                        origin_note(&tpl.obj)
                    ),
                    format!(
                        "label namespace {} `istio-injection: enabled` (or `istio.io/rev: \
                         <revision>`), or remove the pod's `sidecar.istio.io/inject: \"false\"`",
                        tpl.obj.namespace
                    ),
                );
                if !r.mutual.is_empty() {
                    f.severity(Severity::Error);
                }
                for route in &r.routes {
                    f.related(route.at, route.what.clone());
                }
                for (at, m) in &r.mutual {
                    f.related(*at, m.clone());
                }
            }
        }
    }
}

/// Where the missing sidecar is decided, and why: the pod's opt-out, else the Namespace (its
/// `istio-injection` value or its name), else the pod template.
fn cause(ix: &Index<'_, '_>, t: usize) -> (Location, String) {
    let tpl = &ix.templates[t];
    fn opt_out<'d, 's>(m: Option<Node<'d, 's>>) -> Option<(Node<'d, 's>, Node<'d, 's>)> {
        m.and_then(|n| n.entry("sidecar.istio.io/inject"))
            .filter(|(_, v)| v.as_text().is_some_and(|v| v.eq_ignore_ascii_case("false")))
    }
    let meta = tpl.metadata;
    if let Some((_, v)) = opt_out(meta.and_then(|m| m.get("labels")))
        .or_else(|| opt_out(meta.and_then(|m| m.get("annotations"))))
    {
        return (
            tpl.obj.loc(v),
            "the pod template sets `sidecar.istio.io/inject: \"false\"`".into(),
        );
    }
    let ns = tpl.obj.namespace;
    if let Some(n) = ix.namespace_object(ns) {
        let labels = n.obj.labels();
        if let Some((_, v)) = labels.and_then(|l| l.entry("istio-injection")) {
            let value = v.as_text().unwrap_or("");
            return (
                n.obj.loc(v),
                format!("namespace {ns} has `istio-injection: {value}`"),
            );
        }
        return (
            n.obj.name_loc(),
            format!("namespace {ns} has neither `istio-injection: enabled` nor `istio.io/rev`"),
        );
    }
    (
        tpl.obj.loc(tpl.anchor()),
        format!("namespace {ns} is not in the set, so it has no injection label"),
    )
}

/// The `tls.mode: ISTIO_MUTUAL` node of a DestinationRule spec that applies to traffic for
/// Service port `number` and `subset`: the subset's policy, else the port-level one, else the
/// top-level one (the most specific `tls` wins).
fn istio_mutual<'d, 's>(
    spec: Option<Node<'d, 's>>,
    number: Option<i64>,
    subset: Option<&str>,
) -> Option<Node<'d, 's>> {
    let spec = spec?;
    let level_tls = |policy: Option<Node<'d, 's>>| -> Option<Node<'d, 's>> {
        let policy = policy?;
        let port_level = policy
            .get("portLevelSettings")
            .into_iter()
            .flat_map(|p| p.items())
            .find(|p| {
                number.is_some() && p.path(&["port", "number"]).and_then(|n| n.as_int()) == number
            })
            .and_then(|p| p.path(&["tls", "mode"]));
        port_level.or_else(|| policy.path(&["tls", "mode"]))
    };
    let subset_policy = subset.and_then(|name| {
        spec.get("subsets")
            .into_iter()
            .flat_map(|s| s.items())
            .find(|s| s.str_at("name") == Some(name))
            .and_then(|s| s.get("trafficPolicy"))
    });
    let mode = level_tls(subset_policy).or_else(|| level_tls(spec.get("trafficPolicy")))?;
    mode.as_text()
        .is_some_and(|m| m.eq_ignore_ascii_case("ISTIO_MUTUAL"))
        .then_some(mode)
}
