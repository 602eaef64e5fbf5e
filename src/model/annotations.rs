//! Annotations that hold JSON inside a YAML string (R6). Parsed strictly, like Go's
//! `encoding/json`: keys are case sensitive, unknown keys are ignored, trailing commas fail.

use serde_json::Value;

use super::Object;
use crate::yaml::Node;

/// A parsed JSON annotation, or why it did not parse.
#[derive(Clone, Debug)]
pub struct JsonAnnotation<'d, 's> {
    pub key: Node<'d, 's>,
    pub value_node: Node<'d, 's>,
    pub parsed: Result<Value, String>,
}

/// Reads annotation `key` of `obj` as JSON.
pub fn json<'d, 's>(obj: &Object<'d, 's>, key: &str) -> Option<JsonAnnotation<'d, 's>> {
    let (k, v) = obj.annotation_entry(key)?;
    let text = v.as_str()?;
    Some(JsonAnnotation {
        key: k,
        value_node: v,
        parsed: serde_json::from_str::<Value>(text).map_err(|e| e.to_string()),
    })
}

/// `cloud.google.com/neg`: true when it parses with `"ingress": true`.
pub fn neg_ingress(obj: &Object<'_, '_>) -> Option<bool> {
    let a = json(obj, "cloud.google.com/neg")?;
    let v = a.parsed.ok()?;
    Some(v.get("ingress").and_then(Value::as_bool).unwrap_or(false))
}

/// App protocols of a GKE backend Service by port name (R8): the legacy key is read first.
/// Returns the annotation and the protocol map; `None` when neither key is present.
pub fn app_protocols<'d, 's>(
    obj: &Object<'d, 's>,
    keys: &[&str],
) -> Option<(JsonAnnotation<'d, 's>, Vec<(String, String)>)> {
    let a = keys.iter().find_map(|k| json(obj, k))?;
    let map = match &a.parsed {
        Ok(Value::Object(m)) => m
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect(),
        _ => Vec::new(),
    };
    Some((a, map))
}

/// The annotation keys holding app protocols for a Service or a MultiClusterService.
pub fn app_protocol_keys(multi_cluster: bool) -> &'static [&'static str] {
    if multi_cluster {
        &["networking.gke.io/app-protocols"]
    } else {
        &[
            "service.alpha.kubernetes.io/app-protocols",
            "cloud.google.com/app-protocols",
        ]
    }
}

/// `alb.ingress.kubernetes.io/listen-ports`: the protocols of the listeners, e.g.
/// `[("HTTP", 80), ("HTTPS", 443)]`. `None` when absent or invalid.
pub fn alb_listen_ports(obj: &Object<'_, '_>) -> Option<Vec<(String, i64)>> {
    let a = json(obj, "alb.ingress.kubernetes.io/listen-ports")?;
    let Ok(Value::Array(items)) = a.parsed else {
        return None;
    };
    Some(
        items
            .iter()
            .filter_map(Value::as_object)
            .flat_map(|m| m.iter())
            .filter_map(|(k, v)| Some((k.clone(), v.as_i64()?)))
            .collect(),
    )
}
