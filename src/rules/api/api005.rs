//! API005 istio-deprecated-field.

use crate::finding::Severity;
use crate::index::Index;
use crate::model::Object;
use crate::model::istio::GROUP;
use crate::rules::{Emitter, Rule};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "API005",
    id: "istio-deprecated-field",
    family: "api",
    severity: Severity::Warning,
    summary: "An Istio resource uses a deprecated field, or a removed Istio kind",
    docs: include_str!("api005.md"),
    check,
    mitigations: &[],
};

/// A deprecated field: where it sits under its parent mapping, and what to say.
struct Deprecated {
    key: &'static str,
    /// What replaces it (or what happens to it).
    instead: &'static str,
}

const HTTP_ROUTE: &[Deprecated] = &[Deprecated {
    key: "mirrorPercent",
    instead: "use `mirrorPercentage: {value: <double>}`",
}];
const DELAY: &[Deprecated] = &[Deprecated {
    key: "percent",
    instead: "use `percentage: {value: <double>}`",
}];
const CORS: &[Deprecated] = &[Deprecated {
    key: "allowOrigin",
    instead: "use `allowOrigins` with string matches (`- exact: https://example.com`)",
}];
const LOAD_BALANCER: &[Deprecated] = &[Deprecated {
    key: "warmupDurationSecs",
    instead: "use `warmup: {duration: …}`",
}];
const CONSISTENT_HASH: &[Deprecated] = &[Deprecated {
    key: "minimumRingSize",
    instead: "use `ringHash: {minimumRingSize: …}`",
}];
const OUTLIER: &[Deprecated] = &[Deprecated {
    key: "consecutiveErrors",
    instead: "use `consecutive5xxErrors` (all 5xx) or `consecutiveGatewayErrors` (502, 503, 504 \
              only, which is what `consecutiveErrors` counted)",
}];
const OUTBOUND_POLICY: &[Deprecated] = &[Deprecated {
    key: "egressProxy",
    instead: "istiod ignores it (route egress traffic through an egress gateway with a \
              VirtualService instead)",
}];

/// Kinds Istio removed: their CRDs are no longer installed.
fn removed_kind(obj: &Object<'_, '_>) -> Option<&'static str> {
    match (obj.group, obj.kind) {
        ("rbac.istio.io", _) => Some(
            "the `rbac.istio.io` API was removed in Istio 1.6; use `security.istio.io` \
             AuthorizationPolicy",
        ),
        ("authentication.istio.io", "Policy" | "MeshPolicy") => Some(
            "authentication `Policy`/`MeshPolicy` were removed in Istio 1.6; use \
             `security.istio.io` PeerAuthentication and RequestAuthentication",
        ),
        ("config.istio.io", _) => Some(
            "Mixer's `config.istio.io` API was removed in Istio 1.8; use Telemetry and \
             Envoy/Wasm extensions",
        ),
        _ => None,
    }
}

fn report(
    em: &mut Emitter<'_>,
    obj: &Object<'_, '_>,
    parent: Node<'_, '_>,
    where_: &str,
    fields: &[Deprecated],
) {
    for d in fields {
        let Some(key) = parent.key(d.key) else {
            continue;
        };
        if parent.get(d.key).is_none() {
            continue; // null: absent
        }
        em.violation(
            obj.loc(key),
            Some(obj.resource()),
            if d.instead.starts_with("istiod ignores") {
                format!(
                    "{} uses the deprecated field `{where_}.{}`: {}, so what it configures \
                     does not happen",
                    obj.display(),
                    d.key,
                    d.instead
                )
            } else {
                format!(
                    "{} uses the deprecated field `{where_}.{}`: {}; deprecated fields are \
                     ignored or rejected by later Istio releases, so the behaviour it \
                     configures can disappear on an upgrade",
                    obj.display(),
                    d.key,
                    d.instead
                )
            },
            format!("replace `{}`: {}", d.key, d.instead),
        );
    }
}

/// A DestinationRule traffic policy, with its port-level settings.
fn traffic_policy(em: &mut Emitter<'_>, obj: &Object<'_, '_>, tp: Node<'_, '_>, where_: &str) {
    let mut policies = vec![(tp, where_.to_string())];
    for (i, p) in tp
        .get("portLevelSettings")
        .into_iter()
        .flat_map(|p| p.items())
        .enumerate()
    {
        policies.push((p, format!("{where_}.portLevelSettings[{i}]")));
    }
    for (p, at) in policies {
        if let Some(lb) = p.get("loadBalancer") {
            let lb_at = format!("{at}.loadBalancer");
            report(em, obj, lb, &lb_at, LOAD_BALANCER);
            if let Some(simple) = lb.get("simple")
                && simple.as_str() == Some("LEAST_CONN")
            {
                em.violation(
                    obj.loc(simple),
                    Some(obj.resource()),
                    format!(
                        "{} uses the deprecated load balancer `LEAST_CONN` at `{lb_at}.simple`: \
                         istiod treats it as `LEAST_REQUEST`, the name it will keep",
                        obj.display()
                    ),
                    "write `simple: LEAST_REQUEST`",
                );
            }
            if let Some(ch) = lb.get("consistentHash") {
                report(
                    em,
                    obj,
                    ch,
                    &format!("{lb_at}.consistentHash"),
                    CONSISTENT_HASH,
                );
            }
        }
        if let Some(od) = p.get("outlierDetection") {
            report(em, obj, od, &format!("{at}.outlierDetection"), OUTLIER);
        }
    }
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    for vs in &ix.virtual_services {
        let obj = &vs.obj;
        let Some(http) = obj.spec().and_then(|s| s.get("http")) else {
            continue;
        };
        for (i, route) in http.items().enumerate() {
            let at = format!("spec.http[{i}]");
            report(em, obj, route, &at, HTTP_ROUTE);
            if let Some(delay) = route.path(&["fault", "delay"]) {
                report(em, obj, delay, &format!("{at}.fault.delay"), DELAY);
            }
            if let Some(cors) = route.get("corsPolicy") {
                report(em, obj, cors, &format!("{at}.corsPolicy"), CORS);
            }
        }
    }
    for dr in &ix.destination_rules {
        let obj = &dr.obj;
        let Some(spec) = obj.spec() else { continue };
        if let Some(tp) = spec.get("trafficPolicy") {
            traffic_policy(em, obj, tp, "spec.trafficPolicy");
        }
        for (i, subset) in spec
            .get("subsets")
            .into_iter()
            .flat_map(|s| s.items())
            .enumerate()
        {
            if let Some(tp) = subset.get("trafficPolicy") {
                traffic_policy(em, obj, tp, &format!("spec.subsets[{i}].trafficPolicy"));
            }
        }
    }
    for &id in ix.of_kind(GROUP, "Sidecar") {
        let obj = &ix.objects[id];
        if let Some(p) = obj.spec().and_then(|s| s.get("outboundTrafficPolicy")) {
            report(em, obj, p, "spec.outboundTrafficPolicy", OUTBOUND_POLICY);
        }
    }
    for obj in &ix.objects {
        if obj.origin().is_some() {
            continue;
        }
        let Some(why) = removed_kind(obj) else {
            continue;
        };
        let at = obj.root.get("apiVersion").unwrap_or(obj.root);
        em.violation(
            obj.loc(at),
            Some(obj.resource()),
            format!(
                "{} uses `{}`, a removed Istio API: {why}; the API server rejects it once the \
                 old CRDs are gone, or keeps it without effect",
                obj.display(),
                obj.api_version
            ),
            "migrate it to the replacement API and delete the old resource",
        );
    }
}
