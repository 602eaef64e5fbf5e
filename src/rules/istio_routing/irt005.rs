//! IRT005 dr-subset-selects-no-pods.

use crate::finding::Severity;
use crate::index::hosts::{HostTable, Provider, closest_name, istio_fqdn};
use crate::index::{Host, Index};
use crate::model::istio::{DestinationRule, Subset};
use crate::model::string_map;
use crate::rules::{Emitter, Rule, origin_note};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "IRT005",
    id: "dr-subset-selects-no-pods",
    family: "istio-routing",
    severity: Severity::Warning,
    summary: "A DestinationRule subset's labels match none of the pods of its host",
    docs: include_str!("irt005.md"),
    check,
    mitigations: &[],
};

/// The workloads behind a DestinationRule host.
struct Backends {
    /// Pod templates (indexes into [`Index::templates`]).
    templates: Vec<usize>,
    /// What selects them, for messages: `Service shop/reviews`.
    owner: String,
    /// The selector node, for a related location.
    selector: Option<(crate::finding::Location, String)>,
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let table = ix.host_table();
    for dr in &ix.destination_rules {
        if dr.subsets.is_empty() {
            continue;
        }
        let Some((host, host_node)) = dr.host else {
            continue;
        };
        if host.contains('*') {
            continue;
        }
        let obj = &dr.obj;
        let backends = match ix.resolve_host(host, obj.namespace) {
            Host::Service(s) => {
                let svc = &ix.services[s];
                if svc.selector.is_empty() {
                    em.unknown(
                        obj.loc(host_node),
                        Some(obj.resource()),
                        format!(
                            "the subsets of {} select pods of {}, which has no selector (its \
                             endpoints are managed by hand): cannot tell which pods they match",
                            obj.display(),
                            svc.obj.display()
                        ),
                        "nothing to do if the endpoints carry the subset labels",
                    );
                    continue;
                }
                Backends {
                    templates: ix.service_templates(s).to_vec(),
                    owner: svc.obj.display(),
                    selector: svc
                        .spec
                        .and_then(|sp| sp.key("selector"))
                        .map(|k| (svc.obj.loc(k), format!("selector of {}", svc.obj.display()))),
                }
            }
            Host::External => {
                match entry_backends(ix, table, host, obj.namespace) {
                    Some(Some(b)) => b,
                    // A ServiceEntry without workloadSelector: its endpoints are not pods.
                    Some(None) => continue,
                    None => {
                        em.unknown(
                            obj.loc(host_node),
                            Some(obj.resource()),
                            format!(
                                "the subsets of {} are for `{host}`, and no Service or \
                                 ServiceEntry for it is in the linted set: cannot tell which \
                                 pods they select",
                                obj.display()
                            ),
                            "lint the Service and its workloads together with the \
                             DestinationRule",
                        );
                        continue;
                    }
                }
            }
        };
        if backends.templates.is_empty() {
            if ix.absent_is_missing() {
                for subset in &dr.subsets {
                    let at = subset
                        .node
                        .key("labels")
                        .or_else(|| subset.node.get("name"))
                        .unwrap_or(subset.node);
                    em.violation(
                        obj.loc(at),
                        Some(obj.resource()),
                        format!(
                            "subset `{}` of {} selects pods of {}, which selects no workload in \
                             the linted set (closed world): traffic routed to the subset finds no \
                             endpoints and gets 503 (UH)",
                            subset.name,
                            obj.display(),
                            backends.owner
                        ),
                        "add the workloads, or fix the selector",
                    );
                }
            } else {
                em.unknown(
                    obj.loc(host_node),
                    Some(obj.resource()),
                    format!(
                        "the subsets of {} select pods of {}, whose workloads are not in the \
                         linted set: cannot tell whether the subsets match any",
                        obj.display(),
                        backends.owner
                    ),
                    "lint the workloads together with the DestinationRule, or run with \
                     --closed-world if everything is in the set",
                );
            }
            continue;
        }
        for subset in &dr.subsets {
            check_subset(ix, em, dr, subset, &backends);
        }
    }
}

/// For a host no Service provides: `None` when nothing provides it, `Some(None)` for a
/// ServiceEntry without `workloadSelector`, else the templates its selector picks.
fn entry_backends(
    ix: &Index<'_, '_>,
    table: &HostTable<'_>,
    host: &str,
    ns: &str,
) -> Option<Option<Backends>> {
    let providers = table.providers(&istio_fqdn(host, ns));
    let mut any = false;
    for p in providers {
        let Provider::Entry(e, _) = p.provider else {
            continue;
        };
        any = true;
        let se = &ix.service_entries[e];
        let Some(sel) = se
            .obj
            .spec()
            .and_then(|s| s.path(&["workloadSelector", "labels"]))
        else {
            continue;
        };
        let labels = string_map(Some(sel));
        if labels.is_empty() {
            continue;
        }
        return Some(Some(Backends {
            templates: ix.select(&labels, Some(se.obj.namespace)),
            owner: se.obj.display(),
            selector: Some((
                se.obj.loc(sel),
                format!("workloadSelector of {}", se.obj.display()),
            )),
        }));
    }
    any.then_some(None)
}

fn check_subset(
    ix: &Index<'_, '_>,
    em: &mut Emitter<'_>,
    dr: &DestinationRule<'_, '_>,
    subset: &Subset<'_, '_>,
    backends: &Backends,
) {
    if subset.labels.is_empty() {
        return;
    }
    let tpls = &backends.templates;
    if tpls
        .iter()
        .any(|&t| ix.templates[t].matches(&subset.labels))
    {
        return;
    }
    let obj = &dr.obj;
    let labels_node: Option<Node<'_, '_>> = subset.node.get("labels");
    // The first label no workload of the host carries, if any.
    let missing = subset.labels.iter().find(|(k, v)| {
        !tpls.iter().any(|&t| {
            ix.templates[t]
                .labels
                .iter()
                .any(|(lk, lv)| lk == k && lv == v)
        })
    });
    let at = match (missing, labels_node) {
        (Some((k, _)), Some(l)) => l.get(k).unwrap_or(l),
        _ => subset.node.key("labels").unwrap_or(subset.node),
    };
    let wanted = subset
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let workloads: Vec<String> = tpls
        .iter()
        .take(3)
        .map(|&t| {
            let tpl = &ix.templates[t];
            let shown = match missing {
                Some((k, _)) => match tpl.labels.iter().find(|(lk, _)| lk == k) {
                    Some((_, v)) => format!("{k}={v}"),
                    None => format!("no {k}"),
                },
                None => tpl
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            format!("{}{}: {shown}", tpl.obj.display(), origin_note(&tpl.obj))
        })
        .collect();
    let more = if tpls.len() > 3 { ", …" } else { "" };
    let them = if subset.labels.len() == 1 {
        "it"
    } else {
        "them"
    };
    let help = match missing {
        Some((k, v)) => {
            let keys: Vec<&str> = tpls
                .iter()
                .flat_map(|&t| ix.templates[t].labels.iter())
                .filter(|(_, lv)| lv == v)
                .map(|(lk, _)| *lk)
                .collect();
            let mut unique: Vec<&str> = Vec::new();
            for key in &keys {
                if !unique.contains(key) {
                    unique.push(key);
                }
            }
            // The pods carry the value under another key: the closest one, or the only one.
            let close = closest_name(unique.iter().copied(), k)
                .or_else(|| (unique.len() == 1).then(|| unique[0]));
            match close {
                Some(close) => format!(
                    "did you mean label `{close}: {v}`? Make the subset's labels match the pod \
                     template labels"
                ),
                None => format!(
                    "label the pods of the subset `{k}: {v}` in their pod template, or fix the \
                     subset's labels"
                ),
            }
        }
        None => "no single workload carries all of the subset's labels: fix the subset's labels \
                 or the pod template labels"
            .to_string(),
    };
    // Reference policy: a violation only when a workload's labels are a typo away from the
    // subset's (or in a closed world); other versions may be deployed from elsewhere.
    let near = ix
        .selector_near_miss(&subset.labels, tpls.iter().copied(), &|_| false)
        .filter(|_| !ix.incomplete(obj.root.file()));
    let help = match &near {
        Some(m) => format!(
            "did you mean `{}` (as {} is labelled) instead of `{}`? Make the subset's labels \
             match the pod template labels",
            m.meant,
            ix.templates[m.template].obj.display(),
            m.wrote
        ),
        None if !ix.absent_is_missing() => {
            em.unknown(
                obj.loc(at),
                Some(obj.resource()),
                format!(
                    "subset `{}` of {} selects pods labelled {wanted}; no workload of {} in the \
                     linted set has {them} ({}{more}), and none is a typo away: those pods may \
                     be deployed from elsewhere",
                    subset.name,
                    obj.display(),
                    backends.owner,
                    workloads.join("; ")
                ),
                "lint the workloads of every version together with the DestinationRule, or \
                 run with --closed-world if everything is in the set",
            );
            return;
        }
        None => help,
    };
    let f = em.violation(
        obj.loc(at),
        Some(obj.resource()),
        format!(
            "subset `{}` of {} selects pods labelled {wanted}, but no workload of {} has {them} \
             ({}{more}): traffic routed to the subset finds no endpoints and gets 503 (UH)",
            subset.name,
            obj.display(),
            backends.owner,
            workloads.join("; ")
        ),
        help,
    );
    if let Some((loc, note)) = &backends.selector {
        f.related(*loc, note.clone());
    }
    for &t in tpls.iter().take(3) {
        let tpl = &ix.templates[t];
        let at = tpl
            .metadata
            .and_then(|m| m.key("labels"))
            .unwrap_or(tpl.anchor());
        f.related(
            tpl.obj.loc(at),
            format!(
                "pod labels of {}{}",
                tpl.obj.display(),
                origin_note(&tpl.obj)
            ),
        );
    }
}
