//! WRK004 namespace-injection-labels-conflict.

use crate::finding::Severity;
use crate::index::Index;
use crate::rules::{Emitter, Rule};

pub static RULE: Rule = Rule {
    code: "WRK004",
    id: "namespace-injection-labels-conflict",
    family: "workload",
    severity: Severity::Warning,
    summary: "A Namespace sets both istio-injection and istio.io/rev, or names a revision the set does not declare",
    docs: include_str!("wrk004.md"),
    check,
    mitigations: &[],
};

/// Revisions of Google's managed control planes (Anthos Service Mesh / Cloud Service Mesh).
const MANAGED_REVISIONS: &[&str] = &["asm-managed", "asm-managed-stable", "asm-managed-rapid"];

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let namespaces = ix.of_kind("", "Namespace");
    if namespaces.is_empty() {
        return;
    }
    let revisions = ix.istio_revisions();
    for &id in namespaces {
        let obj = ix.objects[id];
        let Some(labels) = obj.labels() else { continue };
        let injection = labels.entry("istio-injection");
        let rev = labels
            .entry("istio.io/rev")
            .and_then(|(k, v)| Some((k, v, v.as_text()?)));
        match (injection, rev) {
            (Some((ik, iv)), Some((rk, _, rv))) => {
                let inj = iv.as_text().unwrap_or("");
                let f = em.violation(
                    obj.loc(ik),
                    Some(obj.resource()),
                    format!(
                        "{} has both `istio-injection: {inj}` and `istio.io/rev: {rv}`: the \
                         revision's injector only matches namespaces without `istio-injection`, \
                         so `istio.io/rev` is ignored and pods get the default control plane's \
                         sidecar, or none when no default revision exists (managed ASM)",
                        obj.display()
                    ),
                    format!(
                        "remove the `istio-injection` label and keep `istio.io/rev: {rv}` (or \
                         the reverse, to use the default revision)"
                    ),
                );
                f.related(obj.loc(rk), "the revision label that is ignored");
            }
            (None, Some((_, rvn, rv))) => {
                if MANAGED_REVISIONS.contains(&rv)
                    || revisions.revisions.is_empty()
                    || revisions.knows(rv)
                {
                    continue;
                }
                let declared = revisions
                    .revisions
                    .iter()
                    .chain(revisions.tags.iter())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ");
                let what = format!(
                    "{} selects the control-plane revision `{rv}`, but the set declares only \
                     {declared}",
                    obj.display()
                );
                if revisions.webhooks_seen || ix.absent_is_missing() {
                    let f = em.violation(
                        obj.loc(rvn),
                        Some(obj.resource()),
                        format!(
                            "{what} and no revision tag of that name: no injector matches the \
                             namespace, so its pods start without a sidecar"
                        ),
                        format!("set `istio.io/rev` to one of: {declared}"),
                    );
                    f.severity(Severity::Info);
                } else {
                    em.unknown(
                        obj.loc(rvn),
                        Some(obj.resource()),
                        format!(
                            "{what}: `{rv}` may be a revision tag created outside the set \
                             (`istioctl tag set`)"
                        ),
                        "lint the istiod install (IstioOperator, Helm values, or the injector \
                         MutatingWebhookConfigurations) together with the Namespace",
                    );
                }
            }
            _ => {}
        }
    }
}
