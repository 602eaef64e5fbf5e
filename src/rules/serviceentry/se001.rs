//! SE001 serviceentry-addresses-required.

use crate::finding::Severity;
use crate::index::Index;
use crate::model::istio::GROUP;
use crate::model::{Object, string_map};
use crate::rules::{Emitter, Rule};
use crate::source::FileId;
use crate::yaml::{Node, ParseLimits, parse_stream};

pub static RULE: Rule = Rule {
    code: "SE001",
    id: "serviceentry-addresses-required",
    family: "serviceentry",
    severity: Severity::Warning,
    summary: "A ServiceEntry has TCP (or protocol-less) ports but no addresses, so it captures that port for every destination",
    docs: include_str!("se001.md"),
    check,
    mitigations: &[],
};

/// How the set turns on address auto-allocation for ServiceEntries without `addresses`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct AutoAllocation {
    /// `ISTIO_META_DNS_CAPTURE` + `ISTIO_META_DNS_AUTO_ALLOCATE` in the mesh's proxyMetadata
    /// (sidecar DNS proxy allocation).
    dns_proxy: bool,
    /// istiod's `PILOT_ENABLE_IP_AUTOALLOCATE` (controller allocation; not for
    /// `resolution: NONE`).
    controller: bool,
}

fn proxy_metadata_allocates(default_config: Option<Node<'_, '_>>) -> bool {
    let Some(md) = default_config.and_then(|d| d.get("proxyMetadata")) else {
        return false;
    };
    let on = |k: &str| md.str_at(k).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    on("ISTIO_META_DNS_CAPTURE") && on("ISTIO_META_DNS_AUTO_ALLOCATE")
}

/// `PILOT_ENABLE_IP_AUTOALLOCATE=true` in an env map (`values.pilot.env`) or an env list
/// (`[{name, value}]`).
fn env_allocates(env: Option<Node<'_, '_>>) -> bool {
    let Some(env) = env else { return false };
    let truthy = |v: Option<&str>| v.is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if env.is_map() {
        return truthy(env.str_at("PILOT_ENABLE_IP_AUTOALLOCATE"));
    }
    env.items().any(|e| {
        e.str_at("name") == Some("PILOT_ENABLE_IP_AUTOALLOCATE") && truthy(e.str_at("value"))
    })
}

fn auto_allocation(ix: &Index<'_, '_>) -> AutoAllocation {
    let mut a = AutoAllocation::default();
    for &id in ix.of_kind("install.istio.io", "IstioOperator") {
        let spec = ix.objects[id].spec();
        a.dns_proxy |=
            proxy_metadata_allocates(spec.and_then(|s| s.path(&["meshConfig", "defaultConfig"])));
        a.controller |= env_allocates(spec.and_then(|s| s.path(&["values", "pilot", "env"])))
            || env_allocates(spec.and_then(|s| s.path(&["components", "pilot", "k8s", "env"])));
    }
    for &id in ix.of_kind("", "ConfigMap") {
        let o = &ix.objects[id];
        if !(o.name == "istio" || o.name.starts_with("istio-")) {
            continue;
        }
        let Some(text) = o.root.path(&["data", "mesh"]).and_then(|n| n.as_str()) else {
            continue;
        };
        let parsed = parse_stream(FileId(u32::MAX), text, &ParseLimits::default());
        if let Some(root) = parsed.docs.first().and_then(|d| d.root()) {
            a.dns_proxy |= proxy_metadata_allocates(root.get("defaultConfig"));
        }
    }
    for &id in ix.of_kind("apps", "Deployment") {
        let o = &ix.objects[id];
        if !(o.name == "istiod" || o.name.starts_with("istiod-")) {
            continue;
        }
        a.controller |= o
            .root
            .path(&["spec", "template", "spec", "containers"])
            .into_iter()
            .flat_map(|c| c.items())
            .any(|c| env_allocates(c.get("env")));
    }
    a
}

/// The ServiceEntry opts out of controller allocation with its label.
fn opted_out(se: &Object<'_, '_>) -> bool {
    string_map(se.labels()).iter().any(|(k, v)| {
        *k == "networking.istio.io/enable-autoallocate-ip" && v.eq_ignore_ascii_case("false")
    })
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let mut allocation: Option<AutoAllocation> = None;
    for &id in ix.of_kind(GROUP, "ServiceEntry") {
        let se = &ix.objects[id];
        let Some(spec) = se.spec() else { continue };
        if spec.get("addresses").is_some_and(|a| a.items().len() > 0) {
            continue;
        }
        let ports: Vec<Node<'_, '_>> = spec
            .get("ports")
            .into_iter()
            .flat_map(|p| p.items())
            .filter(|p| p.is_map())
            .collect();
        let tcp: Vec<Node<'_, '_>> = ports
            .into_iter()
            .filter(|p| match p.str_at("protocol") {
                None => true,
                Some(proto) => proto.eq_ignore_ascii_case("TCP"),
            })
            .collect();
        if tcp.is_empty() {
            continue;
        }
        let a = *allocation.get_or_insert_with(|| auto_allocation(ix));
        let resolution = spec.str_at("resolution").unwrap_or("NONE");
        if a.dns_proxy || (a.controller && resolution != "NONE" && !opted_out(se)) {
            continue;
        }
        for p in tcp {
            let number = p.get("number").and_then(|n| n.as_int());
            let at = p.get("protocol").or_else(|| p.get("number")).unwrap_or(p);
            let port = number.map(|n| n.to_string()).unwrap_or_else(|| "?".into());
            let proto = if p.get("protocol").is_some() {
                "TCP"
            } else {
                "without a protocol"
            };
            em.violation(
                se.loc(at),
                Some(se.resource()),
                format!(
                    "{} declares port {port} {proto} but no `addresses`: sidecars cannot tell its \
                     connections apart by IP, so they build a catch-all 0.0.0.0:{port} listener \
                     that sends TCP traffic to any destination on port {port} to this entry (and \
                     entries sharing the port collide)",
                    se.display()
                ),
                "add the service's IPs or CIDRs as `addresses`, give the port an HTTP-family \
                 protocol if it carries HTTP, or turn on address auto-allocation",
            );
        }
    }
}
