//! Pod templates of workloads (R2): Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
//! CronJob, Pod and Argo Rollout.

use super::{IntOrName, Object, string_map};
use crate::yaml::Node;

/// A pod template: the labels and pod spec a workload creates pods from.
#[derive(Clone, Debug)]
pub struct PodTemplate<'d, 's> {
    pub obj: Object<'d, 's>,
    /// The template's `metadata` (the object's own for a Pod).
    pub metadata: Option<Node<'d, 's>>,
    pub labels: Vec<(&'d str, &'d str)>,
    /// The key node of the pod spec (`spec:` of the template), for findings about it.
    pub spec_key: Option<Node<'d, 's>>,
    pub spec: Option<Node<'d, 's>>,
}

/// Where the pod template sits for each workload kind.
pub fn template_path(obj: &Object<'_, '_>) -> Option<&'static [&'static str]> {
    match (obj.group, obj.kind) {
        ("apps" | "extensions", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job")
        | ("argoproj.io", "Rollout") => Some(&["spec", "template"]),
        ("batch", "CronJob") => Some(&["spec", "jobTemplate", "spec", "template"]),
        ("", "Pod") => Some(&[]),
        _ => None,
    }
}

impl<'d, 's> PodTemplate<'d, 's> {
    pub fn from_object(obj: Object<'d, 's>) -> Option<PodTemplate<'d, 's>> {
        let path = template_path(&obj)?;
        let tpl = obj.root.path(path)?;
        let metadata = tpl.get("metadata");
        let spec_entry = tpl.entry("spec").filter(|(_, v)| v.is_map());
        Some(PodTemplate {
            obj,
            metadata,
            labels: string_map(metadata.and_then(|m| m.get("labels"))),
            spec_key: spec_entry.map(|(k, _)| k),
            spec: spec_entry.map(|(_, v)| v),
        })
    }

    pub fn annotation(&self, key: &str) -> Option<&'d str> {
        self.metadata?.get("annotations")?.str_at(key)
    }

    pub fn containers(&self) -> impl Iterator<Item = Container<'d, 's>> + 'd {
        self.spec
            .and_then(|s| s.get("containers"))
            .into_iter()
            .flat_map(|c| c.items())
            .filter(|n| n.is_map())
            .map(Container::from_node)
    }

    /// True if every (key, value) of `selector` is in the template's labels.
    pub fn matches(&self, selector: &[(&str, &str)]) -> bool {
        selector
            .iter()
            .all(|(k, v)| self.labels.iter().any(|(lk, lv)| lk == k && lv == v))
    }

    /// The node findings about the whole template point at.
    pub fn anchor(&self) -> Node<'d, 's> {
        self.spec_key.unwrap_or(self.obj.root)
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Container<'d, 's> {
    pub node: Node<'d, 's>,
    pub name: Option<&'d str>,
    pub image: Option<&'d str>,
}

/// A probe's kind and target.
#[derive(Clone, Copy, Debug)]
pub struct Probe<'d, 's> {
    /// `readinessProbe`, `livenessProbe` or `startupProbe`.
    pub which: &'static str,
    pub node: Node<'d, 's>,
    /// `httpGet`, `tcpSocket` or `grpc`.
    pub handler: &'static str,
    pub handler_node: Node<'d, 's>,
    pub port_node: Option<Node<'d, 's>>,
    pub port: Option<IntOrName<'d>>,
}

impl<'d, 's> Container<'d, 's> {
    pub fn from_node(node: Node<'d, 's>) -> Container<'d, 's> {
        Container {
            node,
            name: node.str_at("name"),
            image: node.str_at("image"),
        }
    }

    /// `(name, containerPort, node)` of each declared port.
    pub fn ports(&self) -> impl Iterator<Item = (Option<&'d str>, Option<i64>, Node<'d, 's>)> + 'd {
        self.node
            .get("ports")
            .into_iter()
            .flat_map(|p| p.items())
            .map(|p| {
                (
                    p.str_at("name"),
                    p.get("containerPort").and_then(|n| n.as_int()),
                    p,
                )
            })
    }

    /// The number of the port named `name` in this container.
    pub fn port_named(&self, name: &str) -> Option<i64> {
        self.ports()
            .find(|(n, _, _)| *n == Some(name))
            .and_then(|(_, p, _)| p)
    }

    /// Resolves a probe or targetPort reference in this container (R11).
    pub fn resolve(&self, r: IntOrName<'_>) -> Option<i64> {
        match r {
            IntOrName::Int(i) => Some(i),
            IntOrName::Name(n) => self.port_named(n),
        }
    }

    pub fn probes(&self) -> impl Iterator<Item = Probe<'d, 's>> + 'd {
        let node = self.node;
        ["readinessProbe", "livenessProbe", "startupProbe"]
            .into_iter()
            .filter_map(move |which| {
                let p = node.get(which)?;
                let (handler, h) = ["httpGet", "tcpSocket", "grpc"]
                    .into_iter()
                    .find_map(|h| p.get(h).map(|n| (h, n)))?;
                let port_node = h.get("port");
                Some(Probe {
                    which,
                    node: p,
                    handler,
                    handler_node: h,
                    port_node,
                    port: port_node.and_then(IntOrName::from_node),
                })
            })
    }

    /// `args` then `command` strings, in order.
    pub fn args(&self) -> impl Iterator<Item = (&'d str, Node<'d, 's>)> + 'd {
        let node = self.node;
        ["command", "args"]
            .into_iter()
            .filter_map(move |k| node.get(k))
            .flat_map(|n| n.items())
            .filter_map(|n| Some((n.as_str()?, n)))
    }
}

/// Kubernetes `LabelSelector` semantics (`matchLabels` and `matchExpressions`). An empty
/// selector matches everything; an unknown operator matches nothing.
pub fn label_selector_matches(selector: Node<'_, '_>, labels: &[(&str, &str)]) -> bool {
    let get = |k: &str| labels.iter().find(|(lk, _)| *lk == k).map(|(_, v)| *v);
    let match_labels = string_map(selector.get("matchLabels"));
    if !match_labels.iter().all(|(k, v)| get(k) == Some(*v)) {
        return false;
    }
    selector
        .get("matchExpressions")
        .into_iter()
        .flat_map(|e| e.items())
        .all(|e| {
            let Some(key) = e.str_at("key") else {
                return false;
            };
            let values: Vec<&str> = e
                .get("values")
                .into_iter()
                .flat_map(|v| v.items())
                .filter_map(|v| v.as_str())
                .collect();
            match e.str_at("operator") {
                Some("In") => get(key).is_some_and(|v| values.contains(&v)),
                Some("NotIn") => get(key).is_none_or(|v| !values.contains(&v)),
                Some("Exists") => get(key).is_some(),
                Some("DoesNotExist") => get(key).is_none(),
                _ => false,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use crate::yaml::{ParseLimits, parse_stream};

    #[test]
    fn label_selectors_follow_kubernetes() {
        let src = "matchLabels: {app: web}\nmatchExpressions:\n- {key: tier, operator: In, values: [a, b]}\n- {key: canary, operator: DoesNotExist}\n";
        let out = parse_stream(FileId(0), src, &ParseLimits::default());
        let sel = out.docs[0].root().unwrap();
        assert!(label_selector_matches(
            sel,
            &[("app", "web"), ("tier", "a")]
        ));
        assert!(!label_selector_matches(
            sel,
            &[("app", "web"), ("tier", "c")]
        ));
        assert!(!label_selector_matches(
            sel,
            &[("app", "web"), ("tier", "a"), ("canary", "1")]
        ));
        assert!(!label_selector_matches(sel, &[("tier", "a")]));
    }
}
