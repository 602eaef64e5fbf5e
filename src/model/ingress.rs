//! Ingress (`networking.k8s.io/v1`, `v1beta1`, `extensions/v1beta1`), IngressClass and
//! MultiClusterIngress backends (R4).

use super::{IntOrName, Object};
use crate::yaml::Node;

/// One backend reference of an Ingress or MultiClusterIngress.
#[derive(Clone, Copy, Debug)]
pub struct Backend<'d, 's> {
    /// The `backend` (or `defaultBackend`) mapping.
    pub node: Node<'d, 's>,
    pub service: &'d str,
    pub service_node: Node<'d, 's>,
    pub port: Option<IntOrName<'d>>,
    /// The node holding the port number or name.
    pub port_node: Option<Node<'d, 's>>,
}

impl<'d, 's> Backend<'d, 's> {
    /// The node findings about this backend's port point at.
    pub fn port_anchor(&self) -> Node<'d, 's> {
        self.port_node.unwrap_or(self.service_node)
    }
}

fn backend_of<'d, 's>(node: Node<'d, 's>) -> Option<Backend<'d, 's>> {
    if let Some(svc) = node.get("service") {
        // networking.k8s.io/v1
        let name_node = svc.get("name")?;
        let port = svc.get("port");
        let (port, port_node) = match port {
            Some(p) => {
                if let Some(n) = p.get("number") {
                    (n.as_int().map(IntOrName::Int), Some(n))
                } else if let Some(n) = p.get("name") {
                    (n.as_text().map(IntOrName::Name), Some(n))
                } else {
                    (None, None)
                }
            }
            None => (None, None),
        };
        return Some(Backend {
            node,
            service: name_node.as_text()?,
            service_node: name_node,
            port,
            port_node,
        });
    }
    // v1beta1 and MultiClusterIngress
    let name_node = node.get("serviceName")?;
    let port_node = node.get("servicePort");
    Some(Backend {
        node,
        service: name_node.as_text()?,
        service_node: name_node,
        port: port_node.and_then(IntOrName::from_node),
        port_node,
    })
}

/// All backends of an Ingress-like spec: the default backend first, then each path.
pub fn backends<'d, 's>(spec: Option<Node<'d, 's>>) -> Vec<Backend<'d, 's>> {
    let Some(spec) = spec else { return Vec::new() };
    let mut out = Vec::new();
    for key in ["defaultBackend", "backend"] {
        if let Some(b) = spec.get(key).and_then(backend_of) {
            out.push(b);
        }
    }
    for rule in spec.get("rules").into_iter().flat_map(|r| r.items()) {
        for path in rule
            .path(&["http", "paths"])
            .into_iter()
            .flat_map(|p| p.items())
        {
            if let Some(b) = path.get("backend").and_then(backend_of) {
                out.push(b);
            }
        }
    }
    out
}

/// The spec holding the backends: `spec` for Ingress, `spec.template.spec` for MCI.
pub fn ingress_spec<'d, 's>(obj: &Object<'d, 's>) -> Option<Node<'d, 's>> {
    if is_mci(obj) {
        obj.root.path(&["spec", "template", "spec"])
    } else {
        obj.spec()
    }
}

pub fn is_ingress(obj: &Object<'_, '_>) -> bool {
    obj.kind == "Ingress" && matches!(obj.group, "networking.k8s.io" | "extensions")
}

pub fn is_mci(obj: &Object<'_, '_>) -> bool {
    obj.is("networking.gke.io", "MultiClusterIngress")
}

/// `kubernetes.io/ingress.class` annotation.
pub const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";
