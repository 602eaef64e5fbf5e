//! Core and add-on kinds other rules refer to: Namespace, Secret, IngressClass, cert-manager
//! Certificate.

use super::{Object, string_map};
use crate::yaml::Node;

/// A Namespace and its labels (sidecar injection, revisions).
#[derive(Clone, Debug)]
pub struct Namespace<'d, 's> {
    pub obj: Object<'d, 's>,
    pub labels: Vec<(&'d str, &'d str)>,
}

impl<'d, 's> Namespace<'d, 's> {
    pub fn from_object(obj: Object<'d, 's>) -> Option<Namespace<'d, 's>> {
        obj.is("", "Namespace").then(|| Namespace {
            obj,
            labels: string_map(obj.labels()),
        })
    }
    pub fn label(&self, key: &str) -> Option<&'d str> {
        self.labels.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

/// A Secret (only its identity and type matter to meshlint).
#[derive(Clone, Copy, Debug)]
pub struct Secret<'d, 's> {
    pub obj: Object<'d, 's>,
    pub type_: Option<&'d str>,
}

impl<'d, 's> Secret<'d, 's> {
    pub fn from_object(obj: Object<'d, 's>) -> Option<Secret<'d, 's>> {
        obj.is("", "Secret").then(|| Secret {
            obj,
            type_: obj.root.str_at("type"),
        })
    }
}

/// `networking.k8s.io/v1 IngressClass`.
#[derive(Clone, Copy, Debug)]
pub struct IngressClass<'d, 's> {
    pub obj: Object<'d, 's>,
    pub controller: Option<&'d str>,
    /// `spec.parameters` (kind, name, apiGroup).
    pub parameters: Option<Node<'d, 's>>,
    pub is_default: bool,
}

impl<'d, 's> IngressClass<'d, 's> {
    pub fn from_object(obj: Object<'d, 's>) -> Option<IngressClass<'d, 's>> {
        obj.is("networking.k8s.io", "IngressClass")
            .then(|| IngressClass {
                obj,
                controller: obj.spec().and_then(|s| s.str_at("controller")),
                parameters: obj.spec().and_then(|s| s.get("parameters")),
                is_default: obj.annotation("ingressclass.kubernetes.io/is-default-class")
                    == Some("true"),
            })
    }
}

/// cert-manager `Certificate`: the Secret it writes.
#[derive(Clone, Copy, Debug)]
pub struct Certificate<'d, 's> {
    pub obj: Object<'d, 's>,
    pub secret_name: Option<(&'d str, Node<'d, 's>)>,
}

impl<'d, 's> Certificate<'d, 's> {
    pub fn from_object(obj: Object<'d, 's>) -> Option<Certificate<'d, 's>> {
        obj.is("cert-manager.io", "Certificate")
            .then(|| Certificate {
                obj,
                secret_name: obj
                    .spec()
                    .and_then(|s| s.get("secretName"))
                    .and_then(|n| Some((n.as_text()?, n))),
            })
    }
}
