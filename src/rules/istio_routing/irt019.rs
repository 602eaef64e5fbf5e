//! IRT019 vs-jwt-claim-route-without-authn.

use std::collections::{HashMap, HashSet};

use crate::finding::Severity;
use crate::index::{Index, Resolved, gateway_ref};
use crate::model::istio::{GROUP, VirtualService};
use crate::model::{Object, string_map};
use crate::rules::{Emitter, Rule, origin_note};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "IRT019",
    id: "vs-jwt-claim-route-without-authn",
    family: "istio-routing",
    severity: Severity::Error,
    summary: "A gateway VirtualService routes on JWT claims but no RequestAuthentication covers the gateway pods",
    docs: include_str!("irt019.md"),
    check,
    mitigations: &[],
};

const SECURITY: &str = "security.istio.io";
/// The Istio root namespace: policies there without a selector apply to the whole mesh.
const ROOT_NS: &str = "istio-system";
/// Header prefix of JWT claim matches (istio `constant.HeaderJWTClaim`).
const CLAIM_PREFIX: &str = "@request.auth.claims";
/// Label the Kubernetes Gateway API deployments carry (target of `targetRefs` kind Gateway).
const GATEWAY_NAME_LABEL: &str = "gateway.networking.k8s.io/gateway-name";

/// The first `headers` / `withoutHeaders` key of an `http` match that is a JWT claim, and
/// whether it is a `withoutHeaders` one.
fn claim_key<'d, 's>(vs: &VirtualService<'d, 's>) -> Option<(Node<'d, 's>, bool)> {
    let http = vs.obj.spec()?.get("http")?;
    for route in http.items() {
        for m in route.get("match").into_iter().flat_map(|m| m.items()) {
            for field in ["headers", "withoutHeaders"] {
                for (k, _) in m.get(field).into_iter().flat_map(|h| h.entries()) {
                    if k.as_str().is_some_and(|s| s.starts_with(CLAIM_PREFIX)) {
                        return Some((k, field == "withoutHeaders"));
                    }
                }
            }
        }
    }
    None
}

/// How a RequestAuthentication picks its workloads.
enum Scope<'d> {
    /// No selector and no target: every workload of its namespace (of the mesh in the root
    /// namespace).
    Namespace,
    /// `selector.matchLabels`.
    Labels(Vec<(&'d str, &'d str)>),
    /// `targetRef(s)` to Kubernetes Gateways of its namespace, by name.
    Gateways(Vec<&'d str>),
}

fn scope_of<'d>(ra: &Object<'d, '_>) -> Scope<'d> {
    let spec = ra.spec();
    let labels = string_map(spec.and_then(|s| s.path(&["selector", "matchLabels"])));
    if !labels.is_empty() {
        return Scope::Labels(labels);
    }
    let targets: Vec<Node<'d, '_>> = spec
        .into_iter()
        .flat_map(|s| {
            s.get("targetRef")
                .into_iter()
                .chain(s.get("targetRefs").into_iter().flat_map(|t| t.items()))
        })
        .collect();
    if targets.is_empty() {
        return Scope::Namespace;
    }
    Scope::Gateways(
        targets
            .iter()
            .filter(|t| t.str_at("kind") == Some("Gateway"))
            .filter_map(|t| t.str_at("name"))
            .collect(),
    )
}

/// A RequestAuthentication with a label selector: its object id and `matchLabels`.
type Selecting = (usize, Vec<(String, String)>);

/// RequestAuthentications by what they select, built once.
#[derive(Default)]
struct Authn {
    /// Namespaces with a selector-less RequestAuthentication (object id of the first).
    namespace_wide: HashMap<String, usize>,
    /// `(namespace, first selector pair)` → (object id, full selector).
    by_label: HashMap<(String, String, String), Vec<Selecting>>,
    /// `(namespace, Kubernetes Gateway name)` → object id.
    by_gateway: HashMap<(String, String), usize>,
    /// Namespaces holding any RequestAuthentication.
    namespaces: HashSet<String>,
}

impl Authn {
    fn build(ix: &Index<'_, '_>) -> Authn {
        let mut a = Authn::default();
        for &id in ix.of_kind(SECURITY, "RequestAuthentication") {
            let ra = &ix.objects[id];
            let ns = ra.namespace.to_string();
            a.namespaces.insert(ns.clone());
            match scope_of(ra) {
                Scope::Namespace => {
                    a.namespace_wide.entry(ns).or_insert(id);
                }
                Scope::Labels(sel) => {
                    let (k, v) = sel[0];
                    a.by_label
                        .entry((ns, k.to_string(), v.to_string()))
                        .or_default()
                        .push((
                            id,
                            sel.iter()
                                .map(|(k, v)| (k.to_string(), v.to_string()))
                                .collect(),
                        ));
                }
                Scope::Gateways(names) => {
                    for n in names {
                        a.by_gateway
                            .entry((ns.clone(), n.to_string()))
                            .or_insert(id);
                    }
                }
            }
        }
        a
    }

    /// The RequestAuthentication that applies to pods of namespace `ns` with `labels`.
    fn covering(&self, ns: &str, labels: &[(&str, &str)]) -> Option<usize> {
        for scope_ns in [ROOT_NS, ns] {
            if let Some(&id) = self.namespace_wide.get(scope_ns) {
                // A root-namespace policy without selector covers the mesh; another one its
                // own namespace.
                return Some(id);
            }
        }
        for &(k, v) in labels {
            for scope_ns in [ROOT_NS, ns] {
                let key = (scope_ns.to_string(), k.to_string(), v.to_string());
                for (id, sel) in self.by_label.get(&key).into_iter().flatten() {
                    if sel
                        .iter()
                        .all(|(sk, sv)| labels.iter().any(|(lk, lv)| lk == sk && lv == sv))
                    {
                        return Some(*id);
                    }
                }
            }
            if k == GATEWAY_NAME_LABEL
                && let Some(&id) = self.by_gateway.get(&(ns.to_string(), v.to_string()))
            {
                return Some(id);
            }
        }
        None
    }
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let claims: Vec<(usize, (Node<'_, '_>, bool))> = ix
        .virtual_services
        .iter()
        .enumerate()
        .filter(|(_, vs)| vs.gateways.iter().any(|(g, _)| *g != "mesh"))
        .filter_map(|(v, vs)| Some((v, claim_key(vs)?)))
        .collect();
    if claims.is_empty() {
        return;
    }
    let authn = Authn::build(ix);
    let workloads = ix.gateway_workloads();
    let gw_index: HashMap<(&str, &str), usize> = ix
        .gateways
        .iter()
        .enumerate()
        .map(|(g, gw)| ((gw.obj.namespace, gw.obj.name), g))
        .collect();

    for (v, (key, without)) in claims {
        let vs = &ix.virtual_services[v];
        let effect = if without {
            "this `withoutHeaders` match takes every request"
        } else {
            "this match never selects its route"
        };
        let header = key.as_str().unwrap_or(CLAIM_PREFIX);
        let mut seen = HashSet::new();
        for (text, _) in &vs.gateways {
            let Some((gns, gname)) = gateway_ref(vs.obj.namespace, text) else {
                continue;
            };
            if gns.is_empty() || gname.is_empty() || !seen.insert((gns, gname)) {
                continue;
            }
            let g = match ix.resolve(GROUP, "Gateway", gns, gname) {
                Resolved::Found(_) => match gw_index.get(&(gns, gname)) {
                    Some(&g) => g,
                    None => continue,
                },
                // IRT001 reports the broken binding.
                Resolved::Missing { .. } => continue,
                Resolved::Unknown | Resolved::External => {
                    em.unknown(
                        vs.obj.loc(key),
                        Some(vs.obj.resource()),
                        format!(
                            "{} routes on JWT claim `{header}` at Gateway {gns}/{gname}, which is \
                             not in the linted set: cannot tell whether a RequestAuthentication \
                             covers its pods",
                            vs.obj.display()
                        ),
                        "lint the Gateway, its workload and the RequestAuthentications together",
                    );
                    continue;
                }
            };
            let gw = &ix.gateways[g];
            let templates = workloads.of(g);
            if templates.is_empty() {
                if !ix.absent_is_missing() {
                    em.unknown(
                        vs.obj.loc(key),
                        Some(vs.obj.resource()),
                        format!(
                            "{} routes on JWT claim `{header}` at {}, whose pods are not in the \
                             linted set: cannot tell whether a RequestAuthentication covers them",
                            vs.obj.display(),
                            gw.obj.display()
                        ),
                        "lint the gateway Deployment (or its IstioOperator / Helm values) too",
                    )
                    .related(
                        gw.obj.name_loc(),
                        format!("{} is defined here", gw.obj.display()),
                    );
                }
                continue;
            }
            let uncovered: Vec<usize> = templates
                .iter()
                .copied()
                .filter(|&t| {
                    let tpl = &ix.templates[t];
                    authn.covering(tpl.obj.namespace, &tpl.labels).is_none()
                })
                .collect();
            let Some(&t0) = uncovered.first() else {
                continue;
            };
            let tpl = &ix.templates[t0];
            let pods = format!("{}{}", tpl.obj.display(), origin_note(&tpl.obj));
            let decided = ix.absent_is_missing()
                || authn.namespaces.contains(ROOT_NS)
                || uncovered
                    .iter()
                    .any(|&t| authn.namespaces.contains(ix.templates[t].obj.namespace));
            let namespaces = if tpl.obj.namespace == ROOT_NS {
                ROOT_NS.to_string()
            } else {
                format!("{} or {ROOT_NS}", tpl.obj.namespace)
            };
            let help = format!(
                "add a RequestAuthentication (security.istio.io) with the issuer's `jwtRules` in \
                 {namespaces}, whose `selector.matchLabels` match the gateway pods"
            );
            let f = if decided {
                em.violation(
                    vs.obj.loc(key),
                    Some(vs.obj.resource()),
                    format!(
                        "{} routes on JWT claim `{header}` at {}, but no RequestAuthentication \
                         applies to its pods ({pods}): the gateway never validates a token, so \
                         the claim is never set and {effect}",
                        vs.obj.display(),
                        gw.obj.display()
                    ),
                    help,
                )
            } else {
                em.unknown(
                    vs.obj.loc(key),
                    Some(vs.obj.resource()),
                    format!(
                        "{} routes on JWT claim `{header}` at {}, and no RequestAuthentication of \
                         {namespaces} is in the linted set: cannot tell whether one applies to \
                         its pods ({pods})",
                        vs.obj.display(),
                        gw.obj.display()
                    ),
                    help,
                )
            };
            f.related(
                gw.obj.name_loc(),
                format!("{} is defined here", gw.obj.display()),
            );
            for &t in uncovered.iter().take(3) {
                let tpl = &ix.templates[t];
                f.related(
                    tpl.obj.loc(tpl.anchor()),
                    format!(
                        "gateway pods of {}{} without RequestAuthentication",
                        tpl.obj.display(),
                        origin_note(&tpl.obj)
                    ),
                );
            }
        }
    }
}
