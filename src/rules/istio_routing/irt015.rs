//! IRT015 ingress-bypasses-subset-routing.

use std::collections::HashMap;

use crate::finding::Severity;
use crate::index::{Index, fqdn};
use crate::model::istio::VirtualService;
use crate::rules::{Emitter, Rule};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "IRT015",
    id: "ingress-bypasses-subset-routing",
    family: "istio-routing",
    severity: Severity::Warning,
    summary: "Gateway traffic skips the subset routing a mesh VirtualService defines for a host",
    docs: include_str!("irt015.md"),
    check,
    mitigations: &[],
};

/// One route destination with the binding of its route.
struct Dest<'d, 's> {
    host: &'d str,
    host_node: Node<'d, 's>,
    subset: Option<(&'d str, Node<'d, 's>)>,
    /// The route applies to the sidecars.
    mesh: bool,
    /// The route applies to at least one gateway.
    gateway: bool,
}

/// The destinations of every `http`, `tls` and `tcp` route, each with where its route applies:
/// a route whose every match lists `gateways` applies to those, else to `spec.gateways`
/// (absent = `mesh`).
fn dests<'d, 's>(vs: &VirtualService<'d, 's>) -> Vec<Dest<'d, 's>> {
    let binding = |list: &mut dyn Iterator<Item = &str>| {
        let (mut mesh, mut gateway) = (false, false);
        for g in list {
            if g == "mesh" {
                mesh = true;
            } else {
                gateway = true;
            }
        }
        (mesh, gateway)
    };
    let vs_level = if vs.gateways.is_empty() {
        (true, false)
    } else {
        binding(&mut vs.gateways.iter().map(|(g, _)| *g))
    };
    let mut out = Vec::new();
    let Some(spec) = vs.obj.spec() else {
        return out;
    };
    for kind in ["http", "tls", "tcp"] {
        for route in spec.get(kind).into_iter().flat_map(|r| r.items()) {
            let matches: Vec<Node<'d, 's>> = route
                .get("match")
                .into_iter()
                .flat_map(|m| m.items())
                .collect();
            let (mesh, gateway) =
                if !matches.is_empty() && matches.iter().all(|m| m.get("gateways").is_some()) {
                    binding(
                        &mut matches
                            .iter()
                            .filter_map(|m| m.get("gateways"))
                            .flat_map(|g| g.items())
                            .filter_map(|g| g.as_text()),
                    )
                } else {
                    vs_level
                };
            for rd in route.get("route").into_iter().flat_map(|r| r.items()) {
                let Some(d) = rd.get("destination") else {
                    continue;
                };
                let Some(host_node) = d.get("host") else {
                    continue;
                };
                let Some(host) = host_node.as_text() else {
                    continue;
                };
                out.push(Dest {
                    host,
                    host_node,
                    subset: d.get("subset").and_then(|n| Some((n.as_text()?, n))),
                    mesh,
                    gateway,
                });
            }
        }
    }
    out
}

/// How the sidecars route a host by subset: the VirtualService and its subset destinations.
struct Split<'d, 's> {
    vs: usize,
    subsets: Vec<&'d str>,
    first: Node<'d, 's>,
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let all: Vec<Vec<Dest<'_, '_>>> = ix.virtual_services.iter().map(dests).collect();

    // Host FQDN → the first mesh VirtualService routing that host to its subsets.
    let mut splits: HashMap<String, Split<'_, '_>> = HashMap::new();
    for (v, vs) in ix.virtual_services.iter().enumerate() {
        let ns = vs.obj.namespace;
        let own: Vec<String> = vs
            .hosts
            .iter()
            .map(|(h, _)| fqdn(h, ns).to_ascii_lowercase())
            .collect();
        for d in &all[v] {
            let Some((subset, node)) = d.subset else {
                continue;
            };
            if !d.mesh {
                continue;
            }
            let h = fqdn(d.host, ns).to_ascii_lowercase();
            if !own.contains(&h) {
                continue;
            }
            let s = splits.entry(h).or_insert_with(|| Split {
                vs: v,
                subsets: Vec::new(),
                first: node,
            });
            if s.vs == v && !s.subsets.contains(&subset) && s.subsets.len() < 8 {
                s.subsets.push(subset);
            }
        }
    }
    if splits.is_empty() {
        return;
    }

    for (v, vs) in ix.virtual_services.iter().enumerate() {
        let ns = vs.obj.namespace;
        for d in &all[v] {
            if d.subset.is_some() || !d.gateway {
                continue;
            }
            let h = fqdn(d.host, ns).to_ascii_lowercase();
            let Some(split) = splits.get(&h) else {
                continue;
            };
            if split.vs == v {
                continue;
            }
            let mesh_vs = &ix.virtual_services[split.vs];
            let subsets = split
                .subsets
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ");
            em.violation(
                vs.obj.loc(d.host_node),
                Some(vs.obj.resource()),
                format!(
                    "{} sends gateway traffic to {h} without a subset, while {} routes {h} for \
                     the sidecars by subset ({subsets}): gateways never apply mesh \
                     VirtualServices, so ingress requests skip that routing and are spread over \
                     every pod of the Service, including versions it keeps out",
                    vs.obj.display(),
                    mesh_vs.obj.display()
                ),
                "route to the same subsets (and weights) in this gateway VirtualService, or bind \
                 the mesh VirtualService to the gateway too (`gateways: [mesh, <gateway>]`)",
            )
            .related(
                mesh_vs.obj.loc(split.first),
                format!("{} routes {h} to subsets here", mesh_vs.obj.display()),
            );
        }
    }
}
