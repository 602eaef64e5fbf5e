//! Istio `Gateway` (and helpers for other `networking.istio.io` kinds).

use super::{Object, string_map};
use crate::yaml::Node;

pub const GROUP: &str = "networking.istio.io";

/// One entry of `Gateway.spec.servers`.
#[derive(Clone, Debug)]
pub struct Server<'d, 's> {
    pub node: Node<'d, 's>,
    pub number: Option<i64>,
    pub port_node: Option<Node<'d, 's>>,
    /// Upper-cased `port.protocol`.
    pub protocol: String,
    pub hosts: Vec<(&'d str, Node<'d, 's>)>,
    pub tls: Option<Node<'d, 's>>,
    pub tls_mode: Option<&'d str>,
    /// The `httpsRedirect` key node when it is `true`.
    pub https_redirect: Option<Node<'d, 's>>,
}

impl Server<'_, '_> {
    /// True if some host's dnsName (after an optional `ns/` prefix) is `*`.
    pub fn has_catch_all_host(&self) -> bool {
        self.hosts
            .iter()
            .any(|(h, _)| h.rsplit_once('/').map(|(_, d)| d).unwrap_or(h) == "*")
    }
    pub fn is_tls(&self) -> bool {
        matches!(self.protocol.as_str(), "HTTPS" | "TLS")
    }
}

#[derive(Clone, Debug)]
pub struct Gateway<'d, 's> {
    pub obj: Object<'d, 's>,
    /// `spec.selector`; `None` when absent (selects every proxy).
    pub selector: Option<Vec<(&'d str, &'d str)>>,
    pub servers: Vec<Server<'d, 's>>,
}

impl<'d, 's> Gateway<'d, 's> {
    pub fn from_object(obj: Object<'d, 's>) -> Option<Gateway<'d, 's>> {
        if !obj.is(GROUP, "Gateway") {
            return None;
        }
        let spec = obj.spec();
        let selector = spec
            .and_then(|s| s.get("selector"))
            .map(|n| string_map(Some(n)));
        let servers = spec
            .and_then(|s| s.get("servers"))
            .into_iter()
            .flat_map(|s| s.items())
            .filter(|n| n.is_map())
            .map(|node| {
                let port = node.get("port");
                let tls = node.get("tls");
                Server {
                    node,
                    number: port.and_then(|p| p.get("number")).and_then(|n| n.as_int()),
                    port_node: port.and_then(|p| p.get("number")),
                    protocol: port
                        .and_then(|p| p.str_at("protocol"))
                        .unwrap_or("")
                        .to_ascii_uppercase(),
                    hosts: node
                        .get("hosts")
                        .into_iter()
                        .flat_map(|h| h.items())
                        .filter_map(|h| Some((h.as_str()?, h)))
                        .collect(),
                    tls,
                    tls_mode: tls.and_then(|t| t.str_at("mode")),
                    https_redirect: tls
                        .and_then(|t| t.entry("httpsRedirect"))
                        .filter(|(_, v)| v.as_bool() == Some(true))
                        .map(|(k, _)| k),
                }
            })
            .collect();
        Some(Gateway {
            obj,
            selector: selector.filter(|s| !s.is_empty()),
            servers,
        })
    }
}

/// `gatewayTopology.numTrustedProxies` in a ProxyConfig mapping.
pub fn num_trusted_proxies(proxy_config: Node<'_, '_>) -> Option<i64> {
    proxy_config
        .path(&["gatewayTopology", "numTrustedProxies"])
        .and_then(|n| n.as_int())
}

/// `numTrustedProxies` from a `proxy.istio.io/config` annotation (YAML or JSON text).
pub fn annotation_trusted_proxies(text: &str) -> Option<i64> {
    let parsed = crate::yaml::parse_stream(
        crate::source::FileId(u32::MAX),
        text,
        &crate::yaml::ParseLimits::default(),
    );
    parsed.docs.first()?.root().and_then(num_trusted_proxies)
}

/// A route destination of a VirtualService (`http`, `tls` or `tcp` routes).
#[derive(Clone, Copy, Debug)]
pub struct Destination<'d, 's> {
    pub node: Node<'d, 's>,
    pub host: &'d str,
    pub host_node: Node<'d, 's>,
    pub subset: Option<(&'d str, Node<'d, 's>)>,
    pub port: Option<(i64, Node<'d, 's>)>,
    pub weight: Option<(i64, Node<'d, 's>)>,
}

#[derive(Clone, Debug)]
pub struct VirtualService<'d, 's> {
    pub obj: Object<'d, 's>,
    pub hosts: Vec<(&'d str, Node<'d, 's>)>,
    /// `spec.gateways`; empty means `mesh` only.
    pub gateways: Vec<(&'d str, Node<'d, 's>)>,
    pub export_to: Vec<(&'d str, Node<'d, 's>)>,
    pub destinations: Vec<Destination<'d, 's>>,
}

fn strings<'d, 's>(n: Option<Node<'d, 's>>) -> Vec<(&'d str, Node<'d, 's>)> {
    n.into_iter()
        .flat_map(|l| l.items())
        .filter_map(|h| Some((h.as_text()?, h)))
        .collect()
}

impl<'d, 's> VirtualService<'d, 's> {
    pub fn from_object(obj: Object<'d, 's>) -> Option<VirtualService<'d, 's>> {
        if !obj.is(GROUP, "VirtualService") {
            return None;
        }
        let spec = obj.spec();
        let mut destinations = Vec::new();
        for kind in ["http", "tls", "tcp"] {
            for route in spec
                .and_then(|s| s.get(kind))
                .into_iter()
                .flat_map(|r| r.items())
            {
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
                    destinations.push(Destination {
                        node: d,
                        host,
                        host_node,
                        subset: d.get("subset").and_then(|n| Some((n.as_text()?, n))),
                        port: d
                            .path(&["port", "number"])
                            .and_then(|n| Some((n.as_int()?, n))),
                        weight: rd.get("weight").and_then(|n| Some((n.as_int()?, n))),
                    });
                }
            }
        }
        Some(VirtualService {
            obj,
            hosts: strings(spec.and_then(|s| s.get("hosts"))),
            gateways: strings(spec.and_then(|s| s.get("gateways"))),
            export_to: strings(spec.and_then(|s| s.get("exportTo"))),
            destinations,
        })
    }
}

/// A DestinationRule subset.
#[derive(Clone, Debug)]
pub struct Subset<'d, 's> {
    pub node: Node<'d, 's>,
    pub name: &'d str,
    pub labels: Vec<(&'d str, &'d str)>,
}

#[derive(Clone, Debug)]
pub struct DestinationRule<'d, 's> {
    pub obj: Object<'d, 's>,
    pub host: Option<(&'d str, Node<'d, 's>)>,
    pub subsets: Vec<Subset<'d, 's>>,
    pub export_to: Vec<(&'d str, Node<'d, 's>)>,
}

impl<'d, 's> DestinationRule<'d, 's> {
    pub fn from_object(obj: Object<'d, 's>) -> Option<DestinationRule<'d, 's>> {
        if !obj.is(GROUP, "DestinationRule") {
            return None;
        }
        let spec = obj.spec();
        Some(DestinationRule {
            obj,
            host: spec
                .and_then(|s| s.get("host"))
                .and_then(|n| Some((n.as_text()?, n))),
            subsets: spec
                .and_then(|s| s.get("subsets"))
                .into_iter()
                .flat_map(|s| s.items())
                .filter_map(|n| {
                    Some(Subset {
                        node: n,
                        name: n.str_at("name")?,
                        labels: string_map(n.get("labels")),
                    })
                })
                .collect(),
            export_to: strings(spec.and_then(|s| s.get("exportTo"))),
        })
    }
}

#[derive(Clone, Debug)]
pub struct ServiceEntry<'d, 's> {
    pub obj: Object<'d, 's>,
    pub hosts: Vec<(&'d str, Node<'d, 's>)>,
    /// `(number, name, protocol)` of each port.
    pub ports: Vec<(Option<i64>, Option<&'d str>, Option<&'d str>)>,
    pub resolution: Option<&'d str>,
    pub location: Option<&'d str>,
}

impl<'d, 's> ServiceEntry<'d, 's> {
    pub fn from_object(obj: Object<'d, 's>) -> Option<ServiceEntry<'d, 's>> {
        if !obj.is(GROUP, "ServiceEntry") {
            return None;
        }
        let spec = obj.spec();
        Some(ServiceEntry {
            obj,
            hosts: strings(spec.and_then(|s| s.get("hosts"))),
            ports: spec
                .and_then(|s| s.get("ports"))
                .into_iter()
                .flat_map(|p| p.items())
                .map(|p| {
                    (
                        p.get("number").and_then(|n| n.as_int()),
                        p.str_at("name"),
                        p.str_at("protocol"),
                    )
                })
                .collect(),
            resolution: spec.and_then(|s| s.str_at("resolution")),
            location: spec.and_then(|s| s.str_at("location")),
        })
    }
}

/// Istio's protocol of a Service port (R10, istio `ConvertProtocol`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Http2,
    Https,
    Grpc,
    GrpcWeb,
    Tcp,
    Tls,
    Udp,
    Mongo,
    Redis,
    Mysql,
    /// Not declared: Istio sniffs the protocol.
    Unsupported,
}

impl Protocol {
    pub fn is_http2_capable(self) -> bool {
        matches!(self, Protocol::Http2 | Protocol::Grpc | Protocol::GrpcWeb)
    }
    pub fn is_http(self) -> bool {
        matches!(
            self,
            Protocol::Http | Protocol::Http2 | Protocol::Grpc | Protocol::GrpcWeb
        )
    }

    fn parse(s: &str) -> Protocol {
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("grpc-web") {
            return Protocol::GrpcWeb;
        }
        let prefix = lower.split('-').next().unwrap_or("");
        match prefix {
            "http" | "http_proxy" => Protocol::Http,
            "http2" => Protocol::Http2,
            "https" => Protocol::Https,
            "grpc" => Protocol::Grpc,
            "tcp" => Protocol::Tcp,
            "tls" => Protocol::Tls,
            "udp" => Protocol::Udp,
            "mongo" => Protocol::Mongo,
            "redis" => Protocol::Redis,
            "mysql" => Protocol::Mysql,
            _ => Protocol::Unsupported,
        }
    }

    /// R10: `protocol: UDP`, then `appProtocol`, then the port name prefix.
    pub fn of_port(port: &crate::model::service::ServicePort<'_, '_>) -> Protocol {
        if port.protocol.is_some_and(|p| p.eq_ignore_ascii_case("UDP")) {
            return Protocol::Udp;
        }
        if let Some(ap) = port.app_protocol {
            return match ap {
                "kubernetes.io/h2c" => Protocol::Http2,
                "kubernetes.io/ws" => Protocol::Http,
                "kubernetes.io/wss" => Protocol::Https,
                other => Protocol::parse(other),
            };
        }
        match port.name {
            Some(n) => Protocol::parse(n),
            None => Protocol::Unsupported,
        }
    }
}
