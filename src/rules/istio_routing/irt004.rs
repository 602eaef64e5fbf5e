//! IRT004 vs-subset-undefined.

use crate::finding::Severity;
use crate::index::hosts::{closest_name, exported_to};
use crate::index::vsroutes::destinations;
use crate::index::{Index, fqdn};
use crate::rules::{Emitter, Rule};

pub static RULE: Rule = Rule {
    code: "IRT004",
    id: "vs-subset-undefined",
    family: "istio-routing",
    severity: Severity::Error,
    summary: "A VirtualService routes to a subset that no visible DestinationRule defines",
    docs: include_str!("irt004.md"),
    check,
    mitigations: &[],
};

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let hosts = ix.host_table();
    for vs in &ix.virtual_services {
        let obj = &vs.obj;
        for d in destinations(vs) {
            let Some((subset, subset_node)) = d.subset else {
                continue;
            };
            let host = fqdn(d.host, obj.namespace);
            let drs = hosts.destination_rules(ix, &host);
            let what = format!("{} `{}` of {}", d.kind.label(), d.host, obj.display());
            if drs.is_empty() {
                if ix.absent_is_missing() {
                    em.violation(
                        obj.loc(subset_node),
                        Some(obj.resource()),
                        format!(
                            "{what} sends traffic to subset `{subset}`, but no DestinationRule \
                             for {host} is in the linted set (closed world): Envoy has no \
                             cluster for that subset, so those requests get 503 (NC)"
                        ),
                        format!("add a DestinationRule for {host} that defines subset `{subset}`"),
                    );
                } else {
                    em.unknown(
                        obj.loc(subset_node),
                        Some(obj.resource()),
                        format!(
                            "{what} sends traffic to subset `{subset}`, and no DestinationRule \
                             for {host} is in the linted set: cannot tell whether the subset \
                             is defined"
                        ),
                        "lint the DestinationRule together with the VirtualService, or run \
                         with --closed-world if everything is in the set",
                    );
                }
                continue;
            }
            let defining: Vec<usize> = drs
                .iter()
                .copied()
                .filter(|&r| {
                    ix.destination_rules[r]
                        .subsets
                        .iter()
                        .any(|s| s.name == subset)
                })
                .collect();
            if defining.is_empty() {
                let names: Vec<&str> = drs
                    .iter()
                    .flat_map(|&r| ix.destination_rules[r].subsets.iter().map(|s| s.name))
                    .collect();
                let rules: Vec<String> = drs
                    .iter()
                    .map(|&r| {
                        let o = &ix.destination_rules[r].obj;
                        format!("{}/{}", o.namespace, o.name)
                    })
                    .collect();
                let has = if names.is_empty() {
                    "defines no subsets".to_string()
                } else {
                    format!("defines {}", names.join(", "))
                };
                let help = match closest_name(names.iter().copied(), subset) {
                    Some(n) => format!(
                        "did you mean subset `{n}`? Otherwise add subset `{subset}` (with the \
                         labels of its pods) to the DestinationRule"
                    ),
                    None => format!(
                        "add subset `{subset}` (with the labels of its pods) to the \
                         DestinationRule, or route to one of its subsets"
                    ),
                };
                let f = em.violation(
                    obj.loc(subset_node),
                    Some(obj.resource()),
                    format!(
                        "{what} sends traffic to subset `{subset}`, which DestinationRule {} \
                         for {host} does not define ({has}): Envoy has no cluster for it, so \
                         that share of the traffic gets 503 (NC)",
                        rules.join(", ")
                    ),
                    help,
                );
                for &r in &drs {
                    let dr = &ix.destination_rules[r];
                    let at = dr
                        .obj
                        .spec()
                        .and_then(|s| s.key("subsets"))
                        .or(dr.host.map(|(_, n)| n));
                    if let Some(at) = at {
                        f.related(
                            dr.obj.loc(at),
                            format!("{} defines the subsets of {host}", dr.obj.display()),
                        );
                    }
                }
                continue;
            }
            // A gateway only sees DestinationRules exported to its namespace.
            let mut seen: Vec<&str> = Vec::new();
            for &(gns, _) in &d.binding.gateways {
                if seen.contains(&gns) {
                    continue;
                }
                seen.push(gns);
                let visible = defining.iter().any(|&r| {
                    let dr = &ix.destination_rules[r];
                    let export: Vec<&str> = dr.export_to.iter().map(|(e, _)| *e).collect();
                    exported_to(&export, dr.obj.namespace, gns)
                });
                if visible {
                    continue;
                }
                let dr = &ix.destination_rules[defining[0]];
                let f = em.violation(
                    obj.loc(subset_node),
                    Some(obj.resource()),
                    format!(
                        "{what} is used by a gateway in namespace {gns} and sends traffic to \
                         subset `{subset}`, but {} defines it with an `exportTo` that hides it \
                         from {gns}: the gateway has no cluster for the subset and answers 503 \
                         (NC)",
                        dr.obj.display()
                    ),
                    format!("add `{gns}` (or `*`) to the DestinationRule's exportTo"),
                );
                if let Some(k) = dr.obj.spec().and_then(|s| s.key("exportTo")) {
                    f.related(dr.obj.loc(k), format!("exportTo of {}", dr.obj.display()));
                }
            }
        }
    }
}
