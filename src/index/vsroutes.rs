//! VirtualService destinations (route and mirror destinations, resolved or not) with the
//! proxies that use them, and the Gateway servers a VirtualService attaches to. Used by the
//! `istio-routing` rules; each builds what it needs once per run.

use std::collections::HashMap;

use super::Index;
use super::hosts::{hosts_overlap, istio_fqdn};
use super::routing::gateway_ref;
use crate::model::istio::VirtualService;
use crate::yaml::Node;

/// Where a destination sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DestKind {
    Http,
    Tls,
    Tcp,
    /// `http[].mirror` or `http[].mirrors[].destination`.
    Mirror,
}

impl DestKind {
    pub fn label(self) -> &'static str {
        match self {
            DestKind::Http => "http route",
            DestKind::Tls => "tls route",
            DestKind::Tcp => "tcp route",
            DestKind::Mirror => "mirror",
        }
    }
}

/// The proxies a route is used by.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Binding<'d> {
    /// Gateways as `(namespace, name)`, whether or not they are in the set.
    pub gateways: Vec<(&'d str, &'d str)>,
    /// Bound to the sidecars (`mesh`, or no `gateways` at all).
    pub mesh: bool,
}

impl<'d> Binding<'d> {
    fn from_refs(vs_ns: &'d str, refs: impl Iterator<Item = &'d str>) -> Binding<'d> {
        let mut b = Binding::default();
        for r in refs {
            match gateway_ref(vs_ns, r) {
                None => b.mesh = true,
                Some(g) if !b.gateways.contains(&g) => b.gateways.push(g),
                Some(_) => {}
            }
        }
        b
    }

    /// Namespaces whose proxies use the route: each gateway's namespace, and for the mesh the
    /// VirtualService's own namespace (as `istioctl analyze` does).
    pub fn consumers(&self, vs_ns: &'d str) -> Vec<&'d str> {
        let mut out: Vec<&'d str> = Vec::new();
        if self.mesh {
            out.push(vs_ns);
        }
        for (ns, _) in &self.gateways {
            if !out.contains(ns) {
                out.push(ns);
            }
        }
        out
    }
}

/// The top-level binding of a VirtualService (`spec.gateways`; none = `mesh`).
pub fn vs_binding<'d>(vs: &VirtualService<'d, '_>) -> Binding<'d> {
    if vs.gateways.is_empty() {
        return Binding {
            gateways: Vec::new(),
            mesh: true,
        };
    }
    Binding::from_refs(vs.obj.namespace, vs.gateways.iter().map(|(g, _)| *g))
}

/// One destination of a VirtualService.
#[derive(Clone, Debug)]
pub struct VsDest<'d, 's> {
    pub kind: DestKind,
    /// The `destination` mapping (for `mirror`, the mirror mapping itself).
    pub dest: Node<'d, 's>,
    pub host: &'d str,
    pub host_node: Node<'d, 's>,
    pub subset: Option<(&'d str, Node<'d, 's>)>,
    /// `port.number`, when it is an integer.
    pub port: Option<(i64, Node<'d, 's>)>,
    /// The `port` key is written (even with an unreadable number).
    pub port_written: bool,
    /// Who uses the route: per-match `gateways` when every match names some, else the
    /// VirtualService's.
    pub binding: Binding<'d>,
}

fn dest<'d, 's>(kind: DestKind, d: Node<'d, 's>, binding: &Binding<'d>) -> Option<VsDest<'d, 's>> {
    let host_node = d.get("host")?;
    let host = host_node.as_text()?;
    Some(VsDest {
        kind,
        dest: d,
        host,
        host_node,
        subset: d.get("subset").and_then(|n| Some((n.as_text()?, n))),
        port: d
            .path(&["port", "number"])
            .and_then(|n| Some((n.as_int()?, n))),
        port_written: d.get("port").is_some(),
        binding: binding.clone(),
    })
}

/// Every route and mirror destination of a VirtualService, in document order per kind.
pub fn destinations<'d, 's>(vs: &VirtualService<'d, 's>) -> Vec<VsDest<'d, 's>> {
    let mut out = Vec::new();
    let Some(spec) = vs.obj.spec() else {
        return out;
    };
    let top = vs_binding(vs);
    for (key, kind) in [
        ("http", DestKind::Http),
        ("tls", DestKind::Tls),
        ("tcp", DestKind::Tcp),
    ] {
        for rule in spec.get(key).into_iter().flat_map(|r| r.items()) {
            let matches: Vec<Node<'d, 's>> = rule
                .get("match")
                .into_iter()
                .flat_map(|m| m.items())
                .collect();
            let binding =
                if !matches.is_empty() && matches.iter().all(|m| m.get("gateways").is_some()) {
                    Binding::from_refs(
                        vs.obj.namespace,
                        matches
                            .iter()
                            .filter_map(|m| m.get("gateways"))
                            .flat_map(|g| g.items())
                            .filter_map(|g| g.as_text()),
                    )
                } else {
                    top.clone()
                };
            for rd in rule.get("route").into_iter().flat_map(|r| r.items()) {
                if let Some(d) = rd.get("destination").and_then(|d| dest(kind, d, &binding)) {
                    out.push(d);
                }
            }
            if kind == DestKind::Http {
                if let Some(d) = rule
                    .get("mirror")
                    .and_then(|m| dest(DestKind::Mirror, m, &binding))
                {
                    out.push(d);
                }
                for m in rule.get("mirrors").into_iter().flat_map(|m| m.items()) {
                    if let Some(d) = m
                        .get("destination")
                        .and_then(|d| dest(DestKind::Mirror, d, &binding))
                    {
                        out.push(d);
                    }
                }
            }
        }
    }
    out
}

/// Gateways by `(namespace, name)` (indexes into [`Index::gateways`]).
pub fn gateways_by_name<'a>(ix: &'a Index<'_, '_>) -> HashMap<(&'a str, &'a str), usize> {
    ix.gateways
        .iter()
        .enumerate()
        .map(|(g, gw)| ((gw.obj.namespace, gw.obj.name), g))
        .collect()
}

/// How a VirtualService attaches to one Gateway it binds to (`spec.gateways` entry).
#[derive(Clone, Debug)]
pub struct GatewayAttach<'d, 's> {
    /// The `spec.gateways` entry.
    pub entry: Node<'d, 's>,
    pub namespace: &'d str,
    pub name: &'d str,
    /// The Gateway, when it is in the set.
    pub gateway: Option<usize>,
    /// Servers (indexes into the Gateway's `servers`) that take at least one VirtualService
    /// host, with the indexes of those hosts in the VirtualService's `hosts`.
    pub attached: Vec<(usize, Vec<usize>)>,
    /// Server hosts whose DNS name takes a VirtualService host but whose namespace prefix does
    /// not admit the VirtualService's namespace: `(server, host node)`.
    pub excluded: Vec<(usize, Node<'d, 's>)>,
}

/// True if a Gateway server host `ns/dnsName` admits VirtualServices of namespace `vs_ns`
/// (no prefix = `*/`; `.` = the Gateway's namespace). Returns the DNS name when it does.
pub fn server_host_admits<'h>(host: &'h str, gw_ns: &str, vs_ns: &str) -> (bool, &'h str) {
    let (sns, dns) = host.split_once('/').unwrap_or(("*", host));
    let ok = match sns {
        "*" => true,
        "." => vs_ns == gw_ns,
        other => vs_ns == other,
    };
    (ok, dns)
}

/// For each Gateway in `spec.gateways` (not `mesh`; each named once), the servers the
/// VirtualService attaches to (catalog IRT002: namespace-admitted server hosts intersecting a
/// VirtualService host, wildcards on either side).
pub fn attachments<'d, 's>(
    ix: &Index<'d, 's>,
    by_name: &HashMap<(&str, &str), usize>,
    vs: &VirtualService<'d, 's>,
) -> Vec<GatewayAttach<'d, 's>> {
    let vs_ns = vs.obj.namespace;
    let vs_hosts: Vec<String> = vs.hosts.iter().map(|(h, _)| istio_fqdn(h, vs_ns)).collect();
    let mut out: Vec<GatewayAttach<'d, 's>> = Vec::new();
    for &(text, entry) in &vs.gateways {
        let Some((ns, name)) = gateway_ref(vs_ns, text) else {
            continue;
        };
        if out.iter().any(|a| a.namespace == ns && a.name == name) {
            continue;
        }
        let gateway = by_name.get(&(ns, name)).copied();
        let mut attached = Vec::new();
        let mut excluded = Vec::new();
        if let Some(g) = gateway {
            let gw = &ix.gateways[g];
            for (s, server) in gw.servers.iter().enumerate() {
                let mut taken: Vec<usize> = Vec::new();
                for &(h, hnode) in &server.hosts {
                    let (ok, dns) = server_host_admits(h, gw.obj.namespace, vs_ns);
                    let hits: Vec<usize> = vs_hosts
                        .iter()
                        .enumerate()
                        .filter(|(_, vh)| hosts_overlap(dns, vh))
                        .map(|(i, _)| i)
                        .collect();
                    if hits.is_empty() {
                        continue;
                    }
                    if ok {
                        for i in hits {
                            if !taken.contains(&i) {
                                taken.push(i);
                            }
                        }
                    } else {
                        excluded.push((s, hnode));
                    }
                }
                if !taken.is_empty() {
                    taken.sort_unstable();
                    attached.push((s, taken));
                }
            }
        }
        out.push(GatewayAttach {
            entry,
            namespace: ns,
            name,
            gateway,
            attached,
            excluded,
        });
    }
    out
}
