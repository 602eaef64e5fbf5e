//! GKE `BackendConfig` and `FrontendConfig`, and the Service annotation that binds them.

use serde_json::Value;

use super::Object;
use super::annotations::json;
use super::service::{Service, ServicePort};
use crate::yaml::Node;

/// `cloud.google.com/v1 BackendConfig` (also `v1beta1`).
#[derive(Clone, Copy, Debug)]
pub struct BackendConfig<'d, 's> {
    pub obj: Object<'d, 's>,
    /// `spec.healthCheck`.
    pub health_check: Option<Node<'d, 's>>,
    pub timeout_sec: Option<(i64, Node<'d, 's>)>,
}

impl<'d, 's> BackendConfig<'d, 's> {
    pub fn from_object(obj: Object<'d, 's>) -> Option<BackendConfig<'d, 's>> {
        if !obj.is("cloud.google.com", "BackendConfig") {
            return None;
        }
        let spec = obj.spec();
        Some(BackendConfig {
            obj,
            health_check: spec.and_then(|s| s.get("healthCheck")),
            timeout_sec: spec
                .and_then(|s| s.get("timeoutSec"))
                .and_then(|n| Some((n.as_int()?, n))),
        })
    }
}

/// `networking.gke.io/v1beta1 FrontendConfig`.
#[derive(Clone, Copy, Debug)]
pub struct FrontendConfig<'d, 's> {
    pub obj: Object<'d, 's>,
    /// `spec.redirectToHttps.enabled`.
    pub redirect_to_https: bool,
}

impl<'d, 's> FrontendConfig<'d, 's> {
    pub fn from_object(obj: Object<'d, 's>) -> Option<FrontendConfig<'d, 's>> {
        if !obj.is("networking.gke.io", "FrontendConfig") {
            return None;
        }
        Some(FrontendConfig {
            obj,
            redirect_to_https: obj
                .root
                .path(&["spec", "redirectToHttps", "enabled"])
                .and_then(|n| n.as_bool())
                .unwrap_or(false),
        })
    }
}

/// The BackendConfig name bound to a Service port (§2 shared model): `ports[<port name>]`, then
/// `ports["<port number>"]`, then `default`. The GA key wins over the beta key. Returns the
/// name and the annotation value node; `Err` with the annotation node when it is not valid JSON.
pub fn backend_config_name<'d, 's>(
    svc: &Service<'d, 's>,
    port: &ServicePort<'_, '_>,
) -> Option<Result<(String, Node<'d, 's>), Node<'d, 's>>> {
    let a = json(&svc.obj, "cloud.google.com/backend-config")
        .or_else(|| json(&svc.obj, "beta.cloud.google.com/backend-config"))?;
    let Ok(v) = &a.parsed else {
        return Some(Err(a.value_node));
    };
    let ports = v.get("ports").and_then(Value::as_object);
    let by_port = ports.and_then(|p| {
        port.name
            .and_then(|n| p.get(n))
            .or_else(|| port.port.and_then(|n| p.get(&n.to_string())))
    });
    let name = by_port.or_else(|| v.get("default"))?.as_str()?;
    Some(Ok((name.to_string(), a.value_node)))
}

/// The FrontendConfig an Ingress names (`networking.gke.io/v1beta1.FrontendConfig`).
pub fn frontend_config_name<'d>(ing: &Object<'d, '_>) -> Option<&'d str> {
    ing.annotation("networking.gke.io/v1beta1.FrontendConfig")
        .or_else(|| ing.annotation("networking.gke.io/frontend-config"))
}
