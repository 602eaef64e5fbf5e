//! ALB001 alb-target-type-service-type-mismatch.

use crate::finding::Severity;
use crate::index::{Index, LbBackend, LbKind};
use crate::rules::{Emitter, Rule};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "ALB001",
    id: "alb-target-type-service-type-mismatch",
    family: "alb",
    severity: Severity::Error,
    summary: "ALB instance targets need a NodePort or LoadBalancer Service",
    docs: include_str!("alb001.md"),
    check,
};

/// The effective target type of an ALB backend and the node that set it.
pub enum TargetType<'d, 's> {
    Set(&'d str, Node<'d, 's>),
    /// Not set anywhere: the controller default `instance`.
    Default,
    /// Set by an IngressClassParams that is not in the linted set.
    Unknown(String),
}

const ANNOTATION: &str = "alb.ingress.kubernetes.io/target-type";

pub fn target_type<'d, 's>(ix: &Index<'d, 's>, b: &LbBackend<'d, 's>) -> TargetType<'d, 's> {
    let lb = &ix.objects[b.lb];
    // IngressClassParams.spec.targetType wins.
    if let Some(class) = lb.spec().and_then(|s| s.str_at("ingressClassName"))
        && let Some(c) = ix.get("networking.k8s.io", "IngressClass", "", class)
        && let Some(params) = ix.objects[c].root.path(&["spec", "parameters"])
        && params.str_at("kind") == Some("IngressClassParams")
        && let Some(name) = params.str_at("name")
    {
        match ix.get("elbv2.k8s.aws", "IngressClassParams", "", name) {
            Some(p) => {
                if let Some(n) = ix.objects[p].root.path(&["spec", "targetType"])
                    && let Some(v) = n.as_text()
                {
                    return TargetType::Set(v, n);
                }
            }
            // In a closed world a missing IngressClassParams sets nothing.
            None if !ix.options.closed_world => return TargetType::Unknown(name.to_string()),
            None => {}
        }
    }
    let svc = b.service.found().map(|&s| &ix.services[s].obj);
    let entry = svc
        .and_then(|o| o.annotation_entry(ANNOTATION))
        .or_else(|| lb.annotation_entry(ANNOTATION));
    match entry.and_then(|(_, v)| Some((v.as_text()?, v))) {
        Some((t, v)) => TargetType::Set(t, v),
        None => TargetType::Default,
    }
}

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
        match target_type(ix, b) {
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
                        "no `{ANNOTATION}` is set, so the ALB uses the default `instance` targets \
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
