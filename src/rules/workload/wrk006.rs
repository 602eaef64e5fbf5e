//! WRK006 service-port-protocol-unknown.

use crate::finding::Severity;
use crate::index::{Index, is_system_namespace};
use crate::model::istio::Protocol;
use crate::model::service::ServicePort;
use crate::model::string_map;
use crate::rules::{Emitter, Rule, origin_note};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "WRK006",
    id: "service-port-protocol-unknown",
    family: "workload",
    severity: Severity::Info,
    summary: "A Service port's name and appProtocol give Istio no protocol, so sidecars sniff it",
    docs: include_str!("wrk006.md"),
    check,
    mitigations: &[],
};

/// Ports Istio treats as TCP when their name gives no protocol (istio `ConvertProtocol`:
/// SMTP, DNS, MySQL, MongoDB).
const WELL_KNOWN_TCP: &[i64] = &[25, 53, 3306, 27017];

/// The node a finding about a port's protocol points at: `appProtocol` (it decides), else
/// `name`, else the port number.
fn declaration<'d, 's>(port: &ServicePort<'d, 's>) -> Node<'d, 's> {
    port.node
        .get("appProtocol")
        .or_else(|| port.node.get("name"))
        .or_else(|| port.node.get("port"))
        .unwrap_or(port.node)
}

/// A port whose number is valid and whose `name`, `appProtocol` and `protocol` are absent or
/// scalars: wrong-typed fields are schema errors, not something to read a protocol from.
fn well_formed(port: &ServicePort<'_, '_>) -> bool {
    port.port.is_some_and(|p| (1..=65535).contains(&p))
        && ["name", "appProtocol", "protocol"]
            .iter()
            .all(|k| port.node.get(k).is_none_or(|n| n.is_scalar()))
}

fn describe(port: &ServicePort<'_, '_>) -> String {
    match (port.app_protocol, port.name) {
        (Some(ap), _) => format!("`appProtocol: {ap}`"),
        (None, Some(n)) => format!("the port name `{n}`"),
        (None, None) => "an unnamed port without appProtocol".to_string(),
    }
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    // A set without any Istio says nothing about sidecars: no finding, not even undecided.
    if ix.services.is_empty() || !ix.any_mesh() {
        return;
    }
    for (s, svc) in ix.services.iter().enumerate() {
        if svc.multi_cluster || is_system_namespace(svc.obj.namespace) {
            continue;
        }
        // Only sidecars sniff: in a namespace the set shows no mesh evidence for, undecided
        // (catalog §0.4); with --closed-world, such a namespace is not in the mesh.
        let meshed = ix.in_mesh(svc.obj.namespace);
        if !meshed && ix.absent_is_missing() {
            continue;
        }
        // Istio's own Services (`istio` / `release: istio` labels), and Services in front of
        // gateway proxies only: gateways take their protocols from Gateway servers.
        let labels = string_map(svc.obj.labels());
        if labels
            .iter()
            .any(|(k, v)| *k == "istio" || (*k == "release" && *v == "istio"))
        {
            continue;
        }
        let templates = ix.service_templates(s);
        if !templates.is_empty() && templates.iter().all(|&t| ix.is_gateway_template(t)) {
            continue;
        }
        let external_name = svc.effective_type() == "ExternalName";
        for port in svc.ports.iter().filter(|p| well_formed(p)) {
            let proto = Protocol::of_port(port);
            let sniffed = proto == Protocol::Unsupported
                && !port.port.is_some_and(|p| WELL_KNOWN_TCP.contains(&p));
            let plain_tcp =
                external_name && port.app_protocol.is_none() && port.name == Some("tcp");
            if !(sniffed || plain_tcp) {
                continue;
            }
            let at = svc.obj.loc(declaration(port));
            let what = format!(
                "{}{} port {}: {}",
                svc.obj.display(),
                origin_note(&svc.obj),
                port.display(),
                describe(port)
            );
            if external_name {
                let f = em.violation(
                    at,
                    Some(svc.obj.resource()),
                    format!(
                        "{what} {} on an ExternalName Service: an ExternalName Service has no \
                         cluster IP, so sidecars can only tell its TCP traffic apart by port, and \
                         plain-TCP or sniffed traffic to this port may be sent to another \
                         destination or dropped",
                        if sniffed {
                            "gives Istio no protocol"
                        } else {
                            "declares plain TCP"
                        }
                    ),
                    "name the port after its application protocol (`http-…`, `https-…`, \
                     `tls-…`, `grpc-…`) or set `appProtocol`",
                );
                f.severity(Severity::Warning);
            } else if !meshed {
                em.unknown(
                    at,
                    Some(svc.obj.resource()),
                    format!(
                        "{what} gives Istio no protocol; the set shows no mesh in namespace {} \
                         (no injection label, Istio object or injected workload), so whether \
                         sidecars sniff this port cannot be told",
                        svc.obj.namespace
                    ),
                    "if the namespace is in the mesh, prefix the port name with its protocol \
                     (`http-`, `grpc-`, `tcp-`, …) or set `appProtocol`",
                );
            } else {
                em.violation(
                    at,
                    Some(svc.obj.resource()),
                    format!(
                        "{what} gives Istio no protocol, so every sidecar sniffs the first bytes \
                         of each connection: server-first protocols (MySQL, SMTP, many \
                         databases) stall because the proxy waits for the client to speak, and \
                         HTTP routing, retries and metrics apply only when the guess is right"
                    ),
                    "prefix the port name with its protocol (`http-`, `http2-`, `grpc-`, `tcp-`, \
                     `tls-`, …) or set `appProtocol`",
                );
            }
        }
    }
}
