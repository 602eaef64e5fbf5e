//! IRT002 vs-host-not-in-gateway.

use crate::finding::Severity;
use crate::index::Index;
use crate::index::vsroutes::{attachments, gateways_by_name, vs_binding};
use crate::rules::{Emitter, Rule};

pub static RULE: Rule = Rule {
    code: "IRT002",
    id: "vs-host-not-in-gateway",
    family: "istio-routing",
    severity: Severity::Error,
    summary: "A VirtualService's hosts are not served by a Gateway it binds to",
    docs: include_str!("irt002.md"),
    check,
    mitigations: &[],
};

/// At most `n` items, then `…`.
fn short(items: &[String], n: usize) -> String {
    let mut s = items.iter().take(n).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > n {
        s.push_str(", …");
    }
    s
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let by_name = gateways_by_name(ix);
    for vs in &ix.virtual_services {
        if vs.gateways.is_empty() || vs.hosts.is_empty() {
            continue;
        }
        let obj = &vs.obj;
        let vs_hosts: Vec<String> = vs.hosts.iter().map(|(h, _)| format!("`{h}`")).collect();
        let atts = attachments(ix, &by_name, vs);
        let mut covered = vec![false; vs.hosts.len()];
        let mut unresolved = false;
        let mut reported = false;
        for a in &atts {
            let Some(g) = a.gateway else {
                // IRT001 reports the reference; the hosts may be served there.
                unresolved = true;
                continue;
            };
            for (_, hosts) in &a.attached {
                for &i in hosts {
                    covered[i] = true;
                }
            }
            if !a.attached.is_empty() {
                continue;
            }
            reported = true;
            let gw = &ix.gateways[g];
            let gw_hosts: Vec<String> = gw
                .servers
                .iter()
                .flat_map(|s| s.hosts.iter().map(|(h, _)| format!("`{h}`")))
                .collect();
            let excluded = if a.excluded.is_empty() {
                String::new()
            } else {
                let names: Vec<String> = a
                    .excluded
                    .iter()
                    .filter_map(|(_, n)| n.as_str().map(|h| format!("`{h}`")))
                    .collect();
                format!(
                    "; {} matches by name, but its namespace prefix does not admit \
                     VirtualServices of namespace {}",
                    short(&names, 3),
                    obj.namespace
                )
            };
            let f = em.violation(
                obj.loc(a.entry),
                Some(obj.resource()),
                format!(
                    "{} binds to Gateway {}/{}, but none of its hosts ({}) matches a host of that \
                     Gateway's servers ({}{excluded}): its routes are never attached there, so \
                     requests for those hosts get 404 (NR) at the gateway",
                    obj.display(),
                    a.namespace,
                    a.name,
                    short(&vs_hosts, 4),
                    if gw_hosts.is_empty() {
                        "none".to_string()
                    } else {
                        short(&gw_hosts, 6)
                    },
                ),
                format!(
                    "add the VirtualService's host to a server of the Gateway (as `{}/<host>` or \
                     `*/<host>`), or use one of the Gateway's hosts in the VirtualService",
                    obj.namespace
                ),
            );
            match a.excluded.first() {
                Some((_, n)) => {
                    f.related(
                        gw.obj.loc(*n),
                        format!(
                            "server host of {} that excludes namespace {}",
                            gw.obj.display(),
                            obj.namespace
                        ),
                    );
                }
                None => {
                    if let Some(k) = gw.obj.spec().and_then(|s| s.key("servers")) {
                        f.related(gw.obj.loc(k), format!("servers of {}", gw.obj.display()));
                    }
                }
            }
        }
        // Hosts no bound Gateway serves, when the others are served (and the mesh does not
        // use the VirtualService, where such a host may be meant for the sidecars).
        if reported || unresolved || vs_binding(vs).mesh || !covered.iter().any(|c| *c) {
            continue;
        }
        let gateways: Vec<String> = atts
            .iter()
            .map(|a| format!("{}/{}", a.namespace, a.name))
            .collect();
        for (i, (h, node)) in vs.hosts.iter().enumerate() {
            if covered[i] {
                continue;
            }
            em.violation(
                obj.loc(*node),
                Some(obj.resource()),
                format!(
                    "host `{h}` of {} is served by none of the Gateways it binds to ({}), while \
                     its other hosts are: requests for `{h}` get 404 (NR) at the gateway",
                    obj.display(),
                    gateways.join(", ")
                ),
                "add the host to a server of the Gateway, or remove it from the VirtualService",
            )
            .severity(Severity::Warning);
        }
    }
}
