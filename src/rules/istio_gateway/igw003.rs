//! IGW003 gateway-conflicting-servers.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::finding::Severity;
use crate::index::{Index, WorkloadKey};
use crate::model::istio::{Gateway, Server};
use crate::rules::{Emitter, Rule, origin_note};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "IGW003",
    id: "gateway-conflicting-servers",
    family: "istio-gateway",
    severity: Severity::Warning,
    summary: "Gateway servers on the same gateway pods and port conflict: istiod drops or merges one of them",
    docs: include_str!("igw003.md"),
    check,
    mitigations: &[],
};

/// How istiod can share one port between servers (`mergeGateways`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// Plaintext HTTP, HTTP2, GRPC, GRPC-WEB: servers merge into one route table.
    Http,
    /// HTTPS or TLS: servers share the port through SNI filter chains.
    Tls,
    /// Opaque TCP (TCP, MONGO, …): one server per port.
    Tcp,
}

impl Class {
    fn of(server: &Server<'_, '_>) -> Class {
        match server.protocol.as_str() {
            "HTTP" | "HTTP2" | "GRPC" | "GRPC-WEB" => Class::Http,
            "HTTPS" | "TLS" => Class::Tls,
            _ => Class::Tcp,
        }
    }
    fn describe(self) -> &'static str {
        match self {
            Class::Http => "plaintext HTTP",
            Class::Tls => "TLS",
            Class::Tcp => "opaque TCP",
        }
    }
}

/// One server of one Gateway, as placed on a workload.
#[derive(Clone, Copy)]
struct Srv<'a, 'd, 's> {
    g: usize,
    s: usize,
    gw: &'a Gateway<'d, 's>,
    server: &'a Server<'d, 's>,
}

impl<'d, 's> Srv<'_, 'd, 's> {
    fn port_field(&self, key: &str) -> Option<Node<'d, 's>> {
        self.server.node.get("port")?.get(key)
    }
    fn anchor(&self, key: &str) -> Node<'d, 's> {
        self.port_field(key)
            .or(self.server.port_node)
            .unwrap_or(self.server.node)
    }
    fn bind(&self) -> &'d str {
        self.server.node.str_at("bind").unwrap_or("")
    }
    fn describe(&self) -> String {
        format!(
            "{} server `{}` ({} {})",
            self.gw.obj.display(),
            self.port_field("name")
                .and_then(|n| n.as_str())
                .unwrap_or("?"),
            self.server.number.unwrap_or_default(),
            self.server.protocol
        )
    }
    /// Hosts as istiod sanitises them (`./h` → `<ns>/h`, `*/h` → `h`), with their nodes.
    fn hosts(&self) -> Vec<(String, Node<'d, 's>)> {
        self.server
            .hosts
            .iter()
            .map(|(h, n)| {
                let h = match h.split_once('/') {
                    Some((".", d)) => format!("{}/{d}", self.gw.obj.namespace),
                    Some(("*", d)) => d.to_string(),
                    _ => h.to_string(),
                };
                (h, *n)
            })
            .collect()
    }
    /// The TLS settings in a canonical form, for comparing servers.
    fn tls_signature(&self) -> String {
        let mut out = String::new();
        if let Some(t) = self.server.tls {
            canonical(t, &mut out);
        }
        out
    }
    /// True for HTTPS servers that terminate TLS (they get their own route table).
    fn terminates_https(&self) -> bool {
        self.server.protocol == "HTTPS"
            && !matches!(
                self.server.tls_mode,
                Some("PASSTHROUGH" | "AUTO_PASSTHROUGH")
            )
    }
}

fn canonical(n: Node<'_, '_>, out: &mut String) {
    if n.is_map() {
        let mut entries: Vec<_> = n.entries().collect();
        entries.sort_by_key(|(k, _)| k.as_str().unwrap_or(""));
        out.push('{');
        for (k, v) in entries {
            out.push_str(k.as_str().unwrap_or(""));
            out.push(':');
            canonical(v, out);
            out.push(',');
        }
        out.push('}');
    } else if n.is_seq() {
        out.push('[');
        for i in n.items() {
            canonical(i, out);
            out.push(',');
        }
        out.push(']');
    } else {
        out.push_str(n.as_str().unwrap_or(""));
        out.push(';');
    }
}

/// The DNS name of a sanitised host (after an optional `ns/`), lower-cased.
fn dns(host: &str) -> String {
    host.rsplit_once('/')
        .map(|(_, d)| d)
        .unwrap_or(host)
        .to_ascii_lowercase()
}

/// `.b.c` and `.c` for `a.b.c`; for a wildcard `*.b.c`: `.b.c` and `.c`.
fn suffixes(name: &str) -> Vec<&str> {
    let body = name.strip_prefix('*').unwrap_or(name);
    let mut out = Vec::new();
    for (i, ch) in body.char_indices() {
        if ch == '.' && i + 1 < body.len() {
            out.push(&body[i..]);
        }
    }
    if name.starts_with('*') && !out.contains(&body) && body.starts_with('.') {
        out.insert(0, body);
    }
    out
}

/// Wildcard-aware host overlap index over the servers of one port.
#[derive(Default)]
struct HostIndex {
    /// Exact names → entries.
    exact: HashMap<String, Vec<usize>>,
    /// Wildcards by their suffix (`*.b.c` → `.b.c`).
    wild: HashMap<String, Vec<usize>>,
    /// Exact names and wildcards by every label suffix (for a wildcard looking for narrower
    /// names).
    under: HashMap<String, Vec<usize>>,
    /// `*` entries.
    any: Vec<usize>,
    /// Every entry, in order.
    all: Vec<usize>,
}

impl HostIndex {
    /// Entries whose host overlaps `name` (some candidates, not necessarily all).
    fn overlapping(&self, name: &str) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        let mut take = |list: Option<&Vec<usize>>| {
            if let Some(l) = list {
                out.extend(l.iter().take(64));
            }
        };
        if name == "*" {
            take(Some(&self.all));
            return out;
        }
        take(Some(&self.any));
        if let Some(suffix) = name.strip_prefix('*') {
            take(self.under.get(suffix));
            for s in suffixes(name) {
                take(self.wild.get(s));
            }
        } else {
            take(self.exact.get(name));
            for s in suffixes(name) {
                take(self.wild.get(s));
            }
        }
        out
    }
    fn insert(&mut self, name: &str, entry: usize) {
        self.all.push(entry);
        if name == "*" {
            self.any.push(entry);
            return;
        }
        match name.strip_prefix('*') {
            Some(suffix) => self.wild.entry(suffix.to_string()).or_default().push(entry),
            None => self.exact.entry(name.to_string()).or_default().push(entry),
        }
        for s in suffixes(name) {
            if Some(s) != name.strip_prefix('*') {
                self.under.entry(s.to_string()).or_default().push(entry);
            }
        }
    }
}

#[derive(Default)]
struct Reported {
    seen: HashSet<(u8, usize, usize)>,
}

impl Reported {
    fn first(&mut self, kind: u8, srv: &Srv<'_, '_, '_>) -> bool {
        self.seen.insert((kind, srv.g, srv.s))
    }
    fn has(&self, kind: u8, srv: &Srv<'_, '_, '_>) -> bool {
        self.seen.contains(&(kind, srv.g, srv.s))
    }
}

fn workload_note(ix: &Index<'_, '_>, key: &WorkloadKey) -> String {
    match key {
        WorkloadKey::Template(t) => {
            let o = &ix.templates[*t].obj;
            format!("the pods of {}{}", o.display(), origin_note(o))
        }
        WorkloadKey::Selector(sel) if sel.is_empty() => "every gateway".to_string(),
        WorkloadKey::Selector(sel) => format!("the gateway pods labelled {sel}"),
    }
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let workloads = ix.gateway_workloads();
    let mut reported = Reported::default();
    for (key, gws) in &workloads.groups {
        // Servers of this workload by (port, bind), in input order.
        let mut ports: BTreeMap<(i64, &str), Vec<Srv<'_, '_, '_>>> = BTreeMap::new();
        for &g in gws {
            let gw = &ix.gateways[g];
            for (s, server) in gw.servers.iter().enumerate() {
                let Some(n) = server.number else { continue };
                let srv = Srv { g, s, gw, server };
                ports.entry((n, srv.bind())).or_default().push(srv);
            }
        }
        let on = workload_note(ix, key);
        for ((port, _), servers) in &ports {
            if servers.len() < 2 {
                continue;
            }
            protocol_conflicts(em, &mut reported, servers, *port, &on);
            duplicate_tls_hosts(em, &mut reported, servers, *port, &on);
            https_port_names(em, &mut reported, servers, *port, &on);
            overlapping_hosts(em, &mut reported, servers, *port, &on);
        }
    }
}

const CLASS: u8 = 0;
const DUP_TLS: u8 = 1;
const NAME: u8 = 2;
const OVERLAP: u8 = 3;

/// Servers that cannot share the port with the first one: istiod keeps one.
fn protocol_conflicts(
    em: &mut Emitter<'_>,
    reported: &mut Reported,
    servers: &[Srv<'_, '_, '_>],
    port: i64,
    on: &str,
) {
    let first = servers[0];
    let fc = Class::of(first.server);
    for srv in &servers[1..] {
        let c = Class::of(srv.server);
        let conflict = c != fc || c == Class::Tcp;
        if !conflict || !reported.first(CLASS, srv) {
            continue;
        }
        let why = if c == fc {
            format!(
                "two {} servers cannot share a port (istiod builds one TCP proxy per port)",
                c.describe()
            )
        } else {
            format!(
                "{} and {} servers cannot share a port",
                c.describe(),
                fc.describe()
            )
        };
        let o = &srv.gw.obj;
        em.violation(
            o.loc(srv.anchor("protocol")),
            Some(o.resource()),
            format!(
                "{} and {} both listen on port {port} of {on}: {why}, so istiod drops the one \
                 created last and its hosts get no listener",
                srv.describe(),
                first.describe()
            ),
            "move one of the servers to another port (and expose it on the gateway Service)",
        )
        .severity(Severity::Error)
        .related(
            first.gw.obj.loc(first.anchor("protocol")),
            format!("{} defined here", first.describe()),
        );
    }
}

/// TLS-carrying servers repeating a host. istiod skips the later server when the host is
/// written the same way; when only the namespace prefix differs it keeps both, and Envoy gets
/// two identical SNI filter chain matches.
fn duplicate_tls_hosts(
    em: &mut Emitter<'_>,
    reported: &mut Reported,
    servers: &[Srv<'_, '_, '_>],
    port: i64,
    on: &str,
) {
    type Seen<'a, 'd, 's> = (Srv<'a, 'd, 's>, Node<'d, 's>, String);
    let mut seen: HashMap<String, Seen<'_, '_, '_>> = HashMap::new();
    for srv in servers {
        if srv.server.tls.is_none() || reported.has(CLASS, srv) {
            continue;
        }
        let hosts = srv.hosts();
        let dup = hosts.iter().find_map(|(h, n)| {
            seen.get(&dns(h))
                .filter(|(o, _, _)| (o.g, o.s) != (srv.g, srv.s))
                .map(|(o, on, oh)| (h.clone(), *n, *o, *on, oh.clone()))
        });
        match dup {
            Some((h, node, other, other_node, other_h)) => {
                if !reported.first(DUP_TLS, srv) {
                    continue;
                }
                let o = &srv.gw.obj;
                let what = if h == other_h {
                    "Envoy rejects two identical TLS filter chain matches, so istiod skips the \
                     whole server created last, with its other hosts and certificate"
                        .to_string()
                } else {
                    format!(
                        "the namespace prefixes differ (`{h}`, `{other_h}`), so istiod keeps both \
                         and Envoy receives two identical SNI filter chain matches, which it \
                         rejects for the whole port {port} listener"
                    )
                };
                em.violation(
                    o.loc(node),
                    Some(o.resource()),
                    format!(
                        "{} repeats host `{}` of {} on port {port} of {on}: {what}",
                        srv.describe(),
                        dns(&h),
                        other.describe()
                    ),
                    "serve each host from one server only: merge the servers, or remove the \
                     host from one of them",
                )
                .related(
                    other.gw.obj.loc(other_node),
                    format!("`{other_h}` already served by {}", other.describe()),
                );
            }
            None => {
                for (h, n) in hosts {
                    seen.entry(dns(&h)).or_insert((*srv, n, h));
                }
            }
        }
    }
}

/// HTTPS servers of different Gateways with the same port name.
fn https_port_names(
    em: &mut Emitter<'_>,
    reported: &mut Reported,
    servers: &[Srv<'_, '_, '_>],
    port: i64,
    on: &str,
) {
    let mut seen: HashMap<&str, Srv<'_, '_, '_>> = HashMap::new();
    for srv in servers {
        if !srv.terminates_https() || reported.has(CLASS, srv) || reported.has(DUP_TLS, srv) {
            continue;
        }
        let Some(name) = srv.port_field("name").and_then(|n| n.as_str()) else {
            continue;
        };
        match seen.get(name) {
            Some(other) if other.g != srv.g => {
                if !reported.first(NAME, srv) {
                    continue;
                }
                let o = &srv.gw.obj;
                em.violation(
                    o.loc(srv.anchor("name")),
                    Some(o.resource()),
                    format!(
                        "{} and {} are HTTPS servers on port {port} of {on} with the same port \
                         name `{name}`: Istio releases that named HTTPS route tables after the port \
                         alone dropped the second server (\"non unique port name for HTTPS port\")",
                        srv.describe(),
                        other.describe()
                    ),
                    format!("give each HTTPS server its own port name, e.g. `{name}-{}`", o.name),
                )
                .severity(Severity::Info)
                .related(
                    other.gw.obj.loc(other.anchor("name")),
                    format!("{} uses `{name}` too", other.describe()),
                );
            }
            Some(_) => {}
            None => {
                seen.insert(name, *srv);
            }
        }
    }
}

/// Hosts of servers of different Gateways that collide (`istioctl` IST0145, narrowed):
/// identical names, and for TLS servers a `*.suffix` wildcard covering the other server's name
/// with different TLS settings.
fn overlapping_hosts(
    em: &mut Emitter<'_>,
    reported: &mut Reported,
    servers: &[Srv<'_, '_, '_>],
    port: i64,
    on: &str,
) {
    let mut index = HostIndex::default();
    let mut entries: Vec<(Srv<'_, '_, '_>, String, Node<'_, '_>, String)> = Vec::new();
    for srv in servers {
        let skip = reported.has(CLASS, srv) || reported.has(DUP_TLS, srv);
        let sig = srv.tls_signature();
        let tls = Class::of(srv.server) == Class::Tls;
        let hosts: Vec<(String, Node<'_, '_>)> =
            srv.hosts().into_iter().map(|(h, n)| (dns(&h), n)).collect();
        if !skip && !reported.has(OVERLAP, srv) {
            // The worst collision: one with different TLS settings first.
            let mut best: Option<(usize, Node<'_, '_>, bool)> = None;
            for (h, n) in &hosts {
                for e in index.overlapping(h) {
                    let (other, other_host, _, other_sig) = &entries[e];
                    if other.g == srv.g {
                        continue;
                    }
                    let differs = *other_sig != sig;
                    let identical = other_host == h;
                    let covering = tls
                        && Class::of(other.server) == Class::Tls
                        && differs
                        && h != "*"
                        && other_host != "*";
                    if !(identical || covering) {
                        continue;
                    }
                    if best.is_none_or(|(_, _, d)| differs && !d) {
                        best = Some((e, *n, differs));
                    }
                }
            }
            if let Some((e, node, differs)) = best {
                reported.first(OVERLAP, srv);
                let (other, other_host, other_node, _) = &entries[e];
                let host = node.as_str().unwrap_or("");
                let o = &srv.gw.obj;
                let same = dns(host) == *other_host;
                let (message, severity) = match (same, differs) {
                    (true, true) => (
                        format!(
                            "{} and {} both serve host `{host}` on port {port} of {on} with \
                             different TLS settings: istiod merges them and only one server's \
                             settings (certificate, redirect, client authentication) apply to \
                             the host, depending on creation order",
                            srv.describe(),
                            other.describe()
                        ),
                        Severity::Warning,
                    ),
                    (true, false) => (
                        format!(
                            "{} and {} both serve host `{host}` on port {port} of {on}: istiod \
                             merges them, and which Gateway's VirtualServices answer the host \
                             depends on creation order",
                            srv.describe(),
                            other.describe()
                        ),
                        Severity::Info,
                    ),
                    (false, _) => (
                        format!(
                            "{} (`{host}`) and {} (`{other_host}`) overlap on port {port} of {on} \
                             with different TLS settings: a browser reuses an HTTP/2 connection \
                             opened for one name for the other when the certificate covers both, \
                             so requests reach the other server's routes and TLS policy (404, or \
                             client authentication skipped)",
                            srv.describe(),
                            other.describe()
                        ),
                        Severity::Warning,
                    ),
                };
                em.violation(
                    o.loc(node),
                    Some(o.resource()),
                    message,
                    "serve each host from one Gateway server, or make the names and certificates \
                     disjoint",
                )
                .severity(severity)
                .related(
                    other.gw.obj.loc(*other_node),
                    format!("`{other_host}` of {}", other.describe()),
                );
            }
        }
        for (h, n) in hosts {
            let e = entries.len();
            entries.push((*srv, h.clone(), n, sig.clone()));
            index.insert(&h, e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{HostIndex, suffixes};

    #[test]
    fn label_suffixes() {
        assert_eq!(suffixes("a.b.c"), vec![".b.c", ".c"]);
        assert_eq!(suffixes("*.b.c"), vec![".b.c", ".c"]);
        assert!(suffixes("localhost").is_empty());
    }

    #[test]
    fn wildcard_overlaps() {
        let mut ix = HostIndex::default();
        ix.insert("a.example.com", 0);
        ix.insert("*.example.com", 1);
        ix.insert("other.org", 2);
        assert_eq!(ix.overlapping("a.example.com"), vec![0, 1]);
        assert_eq!(ix.overlapping("*.a.example.com"), vec![1]);
        assert_eq!(ix.overlapping("*.example.com"), vec![0, 1]);
        assert!(ix.overlapping("b.example.org").is_empty());
        assert_eq!(ix.overlapping("*"), vec![0, 1, 2]);
        let mut any = HostIndex::default();
        any.insert("*", 7);
        assert_eq!(any.overlapping("x.y"), vec![7]);
    }
}
