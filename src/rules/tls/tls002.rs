//! TLS002 plaintext-upstream-to-tls-port.

use std::collections::{HashMap, HashSet};

use crate::finding::{Location, Severity};
use crate::index::{Index, LbKind, RouteKind, server_accepts};
use crate::model::esp;
use crate::model::istio::Protocol;
use crate::model::service::ServicePort;
use crate::rules::{Emitter, Rule, origin_note};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "TLS002",
    id: "plaintext-upstream-to-tls-port",
    family: "tls",
    severity: Severity::Error,
    summary: "A load balancer or Istio route sends plaintext to a port that only accepts TLS",
    docs: include_str!("tls002.md"),
    check,
    mitigations: &[
        "networking.istio.io/DestinationRule",
        "networking.istio.io/Gateway",
    ],
};

/// Why the receiving port expects a TLS handshake.
struct Evidence {
    /// What expects TLS, for the message.
    what: String,
    at: Location,
    note: String,
    /// For the ESP `--ssl_port` signal: the template holding ESP. Findings about Istio routes
    /// to ESP go on its `--ssl_port` argument (`at`), which is what field report FR5 changed.
    esp: Option<usize>,
}

/// How a port name reads: `Some(true)` declares TLS (`https`, `tls`, `https-…`),
/// `Some(false)` declares plaintext HTTP (`http`, `http2`, `grpc`, `h2c`, …), else `None`.
fn name_declares_tls(name: &str) -> Option<bool> {
    let lower = name.to_ascii_lowercase();
    match lower.split('-').next().unwrap_or("") {
        "https" | "tls" | "ssl" => Some(true),
        "http" | "http2" | "h2c" | "grpc" | "http_proxy" => Some(false),
        _ => None,
    }
}

/// How a Service port's Istio protocol (R10) reads, like [`name_declares_tls`].
fn service_declares_tls(port: &ServicePort<'_, '_>) -> Option<bool> {
    match Protocol::of_port(port) {
        Protocol::Https | Protocol::Tls => Some(true),
        p if p.is_http() => Some(false),
        _ => None,
    }
}

/// Istio's name of a protocol, for messages.
fn protocol_label(p: Protocol) -> &'static str {
    match p {
        Protocol::Http => "HTTP",
        Protocol::Http2 => "HTTP2",
        Protocol::Https => "HTTPS",
        Protocol::Grpc => "GRPC",
        Protocol::GrpcWeb => "GRPC-Web",
        Protocol::Tcp => "TCP",
        Protocol::Tls => "TLS",
        Protocol::Udp => "UDP",
        Protocol::Mongo => "Mongo",
        Protocol::Redis => "Redis",
        Protocol::Mysql => "MySQL",
        Protocol::Unsupported => "auto-detected",
    }
}

/// The node of the Service port that declares its protocol (appProtocol, else name).
fn declaration_node<'d, 's>(port: &ServicePort<'d, 's>) -> Node<'d, 's> {
    port.node
        .get("appProtocol")
        .or_else(|| port.node.get("name"))
        .unwrap_or(port.node)
}

/// Does a non-gateway workload behind Service port `port` expect TLS on its target port?
fn workload_expects_tls(
    ix: &Index<'_, '_>,
    svc: usize,
    port: &ServicePort<'_, '_>,
    esp_only: bool,
) -> Option<Evidence> {
    let svc_decl = service_declares_tls(port);
    for (t, n) in ix.target_ports(svc, port) {
        let Some(n) = n else { continue };
        if ix.is_gateway_template(t) {
            continue;
        }
        let tpl = &ix.templates[t];
        let workload = format!("{}{}", tpl.obj.display(), origin_note(&tpl.obj));
        for c in tpl.containers() {
            if let Some((p, arg)) = esp::ssl_port(&c)
                && p == n
            {
                return Some(Evidence {
                    what: format!(
                        "container `{}` of {workload} is Cloud Endpoints ESP serving port {n} only \
                         over TLS (`--ssl_port`)",
                        c.name.unwrap_or("?")
                    ),
                    at: tpl.obj.loc(arg),
                    note: "ESP accepts only TLS on this port".into(),
                    esp: Some(t),
                });
            }
        }
        if esp_only {
            continue;
        }
        let declared = tpl
            .containers()
            .flat_map(|c| c.ports().collect::<Vec<_>>())
            .find(|(_, p, _)| *p == Some(n));
        let ctr_name = declared.and_then(|(name, _, node)| Some((name?, node)));
        let ctr_decl = ctr_name.and_then(|(name, _)| name_declares_tls(name));
        if ctr_decl == Some(true)
            && svc_decl != Some(false)
            && let Some((name, node)) = ctr_name
        {
            let at = node.get("name").unwrap_or(node);
            return Some(Evidence {
                what: format!(
                    "its target, container port {n} of {workload}, is named `{name}` (the \
                     workload serves TLS there)"
                ),
                at: tpl.obj.loc(at),
                note: format!("container port `{name}` serves TLS"),
                esp: None,
            });
        }
        if svc_decl == Some(true) && ctr_decl != Some(false) {
            let svc_obj = &ix.services[svc].obj;
            return Some(Evidence {
                what: format!(
                    "the Service port is declared {} to Istio and reaches container port {n} of \
                     {workload} (the workload serves TLS there)",
                    protocol_label(Protocol::of_port(port))
                ),
                at: svc_obj.loc(declaration_node(port)),
                note: "Service port declared as TLS".into(),
                esp: None,
            });
        }
    }
    None
}

/// For a Service port in front of an Istio gateway: every receiving server expects TLS.
fn gateway_expects_tls(
    ix: &Index<'_, '_>,
    svc: usize,
    port: &ServicePort<'_, '_>,
) -> Option<Option<Evidence>> {
    let servers = ix.receiving_servers(svc, port)?;
    if servers.is_empty() {
        return Some(None);
    }
    let all_tls = servers
        .iter()
        .all(|&(g, i)| ix.gateways[g].servers[i].is_tls());
    if !all_tls {
        return Some(None);
    }
    let (g, i) = servers[0];
    let gw = &ix.gateways[g];
    let srv = &gw.servers[i];
    let at = srv
        .node
        .path(&["port", "protocol"])
        .or(srv.port_node)
        .unwrap_or(srv.node);
    Some(Some(Evidence {
        what: format!(
            "the receiving server of {} on port {} has protocol {} and expects a TLS handshake",
            gw.obj.display(),
            srv.number.unwrap_or_default(),
            srv.protocol
        ),
        at: gw.obj.loc(at),
        note: format!("{} server: TLS only", srv.protocol),
        esp: None,
    }))
}

/// What expects TLS behind a Service port reached by a load balancer.
fn lb_target_expects_tls(
    ix: &Index<'_, '_>,
    svc: usize,
    port: &ServicePort<'_, '_>,
) -> Option<(Evidence, bool)> {
    match gateway_expects_tls(ix, svc, port) {
        Some(found) => found.map(|e| (e, true)),
        None => workload_expects_tls(ix, svc, port, false).map(|e| (e, false)),
    }
}

/// Does a DestinationRule for Service `svc` (port `number`, subset) originate TLS
/// (`tls.mode` SIMPLE or MUTUAL, the most specific setting winning)?
fn dr_originates_tls(
    ix: &Index<'_, '_>,
    svc: usize,
    number: Option<i64>,
    subset: Option<&str>,
) -> bool {
    let s = &ix.services[svc];
    let fq = format!("{}.{}.svc.cluster.local", s.obj.name, s.obj.namespace);
    let policy_mode = |tp: Option<Node<'_, '_>>, mode: &mut Option<String>| {
        let Some(tp) = tp else { return };
        if let Some(m) = tp.path(&["tls", "mode"]).and_then(|n| n.as_text()) {
            *mode = Some(m.to_ascii_uppercase());
        }
        for pls in tp
            .get("portLevelSettings")
            .into_iter()
            .flat_map(|p| p.items())
        {
            let p = pls.path(&["port", "number"]).and_then(|n| n.as_int());
            if p.is_some()
                && p == number
                && let Some(m) = pls.path(&["tls", "mode"]).and_then(|n| n.as_text())
            {
                *mode = Some(m.to_ascii_uppercase());
            }
        }
    };
    ix.destination_rules_for(&fq).iter().any(|&d| {
        let dr = &ix.destination_rules[d];
        let mut mode = None;
        policy_mode(dr.obj.root.path(&["spec", "trafficPolicy"]), &mut mode);
        if let Some(sub) = subset
            && let Some(sn) = dr.subsets.iter().find(|x| x.name == sub)
        {
            policy_mode(sn.node.get("trafficPolicy"), &mut mode);
        }
        matches!(mode.as_deref(), Some("SIMPLE" | "MUTUAL"))
    })
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    // (svc, port index) pairs already reported, so the mesh-default form does not repeat them.
    let mut reported: HashSet<(usize, usize)> = HashSet::new();
    check_lb_backends(ix, em, &mut reported);
    check_service_lbs(ix, em, &mut reported);
    let mut esp_hits = Vec::new();
    if !ix.virtual_services.is_empty() {
        check_routes(ix, em, &mut reported, &mut esp_hits);
    }
    check_mesh_default(ix, &reported, &mut esp_hits);
    emit_esp(ix, em, esp_hits);
}

/// (a) GKE Ingress / MCI / ALB backends whose app protocol is plain HTTP.
fn check_lb_backends(
    ix: &Index<'_, '_>,
    em: &mut Emitter<'_>,
    reported: &mut HashSet<(usize, usize)>,
) {
    // One backend service per load balancer and Service port: report its first reference.
    let mut first: HashMap<(usize, usize, usize), usize> = HashMap::new();
    for b in &ix.lb_backends {
        let Some((s, port)) = ix.backend_target(b) else {
            continue;
        };
        let Some(p) = b.port else { continue };
        let lb = &ix.objects[b.lb];
        if let Some(&i) = first.get(&(b.lb, s, p)) {
            if let Some(f) = em.findings.get_mut(i) {
                f.related(
                    lb.loc(b.backend.port_anchor()),
                    "the same backend, referenced again",
                );
            }
            continue;
        }
        let Some(ap) = ix.app_protocol(b) else {
            continue;
        };
        if ap.protocol != "HTTP" {
            continue;
        }
        let Some((ev, gateway)) = lb_target_expects_tls(ix, s, port) else {
            continue;
        };
        let svc = &ix.services[s];
        let why_http = match (b.kind, ap.source) {
            (_, Some(_)) => "its app protocol is HTTP",
            (LbKind::AlbIngress, None) => "no `backend-protocol` is set, so it defaults to HTTP",
            (_, None) => "the port has no app-protocols entry, so it defaults to HTTP",
        };
        let help = match (b.kind, gateway) {
            (LbKind::AlbIngress, _) => format!(
                "set `alb.ingress.kubernetes.io/backend-protocol: HTTPS` for this backend, or \
                 point it at a port of {} that serves plain HTTP",
                svc.obj.display()
            ),
            (_, true) => format!(
                "point the backend at the gateway's plain HTTP port (80), or set \
                 `cloud.google.com/app-protocols: '{{\"{}\":\"HTTPS\"}}'` on the Service (the \
                 Gateway server then needs `hosts: [\"*\"]`, since the load balancer sends no SNI)",
                port.name.unwrap_or("<port name>")
            ),
            (_, false) => format!(
                "set `cloud.google.com/app-protocols: '{{\"{}\":\"HTTPS\"}}'` on the Service \
                 (the port needs a name), or point the backend at a port that serves plain HTTP",
                port.name.unwrap_or("<port name>")
            ),
        };
        let f = em.violation(
            lb.loc(b.backend.port_anchor()),
            Some(lb.resource()),
            format!(
                "{} sends plain HTTP to {}{} port {} ({why_http}), but {}; the TLS handshake \
                 never comes, so every request fails (502 / connection reset)",
                lb.display(),
                svc.obj.display(),
                origin_note(&svc.obj),
                port.display(),
                ev.what
            ),
            help,
        );
        f.related(ev.at, ev.note);
        if let Some(src) = ap.source {
            f.related(svc.obj.loc(src), "app protocol HTTP set here");
        }
        first.insert((b.lb, s, p), em.findings.len() - 1);
        reported.insert((s, p));
    }
}

/// (a') `type: LoadBalancer` Services whose AWS load balancer terminates TLS and forwards
/// plaintext (`aws-load-balancer-backend-protocol` http/tcp or absent).
fn check_service_lbs(
    ix: &Index<'_, '_>,
    em: &mut Emitter<'_>,
    reported: &mut HashSet<(usize, usize)>,
) {
    for hop in ix.aws_tls_service_ports() {
        let (s, p, cert_key, backend) = (hop.svc, hop.port, hop.cert, hop.backend);
        let svc = &ix.services[s];
        let port = &svc.ports[p];
        {
            let Some((ev, _)) = lb_target_expects_tls(ix, s, port) else {
                continue;
            };
            let at = port.node.get("port").unwrap_or(port.node);
            let f = em.violation(
                svc.obj.loc(at),
                Some(svc.obj.resource()),
                format!(
                    "the AWS load balancer of {}{} terminates TLS on port {} and forwards plaintext \
                     (backend protocol {backend}), but {}; the TLS handshake never comes, so every \
                     connection fails",
                    svc.obj.display(),
                    origin_note(&svc.obj),
                    port.display(),
                    ev.what
                ),
                "remove this port from `aws-load-balancer-ssl-ports` so TLS passes through, set \
                 `aws-load-balancer-backend-protocol: ssl`, or target a port that serves plaintext",
            );
            f.related(ev.at, ev.note);
            f.related(
                svc.obj.loc(cert_key),
                "TLS terminates at the load balancer here",
            );
            reported.insert((s, p));
        }
    }
}

/// Why Istio sends plaintext to an ESP `--ssl_port`, gathered per ESP argument.
struct EspHit {
    tpl: usize,
    ev: Evidence,
    /// Why the hop is plaintext, for the message (first reason) and related locations.
    reasons: Vec<(String, Location, String)>,
    /// Where TLS terminates at the gateway, if a route says so.
    terminates: Option<Location>,
    declared: Option<Location>,
}

/// (b), (c) VirtualService `http` routes: the gateway (or sidecar) proxies plaintext HTTP.
fn check_routes(
    ix: &Index<'_, '_>,
    em: &mut Emitter<'_>,
    reported: &mut HashSet<(usize, usize)>,
    esp_hits: &mut Vec<EspHit>,
) {
    let routes = ix.routes();
    let mut seen = HashSet::new();
    for d in &routes.dests {
        if d.kind != RouteKind::Http {
            continue;
        }
        let svc = &ix.services[d.svc];
        let Some(port) = svc.ports.get(d.port) else {
            continue;
        };
        let from_gateway = !d.gateways.is_empty() || d.unresolved_gateway;
        // A sidecar applies HTTP routes only to ports it treats as HTTP.
        let mesh_http = d.mesh && Protocol::of_port(port).is_http();
        if !(from_gateway || mesh_http) {
            continue;
        }
        if dr_originates_tls(ix, d.svc, port.port, d.subset) {
            continue;
        }
        let Some(ev) = workload_expects_tls(ix, d.svc, port, !from_gateway) else {
            continue;
        };
        if !seen.insert(d.dest.id()) {
            continue;
        }
        let vs = &ix.virtual_services[d.vs];
        // (c) A gateway server that terminates TLS for this route's hosts.
        let terminating = d.gateways.iter().find_map(|&g| {
            let gw = &ix.gateways[g];
            gw.servers
                .iter()
                .find(|srv| {
                    srv.protocol == "HTTPS"
                        && !matches!(
                            srv.tls_mode.map(str::to_ascii_uppercase).as_deref(),
                            Some("PASSTHROUGH" | "AUTO_PASSTHROUGH")
                        )
                        && server_accepts(gw, srv, vs)
                })
                .map(|srv| (gw, srv))
        });
        let target = format!(
            "{}{} port {}",
            svc.obj.display(),
            origin_note(&svc.obj),
            port.display()
        );
        let sender = match (terminating, d.gateways.first()) {
            (Some((gw, _)), _) => format!(
                "{} terminates TLS and {} routes plain HTTP from it to {target}",
                gw.obj.display(),
                vs.obj.display()
            ),
            (None, Some(&g)) => format!(
                "{} makes {} proxy plain HTTP to {target}",
                vs.obj.display(),
                ix.gateways[g].obj.display()
            ),
            (None, None) if from_gateway => format!(
                "{} makes its gateway proxy plain HTTP to {target}",
                vs.obj.display()
            ),
            (None, None) => format!(
                "{} makes the sidecars send plain HTTP to {target}",
                vs.obj.display()
            ),
        };
        let terminates = terminating.map(|(gw, srv)| {
            let at = srv
                .tls
                .and_then(|t| t.get("mode"))
                .or(srv.port_node)
                .unwrap_or(srv.node);
            gw.obj.loc(at)
        });
        reported.insert((d.svc, d.port));
        if let Some(t) = ev.esp {
            let reason = (
                sender,
                vs.obj.loc(d.anchor()),
                "plain HTTP routed here".to_string(),
            );
            match esp_hits.iter_mut().find(|h| h.ev.at == ev.at) {
                Some(h) => {
                    h.reasons.push(reason);
                    h.terminates = h.terminates.or(terminates);
                }
                None => esp_hits.push(EspHit {
                    tpl: t,
                    ev,
                    reasons: vec![reason],
                    terminates,
                    declared: None,
                }),
            }
            continue;
        }
        let f = em.violation(
            vs.obj.loc(d.anchor()),
            Some(vs.obj.resource()),
            format!(
                "{sender}, but {}; the TLS handshake never comes, so every request fails \
                 (upstream connect error / 502)",
                ev.what
            ),
            "target a port that serves plaintext, or originate TLS with a DestinationRule \
             (`trafficPolicy.tls.mode: SIMPLE`) for this host",
        );
        f.related(ev.at, ev.note);
        if let Some(at) = terminates {
            f.related(at, "TLS terminates at the gateway here");
        }
    }
}

/// (d) ESP `--ssl_port` behind a Service port that Istio treats as plaintext HTTP, in a
/// workload with a sidecar: every mesh client (and the pod's own sidecar) sends plaintext.
fn check_mesh_default(
    ix: &Index<'_, '_>,
    reported: &HashSet<(usize, usize)>,
    esp_hits: &mut Vec<EspHit>,
) {
    for (t, tpl) in ix.templates.iter().enumerate() {
        if ix.is_gateway_template(t) || !tpl.containers().any(|c| esp::ssl_port(&c).is_some()) {
            continue;
        }
        if ix.sidecar_injected(t) != Some(true) {
            continue;
        }
        for &s in ix.template_services(t) {
            let svc = &ix.services[s];
            for (p, port) in svc.ports.iter().enumerate() {
                if reported.contains(&(s, p)) || !Protocol::of_port(port).is_http() {
                    continue;
                }
                if dr_originates_tls(ix, s, port.port, None) {
                    continue;
                }
                let Some(ev) = workload_expects_tls(ix, s, port, true) else {
                    continue;
                };
                if esp_hits.iter().any(|h| h.ev.at == ev.at) {
                    continue;
                }
                let at = port
                    .node
                    .get("targetPort")
                    .or_else(|| port.node.get("port"))
                    .unwrap_or(port.node);
                let reason = (
                    format!(
                        "{}{} port {} is declared {} to Istio and the pods have a sidecar, so \
                         every mesh client proxies it as plaintext",
                        svc.obj.display(),
                        origin_note(&svc.obj),
                        port.display(),
                        protocol_label(Protocol::of_port(port))
                    ),
                    svc.obj.loc(at),
                    "plaintext to Istio, targets the TLS port".to_string(),
                );
                esp_hits.push(EspHit {
                    tpl: ev.esp.unwrap_or(t),
                    ev,
                    reasons: vec![reason],
                    terminates: None,
                    declared: Some(svc.obj.loc(declaration_node(port))),
                });
            }
        }
    }
}

/// One finding per ESP `--ssl_port` argument that Istio sends plaintext to.
fn emit_esp(ix: &Index<'_, '_>, em: &mut Emitter<'_>, esp_hits: Vec<EspHit>) {
    for h in esp_hits {
        let tpl = &ix.templates[h.tpl];
        let Some((first, _, _)) = h.reasons.first() else {
            continue;
        };
        let f = em.violation(
            h.ev.at,
            Some(tpl.obj.resource()),
            format!(
                "{}, but {first}; the TLS handshake never comes, so every request fails (upstream \
                 connect error / 502)",
                upper_first(&h.ev.what)
            ),
            "TLS already ends before ESP: switch ESP from `--ssl_port` to a plaintext port \
             (`--http2_port` for gRPC, `--http_port` for HTTP/1.1) and target that port from the \
             Service, or originate TLS with a DestinationRule `trafficPolicy.tls.mode: SIMPLE`",
        );
        for (_, at, note) in &h.reasons {
            f.related(*at, note.clone());
        }
        if let Some(at) = h.terminates {
            f.related(at, "TLS terminates at the gateway here");
        }
        if let Some(at) = h.declared {
            f.related(at, "declared plaintext here");
        }
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
