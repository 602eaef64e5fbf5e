//! The cross-resource index, built once per run. Rules look things up here; none scans all
//! objects for each object.
//!
//! It also holds the reference policy of catalog §0.4 ([`policy`]): a reference whose target
//! is missing is a violation only on a near miss (a typo) or with `--closed-world`.

mod gateways;
mod healthcheck;
pub mod hosts;
mod lb;
mod mesh;
pub mod policy;
pub mod route_matches;
mod routes;
mod routing;
pub mod vsroutes;
mod workloads;
pub mod worlds;

pub use gateways::{GatewayWorkloads, WorkloadKey, selector_key};
pub use healthcheck::{
    BcBinding, EndpointMode, HcPort, HcSource, HealthCheck, ProbeCandidate, ProbeInference,
    ProbeMismatch, Setting,
};
pub use lb::{LbBackend, LbKind, ServiceLbTls, TargetType, Termination};
pub use mesh::MeshConfig;
pub use policy::{SelectorMiss, typo_distance};
pub use routes::{RouteDest, RouteKind, Routes, server_accepts};
pub use routing::{GatewayBindings, catch_all_http_route, gateway_ref};
pub use workloads::{Membership, Meshed, Revisions, is_system_namespace};

use std::collections::{HashMap, HashSet};

use crate::model::IntOrName;
use crate::model::istio::{DestinationRule, Gateway, ServiceEntry, VirtualService};
use crate::model::service::{Service, ServicePort};
use crate::model::workload::PodTemplate;
use crate::model::{Object, is_cluster_scoped};

pub type ObjId = usize;

/// Run-wide settings the index needs.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--closed-world`: every reference must resolve inside the linted set.
    pub closed_world: bool,
    /// Objects declared to exist outside the linted set (`external:` in the config file), as
    /// `(kind, namespace, name)`; the namespace is empty for cluster-scoped kinds.
    pub external: Vec<(String, String, String)>,
    /// `--istio-version` as `(major, minor)`, when given.
    pub istio_version: Option<(u32, u32)>,
    /// Files with a document that could not be parsed (YAML001, YAML003), sorted: what they
    /// would have defined is unknown, so a near miss seen from them decides nothing.
    pub broken_files: Vec<crate::source::FileId>,
    /// File paths as shown, by file id (empty when not known): near misses from another
    /// namespace are only taken from files near the reference.
    pub paths: std::sync::Arc<Vec<String>>,
}

/// How a name reference resolved (catalog §0.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved<T> {
    Found(T),
    /// Declared to exist outside the linted set (config `external:`): the reference holds, but
    /// its content cannot be inspected.
    External,
    /// Missing, and the set holds a near miss (`hint`), or `--closed-world` (see
    /// [`policy`]): a violation.
    Missing {
        hint: Option<String>,
    },
    /// Missing, and nothing suggests it should be in the set: undecided.
    Unknown,
}

impl<T> Resolved<T> {
    pub fn found(&self) -> Option<&T> {
        match self {
            Resolved::Found(t) => Some(t),
            _ => None,
        }
    }
}

type Key<'d> = (&'d str, &'d str, &'d str, &'d str);

/// A container port of a pod template: `(name, containerPort)`.
pub type TemplatePort<'d> = (Option<&'d str>, Option<i64>);

pub struct Index<'d, 's> {
    pub options: Options,
    pub objects: Vec<Object<'d, 's>>,
    by_key: HashMap<Key<'d>, ObjId>,
    kind_ns: HashSet<(&'d str, &'d str, &'d str)>,
    by_kind: HashMap<(&'d str, &'d str), Vec<ObjId>>,

    pub services: Vec<Service<'d, 's>>,
    service_by_obj: HashMap<ObjId, usize>,
    /// Templates each Service selects (R3).
    service_templates: Vec<Vec<usize>>,
    /// Services selecting each template.
    template_services: Vec<Vec<usize>>,

    pub templates: Vec<PodTemplate<'d, 's>>,
    tpl_by_label: HashMap<(&'d str, &'d str), Vec<usize>>,
    /// Templates that are Istio gateways (R13).
    gateway_like: Vec<bool>,

    pub gateways: Vec<Gateway<'d, 's>>,
    /// Gateways selecting each template.
    template_gateways: Vec<Vec<usize>>,

    pub virtual_services: Vec<VirtualService<'d, 's>>,
    pub destination_rules: Vec<DestinationRule<'d, 's>>,
    pub service_entries: Vec<ServiceEntry<'d, 's>>,
    /// Kubernetes Services (not MultiClusterServices) by FQDN `name.ns.svc.cluster.local`.
    service_by_fqdn: HashMap<String, usize>,
    /// DestinationRules by the FQDN of their host.
    dr_by_host: HashMap<String, Vec<usize>>,

    /// Every load-balancer → Service backend (Ingress, MultiClusterIngress).
    pub lb_backends: Vec<LbBackend<'d, 's>>,
    pub mesh: MeshConfig,
    /// Derived tables several rules share, built on first use (rules run in parallel; one
    /// copy, not one per rule).
    host_table: std::sync::OnceLock<hosts::HostTable<'d>>,
    mesh_namespaces: std::sync::OnceLock<Option<HashSet<&'d str>>>,
    template_ports: std::sync::OnceLock<Vec<Vec<TemplatePort<'d>>>>,
    routes: std::sync::OnceLock<routes::Routes<'d, 's>>,
}

impl<'d, 's> Index<'d, 's> {
    pub fn build(objects: Vec<Object<'d, 's>>, options: Options) -> Index<'d, 's> {
        let mut ix = Index {
            options,
            by_key: HashMap::with_capacity(objects.len()),
            kind_ns: HashSet::new(),
            by_kind: HashMap::new(),
            services: Vec::new(),
            service_by_obj: HashMap::new(),
            service_templates: Vec::new(),
            template_services: Vec::new(),
            templates: Vec::new(),
            tpl_by_label: HashMap::new(),
            gateway_like: Vec::new(),
            gateways: Vec::new(),
            template_gateways: Vec::new(),
            virtual_services: Vec::new(),
            destination_rules: Vec::new(),
            service_entries: Vec::new(),
            service_by_fqdn: HashMap::new(),
            dr_by_host: HashMap::new(),
            lb_backends: Vec::new(),
            mesh: MeshConfig::default(),
            host_table: std::sync::OnceLock::new(),
            mesh_namespaces: std::sync::OnceLock::new(),
            template_ports: std::sync::OnceLock::new(),
            routes: std::sync::OnceLock::new(),
            objects,
        };
        for (id, o) in ix.objects.iter().enumerate() {
            ix.by_key
                .entry((o.group, o.kind, o.namespace, o.name))
                .or_insert(id);
            ix.kind_ns.insert((o.group, o.kind, o.namespace));
            ix.by_kind.entry((o.group, o.kind)).or_default().push(id);
            if let Some(s) = Service::from_object(*o) {
                ix.service_by_obj.insert(id, ix.services.len());
                ix.services.push(s);
            }
            if let Some(t) = PodTemplate::from_object(*o) {
                ix.templates.push(t);
            }
            if let Some(g) = Gateway::from_object(*o) {
                ix.gateways.push(g);
            }
            if let Some(v) = VirtualService::from_object(*o) {
                ix.virtual_services.push(v);
            }
            if let Some(d) = DestinationRule::from_object(*o) {
                ix.destination_rules.push(d);
            }
            if let Some(e) = ServiceEntry::from_object(*o) {
                ix.service_entries.push(e);
            }
        }
        for (i, svc) in ix.services.iter().enumerate() {
            if !svc.multi_cluster {
                ix.service_by_fqdn
                    .entry(format!(
                        "{}.{}.svc.cluster.local",
                        svc.obj.name, svc.obj.namespace
                    ))
                    .or_insert(i);
            }
        }
        for (i, dr) in ix.destination_rules.iter().enumerate() {
            if let Some((host, _)) = dr.host {
                ix.dr_by_host
                    .entry(fqdn(host, dr.obj.namespace))
                    .or_default()
                    .push(i);
            }
        }
        for (i, t) in ix.templates.iter().enumerate() {
            for &(k, v) in &t.labels {
                ix.tpl_by_label.entry((k, v)).or_default().push(i);
            }
        }
        ix.service_templates = (0..ix.services.len())
            .map(|s| {
                let svc = &ix.services[s];
                ix.select(&svc.selector, Some(svc.obj.namespace))
            })
            .collect();
        ix.template_services = vec![Vec::new(); ix.templates.len()];
        for (s, ts) in ix.service_templates.iter().enumerate() {
            for &t in ts {
                ix.template_services[t].push(s);
            }
        }
        ix.gateway_like = ix.templates.iter().map(looks_like_gateway).collect();
        ix.template_gateways = vec![Vec::new(); ix.templates.len()];
        for (g, gw) in ix.gateways.iter().enumerate() {
            let selected = match &gw.selector {
                Some(sel) => ix.select(sel, None),
                // An absent selector selects every proxy; only gateway workloads matter here.
                None => (0..ix.templates.len())
                    .filter(|&t| ix.gateway_like[t])
                    .collect(),
            };
            for t in selected {
                ix.template_gateways[t].push(g);
            }
        }
        for t in 0..ix.templates.len() {
            if !ix.template_gateways[t].is_empty() {
                ix.gateway_like[t] = true;
            }
        }
        ix.mesh = mesh::MeshConfig::from_index(&ix);
        ix.lb_backends = lb::collect(&ix);
        ix
    }

    /// Templates whose labels contain every pair of `selector`, in `namespace` if given.
    /// An empty selector selects nothing (R3).
    pub fn select(&self, selector: &[(&str, &str)], namespace: Option<&str>) -> Vec<usize> {
        let Some(smallest) = selector
            .iter()
            .map(|&(k, v)| {
                self.tpl_by_label
                    .get(&(k, v))
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
            })
            .min_by_key(|c| c.len())
        else {
            return Vec::new();
        };
        smallest
            .iter()
            .copied()
            .filter(|&t| {
                let tpl = &self.templates[t];
                namespace.is_none_or(|ns| tpl.obj.namespace == ns) && tpl.matches(selector)
            })
            .collect()
    }

    /// The object `group/kind` named `name` in `namespace` (`""` for cluster-scoped kinds).
    pub fn get(&self, group: &str, kind: &str, namespace: &str, name: &str) -> Option<ObjId> {
        let ns = if is_cluster_scoped(kind) {
            ""
        } else {
            namespace
        };
        self.by_key.get(&(group, kind, ns, name)).copied()
    }

    /// All objects of a kind, in input order.
    pub fn of_kind<'a>(&'a self, group: &'a str, kind: &'a str) -> &'a [ObjId] {
        self.by_kind
            .get(&(group, kind))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// True if the set holds at least one `group/kind` in `namespace`.
    pub fn has_kind_in(&self, group: &str, kind: &str, namespace: &str) -> bool {
        self.kind_ns.contains(&(group, kind, namespace))
    }

    /// True if `kind namespace/name` is declared to exist outside the set (config `external:`).
    pub fn is_external(&self, kind: &str, namespace: &str, name: &str) -> bool {
        let ns = if is_cluster_scoped(kind) {
            ""
        } else {
            namespace
        };
        self.options
            .external
            .iter()
            .any(|(k, n, m)| k == kind && n == ns && m == name)
    }

    /// The Service (or MultiClusterService) stored for object `id`.
    pub fn service_of(&self, id: ObjId) -> Option<usize> {
        self.service_by_obj.get(&id).copied()
    }

    /// Templates selected by a Service (R3).
    pub fn service_templates(&self, svc: usize) -> &[usize] {
        &self.service_templates[svc]
    }

    /// Services selecting template `t`.
    pub fn template_services(&self, t: usize) -> &[usize] {
        &self.template_services[t]
    }

    pub fn is_gateway_template(&self, t: usize) -> bool {
        self.gateway_like[t]
    }

    /// Which Service or ServiceEntry provides each host ([`hosts::HostTable`]), built once.
    pub fn host_table(&self) -> &hosts::HostTable<'d> {
        self.host_table
            .get_or_init(|| hosts::HostTable::build(self))
    }

    /// VirtualService route destinations resolved to Service ports ([`Routes`]), built once.
    pub fn routes(&self) -> &routes::Routes<'d, 's> {
        self.routes.get_or_init(|| routes::Routes::build(self))
    }

    /// R14: resolves an Istio `host` written in namespace `ns`.
    pub fn resolve_host(&self, host: &str, ns: &str) -> Host {
        match self.service_by_fqdn.get(&fqdn(host, ns)) {
            Some(&s) => Host::Service(s),
            None => Host::External,
        }
    }

    /// DestinationRules whose host is `fqdn` (see [`fqdn`]).
    pub fn destination_rules_for(&self, fqdn: &str) -> &[usize] {
        self.dr_by_host.get(fqdn).map(Vec::as_slice).unwrap_or(&[])
    }

    /// R5: the container port a Service port reaches in each selected template. An integer
    /// targetPort is that number (even if no container declares it); a name is the first
    /// container port with that name, `None` where a template has none.
    pub fn target_ports(
        &self,
        svc: usize,
        port: &ServicePort<'_, '_>,
    ) -> Vec<(usize, Option<i64>)> {
        let Some(target) = port.target else {
            return Vec::new();
        };
        self.service_templates(svc)
            .iter()
            .map(|&t| {
                let n = match target {
                    IntOrName::Int(i) => Some(i),
                    IntOrName::Name(name) => self.template_port_named(t, name),
                };
                (t, n)
            })
            .collect()
    }

    /// The container ports of template `t` as `(name, containerPort)`, in container order;
    /// read once for all rules (Services that select many templates ask per pair).
    pub fn template_ports(&self, t: usize) -> &[TemplatePort<'d>] {
        self.template_ports
            .get_or_init(|| {
                self.templates
                    .iter()
                    .map(|tpl| {
                        tpl.containers()
                            .flat_map(|c| c.ports().map(|(n, p, _)| (n, p)).collect::<Vec<_>>())
                            .collect()
                    })
                    .collect()
            })
            .get(t)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The number of the first container port of template `t` named `name` (R5).
    pub fn template_port_named(&self, t: usize, name: &str) -> Option<i64> {
        self.template_ports(t)
            .iter()
            .find(|(n, _)| *n == Some(name))
            .and_then(|(_, p)| *p)
    }

    /// Gateways whose selector matches template `t`.
    pub fn template_gateways(&self, t: usize) -> &[usize] {
        &self.template_gateways[t]
    }

    /// The Gateway servers that receive traffic sent to Service port `port` of Service `svc`
    /// (R9): servers with `port.number == port.port` of Gateways selecting the Service's pods.
    /// `None` when the Service's pods are not in the set, or are not an Istio gateway.
    pub fn receiving_servers(
        &self,
        svc: usize,
        port: &ServicePort<'_, '_>,
    ) -> Option<Vec<(usize, usize)>> {
        let templates = self.service_templates(svc);
        let gateway_templates: Vec<usize> = templates
            .iter()
            .copied()
            .filter(|&t| self.gateway_like[t])
            .collect();
        if gateway_templates.is_empty() {
            return None;
        }
        let mut out = Vec::new();
        let number = port.port?;
        for t in gateway_templates {
            for &g in &self.template_gateways[t] {
                for (s, server) in self.gateways[g].servers.iter().enumerate() {
                    if server.number == Some(number) && !out.contains(&(g, s)) {
                        out.push((g, s));
                    }
                }
            }
        }
        out.sort_unstable();
        Some(out)
    }
}

/// R14: the FQDN of an Istio host written in namespace `ns`: `reviews` ⇒
/// `reviews.ns.svc.cluster.local`, `reviews.other` ⇒ `reviews.other.svc.cluster.local`,
/// `reviews.other.svc` ⇒ `….svc.cluster.local`; anything else (FQDNs, wildcards) as is.
pub fn fqdn(host: &str, ns: &str) -> String {
    if host.contains('*') {
        return host.to_string();
    }
    match host.split('.').count() {
        1 => format!("{host}.{ns}.svc.cluster.local"),
        2 => format!("{host}.svc.cluster.local"),
        3 if host.ends_with(".svc") => format!("{host}.cluster.local"),
        _ => host.to_string(),
    }
}

/// How an Istio host resolved (R14).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    /// A Kubernetes Service in the set (index into [`Index::services`]).
    Service(usize),
    /// No Service in the set: external, a ServiceEntry, or outside the linted set.
    External,
}

/// R13 without the Gateway part: a proxy image, an injected gateway, or a synthesised one.
fn looks_like_gateway(t: &PodTemplate<'_, '_>) -> bool {
    if t.obj.origin().is_some() {
        return true;
    }
    let injected_gateway = t.annotation("inject.istio.io/templates") == Some("gateway");
    t.containers().any(|c| match c.image {
        Some(img) => {
            let base = img.rsplit('/').next().unwrap_or(img);
            base.starts_with("proxyv2:") || base == "proxyv2" || (img == "auto" && injected_gateway)
        }
        None => false,
    })
}

/// Levenshtein distance, `None` when larger than `max`.
pub(crate) fn edit_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    // Optimal string alignment: a swap of two neighbours (`wbe` for `web`) is one edit.
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        d[i * w] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    let dist = d[a.len() * w + b.len()];
    (dist <= max).then_some(dist)
}

#[cfg(test)]
mod tests {
    use super::{edit_distance, fqdn};

    #[test]
    fn istio_short_names_resolve_in_the_rule_namespace() {
        assert_eq!(fqdn("reviews", "app"), "reviews.app.svc.cluster.local");
        assert_eq!(
            fqdn("reviews.other", "app"),
            "reviews.other.svc.cluster.local"
        );
        assert_eq!(
            fqdn("reviews.other.svc", "app"),
            "reviews.other.svc.cluster.local"
        );
        assert_eq!(fqdn("api.example.com", "app"), "api.example.com");
        assert_eq!(fqdn("*.example.com", "app"), "*.example.com");
    }

    #[test]
    fn edit_distance_is_bounded() {
        assert_eq!(edit_distance("sample-gateway", "sample-gatway", 3), Some(1));
        assert_eq!(edit_distance("abc", "xyz123", 2), None);
        assert_eq!(edit_distance("web", "wbe", 1), Some(1));
    }
}
