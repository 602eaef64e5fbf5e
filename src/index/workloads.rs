//! Workload-side lookups for the `workload` rules (WRK001–WRK009): pod templates by
//! namespace, whether a workload is in the mesh (sidecar or ambient), and the Istio control
//! plane revisions and tags the set declares. Each is built on demand, once per rule run.

use std::collections::HashMap;

use super::{Index, ObjId};
use crate::model::cluster::Namespace;
use crate::model::{Object, string_map};
use crate::yaml::Node;

/// Namespaces istiod never injects and `istioctl analyze` skips (istio `inject.IgnoredNamespaces`).
pub fn is_system_namespace(ns: &str) -> bool {
    matches!(
        ns,
        "kube-system" | "kube-public" | "kube-node-lease" | "local-path-storage"
    )
}

/// How a workload takes part in the mesh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meshed {
    /// It gets an Istio sidecar (or is an Istio gateway proxy itself).
    Sidecar,
    /// Its namespace (or the pod) is enrolled in ambient mode.
    Ambient,
    /// Neither.
    No,
}

/// Control-plane revisions and revision tags the set declares (IstioOperator `spec.revision`,
/// istiod Deployments and injector webhooks labelled `istio.io/rev` / `istio.io/tag`).
#[derive(Debug, Default)]
pub struct Revisions<'d> {
    /// Revision names (`default` for a revision-less install).
    pub revisions: Vec<&'d str>,
    /// Revision tags (`istio.io/tag` on injector webhooks).
    pub tags: Vec<&'d str>,
    /// An Istio sidecar-injector webhook is in the set, so the tags it would declare are known.
    pub webhooks_seen: bool,
}

impl Revisions<'_> {
    pub fn knows(&self, name: &str) -> bool {
        self.revisions.contains(&name) || self.tags.contains(&name)
    }
}

impl<'d, 's> Index<'d, 's> {
    /// Pod templates (indexes into [`Index::templates`]) by namespace.
    pub fn templates_by_namespace(&self) -> HashMap<&'d str, Vec<usize>> {
        let mut out: HashMap<&'d str, Vec<usize>> = HashMap::new();
        for (t, tpl) in self.templates.iter().enumerate() {
            out.entry(tpl.obj.namespace).or_default().push(t);
        }
        out
    }

    /// True if the config's `external:` list declares a workload (a kind with a pod
    /// template) in `ns`: pods the set cannot show exist there.
    pub fn external_workload_in(&self, ns: &str) -> bool {
        self.options.external.iter().any(|(k, n, _)| {
            n == ns
                && matches!(
                    k.as_str(),
                    "Deployment"
                        | "StatefulSet"
                        | "DaemonSet"
                        | "ReplicaSet"
                        | "Job"
                        | "CronJob"
                        | "Pod"
                        | "Rollout"
                )
        })
    }

    /// Objects of kinds meshlint does not model that may make an operator create pods
    /// (a CloudNativePG `Cluster`, a Strimzi `Kafka`, a Prometheus …), by namespace: their
    /// pods' labels are not visible in the set.
    pub fn operator_objects(&self) -> HashMap<&'d str, Vec<ObjId>> {
        let mut out: HashMap<&'d str, Vec<ObjId>> = HashMap::new();
        for (id, o) in self.objects.iter().enumerate() {
            if o.namespace.is_empty() || o.origin().is_some() || !is_operator_group(o.group) {
                continue;
            }
            out.entry(o.namespace).or_default().push(id);
        }
        out
    }

    /// The Namespace object `ns`, if it is in the set.
    pub fn namespace_object(&self, ns: &str) -> Option<Namespace<'d, 's>> {
        let id = self.get("", "Namespace", "", ns)?;
        Namespace::from_object(self.objects[id])
    }

    /// True if the set shows that namespace `ns` is in an Istio mesh (catalog §0.4: mesh
    /// presence is per namespace): its Namespace carries an injection, revision or ambient
    /// label; an Istio networking object lives in it or routes into it; a pod template of
    /// it is injected or is an Istio gateway; or an injector that injects every namespace by
    /// default is in the set. One Istio sample elsewhere in the repository is no evidence.
    pub fn in_mesh(&self, ns: &str) -> bool {
        self.mesh_namespaces()
            .as_ref()
            .is_none_or(|set| set.contains(ns))
    }

    /// True if the set shows an Istio mesh in any namespace.
    pub fn any_mesh(&self) -> bool {
        self.mesh_namespaces()
            .as_ref()
            .is_none_or(|set| !set.is_empty())
    }

    /// The namespaces [`Index::in_mesh`] accepts; `None` when every namespace is (injection
    /// by default). Built once.
    fn mesh_namespaces(&self) -> &Option<std::collections::HashSet<&'d str>> {
        self.mesh_namespaces.get_or_init(|| {
            if self.injection_by_default() {
                return None;
            }
            let mut set = std::collections::HashSet::new();
            let istio_label = |k: &str| {
                matches!(
                    k,
                    "istio-injection"
                        | "istio.io/rev"
                        | "istio.io/dataplane-mode"
                        | "sidecar.istio.io/inject"
                )
            };
            for &id in self.of_kind("", "Namespace") {
                let o = &self.objects[id];
                let labels = string_map(o.labels());
                let enrolled = labels
                    .iter()
                    .any(|(k, v)| istio_label(k) && !(*k == "istio-injection" && *v == "disabled"));
                if enrolled {
                    set.insert(o.name);
                }
            }
            for (t, tpl) in self.templates.iter().enumerate() {
                let injected = tpl.labels.iter().any(|(k, v)| {
                    (*k == "sidecar.istio.io/inject" && *v == "true") || *k == "istio.io/rev"
                }) || tpl.annotation("sidecar.istio.io/inject") == Some("true");
                if injected || self.is_gateway_template(t) {
                    set.insert(tpl.obj.namespace);
                }
            }
            let istio_objects = self
                .gateways
                .iter()
                .map(|g| g.obj)
                .chain(self.virtual_services.iter().map(|v| v.obj))
                .chain(self.destination_rules.iter().map(|d| d.obj))
                .chain(self.service_entries.iter().map(|e| e.obj));
            for o in istio_objects {
                set.insert(o.namespace);
            }
            // Routing into a namespace: the namespaces of the hosts VirtualServices route to.
            for vs in &self.virtual_services {
                for d in &vs.destinations {
                    // A short name routes into the VirtualService's own namespace, which is
                    // in the set already; `name.ns.svc…` into `ns`.
                    let mut labels = d.host.split('.');
                    if let (Some(_), Some(ns), Some("svc")) =
                        (labels.next(), labels.next(), labels.next())
                    {
                        set.insert(ns);
                    }
                }
            }
            Some(set)
        })
    }

    /// Mesh membership of pod templates; build once per rule run.
    pub fn membership(&self) -> Membership<'_, 'd, 's> {
        Membership {
            ix: self,
            by_default: self.injection_by_default(),
        }
    }

    /// True if the set shows an injector that injects namespaces without a label
    /// (`sidecarInjectorWebhook.enableNamespacesByDefault: true` in an IstioOperator's values
    /// or the `istio-sidecar-injector` ConfigMap's `values`).
    pub fn injection_by_default(&self) -> bool {
        let from_values = |v: Node<'_, '_>| {
            v.path(&["sidecarInjectorWebhook", "enableNamespacesByDefault"])
                .and_then(|n| n.as_bool())
                == Some(true)
        };
        for &id in self.of_kind("install.istio.io", "IstioOperator") {
            if let Some(v) = self.objects[id].root.path(&["spec", "values"])
                && from_values(v)
            {
                return true;
            }
        }
        for &id in self.of_kind("", "ConfigMap") {
            let o = &self.objects[id];
            if !o.name.starts_with("istio-sidecar-injector") {
                continue;
            }
            if let Some(text) = o.root.path(&["data", "values"]).and_then(|n| n.as_str()) {
                let parsed = crate::yaml::parse_stream(
                    crate::source::FileId(u32::MAX),
                    text,
                    &crate::yaml::ParseLimits::default(),
                );
                if parsed
                    .docs
                    .first()
                    .and_then(|d| d.root())
                    .is_some_and(from_values)
                {
                    return true;
                }
            }
        }
        false
    }

    /// Istio revisions and tags declared in the set.
    pub fn istio_revisions(&self) -> Revisions<'d> {
        let mut r = Revisions::default();
        let add = |list: &mut Vec<&'d str>, v: &'d str| {
            if !list.contains(&v) {
                list.push(v);
            }
        };
        for &id in self.of_kind("install.istio.io", "IstioOperator") {
            let o = &self.objects[id];
            // Operators that only install gateways (`profile: empty`, pilot disabled) declare
            // no control plane.
            let profile = o.root.path(&["spec", "profile"]).and_then(|n| n.as_text());
            let pilot = o
                .root
                .path(&["spec", "components", "pilot", "enabled"])
                .and_then(|n| n.as_bool());
            if pilot == Some(false) || (profile == Some("empty") && pilot != Some(true)) {
                continue;
            }
            let rev = o
                .root
                .path(&["spec", "revision"])
                .and_then(|n| n.as_text())
                .unwrap_or("default");
            add(&mut r.revisions, rev);
        }
        for &id in self.of_kind("apps", "Deployment") {
            let o = &self.objects[id];
            if !(o.name == "istiod" || o.name.starts_with("istiod-")) {
                continue;
            }
            let labels = string_map(o.labels());
            let rev = labels
                .iter()
                .find(|(k, _)| *k == "istio.io/rev")
                .map(|(_, v)| *v)
                .unwrap_or("default");
            add(&mut r.revisions, rev);
        }
        for &id in self.of_kind(
            "admissionregistration.k8s.io",
            "MutatingWebhookConfiguration",
        ) {
            let o: &Object<'d, 's> = &self.objects[id];
            let labels = string_map(o.labels());
            let get = |k: &str| labels.iter().find(|(lk, _)| *lk == k).map(|(_, v)| *v);
            let istio = o.name.starts_with("istio-")
                || get("app") == Some("sidecar-injector")
                || get("istio.io/rev").is_some();
            if !istio {
                continue;
            }
            r.webhooks_seen = true;
            if let Some(tag) = get("istio.io/tag") {
                add(&mut r.tags, tag);
            } else if let Some(rev) = get("istio.io/rev") {
                add(&mut r.revisions, rev);
            }
        }
        r
    }
}

/// API groups of custom resources (not Kubernetes' own, not the mesh, cloud and delivery kinds
/// meshlint reads): candidates for operator-managed pods.
fn is_operator_group(group: &str) -> bool {
    const KNOWN: &[&str] = &[
        "k8s.io",
        "istio.io",
        "cloud.google.com",
        "networking.gke.io",
        "cert-manager.io",
        "argoproj.io",
        "fluxcd.io",
        "k8s.aws",
    ];
    group.contains('.')
        && !KNOWN
            .iter()
            .any(|k| group == *k || group.ends_with(&format!(".{k}")))
}

/// Whether pod templates are in the mesh (see [`Index::membership`]).
pub struct Membership<'a, 'd, 's> {
    ix: &'a Index<'d, 's>,
    by_default: bool,
}

impl Membership<'_, '_, '_> {
    /// Whether the pods of template `t` are in the mesh. Gateway proxies count as sidecars.
    /// `None` when it depends on a Namespace outside the linted set (open world), or on an
    /// injector that injects unlabelled namespaces by default (`enableNamespacesByDefault`).
    pub fn of(&self, t: usize) -> Option<Meshed> {
        let ix = self.ix;
        if ix.is_gateway_template(t) {
            return Some(Meshed::Sidecar);
        }
        let tpl = &ix.templates[t];
        let pod_label = |k: &str| tpl.labels.iter().find(|(lk, _)| *lk == k).map(|(_, v)| *v);
        if pod_label("istio.io/dataplane-mode") == Some("ambient") {
            return Some(Meshed::Ambient);
        }
        match ix.sidecar_injected(t) {
            Some(true) => Some(Meshed::Sidecar),
            None => None,
            Some(false) => {
                let ns = ix.namespace_object(tpl.obj.namespace);
                let unlabelled = ns.as_ref().is_some_and(|n| {
                    n.label("istio-injection").is_none() && n.label("istio.io/rev").is_none()
                });
                if unlabelled
                    && ns.as_ref().and_then(|n| n.label("istio.io/dataplane-mode"))
                        == Some("ambient")
                    && pod_label("istio.io/dataplane-mode") != Some("none")
                {
                    return Some(Meshed::Ambient);
                }
                let opted_out = pod_label("sidecar.istio.io/inject")
                    .or_else(|| tpl.annotation("sidecar.istio.io/inject"))
                    .is_some_and(|v| v.eq_ignore_ascii_case("false"));
                if unlabelled && !opted_out && self.by_default {
                    return None;
                }
                Some(Meshed::No)
            }
        }
    }
}
