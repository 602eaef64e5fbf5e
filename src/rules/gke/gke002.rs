//! GKE002 gke-neg-readiness-gate-missing.

use std::collections::{BTreeMap, BTreeSet};

use crate::finding::Severity;
use crate::index::{Index, LbKind};
use crate::model::annotations;
use crate::rules::{Emitter, Rule, origin_note};

pub static RULE: Rule = Rule {
    code: "GKE002",
    id: "gke-neg-readiness-gate-missing",
    family: "gke",
    severity: Severity::Info,
    summary: "Pods behind a container-native (NEG) GKE load balancer declare no NEG readiness gate",
    docs: include_str!("gke002.md"),
    check,
    mitigations: &[],
};

const CONDITION: &str = "cloud.google.com/load-balancer-neg-ready";

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    // Services whose pods are NEG endpoints of a GKE load balancer, and one LB using each.
    let mut services: BTreeMap<usize, usize> = BTreeMap::new();
    for b in &ix.lb_backends {
        let Some(&s) = b.service.found() else {
            continue;
        };
        let neg = match b.kind {
            LbKind::GkeIngress => annotations::neg_ingress(&ix.services[s].obj) == Some(true),
            LbKind::GkeMci => true,
            LbKind::AlbIngress => false,
        };
        if neg {
            services.entry(s).or_insert(b.lb);
        }
    }
    let mut seen = BTreeSet::new();
    for (s, lb) in services {
        let svc = &ix.services[s];
        for &t in ix.service_templates(s) {
            if !seen.insert(t) {
                continue;
            }
            let tpl = &ix.templates[t];
            let has_gate = tpl
                .spec
                .and_then(|sp| sp.get("readinessGates"))
                .into_iter()
                .flat_map(|g| g.items())
                .any(|g| g.str_at("conditionType") == Some(CONDITION));
            if has_gate {
                continue;
            }
            let f = em.violation(
                tpl.obj.loc(tpl.anchor()),
                Some(tpl.obj.resource()),
                format!(
                    "{}{} is a NEG endpoint of {} (via {}) but declares no `{CONDITION}` readiness \
                     gate. GKE injects it only into pods created after the Ingress and its NEG \
                     exist; pods created earlier, or by an operator, run without it, so a rollout \
                     can mark new pods Ready before the load balancer does (502s during deploys)",
                    tpl.obj.display(),
                    origin_note(&tpl.obj),
                    ix.objects[lb].display(),
                    svc.obj.display(),
                ),
                format!(
                    "add `readinessGates: [{{conditionType: {CONDITION}}}]` to the pod template \
                     (for an IstioOperator gateway: a `k8s.overlays` patch on \
                     `spec.template.spec.readinessGates`)"
                ),
            );
            f.related(
                svc.obj.name_loc(),
                "NEG-enabled Service selecting these pods",
            );
        }
    }
}
