//! MC003 mci-redundant-gateway-loadbalancer.

use std::collections::{BTreeMap, HashMap};

use crate::finding::Severity;
use crate::index::{EndpointMode, Index, LbKind, ObjId};
use crate::model::istio::Protocol;
use crate::rules::{Emitter, Rule, origin_note};

pub static RULE: Rule = Rule {
    code: "MC003",
    id: "mci-redundant-gateway-loadbalancer",
    family: "multicluster",
    severity: Severity::Warning,
    summary: "A LoadBalancer Service exposes pods that a MultiClusterIngress or NEG-backed Ingress already fronts",
    docs: include_str!("mc003.md"),
    check,
    mitigations: &[],
};

const INTERNAL_KEYS: &[&str] = &[
    "networking.gke.io/load-balancer-type",
    "cloud.google.com/load-balancer-type",
];

/// A Service whose pods a GKE L7 load balancer reaches directly (pod endpoints).
struct Front {
    /// Index into [`Index::services`] (a MultiClusterService or a NEG-enabled Service).
    svc: usize,
    /// A load balancer in the set that uses it.
    lb: Option<ObjId>,
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    // LoadBalancer Services (not MultiClusterServices) by namespace.
    let mut lb_services: HashMap<&str, Vec<usize>> = HashMap::new();
    for (s, svc) in ix.services.iter().enumerate() {
        if !svc.multi_cluster && svc.effective_type() == "LoadBalancer" {
            lb_services.entry(svc.obj.namespace).or_default().push(s);
        }
    }
    if lb_services.is_empty() {
        return;
    }

    // Fronts: every MultiClusterService (the MCI may live in the config cluster's repo), and
    // every Service a GKE Ingress reaches through NEGs.
    let mut fronts: BTreeMap<usize, Front> = BTreeMap::new();
    for (s, svc) in ix.services.iter().enumerate() {
        if svc.multi_cluster {
            fronts.insert(s, Front { svc: s, lb: None });
        }
    }
    for b in &ix.lb_backends {
        if !b.kind.is_gke() {
            continue;
        }
        let Some(&s) = b.service.found() else {
            continue;
        };
        let pod_endpoints =
            b.kind == LbKind::GkeMci || ix.gke_endpoint_mode(b, s).0 == EndpointMode::Pod;
        if pod_endpoints {
            let f = fronts.entry(s).or_insert(Front { svc: s, lb: None });
            f.lb.get_or_insert(b.lb);
        }
    }

    // Each LoadBalancer Service once, with the fronts that reach the same pods.
    let mut redundant: BTreeMap<usize, Vec<&Front>> = BTreeMap::new();
    for front in fronts.values() {
        let fsvc = &ix.services[front.svc];
        let Some(candidates) = lb_services.get(fsvc.obj.namespace) else {
            continue;
        };
        let front_tpls = ix.service_templates(front.svc);
        for &l in candidates {
            let lsvc = &ix.services[l];
            let same_pods = l == front.svc
                || front_tpls
                    .iter()
                    .any(|t| ix.service_templates(l).contains(t))
                // Pods outside the set: the LB Service selects at least what the front selects.
                || (front_tpls.is_empty()
                    && !lsvc.selector.is_empty()
                    && lsvc.selector.iter().all(|kv| fsvc.selector.contains(kv)));
            if same_pods {
                redundant.entry(l).or_default().push(front);
            }
        }
    }

    for (l, fronts) in redundant {
        let lsvc = &ix.services[l];
        let Some(type_node) = lsvc.type_node() else {
            continue;
        };
        let internal = INTERNAL_KEYS.iter().any(|k| {
            lsvc.obj
                .annotation(k)
                .is_some_and(|v| v.eq_ignore_ascii_case("Internal"))
        });
        // Non-HTTP ports the L7 path does not carry: the L4 load balancer may be deliberate.
        let l4_only: Vec<String> = lsvc
            .ports
            .iter()
            .filter(|p| {
                matches!(
                    Protocol::of_port(p),
                    Protocol::Tcp
                        | Protocol::Udp
                        | Protocol::Tls
                        | Protocol::Mongo
                        | Protocol::Redis
                        | Protocol::Mysql
                ) && !fronts
                    .iter()
                    .any(|f| ix.services[f.svc].ports.iter().any(|fp| fp.port == p.port))
            })
            .map(|p| p.display())
            .collect();
        let front_desc: Vec<String> = fronts
            .iter()
            .map(|f| {
                let fsvc = &ix.services[f.svc];
                if f.svc == l {
                    match f.lb {
                        Some(lb) => {
                            format!("it is the NEG backend of {}", ix.objects[lb].display())
                        }
                        None => "it is a NEG backend".into(),
                    }
                } else {
                    match f.lb {
                        Some(lb) => format!(
                            "{} already reaches the same pods through {}",
                            ix.objects[lb].display(),
                            fsvc.obj.display()
                        ),
                        None => format!(
                            "{} already exposes the same pods to a MultiClusterIngress",
                            fsvc.obj.display()
                        ),
                    }
                }
            })
            .collect();
        let mut message = format!(
            "{}{} is of type LoadBalancer although {}: the L7 load balancer reaches the pods \
             directly, so this second, L4 entry point bypasses it (Cloud Armor, IAP, TLS policy, \
             the health-check model) and costs a forwarding rule per cluster",
            lsvc.obj.display(),
            origin_note(&lsvc.obj),
            front_desc.join("; ")
        );
        let severity = if internal {
            message.push_str(" (internal load balancer: reachable from the VPC only)");
            Some(Severity::Info)
        } else if !l4_only.is_empty() {
            message.push_str(&format!(
                " (ports {} are not HTTP and may need this L4 load balancer)",
                l4_only.join(", ")
            ));
            Some(Severity::Info)
        } else {
            None
        };
        let help = if lsvc.obj.origin().is_some() {
            "set `k8s.service.type: ClusterIP` for this gateway in the IstioOperator (or \
             `service.type` in the gateway chart's values)"
        } else {
            "make the Service `type: ClusterIP`; suppress the finding if the second entry point \
             is deliberate (migration window, non-HTTP ports)"
        };
        let f = em.violation(
            lsvc.obj.loc(type_node),
            Some(lsvc.obj.resource()),
            message,
            help,
        );
        if let Some(s) = severity {
            f.severity(s);
        }
        for front in fronts {
            let fsvc = &ix.services[front.svc];
            if front.svc != l {
                f.related(
                    fsvc.obj.name_loc(),
                    format!("{} selects the same pods", fsvc.obj.display()),
                );
            }
            if let Some(lb) = front.lb {
                let lbo = &ix.objects[lb];
                f.related(
                    lbo.name_loc(),
                    format!("{} fronts them with NEGs", lbo.display()),
                );
            }
        }
    }
}
