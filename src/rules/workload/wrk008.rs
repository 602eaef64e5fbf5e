//! WRK008 app-container-runs-as-proxy-uid.

use crate::finding::{Location, Severity};
use crate::index::{Index, Meshed};
use crate::model::workload::Container;
use crate::rules::{Emitter, Rule, origin_note};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "WRK008",
    id: "app-container-runs-as-proxy-uid",
    family: "workload",
    severity: Severity::Warning,
    summary: "An application container runs as UID or GID 1337, the Istio sidecar's, so its traffic bypasses the proxy",
    docs: include_str!("wrk008.md"),
    check,
    mitigations: &[],
};

/// The UID and GID istio-iptables exempts from outbound capture (`--proxy-uid`, `--proxy-gid`).
const PROXY_ID: i64 = 1337;

/// Containers of Istio itself, which run as 1337 on purpose.
const PROXY_CONTAINERS: &[&str] = &["istio-proxy", "istio-operator"];

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    if ix.templates.is_empty() {
        return;
    }
    let membership = ix.membership();
    for (t, tpl) in ix.templates.iter().enumerate() {
        if ix.is_gateway_template(t) {
            continue;
        }
        let Some(spec) = tpl.spec else { continue };
        let pod_ctx = spec.get("securityContext");
        // (the node that sets 1337, "UID"/"GID", containers that end up with it)
        let mut hits: Vec<(Node<'_, '_>, &str, Vec<String>)> = Vec::new();
        let containers = spec
            .get("containers")
            .into_iter()
            .flat_map(|c| c.items())
            .filter(|n| n.is_map())
            .map(Container::from_node);
        for c in containers {
            let name = c.name.unwrap_or("?");
            if PROXY_CONTAINERS.contains(&name) {
                continue;
            }
            let ctx = c.node.get("securityContext");
            for (key, what) in [("runAsUser", "UID"), ("runAsGroup", "GID")] {
                let own = ctx.and_then(|s| s.get(key));
                let Some(node) = own.or_else(|| pod_ctx.and_then(|s| s.get(key))) else {
                    continue;
                };
                if node.as_int() != Some(PROXY_ID) {
                    continue;
                }
                match hits
                    .iter_mut()
                    .find(|(n, w, _)| n.span() == node.span() && *w == what)
                {
                    Some((_, _, names)) => names.push(name.to_string()),
                    None => hits.push((node, what, vec![name.to_string()])),
                }
            }
        }
        if hits.is_empty() {
            continue;
        }
        let meshed = membership.of(t);
        if matches!(meshed, Some(Meshed::No | Meshed::Ambient)) {
            continue;
        }
        for (node, what, names) in hits {
            let who = if names.len() == 1 {
                format!("container `{}` runs", names[0])
            } else {
                format!("containers {} run", names.join(", "))
            };
            let message = format!(
                "{}{}: {who} with {what} {PROXY_ID}, the Istio sidecar's: the sidecar's \
                 iptables rules let traffic of that {what} leave the pod without passing through \
                 Envoy, so the app's outgoing requests get no mTLS, routing or telemetry, and \
                 peers that require mTLS reject them",
                tpl.obj.display(),
                origin_note(&tpl.obj)
            );
            let help =
                format!("run the application with another {what} (any value but {PROXY_ID})");
            let at: Location = tpl.obj.loc(node);
            match meshed {
                None => {
                    em.unknown(
                        at,
                        Some(tpl.obj.resource()),
                        format!(
                            "{message} (if the pods get a sidecar: namespace {} is not in the \
                             linted set)",
                            tpl.obj.namespace
                        ),
                        help,
                    );
                }
                Some(_) => {
                    em.violation(at, Some(tpl.obj.resource()), message, help);
                }
            }
        }
    }
}
