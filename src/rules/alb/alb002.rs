//! ALB002 alb-stray-loadbalancer-service.

use crate::finding::Severity;
use crate::index::{Index, LbKind};
use crate::rules::{Emitter, Rule, origin_note};

pub static RULE: Rule = Rule {
    code: "ALB002",
    id: "alb-stray-loadbalancer-service",
    family: "alb",
    severity: Severity::Warning,
    summary: "An ALB backend Service of type LoadBalancer provisions a second load balancer",
    docs: include_str!("alb002.md"),
    check,
    mitigations: &[],
};

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    for b in &ix.lb_backends {
        if b.kind != LbKind::AlbIngress {
            continue;
        }
        let Some(&s) = b.service.found() else {
            continue;
        };
        let svc = &ix.services[s];
        if svc.effective_type() != "LoadBalancer" {
            continue;
        }
        let lb = &ix.objects[b.lb];
        let f = em.violation(
            lb.loc(b.backend.service_node),
            Some(lb.resource()),
            format!(
                "ALB backend {}{} is of type LoadBalancer: it provisions a second load balancer \
                 (an internal NLB with the AWS Load Balancer Controller's webhook, else a Classic \
                 ELB) that costs money and is an entry point bypassing the ALB's rules and WAF",
                svc.obj.display(),
                origin_note(&svc.obj)
            ),
            "make the Service ClusterIP (with `target-type: ip`) or NodePort (with `instance` \
             targets); for the Istio gateway chart set `service.type`",
        );
        let type_loc = svc
            .type_node()
            .map(|n| svc.obj.loc(n))
            .unwrap_or_else(|| svc.obj.name_loc());
        f.related(type_loc, "type LoadBalancer here");
    }
}
