//! ALB001 alb-target-type-service-type-mismatch.

use crate::finding::Severity;
use crate::index::{Index, LbKind, TargetType};
use crate::rules::{Emitter, Rule};

pub static RULE: Rule = Rule {
    code: "ALB001",
    id: "alb-target-type-service-type-mismatch",
    family: "alb",
    severity: Severity::Error,
    summary: "ALB instance targets need a NodePort or LoadBalancer Service",
    docs: include_str!("alb001.md"),
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
        let ty = svc.effective_type();
        if matches!(ty, "NodePort" | "LoadBalancer") {
            continue;
        }
        let lb = &ix.objects[b.lb];
        let svc_desc = format!(
            "{}{} is of type {ty}",
            svc.obj.display(),
            crate::rules::origin_note(&svc.obj)
        );
        let type_loc = svc
            .type_node()
            .map(|n| svc.obj.loc(n))
            .unwrap_or_else(|| svc.obj.name_loc());
        match ix.alb_target_type(b) {
            TargetType::Set(t, node) if t.eq_ignore_ascii_case("instance") => {
                let f = em.violation(
                    lb.loc(node),
                    Some(lb.resource()),
                    format!(
                        "ALB target type `instance` registers node:nodePort targets, but {svc_desc} \
                         and has no nodePort: the controller fails to build the target group and \
                         creates no ALB rules"
                    ),
                    "use `alb.ingress.kubernetes.io/target-type: ip` (ClusterIP is the recommended \
                     pairing), or make the Service a NodePort",
                );
                f.related(type_loc, "Service type here");
                if node.file() != b.backend.service_node.file()
                    || node.span() != b.backend.service_node.span()
                {
                    f.related(
                        lb.loc(b.backend.service_node),
                        "backend Service referenced here",
                    );
                }
            }
            TargetType::Set(..) => {}
            TargetType::Default => {
                let f = em.violation(
                    lb.loc(b.backend.service_node),
                    Some(lb.resource()),
                    format!(
                        "no `alb.ingress.kubernetes.io/target-type` is set, so the ALB uses the default `instance` targets \
                         (node:nodePort), but {svc_desc} and has no nodePort: the controller fails \
                         to build the target group and creates no ALB rules"
                    ),
                    "set `alb.ingress.kubernetes.io/target-type: ip` on the Ingress (ClusterIP is \
                     the recommended pairing), or make the Service a NodePort",
                );
                f.related(type_loc, "Service type here");
            }
            TargetType::Unknown(params) => {
                em.unknown(
                    lb.loc(b.backend.service_node),
                    Some(lb.resource()),
                    format!(
                        "{svc_desc}; the target type comes from IngressClassParams `{params}`, \
                         which is not in the linted set: `instance` targets would fail"
                    ),
                    "lint the IngressClassParams together with this Ingress",
                );
            }
        }
    }
}
