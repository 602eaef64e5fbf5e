//! VirtualService → Gateway bindings (`VirtualService.spec.gateways`), built once per use.

use std::collections::HashMap;

use super::Index;
use crate::model::istio::VirtualService;
use crate::yaml::Node;

/// The Gateway a `spec.gateways` entry of a VirtualService in namespace `vs_ns` names, as
/// `(namespace, name)`; `None` for the reserved `mesh`. Forms (istio `resolveGatewayName`):
/// `name` (the VirtualService's namespace), `ns/name` (`./name` = own namespace), and the
/// FQDN-like `name.ns[.svc.cluster.local]`.
pub fn gateway_ref<'a>(vs_ns: &'a str, text: &'a str) -> Option<(&'a str, &'a str)> {
    if text == "mesh" {
        return None;
    }
    if let Some((ns, name)) = text.split_once('/') {
        let ns = if ns == "." { vs_ns } else { ns };
        return Some((ns, name));
    }
    match text.split_once('.') {
        Some((name, rest)) => Some((rest.split('.').next().unwrap_or(rest), name)),
        None => Some((vs_ns, text)),
    }
}

/// VirtualServices by the Gateway they bind to.
#[derive(Debug, Default)]
pub struct GatewayBindings {
    /// Index into [`Index::gateways`] → indexes into [`Index::virtual_services`] with the
    /// `spec.gateways` entry that binds them.
    by_gateway: HashMap<usize, Vec<usize>>,
}

impl GatewayBindings {
    /// VirtualServices bound to Gateway `g` (indexes into [`Index::virtual_services`]).
    pub fn bound_to(&self, g: usize) -> &[usize] {
        self.by_gateway.get(&g).map(Vec::as_slice).unwrap_or(&[])
    }
}

impl Index<'_, '_> {
    /// Which VirtualServices bind to which Gateway. Linear in Gateways + VirtualServices;
    /// build it once per rule run, not per object.
    pub fn gateway_bindings(&self) -> GatewayBindings {
        let by_name: HashMap<(&str, &str), usize> = self
            .gateways
            .iter()
            .enumerate()
            .map(|(g, gw)| ((gw.obj.namespace, gw.obj.name), g))
            .collect();
        let mut out = GatewayBindings::default();
        for (v, vs) in self.virtual_services.iter().enumerate() {
            for (text, _) in &vs.gateways {
                if let Some(key) = gateway_ref(vs.obj.namespace, text)
                    && let Some(&g) = by_name.get(&key)
                {
                    let list = out.by_gateway.entry(g).or_default();
                    if !list.contains(&v) {
                        list.push(v);
                    }
                }
            }
        }
        out
    }
}

/// The first `http` route of a VirtualService that sends every path somewhere: a route with
/// destinations whose `match` is absent or has an entry matching only `uri.prefix: /`.
/// Returns the node to point at (the `prefix` value, else the route).
pub fn catch_all_http_route<'d, 's>(vs: &VirtualService<'d, 's>) -> Option<Node<'d, 's>> {
    let http = vs.obj.spec()?.get("http")?;
    for route in http.items() {
        if route.get("route").is_none_or(|r| r.items().len() == 0) {
            continue;
        }
        let Some(matches) = route.get("match").filter(|m| m.items().len() > 0) else {
            return Some(route);
        };
        for m in matches.items() {
            let only_uri = m
                .entries()
                .all(|(k, _)| matches!(k.as_str(), Some("uri" | "name" | "ignoreUriCase")));
            if !only_uri {
                continue;
            }
            match m.get("uri") {
                None => return Some(route),
                Some(uri) => {
                    if let Some(p) = uri.get("prefix")
                        && p.as_str() == Some("/")
                        && uri.entries().len() == 1
                    {
                        return Some(p);
                    }
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::gateway_ref;

    #[test]
    fn gateway_references() {
        assert_eq!(gateway_ref("app", "gw"), Some(("app", "gw")));
        assert_eq!(
            gateway_ref("app", "istio-system/gw"),
            Some(("istio-system", "gw"))
        );
        assert_eq!(gateway_ref("app", "./gw"), Some(("app", "gw")));
        assert_eq!(
            gateway_ref("app", "gw.istio-system.svc.cluster.local"),
            Some(("istio-system", "gw"))
        );
        assert_eq!(gateway_ref("app", "mesh"), None);
    }
}
