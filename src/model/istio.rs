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
