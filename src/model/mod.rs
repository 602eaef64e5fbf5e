//! Typed, borrowed views of the Kubernetes, Istio and cloud kinds meshlint understands.
//! Unknown kinds are kept as plain [`Object`]s and otherwise ignored.

pub mod annotations;
pub mod cluster;
pub mod esp;
pub mod gke;
pub mod ingress;
pub mod istio;
pub mod service;
pub mod synth;
pub mod workload;

use crate::finding::{Location, ResourceRef};
use crate::yaml::{Document, Node};

/// One Kubernetes object, from a manifest or synthesised.
#[derive(Clone, Copy)]
pub struct Object<'d, 's> {
    pub root: Node<'d, 's>,
    pub api_version: &'d str,
    /// API group (`""` for the core group), taken from `apiVersion`.
    pub group: &'d str,
    pub kind: &'d str,
    pub name: &'d str,
    /// `metadata.namespace`, defaulted per R1 (`""` for cluster-scoped kinds).
    pub namespace: &'d str,
}

impl std::fmt::Debug for Object<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// Kinds without a namespace.
pub fn is_cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "IngressClass"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "CustomResourceDefinition"
            | "PersistentVolume"
            | "StorageClass"
            | "Node"
            | "PriorityClass"
            | "ValidatingWebhookConfiguration"
            | "MutatingWebhookConfiguration"
            | "ClusterIssuer"
            | "APIService"
            | "IngressClassParams"
    )
}

impl<'d, 's> Object<'d, 's> {
    /// Reads the identity of a document's root mapping; `None` if it is not a Kubernetes
    /// object (no `kind`).
    pub fn from_root(root: Node<'d, 's>, default_ns: &'d str) -> Option<Object<'d, 's>> {
        if !root.is_map() {
            return None;
        }
        let kind = root.str_at("kind")?;
        let api_version = root.str_at("apiVersion").unwrap_or("");
        let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
        let meta = root.get("metadata");
        let name = meta.and_then(|m| m.str_at("name")).unwrap_or("");
        let namespace = if is_cluster_scoped(kind) {
            ""
        } else {
            meta.and_then(|m| m.str_at("namespace"))
                .unwrap_or(default_ns)
        };
        Some(Object {
            root,
            api_version,
            group,
            kind,
            name,
            namespace,
        })
    }

    pub fn doc(&self) -> &'d Document<'s> {
        self.root.doc()
    }

    /// True for objects synthesised from an IstioOperator or Helm values.
    pub fn origin(&self) -> Option<&'d str> {
        self.root.doc().origin.as_deref()
    }

    pub fn is(&self, group: &str, kind: &str) -> bool {
        self.kind == kind && self.group == group
    }

    pub fn metadata(&self) -> Option<Node<'d, 's>> {
        self.root.get("metadata")
    }
    pub fn spec(&self) -> Option<Node<'d, 's>> {
        self.root.get("spec")
    }
    pub fn annotations(&self) -> Option<Node<'d, 's>> {
        self.metadata()?.get("annotations")
    }
    /// The value of annotation `key` (any scalar, as text).
    pub fn annotation(&self, key: &str) -> Option<&'d str> {
        self.annotations()?.str_at(key)
    }
    /// The (key, value) nodes of annotation `key`.
    pub fn annotation_entry(&self, key: &str) -> Option<(Node<'d, 's>, Node<'d, 's>)> {
        self.annotations()?.entry(key)
    }
    pub fn labels(&self) -> Option<Node<'d, 's>> {
        self.metadata()?.get("labels")
    }

    /// A location for a node of this object.
    pub fn loc(&self, node: Node<'_, '_>) -> Location {
        Location {
            file: node.file(),
            span: node.span(),
        }
    }

    /// A location for the object itself: its `metadata.name` value, else its `kind`.
    pub fn name_loc(&self) -> Location {
        let n = self
            .metadata()
            .and_then(|m| m.get("name"))
            .or_else(|| self.root.get("kind"))
            .unwrap_or(self.root);
        self.loc(n)
    }

    pub fn resource(&self) -> ResourceRef {
        ResourceRef {
            api_version: self.api_version.to_string(),
            kind: self.kind.to_string(),
            namespace: if self.namespace.is_empty() {
                None
            } else {
                Some(self.namespace.to_string())
            },
            name: self.name.to_string(),
        }
    }

    /// `Kind namespace/name` (or `Kind name` when cluster scoped), for messages.
    pub fn display(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// String pairs of a YAML map of scalars (labels, selectors). Non-scalar values are skipped.
pub fn string_map<'d>(node: Option<Node<'d, '_>>) -> Vec<(&'d str, &'d str)> {
    let Some(node) = node else { return Vec::new() };
    node.entries()
        .filter_map(|(k, v)| Some((k.as_str()?, v.as_str().unwrap_or(""))))
        .collect()
}

/// A port reference that is either a number or a name (Kubernetes IntOrString).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntOrName<'d> {
    Int(i64),
    Name(&'d str),
}

impl<'d> IntOrName<'d> {
    /// Reads an IntOrString: a plain integer is a number, anything else a name.
    pub fn from_node(n: Node<'d, '_>) -> Option<IntOrName<'d>> {
        if let Some(i) = n.as_int() {
            return Some(IntOrName::Int(i));
        }
        n.as_text().map(IntOrName::Name)
    }
}

impl std::fmt::Display for IntOrName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IntOrName::Int(i) => write!(f, "{i}"),
            IntOrName::Name(n) => write!(f, "{n}"),
        }
    }
}
