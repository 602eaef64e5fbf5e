//! IRT003 vs-exportto-hides-from-gateway.

use crate::finding::Severity;
use crate::index::Index;
use crate::index::gateway_ref;
use crate::index::hosts::exported_to;
use crate::rules::{Emitter, Rule};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "IRT003",
    id: "vs-exportto-hides-from-gateway",
    family: "istio-routing",
    severity: Severity::Error,
    summary: "A VirtualService's exportTo hides it from the namespace of a Gateway it binds to",
    docs: include_str!("irt003.md"),
    check,
    mitigations: &[],
};

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    for vs in &ix.virtual_services {
        if vs.export_to.is_empty() {
            continue;
        }
        let obj = &vs.obj;
        let ns = obj.namespace;
        let export: Vec<&str> = vs.export_to.iter().map(|(e, _)| *e).collect();
        // Every Gateway reference: spec.gateways and the per-match lists.
        let mut refs: Vec<(&str, Node<'_, '_>)> = vs.gateways.clone();
        if let Some(spec) = obj.spec() {
            for kind in ["http", "tls", "tcp"] {
                let rules = spec.get(kind).into_iter().flat_map(|r| r.items());
                for m in rules.flat_map(|r| r.get("match").into_iter().flat_map(|m| m.items())) {
                    for g in m.get("gateways").into_iter().flat_map(|g| g.items()) {
                        if let Some(t) = g.as_text() {
                            refs.push((t, g));
                        }
                    }
                }
            }
        }
        let mut hidden: Vec<(&str, Vec<(&str, Node<'_, '_>)>)> = Vec::new();
        for (text, node) in refs {
            let Some((gns, _)) = gateway_ref(ns, text) else {
                continue;
            };
            if gns.is_empty() || exported_to(&export, ns, gns) {
                continue;
            }
            match hidden.iter_mut().find(|(n, _)| *n == gns) {
                Some((_, list)) => list.push((text, node)),
                None => hidden.push((gns, vec![(text, node)])),
            }
        }
        if hidden.is_empty() {
            continue;
        }
        let at = obj
            .spec()
            .and_then(|s| s.key("exportTo"))
            .unwrap_or(vs.export_to[0].1);
        let namespaces: Vec<&str> = hidden.iter().map(|(n, _)| *n).collect();
        let written: Vec<String> = export.iter().map(|e| format!("`{e}`")).collect();
        let f = em.violation(
            obj.loc(at),
            Some(obj.resource()),
            format!(
                "{} binds to Gateways in namespace {} but its exportTo ({}) does not include that \
                 namespace: the gateway never sees the VirtualService, so requests for its hosts \
                 get 404 (NR) there",
                obj.display(),
                namespaces.join(", "),
                written.join(", ")
            ),
            format!(
                "add {} to exportTo (or use `*`)",
                namespaces
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        for (_, list) in &hidden {
            for (text, node) in list {
                f.related(obj.loc(*node), format!("binds to `{text}`"));
            }
        }
    }
}
