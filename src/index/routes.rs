//! VirtualService routes resolved to Service ports, the Gateways they are bound to, and
//! whether a workload runs an Istio sidecar. Built on demand by the rules that follow traffic
//! from a gateway (or the mesh) to a Service port (TLS002, H2002); each rule builds it once.

use std::collections::HashMap;

use super::{Host, Index};
use crate::model::cluster::Namespace;
use crate::model::istio::{Gateway, Server, VirtualService};
use crate::yaml::Node;

/// The kind of route a destination sits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteKind {
    Http,
    Tls,
    Tcp,
}

/// One route destination that resolved to a Service port in the set.
#[derive(Clone, Debug)]
pub struct RouteDest<'d, 's> {
    /// Index into [`Index::virtual_services`].
    pub vs: usize,
    pub kind: RouteKind,
    /// The `destination` mapping.
    pub dest: Node<'d, 's>,
    pub host_node: Node<'d, 's>,
    /// `destination.port.number`, when written.
    pub port_node: Option<Node<'d, 's>>,
    pub subset: Option<&'d str>,
    /// Index into [`Index::services`].
    pub svc: usize,
    /// Index into the Service's `ports`.
    pub port: usize,
    /// Gateways the route is bound to that are in the set (indexes into [`Index::gateways`]).
    pub gateways: Vec<usize>,
    /// The route is bound to the `mesh` (sidecars).
    pub mesh: bool,
    /// The route is bound to a Gateway that is not in the set.
    pub unresolved_gateway: bool,
}

impl<'d, 's> RouteDest<'d, 's> {
    /// The node findings about this destination point at: its port number, else its host.
    pub fn anchor(&self) -> Node<'d, 's> {
        self.port_node.unwrap_or(self.host_node)
    }
}

/// All route destinations of the set that reach a Service port.
pub struct Routes<'d, 's> {
    pub dests: Vec<RouteDest<'d, 's>>,
}

impl<'d, 's> Routes<'d, 's> {
    pub fn build(ix: &Index<'d, 's>) -> Routes<'d, 's> {
        let gateways: HashMap<(&str, &str), usize> = ix
            .gateways
            .iter()
            .enumerate()
            .map(|(i, g)| ((g.obj.namespace, g.obj.name), i))
            .collect();
        let mut dests = Vec::new();
        for (v, vs) in ix.virtual_services.iter().enumerate() {
            let ns = vs.obj.namespace;
            let resolve = |refs: &mut dyn Iterator<Item = &str>| -> (Vec<usize>, bool, bool) {
                let mut out = Vec::new();
                let mut mesh = false;
                let mut unresolved = false;
                for r in refs {
                    let Some((gns, name)) = super::routing::gateway_ref(ns, r) else {
                        mesh = true;
                        continue;
                    };
                    match gateways.get(&(gns, name)) {
                        Some(&g) if !out.contains(&g) => out.push(g),
                        Some(_) => {}
                        None => unresolved = true,
                    }
                }
                (out, mesh, unresolved)
            };
            let vs_level = if vs.gateways.is_empty() {
                (Vec::new(), true, false)
            } else {
                resolve(&mut vs.gateways.iter().map(|(g, _)| *g))
            };
            let Some(spec) = vs.obj.spec() else { continue };
            for (key, kind) in [
                ("http", RouteKind::Http),
                ("tls", RouteKind::Tls),
                ("tcp", RouteKind::Tcp),
            ] {
                for route in spec.get(key).into_iter().flat_map(|r| r.items()) {
                    // A route whose every match names its gateways applies to those only.
                    let matches: Vec<Node<'_, '_>> = route
                        .get("match")
                        .into_iter()
                        .flat_map(|m| m.items())
                        .collect();
                    let bound = if !matches.is_empty()
                        && matches.iter().all(|m| m.get("gateways").is_some())
                    {
                        resolve(
                            &mut matches
                                .iter()
                                .filter_map(|m| m.get("gateways"))
                                .flat_map(|g| g.items())
                                .filter_map(|g| g.as_text()),
                        )
                    } else {
                        vs_level.clone()
                    };
                    for rd in route.get("route").into_iter().flat_map(|r| r.items()) {
                        let Some(dest) = rd.get("destination") else {
                            continue;
                        };
                        let Some(host_node) = dest.get("host") else {
                            continue;
                        };
                        let Some(host) = host_node.as_text() else {
                            continue;
                        };
                        let Host::Service(s) = ix.resolve_host(host, ns) else {
                            continue;
                        };
                        let svc = &ix.services[s];
                        let port_node = dest.path(&["port", "number"]);
                        let port = match port_node.and_then(|n| n.as_int()) {
                            Some(n) => svc.ports.iter().position(|p| p.port == Some(n)),
                            None if port_node.is_none() && svc.ports.len() == 1 => Some(0),
                            None => None,
                        };
                        let Some(port) = port else { continue };
                        dests.push(RouteDest {
                            vs: v,
                            kind,
                            dest,
                            host_node,
                            port_node,
                            subset: dest.get("subset").and_then(|n| n.as_text()),
                            svc: s,
                            port,
                            gateways: bound.0.clone(),
                            mesh: bound.1,
                            unresolved_gateway: bound.2,
                        });
                    }
                }
            }
        }
        Routes { dests }
    }
}

/// True if a Gateway server takes traffic for at least one host of a VirtualService
/// (`hosts` of the server are `[ns/]dnsName`; `*` and `*.suffix` wildcards on either side).
pub fn server_accepts(
    gw: &Gateway<'_, '_>,
    server: &Server<'_, '_>,
    vs: &VirtualService<'_, '_>,
) -> bool {
    server.hosts.iter().any(|(h, _)| {
        let (sns, dns) = h.split_once('/').unwrap_or(("*", h));
        let ns_ok = match sns {
            "*" => true,
            "." => vs.obj.namespace == gw.obj.namespace,
            other => vs.obj.namespace == other,
        };
        ns_ok && vs.hosts.iter().any(|(vh, _)| host_overlap(dns, vh))
    })
}

fn host_overlap(a: &str, b: &str) -> bool {
    if a == "*" || b == "*" || a.eq_ignore_ascii_case(b) {
        return true;
    }
    let suffix_match = |wild: &str, name: &str| {
        wild.strip_prefix('*').is_some_and(|suffix| {
            name.len() > suffix.len()
                && name
                    .to_ascii_lowercase()
                    .ends_with(&suffix.to_ascii_lowercase())
        })
    };
    suffix_match(a, b) || suffix_match(b, a)
}

impl<'d, 's> Index<'d, 's> {
    /// Whether the pods of template `t` get an Istio sidecar: pod label or annotation
    /// `sidecar.istio.io/inject`, else the namespace labels `istio-injection` / `istio.io/rev`.
    /// `None` when that depends on a Namespace outside the linted set.
    pub fn sidecar_injected(&self, t: usize) -> Option<bool> {
        let tpl = &self.templates[t];
        let pod = tpl
            .labels
            .iter()
            .find(|(k, _)| *k == "sidecar.istio.io/inject")
            .map(|(_, v)| *v)
            .or_else(|| tpl.annotation("sidecar.istio.io/inject"));
        match pod {
            Some(v) if v.eq_ignore_ascii_case("true") => return Some(true),
            Some(v) if v.eq_ignore_ascii_case("false") => return Some(false),
            _ => {}
        }
        let ns = tpl.obj.namespace;
        match self.get("", "Namespace", "", ns) {
            Some(id) => {
                let n = Namespace::from_object(self.objects[id])?;
                Some(match n.label("istio-injection") {
                    Some("enabled") => true,
                    Some(_) => false,
                    None => n.label("istio.io/rev").is_some(),
                })
            }
            None if self.absent_is_missing() => Some(false),
            None => None,
        }
    }
}
