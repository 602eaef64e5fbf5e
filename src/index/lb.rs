//! Load balancers in front of Services: which controller owns an Ingress (R7), which
//! Service port each backend reaches (R4), the protocol the LB speaks to it (R8) and where TLS
//! terminates (R12).

use super::{Index, ObjId, Resolved};
use crate::model::Object;
use crate::model::annotations;
use crate::model::ingress::{self, Backend, CLASS_ANNOTATION};
use crate::yaml::Node;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LbKind {
    /// GKE Ingress (ingress-gce, GCLB).
    GkeIngress,
    /// GKE MultiClusterIngress.
    GkeMci,
    /// AWS Load Balancer Controller Ingress (ALB).
    AlbIngress,
}

impl LbKind {
    pub fn is_gke(self) -> bool {
        matches!(self, LbKind::GkeIngress | LbKind::GkeMci)
    }
}

/// One backend reference of a load balancer, resolved to a Service port.
#[derive(Clone, Debug)]
pub struct LbBackend<'d, 's> {
    pub lb: ObjId,
    pub kind: LbKind,
    pub backend: Backend<'d, 's>,
    /// The Service (MultiClusterService for MCI), as an index into [`Index::services`].
    pub service: Resolved<usize>,
    /// The Service port, as an index into the Service's `ports`.
    pub port: Option<usize>,
}

/// The protocol a load balancer speaks to a backend, and the node that decided it.
#[derive(Clone, Copy, Debug)]
pub struct AppProtocol<'d, 's> {
    /// `HTTP`, `HTTPS` or `HTTP2` (GKE: HTTP/2 over TLS); ALB: `HTTP` or `HTTPS`.
    pub protocol: &'d str,
    /// The annotation value that set it, `None` when defaulted.
    pub source: Option<Node<'d, 's>>,
}

/// Whether and where a load balancer terminates TLS.
#[derive(Clone, Copy, Debug)]
pub struct Termination<'d, 's> {
    /// The field that makes the LB terminate TLS.
    pub evidence: Node<'d, 's>,
    /// The LB is an L7 proxy that sets `X-Forwarded-Proto`.
    pub l7: bool,
}

/// A port of a `type: LoadBalancer` Service whose AWS load balancer terminates TLS (an
/// `aws-load-balancer-ssl-cert`, the port listed in `aws-load-balancer-ssl-ports` or all ports)
/// and forwards plaintext (`aws-load-balancer-backend-protocol` http, tcp or absent) (R12).
#[derive(Clone, Copy, Debug)]
pub struct ServiceLbTls<'d, 's> {
    pub svc: usize,
    /// Index into the Service's `ports`.
    pub port: usize,
    /// The `aws-load-balancer-ssl-cert` annotation key.
    pub cert: Node<'d, 's>,
    /// `http` or `tcp`.
    pub backend: &'static str,
    /// A Classic ELB in HTTP mode sets X-Forwarded-Proto; NLB and TCP/SSL listeners do not.
    pub l7: bool,
}

/// The effective target type of an ALB backend and the node that set it (§3 shared model).
#[derive(Clone, Debug)]
pub enum TargetType<'d, 's> {
    Set(&'d str, Node<'d, 's>),
    /// Not set anywhere: the controller default `instance`.
    Default,
    /// Set by an IngressClassParams that is not in the linted set.
    Unknown(String),
}

const TARGET_TYPE: &str = "alb.ingress.kubernetes.io/target-type";

const GKE_CLASSES: &[&str] = &["gce", "gce-internal", "gce-regional-external"];
const ALB_CONTROLLER: &str = "ingress.k8s.aws/alb";

/// Which controller owns an Ingress (R7).
pub fn owner(ix: &Index<'_, '_>, obj: &Object<'_, '_>, eks_only: bool) -> Option<LbKind> {
    if ingress::is_mci(obj) {
        return Some(LbKind::GkeMci);
    }
    if !ingress::is_ingress(obj) {
        return None;
    }
    if let Some(class) = obj.annotation(CLASS_ANNOTATION) {
        return if GKE_CLASSES.contains(&class) {
            Some(LbKind::GkeIngress)
        } else if class == "alb" {
            Some(LbKind::AlbIngress)
        } else {
            None
        };
    }
    match obj.spec().and_then(|s| s.str_at("ingressClassName")) {
        Some(name) => match ix.get("networking.k8s.io", "IngressClass", "", name) {
            Some(id) => {
                let ctrl = ix.objects[id].spec().and_then(|s| s.str_at("controller"));
                (ctrl == Some(ALB_CONTROLLER)).then_some(LbKind::AlbIngress)
            }
            None => (name == "alb").then_some(LbKind::AlbIngress),
        },
        None => {
            let has_alb_annotations = obj.annotations().is_some_and(|a| {
                a.entries().any(|(k, _)| {
                    k.as_str()
                        .is_some_and(|k| k.starts_with("alb.ingress.kubernetes.io/"))
                })
            });
            if has_alb_annotations || eks_only {
                // A default IngressClass of the ALB controller owns class-less Ingresses.
                default_alb_class(ix).then_some(LbKind::AlbIngress)
            } else {
                Some(LbKind::GkeIngress)
            }
        }
    }
}

fn default_alb_class(ix: &Index<'_, '_>) -> bool {
    ix.of_kind("networking.k8s.io", "IngressClass")
        .iter()
        .any(|&id| {
            let o = &ix.objects[id];
            o.annotation("ingressclass.kubernetes.io/is-default-class") == Some("true")
                && o.spec().and_then(|s| s.str_at("controller")) == Some(ALB_CONTROLLER)
        })
}

/// Provider inference (§11): the set shows AWS signals and no GKE ones.
fn eks_only(ix: &Index<'_, '_>) -> bool {
    let mut gke = false;
    let mut eks = false;
    for o in &ix.objects {
        match o.group {
            "cloud.google.com" | "networking.gke.io" => gke = true,
            "elbv2.k8s.aws" => eks = true,
            _ => {}
        }
        if let Some(a) = o.annotations() {
            for (k, _) in a.entries() {
                let Some(k) = k.as_str() else { continue };
                if k.starts_with("cloud.google.com/") || k.starts_with("networking.gke.io/") {
                    gke = true;
                } else if k.starts_with("alb.ingress.kubernetes.io/")
                    || k.starts_with("service.beta.kubernetes.io/aws-")
                {
                    eks = true;
                }
            }
        }
    }
    eks && !gke
}

pub(super) fn collect<'d, 's>(ix: &Index<'d, 's>) -> Vec<LbBackend<'d, 's>> {
    let eks_only = eks_only(ix);
    let mut out = Vec::new();
    let candidates = [
        ("networking.k8s.io", "Ingress"),
        ("extensions", "Ingress"),
        ("networking.gke.io", "MultiClusterIngress"),
    ];
    let mut ids: Vec<ObjId> = candidates
        .iter()
        .flat_map(|(g, k)| ix.of_kind(g, k).iter().copied())
        .collect();
    ids.sort_unstable();
    for id in ids {
        let obj = ix.objects[id];
        let Some(kind) = owner(ix, &obj, eks_only) else {
            continue;
        };
        let (svc_group, svc_kind) = if kind == LbKind::GkeMci {
            ("networking.gke.io", "MultiClusterService")
        } else {
            ("", "Service")
        };
        for backend in ingress::backends(ingress::ingress_spec(&obj)) {
            let service = match ix.resolve(svc_group, svc_kind, obj.namespace, backend.service) {
                Resolved::Found(o) => match ix.service_of(o) {
                    Some(s) => Resolved::Found(s),
                    None => Resolved::Unknown,
                },
                Resolved::Missing { hint } => Resolved::Missing { hint },
                Resolved::Unknown => Resolved::Unknown,
                Resolved::External => Resolved::External,
            };
            let port = match (&service, backend.port) {
                (Resolved::Found(s), Some(r)) => {
                    let svc = &ix.services[*s];
                    svc.ports.iter().position(|p| match r {
                        crate::model::IntOrName::Name(n) => p.name == Some(n),
                        crate::model::IntOrName::Int(i) => p.port == Some(i),
                    })
                }
                _ => None,
            };
            out.push(LbBackend {
                lb: id,
                kind,
                backend,
                service,
                port,
            });
        }
    }
    out
}

impl<'d, 's> Index<'d, 's> {
    /// The Service and port a backend reached, when both resolved.
    pub fn backend_target(
        &self,
        b: &LbBackend<'d, 's>,
    ) -> Option<(usize, &crate::model::service::ServicePort<'d, 's>)> {
        let s = *b.service.found()?;
        let p = self.services[s].ports.get(b.port?)?;
        Some((s, p))
    }

    /// R8: the protocol the load balancer speaks to the backend's Service port.
    pub fn app_protocol(&self, b: &LbBackend<'d, 's>) -> Option<AppProtocol<'d, 's>> {
        let (s, port) = self.backend_target(b)?;
        let svc = &self.services[s];
        if b.kind.is_gke() {
            let keys = annotations::app_protocol_keys(svc.multi_cluster);
            let found = annotations::app_protocols(&svc.obj, keys);
            // R6: an annotation that is not a JSON object leaves the protocol undecided (its
            // own rule reports it); it must not fall back to HTTP and cascade.
            if let Some((a, _)) = &found
                && !matches!(a.parsed, Ok(serde_json::Value::Object(_)))
            {
                return None;
            }
            if let Some((a, map)) = found
                && let Some(name) = port.name
                && let Some((_, proto)) = map.iter().find(|(k, _)| k == name)
            {
                let protocol = match proto.as_str() {
                    "HTTPS" => "HTTPS",
                    "HTTP2" => "HTTP2",
                    _ => "HTTP",
                };
                return Some(AppProtocol {
                    protocol,
                    source: Some(a.value_node),
                });
            }
            return Some(AppProtocol {
                protocol: "HTTP",
                source: None,
            });
        }
        // ALB: the Service annotation wins over the Ingress annotation.
        let lb = &self.objects[b.lb];
        let key = "alb.ingress.kubernetes.io/backend-protocol";
        let entry = svc
            .obj
            .annotation_entry(key)
            .or_else(|| lb.annotation_entry(key));
        match entry {
            Some((_, v)) => Some(AppProtocol {
                protocol: if v.as_str().is_some_and(|p| p.eq_ignore_ascii_case("HTTPS")) {
                    "HTTPS"
                } else {
                    "HTTP"
                },
                source: Some(v),
            }),
            None => Some(AppProtocol {
                protocol: "HTTP",
                source: None,
            }),
        }
    }

    /// ALB target type: `IngressClassParams.spec.targetType`, else the `target-type` annotation
    /// (the Service's, then the Ingress's), else the controller default `instance`.
    pub fn alb_target_type(&self, b: &LbBackend<'d, 's>) -> TargetType<'d, 's> {
        let lb = &self.objects[b.lb];
        if let Some(class) = lb.spec().and_then(|s| s.str_at("ingressClassName"))
            && let Some(c) = self.get("networking.k8s.io", "IngressClass", "", class)
            && let Some(params) = self.objects[c].root.path(&["spec", "parameters"])
            && params.str_at("kind") == Some("IngressClassParams")
            && let Some(name) = params.str_at("name")
        {
            match self.get("elbv2.k8s.aws", "IngressClassParams", "", name) {
                Some(p) => {
                    if let Some(n) = self.objects[p].root.path(&["spec", "targetType"])
                        && let Some(v) = n.as_text()
                    {
                        return TargetType::Set(v, n);
                    }
                }
                // In a closed world a missing IngressClassParams sets nothing.
                None if !self.absent_is_missing() => {
                    return TargetType::Unknown(name.to_string());
                }
                None => {}
            }
        }
        let svc = b.service.found().map(|&s| &self.services[s].obj);
        let entry = svc
            .and_then(|o| o.annotation_entry(TARGET_TYPE))
            .or_else(|| lb.annotation_entry(TARGET_TYPE));
        match entry.and_then(|(_, v)| Some((v.as_text()?, v))) {
            Some((t, v)) => TargetType::Set(t, v),
            None => TargetType::Default,
        }
    }

    /// R12 for Services: the ports whose AWS load balancer terminates TLS and forwards
    /// plaintext, in Service order.
    pub fn aws_tls_service_ports(&self) -> Vec<ServiceLbTls<'d, 's>> {
        let mut out = Vec::new();
        for (s, svc) in self.services.iter().enumerate() {
            if svc.effective_type() != "LoadBalancer" {
                continue;
            }
            let Some((cert, _)) = svc
                .obj
                .annotation_entry("service.beta.kubernetes.io/aws-load-balancer-ssl-cert")
            else {
                continue;
            };
            let backend = match svc
                .obj
                .annotation("service.beta.kubernetes.io/aws-load-balancer-backend-protocol")
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                None | Some("tcp") => "tcp",
                Some("http") => "http",
                Some(_) => continue,
            };
            let ssl_ports: Option<Vec<&str>> = svc
                .obj
                .annotation("service.beta.kubernetes.io/aws-load-balancer-ssl-ports")
                .map(|p| p.split(',').map(str::trim).collect());
            for (p, port) in svc.ports.iter().enumerate() {
                let listed = ssl_ports.as_ref().is_none_or(|list| {
                    list.iter().any(|x| {
                        *x == "*"
                            || Some(*x) == port.name
                            || port.port.is_some_and(|n| x.parse() == Ok(n))
                    })
                });
                if listed {
                    out.push(ServiceLbTls {
                        svc: s,
                        port: p,
                        cert,
                        backend,
                        l7: backend == "http",
                    });
                }
            }
        }
        out
    }

    /// R12: whether the load balancer `lb` terminates TLS.
    pub fn termination(&self, lb: ObjId, kind: LbKind) -> Option<Termination<'d, 's>> {
        let obj = &self.objects[lb];
        let key_of = |k: &str| obj.annotation_entry(k).map(|(key, _)| key);
        let evidence = match kind {
            LbKind::GkeIngress => obj
                .spec()
                .and_then(|s| s.key("tls"))
                .filter(|_| obj.spec().and_then(|s| s.get("tls")).is_some())
                .or_else(|| key_of("ingress.gcp.kubernetes.io/pre-shared-cert"))
                .or_else(|| key_of("networking.gke.io/managed-certificates")),
            LbKind::GkeMci => obj
                .root
                .path(&["spec", "template", "spec"])
                .and_then(|s| s.key("tls"))
                .or_else(|| key_of("networking.gke.io/pre-shared-certs")),
            LbKind::AlbIngress => {
                let https_listener = annotations::alb_listen_ports(obj)
                    .is_some_and(|l| l.iter().any(|(p, _)| p == "HTTPS"));
                if https_listener {
                    key_of("alb.ingress.kubernetes.io/listen-ports")
                } else {
                    key_of("alb.ingress.kubernetes.io/certificate-arn")
                }
            }
        }?;
        Some(Termination { evidence, l7: true })
    }
}
