//! ALB003 alb-ingress-group-missing.

use std::collections::{BTreeMap, HashMap};

use crate::finding::Severity;
use crate::index::{Index, LbKind, ObjId};
use crate::model::Object;
use crate::model::ingress::CLASS_ANNOTATION;
use crate::rules::{Emitter, Rule};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "ALB003",
    id: "alb-ingress-group-missing",
    family: "alb",
    severity: Severity::Warning,
    summary: "ALB Ingresses without an IngressGroup each get their own ALB",
    docs: include_str!("alb003.md"),
    check,
    mitigations: &[],
};

const GROUP_ANNOTATION: &str = "alb.ingress.kubernetes.io/group.name";
const ALB_CONTROLLER: &str = "ingress.k8s.aws/alb";
/// Related locations listed per finding; the message counts the rest.
const MAX_RELATED: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Group {
    /// In an explicit IngressGroup (annotation or IngressClassParams).
    Named,
    /// Implicit group of its own: its own ALB.
    None,
    /// The class names an IngressClassParams outside the linted set.
    Unknown,
}

/// One ALB Ingress and what it shares with others.
struct AlbIngress<'d, 's> {
    id: ObjId,
    group: Group,
    /// `(lower-cased host, node)` from `rules[].host` and `tls[].hosts[]`.
    hosts: Vec<(String, Node<'d, 's>)>,
    /// `(Service name, node)` of each backend.
    services: Vec<(&'d str, Node<'d, 's>)>,
}

/// The node an ALB003 finding points at: `spec.ingressClassName`, else the class annotation,
/// else `metadata.name` (the Ingress's own ALB comes from its class).
fn anchor<'d, 's>(obj: &Object<'d, 's>) -> Node<'d, 's> {
    obj.spec()
        .and_then(|s| s.get("ingressClassName"))
        .or_else(|| obj.annotation_entry(CLASS_ANNOTATION).map(|(_, v)| v))
        .or_else(|| obj.metadata().and_then(|m| m.get("name")))
        .unwrap_or(obj.root)
}

/// The IngressClass that owns an ALB Ingress: its `ingressClassName`, or the default ALB class
/// for class-less Ingresses. `None` with the `alb` annotation or when the class is not in the set.
fn ingress_class(ix: &Index<'_, '_>, obj: &Object<'_, '_>) -> Option<ObjId> {
    if obj.annotation(CLASS_ANNOTATION).is_some() {
        return None;
    }
    match obj.spec().and_then(|s| s.str_at("ingressClassName")) {
        Some(name) => ix.get("networking.k8s.io", "IngressClass", "", name),
        None => ix
            .of_kind("networking.k8s.io", "IngressClass")
            .iter()
            .copied()
            .find(|&id| {
                let c = &ix.objects[id];
                c.annotation("ingressclass.kubernetes.io/is-default-class") == Some("true")
                    && c.spec().and_then(|s| s.str_at("controller")) == Some(ALB_CONTROLLER)
            }),
    }
}

fn group_of(ix: &Index<'_, '_>, obj: &Object<'_, '_>) -> Group {
    if obj
        .annotation(GROUP_ANNOTATION)
        .is_some_and(|g| !g.trim().is_empty())
    {
        return Group::Named;
    }
    let Some(class) = ingress_class(ix, obj) else {
        return Group::None;
    };
    let Some(params) = ix.objects[class].root.path(&["spec", "parameters"]) else {
        return Group::None;
    };
    if params.str_at("kind") != Some("IngressClassParams") {
        return Group::None;
    }
    let Some(name) = params.str_at("name") else {
        return Group::None;
    };
    match ix.get("elbv2.k8s.aws", "IngressClassParams", "", name) {
        Some(p) => {
            let named = ix.objects[p]
                .root
                .path(&["spec", "group", "name"])
                .and_then(|n| n.as_text())
                .is_some_and(|g| !g.trim().is_empty());
            if named { Group::Named } else { Group::None }
        }
        None if ix.absent_is_missing() => Group::None,
        None => Group::Unknown,
    }
}

fn hosts<'d, 's>(obj: &Object<'d, 's>) -> Vec<(String, Node<'d, 's>)> {
    let Some(spec) = obj.spec() else {
        return Vec::new();
    };
    let mut out: Vec<(String, Node<'d, 's>)> = Vec::new();
    let rule_hosts = spec
        .get("rules")
        .into_iter()
        .flat_map(|r| r.items())
        .filter_map(|r| r.get("host"));
    let tls_hosts = spec
        .get("tls")
        .into_iter()
        .flat_map(|t| t.items())
        .filter_map(|t| t.get("hosts"))
        .flat_map(|h| h.items());
    for n in rule_hosts.chain(tls_hosts) {
        if let Some(h) = n.as_text() {
            let h = h.to_ascii_lowercase();
            if !out.iter().any(|(o, _)| *o == h) {
                out.push((h, n));
            }
        }
    }
    out
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    // ALB Ingresses in input order, with their backends.
    let mut order: Vec<ObjId> = Vec::new();
    let mut by_id: HashMap<ObjId, AlbIngress<'_, '_>> = HashMap::new();
    for b in &ix.lb_backends {
        if b.kind != LbKind::AlbIngress {
            continue;
        }
        let e = by_id.entry(b.lb).or_insert_with(|| {
            order.push(b.lb);
            let obj = ix.objects[b.lb];
            AlbIngress {
                id: b.lb,
                group: group_of(ix, &obj),
                hosts: hosts(&obj),
                services: Vec::new(),
            }
        });
        if !e.services.iter().any(|(s, _)| *s == b.backend.service) {
            e.services.push((b.backend.service, b.backend.service_node));
        }
    }
    let ungrouped: Vec<&AlbIngress<'_, '_>> = order
        .iter()
        .filter_map(|id| by_id.get(id))
        .filter(|a| a.group != Group::Named)
        .collect();
    if ungrouped.len() < 2 {
        return;
    }
    // What the ungrouped Ingresses share: hosts, and (namespace, backend Service).
    let mut by_host: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut by_service: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (i, a) in ungrouped.iter().enumerate() {
        for (h, _) in &a.hosts {
            by_host.entry(h.as_str()).or_default().push(i);
        }
        let ns = ix.objects[a.id].namespace;
        for (s, _) in &a.services {
            by_service.entry((ns, *s)).or_default().push(i);
        }
    }
    let definite = ungrouped.iter().filter(|a| a.group == Group::None).count();

    for (i, a) in ungrouped.iter().enumerate() {
        let obj = &ix.objects[a.id];
        let ns = obj.namespace;
        // Partners: other ungrouped Ingresses sharing a host or a backend Service, with the
        // node of theirs to point at and why.
        let mut partners: Vec<(usize, Node<'_, '_>, String)> = Vec::new();
        for (h, _) in &a.hosts {
            for &j in by_host.get(h.as_str()).map(Vec::as_slice).unwrap_or(&[]) {
                if j == i || partners.iter().any(|(p, _, _)| *p == j) {
                    continue;
                }
                let node = ungrouped[j]
                    .hosts
                    .iter()
                    .find(|(o, _)| o == h)
                    .map(|(_, n)| *n)
                    .unwrap_or_else(|| anchor(&ix.objects[ungrouped[j].id]));
                partners.push((j, node, format!("also serves host `{h}`")));
            }
        }
        for (s, _) in &a.services {
            for &j in by_service.get(&(ns, *s)).map(Vec::as_slice).unwrap_or(&[]) {
                if j == i || partners.iter().any(|(p, _, _)| *p == j) {
                    continue;
                }
                let node = ungrouped[j]
                    .services
                    .iter()
                    .find(|(o, _)| o == s)
                    .map(|(_, n)| *n)
                    .unwrap_or_else(|| anchor(&ix.objects[ungrouped[j].id]));
                partners.push((j, node, format!("also routes to Service `{ns}/{s}`")));
            }
        }
        let at = obj.loc(anchor(obj));
        let help = format!(
            "give the Ingresses that belong together the same \
             `{GROUP_ANNOTATION}` annotation (or set `spec.group.name` in the IngressClassParams \
             of their IngressClass) so they share one ALB"
        );
        // Partners that surely get their own ALB, and those whose group is unknown.
        let (definite_partners, unknown_partners): (Vec<_>, Vec<_>) = partners
            .into_iter()
            .partition(|(j, _, _)| ungrouped[*j].group == Group::None);
        if !definite_partners.is_empty() || !unknown_partners.is_empty() {
            let shown = if definite_partners.is_empty() {
                &unknown_partners
            } else {
                &definite_partners
            };
            let by_host = shown
                .iter()
                .any(|(_, _, why)| why.starts_with("also serves"));
            let names: Vec<String> = shown
                .iter()
                .map(|(j, _, _)| ix.objects[ungrouped[*j].id].display())
                .collect();
            let message = if by_host {
                format!(
                    "{} has no IngressGroup, so the AWS Load Balancer Controller gives it its own \
                     ALB, but it shares a host with {}, which gets a separate ALB: one host name \
                     then points at several load balancers (DNS answers with only one of them)",
                    obj.display(),
                    names.join(", ")
                )
            } else {
                format!(
                    "{} has no IngressGroup, so the AWS Load Balancer Controller gives it its own \
                     ALB, but it routes to the same Service as {}, which gets a separate ALB: \
                     the same backend sits behind several ALBs, each with its own DNS name, \
                     certificates and cost",
                    obj.display(),
                    names.join(", ")
                )
            };
            if a.group == Group::Unknown || definite_partners.is_empty() {
                em.unknown(
                    at,
                    Some(obj.resource()),
                    format!(
                        "{message}; an IngressClassParams that is not in the linted set may put \
                         them in one group (`spec.group.name`)"
                    ),
                    "lint the IngressClassParams together with the Ingresses",
                );
                continue;
            }
            let f = em.violation(at, Some(obj.resource()), message, help);
            for (j, node, why) in definite_partners.iter().take(MAX_RELATED) {
                let other = &ix.objects[ungrouped[*j].id];
                f.related(
                    other.loc(*node),
                    format!("{} {why} and gets its own ALB", other.display()),
                );
            }
        } else if a.group == Group::None {
            let others: Vec<usize> = (0..ungrouped.len())
                .filter(|&j| j != i && ungrouped[j].group == Group::None)
                .collect();
            if others.is_empty() {
                continue;
            }
            let f = em.violation(
                at,
                Some(obj.resource()),
                format!(
                    "{} has no IngressGroup, so it gets its own ALB; {} ALB Ingresses in the set \
                     have none, so {} ALBs will be created, each with its own DNS name, \
                     certificates and hourly cost",
                    obj.display(),
                    definite,
                    definite
                ),
                format!(
                    "if one ALB was intended, {help}; if separate ALBs are deliberate, suppress"
                ),
            );
            f.severity(Severity::Info);
            for &j in others.iter().take(MAX_RELATED) {
                let other = &ix.objects[ungrouped[j].id];
                f.related(
                    other.loc(anchor(other)),
                    format!("{} gets another ALB", other.display()),
                );
            }
        }
    }
}
