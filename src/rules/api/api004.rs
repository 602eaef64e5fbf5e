//! API004 argocd-istio-install-order.

use std::collections::BTreeMap;

use crate::finding::Severity;
use crate::index::Index;
use crate::model::Object;
use crate::rules::{Emitter, Rule};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "API004",
    id: "argocd-istio-install-order",
    family: "api",
    severity: Severity::Warning,
    summary: "Argo CD installs Istio's base, istiod and gateway charts without ordering them",
    docs: include_str!("api004.md"),
    check,
    mitigations: &[],
};

const WAVE: &str = "argocd.argoproj.io/sync-wave";

/// The Istio install charts, in the order they must become ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Base,
    Istiod,
    Gateway,
}

impl Part {
    fn label(self) -> &'static str {
        match self {
            Part::Base => "the Istio CRDs",
            Part::Istiod => "istiod",
            Part::Gateway => "the Istio gateway",
        }
    }

    /// Which part a chart (from a repository URL) or a repository path installs.
    fn of_source(chart: Option<&str>, repo: Option<&str>, path: Option<&str>) -> Option<Part> {
        let istio_repo = repo.is_some_and(|r| r.to_ascii_lowercase().contains("istio"));
        if let Some(chart) = chart {
            return match chart {
                "base" if istio_repo => Some(Part::Base),
                "istiod" => Some(Part::Istiod),
                "gateway" if istio_repo => Some(Part::Gateway),
                _ => None,
            };
        }
        let path = path?.trim_end_matches('/');
        let last = path.rsplit('/').next().unwrap_or(path);
        match last {
            "istio-base" => Some(Part::Base),
            "istiod" => Some(Part::Istiod),
            "gateway" if istio_repo || path.to_ascii_lowercase().contains("istio") => {
                Some(Part::Gateway)
            }
            _ => None,
        }
    }
}

/// One Application (or ApplicationSet) installing a part of Istio.
struct Install<'d, 's> {
    obj: Object<'d, 's>,
    part: Part,
    wave: i64,
    wave_node: Option<Node<'d, 's>>,
    /// The `chart:` (or `path:`) value that says what it installs.
    chart_node: Node<'d, 's>,
}

impl<'d, 's> Install<'d, 's> {
    /// Where a finding about this install's ordering points: its sync-wave, else its chart.
    fn anchor(&self) -> Node<'d, 's> {
        self.wave_node.unwrap_or(self.chart_node)
    }
    fn describe(&self) -> String {
        format!(
            "{} ({}, sync wave {}{})",
            self.obj.display(),
            self.part.label(),
            self.wave,
            if self.wave_node.is_none() {
                " by default"
            } else {
                ""
            }
        )
    }
}

/// `spec.source` or each of `spec.sources[]`.
fn sources<'d, 's>(spec: Node<'d, 's>) -> Vec<Node<'d, 's>> {
    match spec.get("sources") {
        Some(list) => list.items().collect(),
        None => spec.get("source").into_iter().collect(),
    }
}

fn wave_of<'d, 's>(obj: &Object<'d, 's>) -> (i64, Option<Node<'d, 's>>) {
    match obj.annotation_entry(WAVE) {
        Some((_, v)) => (
            v.as_text()
                .and_then(|t| t.trim().parse::<i64>().ok())
                .unwrap_or(0),
            Some(v),
        ),
        None => (0, None),
    }
}

/// The Istio parts an Application (or the template of an ApplicationSet) installs, with the
/// destination cluster they go to.
fn installs<'d, 's>(obj: &Object<'d, 's>, spec: Node<'d, 's>) -> Vec<(Install<'d, 's>, String)> {
    let cluster = spec
        .get("destination")
        .and_then(|d| d.str_at("server").or_else(|| d.str_at("name")))
        .unwrap_or("https://kubernetes.default.svc")
        .to_string();
    let (wave, wave_node) = wave_of(obj);
    let mut out = Vec::new();
    for src in sources(spec) {
        let chart = src.get("chart");
        let path = src.get("path");
        let Some(part) = Part::of_source(
            chart.and_then(|c| c.as_text()),
            src.str_at("repoURL"),
            path.and_then(|p| p.as_text()),
        ) else {
            continue;
        };
        let Some(chart_node) = chart.or(path) else {
            continue;
        };
        out.push((
            Install {
                obj: *obj,
                part,
                wave,
                wave_node,
                chart_node,
            },
            cluster.clone(),
        ));
    }
    out
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let mut by_cluster: BTreeMap<String, Vec<Install<'_, '_>>> = BTreeMap::new();
    for &id in ix.of_kind("argoproj.io", "Application") {
        let obj = ix.objects[id];
        let Some(spec) = obj.spec() else { continue };
        for (i, c) in installs(&obj, spec) {
            by_cluster.entry(c).or_default().push(i);
        }
    }
    for &id in ix.of_kind("argoproj.io", "ApplicationSet") {
        let obj = ix.objects[id];
        let Some(spec) = obj.root.path(&["spec", "template", "spec"]) else {
            continue;
        };
        if templated_parts(em, &obj, spec) {
            continue;
        }
        for (i, c) in installs(&obj, spec) {
            by_cluster.entry(c).or_default().push(i);
        }
    }

    let mut ordered_sets = Vec::new();
    for list in by_cluster.values() {
        let mut parts: Vec<Part> = list.iter().map(|i| i.part).collect();
        parts.sort_unstable();
        parts.dedup();
        if parts.len() < 2 {
            continue;
        }
        ordered_sets.push(list);
        for dep in list {
            // istiod needs base; the gateway needs istiod (or base when istiod is elsewhere).
            let wanted = match dep.part {
                Part::Base => continue,
                Part::Istiod => Part::Base,
                Part::Gateway if parts.contains(&Part::Istiod) => Part::Istiod,
                Part::Gateway => Part::Base,
            };
            let Some(pre) = list
                .iter()
                .filter(|p| p.part == wanted)
                .max_by_key(|p| p.wave)
            else {
                continue;
            };
            if dep.wave > pre.wave {
                continue;
            }
            let why = match dep.part {
                Part::Istiod => {
                    "istiod starts before the Istio CRDs exist and the first sync fails"
                }
                _ => {
                    "the gateway's `image: auto` pods are created before istiod's injection \
                     webhook exists and sit in ImagePullBackOff until restarted"
                }
            };
            let f = em.violation(
                dep.obj.loc(dep.anchor()),
                Some(dep.obj.resource()),
                format!(
                    "{} is not ordered after {}: Argo CD syncs them together, so {why}",
                    dep.describe(),
                    pre.describe()
                ),
                "give the Applications strictly increasing `argocd.argoproj.io/sync-wave` \
                 annotations (base < istiod < gateway) in their parent app-of-apps, and add the \
                 `argoproj.io/Application` health check to argocd-cm so each wave waits for the \
                 previous one to be healthy",
            );
            f.related(
                pre.obj.loc(pre.anchor()),
                format!("{} syncs in wave {}", pre.obj.display(), pre.wave),
            );
        }
    }
    if !ordered_sets.is_empty() {
        health_check_missing(ix, em, &ordered_sets);
    }
}

/// Condition 2: an `argocd-cm` without the `argoproj.io/Application` health check makes waves
/// of child Applications order their creation only, not their readiness.
fn health_check_missing(ix: &Index<'_, '_>, em: &mut Emitter<'_>, sets: &[&Vec<Install<'_, '_>>]) {
    for &id in ix.of_kind("", "ConfigMap") {
        let cm = ix.objects[id];
        if cm.name != "argocd-cm" {
            continue;
        }
        let data = cm.root.get("data");
        let has_check = data.is_some_and(|d| {
            d.get("resource.customizations.health.argoproj.io_Application")
                .is_some()
                || d.str_at("resource.customizations")
                    .is_some_and(|t| t.contains("argoproj.io/Application"))
        });
        if has_check {
            continue;
        }
        let at = cm
            .root
            .key("data")
            .or_else(|| cm.metadata().and_then(|m| m.get("name")))
            .unwrap_or(cm.root);
        let f = em.violation(
            cm.loc(at),
            Some(cm.resource()),
            "argocd-cm has no health check for `argoproj.io/Application`: since Argo CD 1.8 a \
             parent Application does not wait for its child Applications to become healthy, so \
             the sync waves of the Istio base, istiod and gateway Applications order their \
             creation, not their readiness",
            "add `resource.customizations.health.argoproj.io_Application` (the health.lua from \
             the Argo CD 1.7→1.8 upgrade notes) to argocd-cm, or give the gateway Application a \
             sync retry policy",
        );
        f.severity(Severity::Info);
        for list in sets {
            for i in list.iter() {
                f.related(
                    i.obj.loc(i.anchor()),
                    format!("{} syncs in wave {}", i.obj.display(), i.wave),
                );
            }
        }
    }
}

/// An ApplicationSet whose template's chart is a generator parameter: the Applications it
/// generates from list elements install several Istio parts at once unless a progressive
/// (`RollingSync`) strategy orders them. Returns true when the chart is templated.
fn templated_parts(em: &mut Emitter<'_>, obj: &Object<'_, '_>, spec: Node<'_, '_>) -> bool {
    let mut templated = false;
    for src in sources(spec) {
        let Some(chart) = src.get("chart") else {
            continue;
        };
        let Some(text) = chart.as_text() else {
            continue;
        };
        let Some(param) = template_param(text) else {
            continue;
        };
        templated = true;
        let repo = src.str_at("repoURL").unwrap_or("");
        // (part, element value node) per list element.
        let mut found: Vec<(Part, Node<'_, '_>)> = Vec::new();
        for el in list_elements(obj) {
            let Some(v) = lookup(el, &param) else {
                continue;
            };
            let element_repo = template_param(repo)
                .and_then(|p| lookup(el, &p))
                .and_then(|n| n.as_text())
                .unwrap_or(repo);
            if let Some(part) = Part::of_source(v.as_text(), Some(element_repo), None) {
                found.push((part, v));
            }
        }
        let mut parts: Vec<Part> = found.iter().map(|(p, _)| *p).collect();
        parts.sort_unstable();
        parts.dedup();
        if parts.len() < 2 {
            continue;
        }
        let rolling = obj
            .root
            .path(&["spec", "strategy", "type"])
            .and_then(|t| t.as_text())
            == Some("RollingSync");
        if rolling {
            continue;
        }
        let mut names: Vec<&str> = parts.iter().map(|p| p.label()).collect();
        let last = names.pop().unwrap_or_default();
        let f = em.violation(
            obj.loc(chart),
            Some(obj.resource()),
            format!(
                "{} generates Applications for {} and {} from one template without a progressive \
                 sync strategy: they all sync at once, so istiod can start before the CRDs and \
                 the gateway's `image: auto` pods before the injection webhook",
                obj.display(),
                names.join(", "),
                last
            ),
            "use `spec.strategy.type: RollingSync` with steps ordered base, istiod, gateway, or \
             install the three charts as separate Applications with increasing sync waves",
        );
        for (part, n) in found {
            f.related(obj.loc(n), format!("generates {}", part.label()));
        }
    }
    templated
}

/// `chart` from `{{chart}}`, `{{ .chart }}`, `{{.values.chart}}`; `None` for plain text.
fn template_param(text: &str) -> Option<String> {
    let inner = text.trim().strip_prefix("{{")?.strip_suffix("}}")?.trim();
    let inner = inner.strip_prefix('.').unwrap_or(inner);
    if inner.is_empty() || inner.contains([' ', '|', '(']) {
        return None;
    }
    Some(inner.to_string())
}

/// A dotted key in a generator element.
fn lookup<'d, 's>(el: Node<'d, 's>, param: &str) -> Option<Node<'d, 's>> {
    let keys: Vec<&str> = param.split('.').collect();
    el.path(&keys)
}

/// The elements of the ApplicationSet's list generators (top level, and inside matrix and
/// merge generators).
fn list_elements<'d, 's>(obj: &Object<'d, 's>) -> Vec<Node<'d, 's>> {
    let mut out = Vec::new();
    let mut stack: Vec<Node<'d, 's>> = obj
        .root
        .path(&["spec", "generators"])
        .into_iter()
        .flat_map(|g| g.items())
        .collect();
    let mut budget = 64;
    while let Some(g) = stack.pop() {
        budget -= 1;
        if budget == 0 {
            break;
        }
        if let Some(els) = g.path(&["list", "elements"]) {
            out.extend(els.items().filter(|e| e.is_map()));
        }
        for nested in ["matrix", "merge"] {
            if let Some(gens) = g.path(&[nested, "generators"]) {
                stack.extend(gens.items());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_and_template_parameters() {
        let istio = Some("https://istio-release.storage.googleapis.com/charts");
        assert_eq!(Part::of_source(Some("base"), istio, None), Some(Part::Base));
        assert_eq!(Part::of_source(Some("base"), Some("https://x"), None), None);
        assert_eq!(
            Part::of_source(Some("istiod"), None, None),
            Some(Part::Istiod)
        );
        assert_eq!(
            Part::of_source(
                None,
                Some("https://github.com/acme/infra"),
                Some("istio/gateway")
            ),
            Some(Part::Gateway)
        );
        assert_eq!(
            Part::of_source(None, None, Some("clusters/prod/istio-base/")),
            Some(Part::Base)
        );
        assert_eq!(template_param("{{ .chart }}").as_deref(), Some("chart"));
        assert_eq!(
            template_param("{{values.chart}}").as_deref(),
            Some("values.chart")
        );
        assert_eq!(template_param("gateway"), None);
    }
}
