//! IGW004 gateway-image-auto-without-injection.

use crate::finding::{Location, Severity};
use crate::index::{Index, Revisions};
use crate::model::workload::PodTemplate;
use crate::rules::{Emitter, Rule, origin_note};

pub static RULE: Rule = Rule {
    code: "IGW004",
    id: "gateway-image-auto-without-injection",
    family: "istio-gateway",
    severity: Severity::Error,
    summary: "A proxy container uses `image: auto`, but the injection webhook will not fill it in",
    docs: include_str!("igw004.md"),
    check,
    mitigations: &["install.istio.io/IstioOperator", "/ConfigMap", "/Namespace"],
};

/// The revision that injects a pod, or why none does.
enum Injection {
    /// Injected by this revision (`default` for the revision-less webhooks).
    By(String, Option<(Location, String)>),
    /// Not injected: where that is decided and why.
    No(Location, String),
    /// Injected by default (`enableNamespacesByDefault`).
    ByDefault,
    /// Depends on a Namespace outside the linted set.
    Unknown,
}

/// The pod label node `key`, else the pod annotation node `key`.
fn pod_value<'d>(tpl: &PodTemplate<'d, '_>, key: &str) -> Option<(&'d str, Location)> {
    for where_ in ["labels", "annotations"] {
        if let Some(n) = tpl
            .metadata
            .and_then(|m| m.get(where_))
            .and_then(|m| m.get(key))
            && let Some(v) = n.as_text()
        {
            return Some((v, tpl.obj.loc(n)));
        }
    }
    None
}

fn pod_label<'d>(tpl: &PodTemplate<'d, '_>, key: &str) -> Option<(&'d str, Location)> {
    let n = tpl.metadata?.get("labels")?.get(key)?;
    Some((n.as_text()?, tpl.obj.loc(n)))
}

/// Istio's injection webhooks (`mutatingwebhook.yaml`): namespace `istio-injection`, then
/// namespace `istio.io/rev`, then the pod's `istio.io/rev` / `sidecar.istio.io/inject` labels;
/// `sidecar.istio.io/inject: "false"` on the pod always opts out.
fn injection(ix: &Index<'_, '_>, tpl: &PodTemplate<'_, '_>, by_default: bool) -> Injection {
    if let Some((v, at)) = pod_value(tpl, "sidecar.istio.io/inject")
        && v.eq_ignore_ascii_case("false")
    {
        return Injection::No(
            at,
            "the pod opts out with `sidecar.istio.io/inject: \"false\"`".into(),
        );
    }
    let ns_name = tpl.obj.namespace;
    let ns = ix.namespace_object(ns_name);
    if let Some(ns) = &ns {
        let label = |k: &str| {
            let n = ns.obj.labels()?.get(k)?;
            Some((n.as_text()?, ns.obj.loc(n)))
        };
        if let Some((v, at)) = label("istio-injection") {
            return if v == "enabled" {
                Injection::By(
                    "default".into(),
                    Some((at, "namespace label `istio-injection: enabled`".into())),
                )
            } else {
                Injection::No(
                    at,
                    format!("namespace {ns_name} is labelled `istio-injection: {v}`"),
                )
            };
        }
        if let Some((rev, at)) = label("istio.io/rev") {
            return Injection::By(
                rev.into(),
                Some((at, format!("namespace label `istio.io/rev: {rev}`"))),
            );
        }
    }
    let namespace_known = ns.is_some() || ix.absent_is_missing();
    if let Some((rev, at)) = pod_label(tpl, "istio.io/rev") {
        return Injection::By(
            rev.into(),
            Some((at, format!("pod label `istio.io/rev: {rev}`"))),
        );
    }
    if let Some((v, at)) = pod_label(tpl, "sidecar.istio.io/inject")
        && v.eq_ignore_ascii_case("true")
    {
        return Injection::By(
            "default".into(),
            Some((at, "pod label `sidecar.istio.io/inject: \"true\"`".into())),
        );
    }
    if !namespace_known {
        return Injection::Unknown;
    }
    if by_default {
        return Injection::ByDefault;
    }
    let at = match &ns {
        Some(ns) => ns.obj.name_loc(),
        None => tpl.obj.loc(
            tpl.metadata
                .and_then(|m| m.key("labels"))
                .unwrap_or_else(|| tpl.anchor()),
        ),
    };
    Injection::No(
        at,
        format!(
            "neither the pod (label `sidecar.istio.io/inject: \"true\"` or `istio.io/rev`) nor \
             namespace {ns_name} (label `istio-injection: enabled` or `istio.io/rev`) asks for \
             injection{}",
            if ns.is_none() {
                ", and the Namespace is not in the set (closed world)"
            } else {
                ""
            }
        ),
    )
}

fn known_revisions(revs: &Revisions<'_>) -> String {
    let mut all: Vec<&str> = revs
        .revisions
        .iter()
        .chain(revs.tags.iter())
        .copied()
        .collect();
    all.dedup();
    all.join(", ")
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let mut revisions: Option<Revisions<'_>> = None;
    let mut by_default: Option<bool> = None;
    for tpl in &ix.templates {
        let autos: Vec<_> = tpl
            .containers()
            .filter(|c| c.image == Some("auto"))
            .collect();
        if autos.is_empty() {
            continue;
        }
        let obj = &tpl.obj;
        for c in &autos {
            let image = c.node.get("image").unwrap_or(c.node);
            if c.name != Some("istio-proxy") {
                em.violation(
                    obj.loc(image),
                    Some(obj.resource()),
                    format!(
                        "container `{}` of {}{} uses `image: auto`, but the injection webhook \
                         only fills in the image of the container named `istio-proxy`: the pod \
                         tries to pull an image called `auto` and never starts (ImagePullBackOff)",
                        c.name.unwrap_or("?"),
                        obj.display(),
                        origin_note(obj)
                    ),
                    "name the proxy container `istio-proxy`, or give this container a real image",
                );
            }
        }
        let Some(proxy) = autos.iter().find(|c| c.name == Some("istio-proxy")) else {
            continue;
        };
        let image = proxy.node.get("image").unwrap_or(proxy.node);
        let by_default = *by_default.get_or_insert_with(|| ix.injection_by_default());
        let what = format!(
            "{}{} uses `image: auto`, a placeholder the injection webhook replaces with the proxy \
             image",
            obj.display(),
            origin_note(obj)
        );
        let consequence = "without injection the pod pulls an image called `auto` and never \
                           starts (ImagePullBackOff)";
        match injection(ix, tpl, by_default) {
            Injection::ByDefault => {}
            Injection::Unknown => {
                em.unknown(
                    obj.loc(image),
                    Some(obj.resource()),
                    format!(
                        "{what}; whether it is injected depends on the labels of Namespace {}, \
                         which is not in the linted set",
                        obj.namespace
                    ),
                    "lint the Namespace together with the workload, or label the pod \
                     `sidecar.istio.io/inject: \"true\"`",
                );
            }
            Injection::No(at, why) => {
                em.violation(
                    obj.loc(image),
                    Some(obj.resource()),
                    format!("{what}, but {why}: {consequence}"),
                    "label the pod `sidecar.istio.io/inject: \"true\"` (and do not label its \
                     namespace `istio-injection: disabled`), or set a real proxy image",
                )
                .related(at, "injection is decided here");
            }
            Injection::By(rev, source) => {
                let revs = revisions.get_or_insert_with(|| ix.istio_revisions());
                if revs.revisions.is_empty() && revs.tags.is_empty() {
                    continue; // No control plane in the set: nothing to compare with.
                }
                if revs.knows(&rev) {
                    continue;
                }
                let (at, how) = source.unwrap_or((obj.loc(image), String::new()));
                let message = format!(
                    "{what}, and {how} selects the injector of revision `{rev}`, but the control \
                     planes in the set are {}: no webhook injects it, and {consequence}",
                    known_revisions(revs)
                );
                let help = format!(
                    "select an installed revision (`istio.io/rev: {}`), or install revision `{rev}` \
                     before the gateway",
                    revs.revisions.first().copied().unwrap_or("default")
                );
                if revs.webhooks_seen || ix.absent_is_missing() {
                    em.violation(obj.loc(image), Some(obj.resource()), message, help)
                        .related(at, "injection revision chosen here");
                } else {
                    em.unknown(
                        obj.loc(image),
                        Some(obj.resource()),
                        format!(
                            "{what}, and {how} selects revision `{rev}`, which no control plane in \
                             the set declares ({}); a revision tag kept elsewhere may provide it",
                            known_revisions(revs)
                        ),
                        "lint the injector webhooks (or `istioctl tag` output) with the workload",
                    )
                    .related(at, "injection revision chosen here");
                }
            }
        }
    }
}
