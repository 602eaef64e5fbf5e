//! IGW005 gateway-duplicate-certificate.

use std::collections::{HashMap, HashSet};

use crate::finding::Severity;
use crate::index::{Index, WorkloadKey};
use crate::model::istio::{Gateway, Server};
use crate::rules::{Emitter, Rule, origin_note};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "IGW005",
    id: "gateway-duplicate-certificate",
    family: "istio-gateway",
    severity: Severity::Warning,
    summary: "Two HTTPS servers on the same gateway port use the same certificate: HTTP/2 connection reuse gives 404s",
    docs: include_str!("igw005.md"),
    check,
    mitigations: &[],
};

/// The certificate a server presents: `credentialName` (any `kubernetes://` prefix dropped),
/// else the `serverCertificate` + `privateKey` file pair, with the node to point at.
fn certificate<'d, 's>(server: &Server<'d, 's>) -> Option<(String, Node<'d, 's>)> {
    let tls = server.tls?;
    if let Some(n) = tls.get("credentialName")
        && let Some(name) = n.as_text()
    {
        let name = name.strip_prefix("kubernetes://").unwrap_or(name);
        return Some((format!("credentialName `{name}`"), n));
    }
    let cert = tls.get("serverCertificate")?;
    let key = tls.get("privateKey")?;
    Some((
        format!("files `{}` and `{}`", cert.as_text()?, key.as_text()?),
        cert,
    ))
}

/// HTTPS servers that terminate TLS get a route table of their own.
fn terminates_https(server: &Server<'_, '_>) -> bool {
    server.protocol == "HTTPS"
        && !matches!(
            server.tls_mode,
            Some("PASSTHROUGH" | "AUTO_PASSTHROUGH" | "ISTIO_MUTUAL")
        )
}

fn sorted_hosts(server: &Server<'_, '_>) -> Vec<String> {
    let mut h: Vec<String> = server
        .hosts
        .iter()
        .map(|(h, _)| h.to_ascii_lowercase())
        .collect();
    h.sort();
    h
}

fn describe(gw: &Gateway<'_, '_>, server: &Server<'_, '_>) -> String {
    let name = server
        .node
        .get("port")
        .and_then(|p| p.str_at("name"))
        .unwrap_or("?");
    format!("{} server `{name}`", gw.obj.display())
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let workloads = ix.gateway_workloads();
    let mut reported: HashSet<(usize, usize)> = HashSet::new();
    for (key, gws) in &workloads.groups {
        let on = match key {
            WorkloadKey::Template(t) => {
                let o = &ix.templates[*t].obj;
                format!("the pods of {}{}", o.display(), origin_note(o))
            }
            WorkloadKey::Selector(sel) if sel.is_empty() => "every gateway".to_string(),
            WorkloadKey::Selector(sel) => format!("the gateway pods labelled {sel}"),
        };
        // (port, bind, certificate) → the first server using it.
        let mut first: HashMap<(i64, &str, String), (usize, usize, Node<'_, '_>)> = HashMap::new();
        for &g in gws {
            let gw = &ix.gateways[g];
            for (s, server) in gw.servers.iter().enumerate() {
                let Some(port) = server.number else { continue };
                if !terminates_https(server) {
                    continue;
                }
                let Some((cert, node)) = certificate(server) else {
                    continue;
                };
                let bind = server.node.str_at("bind").unwrap_or("");
                let k = (port, bind, cert.clone());
                let Some(&(og, os, onode)) = first.get(&k) else {
                    first.insert(k, (g, s, node));
                    continue;
                };
                let other_gw = &ix.gateways[og];
                let other = &other_gw.servers[os];
                // Identical host lists are IGW003's business (one server is dropped).
                if sorted_hosts(other) == sorted_hosts(server) || !reported.insert((g, s)) {
                    continue;
                }
                let obj = &gw.obj;
                let hosts = |s: &Server<'_, '_>| {
                    s.hosts
                        .iter()
                        .map(|(h, _)| *h)
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                em.violation(
                    obj.loc(node),
                    Some(obj.resource()),
                    format!(
                        "{} ({}) and {} ({}) use the same certificate ({cert}) on port {port} of \
                         {on}: each server has its own route table, and browsers reuse an HTTP/2 \
                         connection for every name the certificate covers, so requests for one \
                         server's hosts arrive on the other's connection and get 404",
                        describe(gw, server),
                        hosts(server),
                        describe(other_gw, other),
                        hosts(other),
                    ),
                    "serve the hosts that share a certificate from one server (one Gateway, \
                     `hosts` listing them all), or give each server its own certificate",
                )
                .related(
                    other_gw.obj.loc(onode),
                    format!("{} uses the same certificate", describe(other_gw, other)),
                );
            }
        }
    }
}
