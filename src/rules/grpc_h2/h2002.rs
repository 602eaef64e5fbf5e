//! H2002 grpc-service-port-not-h2.

use std::collections::{BTreeMap, HashSet};

use crate::finding::{Location, Severity};
use crate::index::{Index, LbKind, RouteKind, server_accepts};
use crate::model::esp;
use crate::model::istio::Protocol;
use crate::model::service::ServicePort;
use crate::rules::{Emitter, Rule, origin_note};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "H2002",
    id: "grpc-service-port-not-h2",
    family: "grpc-h2",
    severity: Severity::Error,
    summary: "A Service port that carries gRPC is not declared HTTP/2 to Istio (GRPC, HTTP2)",
    docs: include_str!("h2002.md"),
    check,
    mitigations: &["networking.istio.io/DestinationRule"],
};

/// One reason to believe a Service port carries gRPC.
struct Signal {
    what: String,
    at: Location,
    /// The signal comes from an Istio gateway routing to the port: Istio is on the path.
    via_gateway: bool,
}

fn grpc_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !lower.starts_with("grpc-web") && (lower == "grpc" || lower.starts_with("grpc-"))
}

/// The node a finding about a Service port's protocol points at: `appProtocol` (it decides),
/// else `name`, else the `port` number.
fn declaration_node<'d, 's>(port: &ServicePort<'d, 's>) -> Node<'d, 's> {
    port.node
        .get("appProtocol")
        .or_else(|| port.node.get("name"))
        .or_else(|| port.node.get("port"))
        .unwrap_or(port.node)
}

/// `appProtocol: x` or `name: x`, for messages.
fn declaration_text(port: &ServicePort<'_, '_>) -> String {
    match (port.app_protocol, port.name) {
        (Some(ap), _) => format!("`appProtocol: {ap}`"),
        (None, Some(n)) => format!("port name `{n}`"),
        (None, None) => "no port name and no appProtocol".to_string(),
    }
}

/// A DestinationRule for the Service that makes Envoy use HTTP/2 upstream anyway
/// (`connectionPool.http.useClientProtocol: true` or `h2UpgradePolicy: UPGRADE`).
fn dr_upgrades(ix: &Index<'_, '_>, svc: usize, number: Option<i64>) -> Option<Location> {
    let s = &ix.services[svc];
    let fq = format!("{}.{}.svc.cluster.local", s.obj.name, s.obj.namespace);
    for &d in ix.destination_rules_for(&fq) {
        let dr = &ix.destination_rules[d];
        let Some(tp) = dr.obj.root.path(&["spec", "trafficPolicy"]) else {
            continue;
        };
        let port_level = tp
            .get("portLevelSettings")
            .into_iter()
            .flat_map(|p| p.items())
            .filter(|p| {
                let n = p.path(&["port", "number"]).and_then(|n| n.as_int());
                n.is_some() && n == number
            });
        for policy in std::iter::once(tp).chain(port_level) {
            let Some(http) = policy.path(&["connectionPool", "http"]) else {
                continue;
            };
            if let Some((k, _)) = http
                .entry("useClientProtocol")
                .filter(|(_, v)| v.as_bool() == Some(true))
            {
                return Some(dr.obj.loc(k));
            }
            if let Some(v) = http.get("h2UpgradePolicy").filter(|v| {
                v.as_text()
                    .is_some_and(|t| t.eq_ignore_ascii_case("UPGRADE"))
            }) {
                return Some(dr.obj.loc(v));
            }
        }
    }
    None
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    // (Service, port index) → why it carries gRPC.
    let mut signals: BTreeMap<(usize, usize), Vec<Signal>> = BTreeMap::new();
    // Service ports some Istio route sends HTTP to (gateway or mesh).
    let mut routed: HashSet<(usize, usize)> = HashSet::new();

    if !ix.virtual_services.is_empty() {
        let routes = ix.routes();
        for d in &routes.dests {
            if d.kind != RouteKind::Http {
                continue;
            }
            routed.insert((d.svc, d.port));
            let vs = &ix.virtual_services[d.vs];
            for &g in &d.gateways {
                let gw = &ix.gateways[g];
                let Some(srv) = gw.servers.iter().find(|srv| {
                    matches!(srv.protocol.as_str(), "GRPC" | "HTTP2") && server_accepts(gw, srv, vs)
                }) else {
                    continue;
                };
                let at = srv
                    .node
                    .path(&["port", "protocol"])
                    .or(srv.port_node)
                    .unwrap_or(srv.node);
                signals.entry((d.svc, d.port)).or_default().push(Signal {
                    what: format!(
                        "{} routes the {} server of {} (port {}) to it",
                        vs.obj.display(),
                        srv.protocol,
                        gw.obj.display(),
                        srv.number.unwrap_or_default()
                    ),
                    at: gw.obj.loc(at),
                    via_gateway: true,
                });
            }
        }
    }

    // Load balancers that speak gRPC / HTTP/2 to the pods behind the port.
    for b in &ix.lb_backends {
        let Some((s, _)) = ix.backend_target(b) else {
            continue;
        };
        let Some(p) = b.port else { continue };
        if ix
            .service_templates(s)
            .iter()
            .any(|&t| ix.is_gateway_template(t))
        {
            // An Istio gateway's listeners come from its Gateway servers, not its Service ports.
            continue;
        }
        let lb = &ix.objects[b.lb];
        let svc = &ix.services[s];
        let signal = match b.kind {
            LbKind::AlbIngress => {
                let key = "alb.ingress.kubernetes.io/backend-protocol-version";
                let v = svc
                    .obj
                    .annotation_entry(key)
                    .map(|(_, v)| (&svc.obj, v))
                    .or_else(|| lb.annotation_entry(key).map(|(_, v)| (lb, v)));
                v.filter(|(_, v)| v.as_text().is_some_and(|t| t.eq_ignore_ascii_case("GRPC")))
                    .map(|(o, v)| Signal {
                        what: format!(
                            "{} sends gRPC to it (backend-protocol-version GRPC)",
                            lb.display()
                        ),
                        at: o.loc(v),
                        via_gateway: false,
                    })
            }
            _ => ix
                .app_protocol(b)
                .filter(|ap| ap.protocol == "HTTP2")
                .map(|ap| Signal {
                    what: format!("{} sends HTTP/2 to it (app protocol HTTP2)", lb.display()),
                    at: match ap.source {
                        Some(n) => svc.obj.loc(n),
                        None => lb.loc(b.backend.port_anchor()),
                    },
                    via_gateway: false,
                }),
        };
        if let Some(sig) = signal {
            let list = signals.entry((s, p)).or_default();
            if !list.iter().any(|x| x.at == sig.at) {
                list.push(sig);
            }
        }
    }

    // Container ports that serve gRPC: ESP's --http2_port, or a port named `grpc`.
    for (t, tpl) in ix.templates.iter().enumerate() {
        if ix.is_gateway_template(t) || ix.template_services(t).is_empty() {
            continue;
        }
        let mut grpc_ports: Vec<(i64, Node<'_, '_>, String)> = Vec::new();
        for c in tpl.containers() {
            if let Some((n, arg)) = esp::http2_port(&c) {
                grpc_ports.push((
                    n,
                    arg,
                    format!(
                        "its target, port {n} of {}, is ESP's `--http2_port` (gRPC)",
                        tpl.obj.display()
                    ),
                ));
            }
            for (name, number, node) in c.ports() {
                if let (Some(name), Some(n)) = (name, number)
                    && grpc_name(name)
                {
                    grpc_ports.push((
                        n,
                        node.get("name").unwrap_or(node),
                        format!(
                            "its target, container port {n} of {}, is named `{name}`",
                            tpl.obj.display()
                        ),
                    ));
                }
            }
        }
        if grpc_ports.is_empty() {
            continue;
        }
        for &s in ix.template_services(t) {
            let svc = &ix.services[s];
            for (p, port) in svc.ports.iter().enumerate() {
                let reaches: Vec<i64> = ix
                    .target_ports(s, port)
                    .into_iter()
                    .filter(|&(tt, _)| tt == t)
                    .filter_map(|(_, n)| n)
                    .collect();
                for (n, node, what) in &grpc_ports {
                    if reaches.contains(n) {
                        let at = tpl.obj.loc(*node);
                        let list = signals.entry((s, p)).or_default();
                        if !list.iter().any(|x| x.at == at) {
                            list.push(Signal {
                                what: what.clone(),
                                at,
                                via_gateway: false,
                            });
                        }
                    }
                }
            }
        }
    }

    for ((s, p), sigs) in signals {
        let svc = &ix.services[s];
        let Some(port) = svc.ports.get(p) else {
            continue;
        };
        let proto = Protocol::of_port(port);
        let (severity, consequence) = match proto {
            Protocol::Http => (
                Severity::Error,
                "Envoy proxies it as HTTP/1.1 and opens HTTP/1.1 connections upstream, which gRPC \
                 cannot use (no HTTP/2 streams or trailers), so calls fail with protocol errors / 502",
            ),
            Protocol::Tcp | Protocol::Tls | Protocol::Https => (
                Severity::Warning,
                "Envoy passes it as opaque TCP: calls work, but Istio's L7 routing, retries and \
                 metrics are lost, and long-lived HTTP/2 connections are not balanced per request",
            ),
            Protocol::Unsupported => (
                Severity::Info,
                "Istio has to sniff the protocol of every connection, and routes, retries and \
                 timeouts meant for gRPC depend on that guess",
            ),
            _ => continue,
        };
        let Some(first) = sigs.first() else { continue };
        // Is Istio on the path? A route from a gateway or the mesh, or a sidecar on the pods.
        let via_istio = sigs.iter().any(|x| x.via_gateway) || routed.contains(&(s, p));
        let injected: Vec<Option<bool>> = ix
            .service_templates(s)
            .iter()
            .map(|&t| ix.sidecar_injected(t))
            .collect();
        let sidecar = injected.contains(&Some(true));
        let undecided = !via_istio && !sidecar && injected.contains(&None);
        if !via_istio && !sidecar && !undecided {
            // No Istio proxy ever handles this port: its Istio protocol does not matter.
            continue;
        }
        let proto_name = match proto {
            Protocol::Http => "HTTP",
            Protocol::Tcp => "TCP",
            Protocol::Tls => "TLS",
            Protocol::Https => "HTTPS",
            _ => "auto-detected",
        };
        let message = format!(
            "{}{} port {} carries gRPC ({}), but its {} makes Istio treat it as {proto_name}: {}",
            svc.obj.display(),
            origin_note(&svc.obj),
            port.display(),
            first.what,
            declaration_text(port),
            consequence
        );
        let help = "name the port `grpc` (or `grpc-<suffix>`), or set `appProtocol: grpc`";
        let at = svc.obj.loc(declaration_node(port));
        let f = if undecided {
            em.unknown(
                at,
                Some(svc.obj.resource()),
                format!(
                    "{message}, if the pods run an Istio sidecar (their Namespace is not in the \
                     linted set)"
                ),
                help,
            )
        } else {
            em.violation(at, Some(svc.obj.resource()), message, help)
        };
        let mut severity = severity;
        if let Some(dr) = dr_upgrades(ix, s, port.port) {
            severity = Severity::Info;
            f.related(
                dr,
                "this DestinationRule makes Envoy use HTTP/2 upstream anyway",
            );
        }
        f.severity(severity);
        for sig in sigs.iter().take(3) {
            f.related(sig.at, "gRPC here");
        }
    }
}
