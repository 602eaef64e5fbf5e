//! IGW001 gateway-selector-matches-no-workload.

use crate::finding::Severity;
use crate::index::Index;
use crate::model::istio::Gateway;
use crate::model::workload::PodTemplate;
use crate::rules::{Emitter, Rule, origin_note};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "IGW001",
    id: "gateway-selector-matches-no-workload",
    family: "istio-gateway",
    severity: Severity::Error,
    summary: "An Istio Gateway's selector matches no gateway workload, so no proxy serves its servers",
    docs: include_str!("igw001.md"),
    check,
    mitigations: &[],
};

/// The label node (`labels.<key>` value) of a template, for related locations.
fn label_node<'d, 's>(tpl: &PodTemplate<'d, 's>, key: &str) -> Option<Node<'d, 's>> {
    tpl.metadata?.get("labels")?.get(key)
}

/// The gateway template that best matches a selector: most selector pairs carried, then in
/// the Gateway's namespace, then input order.
fn closest(
    ix: &Index<'_, '_>,
    gateway_templates: &[usize],
    gw: &Gateway<'_, '_>,
    selector: &[(&str, &str)],
) -> Option<usize> {
    gateway_templates.iter().copied().max_by_key(|&t| {
        let tpl = &ix.templates[t];
        let same = selector
            .iter()
            .filter(|(k, v)| tpl.labels.iter().any(|(lk, lv)| lk == k && lv == v))
            .count();
        let shares_keys = selector
            .iter()
            .filter(|(k, _)| tpl.labels.iter().any(|(lk, _)| lk == k))
            .count();
        (
            same,
            shares_keys,
            tpl.obj.namespace == gw.obj.namespace,
            std::cmp::Reverse(t),
        )
    })
}

/// The `istio` (else `app`) label of the first gateway workloads in the set, for the message.
fn gateway_labels(ix: &Index<'_, '_>, gateway_templates: &[usize]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut more = 0;
    for &t in gateway_templates {
        let tpl = &ix.templates[t];
        let Some((k, v)) = ["istio", "app"]
            .iter()
            .find_map(|key| tpl.labels.iter().find(|(k, _)| k == key))
        else {
            continue;
        };
        if out.len() == 3 {
            more += 1;
            continue;
        }
        out.push(format!("{k}={v} ({})", tpl.obj.display()));
    }
    if more > 0 {
        out.push(format!("{more} more"));
    }
    out
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let workloads = ix.gateway_workloads();
    let gateway_templates: Vec<usize> = (0..ix.templates.len())
        .filter(|&t| ix.is_gateway_template(t))
        .collect();
    let any_gateway_workload = !gateway_templates.is_empty();
    let mut labels: Option<Vec<String>> = None;
    for (g, gw) in ix.gateways.iter().enumerate() {
        let obj = &gw.obj;
        let spec = obj.spec();
        let Some(selector) = &gw.selector else {
            // Absent or empty: the Gateway applies to every gateway proxy of the mesh. A
            // wrong-typed selector is left to schema validation.
            if spec
                .and_then(|s| s.get("selector"))
                .is_some_and(|n| !n.is_map())
            {
                continue;
            }
            let at = spec
                .and_then(|s| s.key("selector"))
                .or_else(|| obj.root.key("spec"))
                .unwrap_or(obj.root);
            em.violation(
                obj.loc(at),
                Some(obj.resource()),
                format!(
                    "{} has no `selector`: istiod programs its servers on every Istio gateway of \
                     the mesh (ingress and egress, in every namespace), exposing its hosts where \
                     nobody meant them to be",
                    obj.display()
                ),
                "set `spec.selector` to the labels of the gateway pods that should serve it, \
                 e.g. `istio: ingressgateway`",
            )
            .severity(Severity::Warning);
            continue;
        };
        if !workloads.of(g).is_empty() {
            continue;
        }
        let sel_node = spec.and_then(|s| s.get("selector"));
        // Point at the first pair no template carries at all, else at the selector.
        let at = sel_node
            .into_iter()
            .flat_map(|s| s.entries())
            .find(|(k, v)| match (k.as_str(), v.as_str()) {
                (Some(k), Some(v)) => ix.select(&[(k, v)], None).is_empty(),
                _ => false,
            })
            .map(|(_, v)| v)
            .or_else(|| spec.and_then(|s| s.key("selector")))
            .unwrap_or(obj.root);
        let wanted = selector
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        // Reference policy: a violation only when a workload's labels are a typo away from
        // the selector (or in a closed world); the gateway may be installed outside the set.
        let incomplete = ix.incomplete(obj.root.file());
        let near = ix.selector_near_miss(selector, 0..ix.templates.len(), &|t| {
            // Weak evidence (the label convention) only names gateway pods of the Gateway's
            // own namespace that no other Gateway relies on.
            ix.templates[t].obj.namespace != obj.namespace
                || ix.template_gateways(t).iter().any(|&other| other != g)
        });
        let near = near.filter(|_| !incomplete);
        if near.is_none() && !ix.absent_is_missing() {
            let why = if any_gateway_workload {
                "no workload in the linted set carries these labels, and none is a typo away"
            } else {
                "no Istio gateway workload (a proxyv2 Deployment, an injected `image: auto` \
                 gateway, an IstioOperator or a gateway Helm release) is in the linted set"
            };
            em.unknown(
                obj.loc(at),
                Some(obj.resource()),
                format!(
                    "{} selects pods labelled {wanted}, and {why}: the gateway may be installed \
                     outside the set (istioctl, asmcli, another repository)",
                    obj.display()
                ),
                "lint the gateway's Deployment, IstioOperator or Helm release together with the \
                 Gateway, or run with --closed-world if everything is in the set",
            );
            continue;
        }
        let labels = labels.get_or_insert_with(|| gateway_labels(ix, &gateway_templates));
        let carried = if labels.is_empty() {
            "no Istio gateway workload is in the linted set (closed world)".to_string()
        } else {
            format!(
                "the gateway workloads in the set are labelled {}",
                labels.join(", ")
            )
        };
        let best = near
            .map(|m| m.template)
            .or_else(|| closest(ix, &gateway_templates, gw, selector));
        let help = match best.map(|t| &ix.templates[t]) {
            Some(tpl) => {
                let suggestion: Vec<String> = selector
                    .iter()
                    .filter_map(|(k, _)| {
                        let (_, v) = tpl.labels.iter().find(|(lk, _)| lk == k)?;
                        Some(format!("{k}: {v}"))
                    })
                    .collect();
                if suggestion.is_empty() {
                    format!(
                        "set `spec.selector` to labels {} carries (its pod template labels)",
                        tpl.obj.display()
                    )
                } else {
                    format!(
                        "did you mean `{}`? That selects {}{}",
                        suggestion.join(", "),
                        tpl.obj.display(),
                        origin_note(&tpl.obj)
                    )
                }
            }
            None => "set `spec.selector` to the labels of the gateway pods, and lint their \
                     Deployment together with the Gateway"
                .to_string(),
        };
        let f = em.violation(
            obj.loc(at),
            Some(obj.resource()),
            format!(
                "{} selects pods labelled {wanted}, but no workload carries these labels \
                 ({carried}): no proxy gets its servers, so traffic reaching the gateway pods \
                 finds no listener or route (connection refused or 404)",
                obj.display()
            ),
            help,
        );
        if let Some(t) = best {
            let tpl = &ix.templates[t];
            let node = selector
                .iter()
                .find_map(|(k, _)| label_node(tpl, k))
                .or_else(|| tpl.metadata.and_then(|m| m.key("labels")))
                .unwrap_or_else(|| tpl.anchor());
            f.related(
                tpl.obj.loc(node),
                format!(
                    "gateway pods of {}{} are labelled here",
                    tpl.obj.display(),
                    origin_note(&tpl.obj)
                ),
            );
        }
    }
}
