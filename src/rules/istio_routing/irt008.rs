//! IRT008 vs-route-kind-vs-gateway-tls-mode.

use crate::finding::Severity;
use crate::index::Index;
use crate::index::vsroutes::{attachments, gateways_by_name};
use crate::model::istio::Server;
use crate::rules::{Emitter, Rule};

pub static RULE: Rule = Rule {
    code: "IRT008",
    id: "vs-route-kind-vs-gateway-tls-mode",
    family: "istio-routing",
    severity: Severity::Error,
    summary: "A VirtualService has only route kinds that the Gateway servers it attaches to never use",
    docs: include_str!("irt008.md"),
    check,
    mitigations: &[],
};

/// The route kind a Gateway server builds its listener from (istio `gateway.go`: HTTP
/// servers and HTTPS with termination use `http` routes, TLS termination uses `tcp` routes,
/// passthrough uses `tls` routes, anything else `tcp` routes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Http,
    Tls,
    Tcp,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Kind::Http => "http",
            Kind::Tls => "tls",
            Kind::Tcp => "tcp",
        }
    }
}

/// The kind of routes a server uses and a description of why; `None` for servers istiod
/// rejects anyway (HTTPS or TLS without `tls`).
fn server_kind(server: &Server<'_, '_>) -> Option<(Kind, String)> {
    let mode = server.tls_mode.map(str::to_ascii_uppercase);
    let passthrough = server.tls.is_some()
        && matches!(
            mode.as_deref(),
            None | Some("PASSTHROUGH" | "AUTO_PASSTHROUGH")
        );
    let mode_text = match mode.as_deref() {
        Some(m) => m.to_string(),
        None => "PASSTHROUGH (`tls.mode` absent)".to_string(),
    };
    let port = server
        .number
        .map(|n| format!("port {n} "))
        .unwrap_or_default();
    let proto = server.protocol.as_str();
    match proto {
        "HTTP" | "HTTP2" | "GRPC" | "GRPC-WEB" | "HTTP_PROXY" => {
            Some((Kind::Http, format!("{port}{proto} uses `http` routes")))
        }
        "HTTPS" | "TLS" if server.tls.is_none() => None,
        "HTTPS" | "TLS" if passthrough => Some((
            Kind::Tls,
            format!(
                "{port}{proto} with tls.mode {mode_text} passes TLS through and uses `tls` routes"
            ),
        )),
        "HTTPS" => Some((
            Kind::Http,
            format!("{port}HTTPS with tls.mode {mode_text} terminates TLS and uses `http` routes"),
        )),
        "TLS" => Some((
            Kind::Tcp,
            format!("{port}TLS with tls.mode {mode_text} terminates TLS and uses `tcp` routes"),
        )),
        _ => Some((Kind::Tcp, format!("{port}{proto} uses `tcp` routes"))),
    }
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let by_name = gateways_by_name(ix);
    for vs in &ix.virtual_services {
        if vs.gateways.is_empty() {
            continue;
        }
        let obj = &vs.obj;
        let Some(spec) = obj.spec() else { continue };
        let present: Vec<(Kind, crate::yaml::Node<'_, '_>)> = [Kind::Http, Kind::Tls, Kind::Tcp]
            .into_iter()
            .filter_map(|k| {
                let (key, v) = spec.entry(k.key())?;
                (v.items().len() > 0).then_some((k, key))
            })
            .collect();
        let Some(&(_, first_key)) = present.first() else {
            continue;
        };
        let atts = attachments(ix, &by_name, vs);
        let unresolved = atts.iter().any(|a| a.gateway.is_none());
        let mut servers = Vec::new();
        for a in &atts {
            let Some(g) = a.gateway else { continue };
            for (s, _) in &a.attached {
                let server = &ix.gateways[g].servers[*s];
                if let Some((kind, why)) = server_kind(server) {
                    servers.push((g, *s, kind, why));
                }
            }
        }
        if servers.is_empty() {
            continue;
        }
        if servers
            .iter()
            .any(|(_, _, k, _)| present.iter().any(|(p, _)| p == k))
        {
            continue;
        }
        let has: Vec<String> = present
            .iter()
            .map(|(k, _)| format!("`{}`", k.key()))
            .collect();
        let mut needed: Vec<&str> = Vec::new();
        for (_, _, k, _) in &servers {
            if !needed.contains(&k.key()) {
                needed.push(k.key());
            }
        }
        let described: Vec<String> = servers
            .iter()
            .map(|(g, _, _, why)| format!("{} {why}", ix.gateways[*g].obj.display()))
            .collect();
        let message = format!(
            "{} has only {} routes, but the Gateway servers it attaches to never use them ({}): \
             its routes are not applied there, so requests get 404 or the connection is reset",
            obj.display(),
            has.join(" and "),
            described.join("; ")
        );
        let help = format!(
            "write {} routes for these servers, or change the server's protocol or tls.mode to \
             match the routes",
            needed
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        );
        let f = if unresolved {
            em.unknown(
                obj.loc(first_key),
                Some(obj.resource()),
                format!("{message}; a Gateway it also binds to is not in the linted set and may use them"),
                help,
            )
        } else {
            em.violation(obj.loc(first_key), Some(obj.resource()), message, help)
        };
        for (g, s, _, _) in &servers {
            let gw = &ix.gateways[*g];
            let server = &gw.servers[*s];
            let at = server
                .node
                .get("port")
                .and_then(|p| p.get("protocol"))
                .unwrap_or(server.node);
            f.related(gw.obj.loc(at), format!("server of {}", gw.obj.display()));
        }
    }
}
