//! IRT001 vs-gateway-ref-unresolved.

use std::collections::HashMap;

use crate::finding::Severity;
use crate::index::{Index, Resolved};
use crate::model::istio::{GROUP, VirtualService};
use crate::rules::{Emitter, Rule};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "IRT001",
    id: "vs-gateway-ref-unresolved",
    family: "istio-routing",
    severity: Severity::Error,
    summary: "A VirtualService binds to a Gateway that does not exist",
    docs: include_str!("irt001.md"),
    check,
    mitigations: &[],
};

/// How a `gateways` entry names its Gateway (istio `resolveGatewayName`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// `name`: the VirtualService's namespace.
    Bare,
    /// `ns/name` (or `./name`).
    Qualified,
    /// `name.ns[.svc.cluster.local]`, kept for backward compatibility.
    Legacy,
}

/// `(namespace, name, form)` of a `gateways` entry; `None` for the reserved `mesh`.
fn gateway_ref<'a>(vs_ns: &'a str, text: &'a str) -> Option<(&'a str, &'a str, Form)> {
    if text == "mesh" {
        return None;
    }
    if let Some((ns, name)) = text.split_once('/') {
        let ns = if ns == "." { vs_ns } else { ns };
        return Some((ns, name, Form::Qualified));
    }
    match text.split_once('.') {
        Some((name, rest)) => {
            let ns = rest.split('.').next().unwrap_or(rest);
            Some((ns, name, Form::Legacy))
        }
        None => Some((vs_ns, text, Form::Bare)),
    }
}

/// Every `gateways` entry of a VirtualService: `spec.gateways` (`false`) and the per-match
/// lists of `http`, `tls` and `tcp` routes (`true`).
fn entries<'d, 's>(vs: &VirtualService<'d, 's>) -> Vec<(&'d str, Node<'d, 's>, bool)> {
    let mut out: Vec<(&'d str, Node<'d, 's>, bool)> =
        vs.gateways.iter().map(|&(t, n)| (t, n, false)).collect();
    let Some(spec) = vs.obj.spec() else {
        return out;
    };
    for kind in ["http", "tls", "tcp"] {
        let routes = spec.get(kind).into_iter().flat_map(|r| r.items());
        for m in routes.flat_map(|r| r.get("match").into_iter().flat_map(|m| m.items())) {
            for g in m.get("gateways").into_iter().flat_map(|g| g.items()) {
                if let Some(t) = g.as_text() {
                    out.push((t, g, true));
                }
            }
        }
    }
    out
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    // Many VirtualServices name the same Gateway: resolve (and look for hints) once each.
    let mut cache: HashMap<(&str, &str, bool), Resolved<usize>> = HashMap::new();
    for vs in &ix.virtual_services {
        let obj = &vs.obj;
        for (text, node, per_match) in entries(vs) {
            let Some((ns, name, form)) = gateway_ref(obj.namespace, text) else {
                continue;
            };
            if name.is_empty() || ns.is_empty() {
                continue;
            }
            let how = match form {
                Form::Bare => {
                    format!("`{text}` (no namespace, so in the VirtualService's namespace {ns})")
                }
                _ => format!("`{text}`"),
            };
            let resolved = cache
                .entry((ns, name, form != Form::Bare))
                .or_insert_with(|| {
                    ix.resolve_ref(
                        GROUP,
                        "Gateway",
                        ns,
                        name,
                        form != Form::Bare,
                        Some(obj.root.file()),
                    )
                });
            if form == Form::Legacy && !matches!(resolved, Resolved::Missing { .. }) {
                em.violation(
                    obj.loc(node),
                    Some(obj.resource()),
                    format!(
                        "`{text}` names Gateway {ns}/{name} in the deprecated FQDN form, which \
                         istiod still reads only for backward compatibility"
                    ),
                    format!("write `{ns}/{name}`"),
                )
                .severity(Severity::Info);
            }
            let detached = if per_match {
                "the routes of this match are never attached to any gateway, so requests they \
                 should take get 404 (NR) there"
            } else {
                "its routes are never attached to any gateway, so requests for its hosts get \
                 404 (NR) there"
            };
            match resolved {
                Resolved::Found(_) | Resolved::External => {}
                Resolved::Missing { hint } => {
                    let missing = Index::missing_reason(hint.as_ref());
                    let help = match hint {
                        Some(h) => {
                            format!("did you mean `{h}`? Name the Gateway as `<namespace>/<name>`")
                        }
                        None => "name an existing Gateway as `<namespace>/<name>`, or add the \
                                 Gateway"
                            .to_string(),
                    };
                    let f = em.violation(
                        obj.loc(node),
                        Some(obj.resource()),
                        format!(
                            "{} binds to Gateway {ns}/{name} through {how}, {missing}: \
                             {detached}",
                            obj.display()
                        ),
                        help,
                    );
                    if let Some(h) = hint
                        && let Some((hns, hname)) = h.split_once('/')
                        && let Some(id) = ix.get(GROUP, "Gateway", hns, hname)
                    {
                        let gw = &ix.objects[id];
                        f.related(gw.name_loc(), format!("Gateway {h} is defined here"));
                    }
                }
                Resolved::Unknown => {
                    em.unknown(
                        obj.loc(node),
                        Some(obj.resource()),
                        format!(
                            "{} binds to Gateway {ns}/{name} through {how}, which is not in the \
                             linted set and no Gateway there is a near miss of it: it may be \
                             installed elsewhere",
                            obj.display()
                        ),
                        "lint the Gateway together with the VirtualService, or run with \
                         --closed-world if everything is in the set",
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_reference_forms() {
        assert_eq!(gateway_ref("app", "mesh"), None);
        assert_eq!(gateway_ref("app", "gw"), Some(("app", "gw", Form::Bare)));
        assert_eq!(
            gateway_ref("app", "istio-ingress/gw"),
            Some(("istio-ingress", "gw", Form::Qualified))
        );
        assert_eq!(
            gateway_ref("app", "./gw"),
            Some(("app", "gw", Form::Qualified))
        );
        assert_eq!(
            gateway_ref("app", "gw.istio-ingress.svc.cluster.local"),
            Some(("istio-ingress", "gw", Form::Legacy))
        );
        assert_eq!(
            gateway_ref("app", "gw.istio-ingress"),
            Some(("istio-ingress", "gw", Form::Legacy))
        );
    }
}

#[cfg(test)]
mod closed_world_tests {
    use crate::finding::Outcome;
    use crate::lint::{Settings, run};
    use crate::source::{SourceFile, Sources};

    #[test]
    fn closed_world_turns_unknown_into_a_violation() {
        let src = "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: sample, namespace: sample-app}
spec:
  hosts: [sample.example.com]
  gateways: [istio-ingress/sample-gateway]
";
        let mut sources = Sources::default();
        sources.add(SourceFile::new("vs.yaml".into(), src.into()));
        let open = run(&sources, &Settings::default());
        assert!(open.findings.iter().all(|f| f.code != "IRT001"));
        assert!(open.unknown.iter().any(|f| f.code == "IRT001"));
        let settings = Settings {
            closed_world: true,
            ..Settings::default()
        };
        let closed = run(&sources, &settings);
        let f = closed
            .findings
            .iter()
            .find(|f| f.code == "IRT001")
            .expect("IRT001 in a closed world");
        assert_eq!(f.outcome, Outcome::Violation);
    }
}
