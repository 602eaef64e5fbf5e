//! `v1/Service` and `MultiClusterService` views.

use super::{IntOrName, Object, string_map};
use crate::yaml::Node;

/// One entry of `spec.ports`.
#[derive(Clone, Copy, Debug)]
pub struct ServicePort<'d, 's> {
    pub node: Node<'d, 's>,
    pub name: Option<&'d str>,
    pub port: Option<i64>,
    /// `targetPort`, defaulted to `port` (R5).
    pub target: Option<IntOrName<'d>>,
    pub target_explicit: bool,
    pub protocol: Option<&'d str>,
    pub app_protocol: Option<&'d str>,
}

impl<'d, 's> ServicePort<'d, 's> {
    pub fn from_node(node: Node<'d, 's>) -> ServicePort<'d, 's> {
        let port = node.get("port").and_then(|n| n.as_int());
        let explicit = node.get("targetPort").and_then(IntOrName::from_node);
        ServicePort {
            node,
            name: node.str_at("name"),
            port,
            target: explicit.or(port.map(IntOrName::Int)),
            target_explicit: explicit.is_some(),
            protocol: node.str_at("protocol"),
            app_protocol: node.str_at("appProtocol"),
        }
    }
    /// `name (port)` for messages.
    pub fn display(&self) -> String {
        match (self.name, self.port) {
            (Some(n), Some(p)) => format!("{p} ({n})"),
            (None, Some(p)) => p.to_string(),
            (Some(n), None) => n.to_string(),
            (None, None) => "?".into(),
        }
    }
}

/// A Service (or the `spec.template` of a MultiClusterService).
#[derive(Clone, Debug)]
pub struct Service<'d, 's> {
    pub obj: Object<'d, 's>,
    /// The `spec` that holds `type`, `selector` and `ports`.
    pub spec: Option<Node<'d, 's>>,
    /// `spec.type`, `None` when absent (ClusterIP).
    pub type_: Option<&'d str>,
    pub selector: Vec<(&'d str, &'d str)>,
    pub ports: Vec<ServicePort<'d, 's>>,
    pub multi_cluster: bool,
}

impl<'d, 's> Service<'d, 's> {
    pub fn from_object(obj: Object<'d, 's>) -> Option<Service<'d, 's>> {
        let (spec, multi_cluster) = if obj.is("", "Service") {
            (obj.spec(), false)
        } else if obj.is("networking.gke.io", "MultiClusterService") {
            (obj.root.path(&["spec", "template", "spec"]), true)
        } else {
            return None;
        };
        let ports = spec
            .and_then(|s| s.get("ports"))
            .map(|p| {
                p.items()
                    .filter(|n| n.is_map())
                    .map(ServicePort::from_node)
                    .collect()
            })
            .unwrap_or_default();
        Some(Service {
            obj,
            spec,
            type_: spec.and_then(|s| s.str_at("type")),
            selector: string_map(spec.and_then(|s| s.get("selector"))),
            ports,
            multi_cluster,
        })
    }

    /// The effective type (`ClusterIP` when absent).
    pub fn effective_type(&self) -> &'d str {
        self.type_.unwrap_or("ClusterIP")
    }

    /// The node of `spec.type`, if written.
    pub fn type_node(&self) -> Option<Node<'d, 's>> {
        self.spec?.get("type")
    }

    /// Port lookup for a backend reference (R4): by name if a name is given, else by number.
    pub fn port(&self, r: IntOrName<'_>) -> Option<&ServicePort<'d, 's>> {
        match r {
            IntOrName::Name(n) => self.ports.iter().find(|p| p.name == Some(n)),
            IntOrName::Int(i) => self.ports.iter().find(|p| p.port == Some(i)),
        }
    }
}
