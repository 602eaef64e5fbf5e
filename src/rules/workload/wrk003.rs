//! WRK003 probe-port-unresolved.

use crate::finding::Severity;
use crate::index::Index;
use crate::model::IntOrName;
use crate::model::workload::Container;
use crate::rules::{Emitter, Rule, origin_note};

pub static RULE: Rule = Rule {
    code: "WRK003",
    id: "probe-port-unresolved",
    family: "workload",
    severity: Severity::Error,
    summary: "A probe names a port its container does not declare",
    docs: include_str!("wrk003.md"),
    check,
    mitigations: &[],
};

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    for tpl in &ix.templates {
        let Some(spec) = tpl.spec else { continue };
        // Probes on init containers only run for restartable (sidecar) init containers, and
        // resolve their names the same way.
        let containers = ["containers", "initContainers"]
            .into_iter()
            .filter_map(|k| spec.get(k))
            .flat_map(|l| l.items())
            .filter(|n| n.is_map())
            .map(Container::from_node);
        for c in containers {
            for probe in c.probes() {
                let (Some(IntOrName::Name(name)), Some(at)) = (probe.port, probe.port_node) else {
                    continue;
                };
                if probe.handler != "grpc" && c.ports().any(|(n, _, _)| n == Some(name)) {
                    continue;
                }
                let container = c.name.unwrap_or("?");
                let effect = match probe.which {
                    "livenessProbe" => {
                        "so the kubelet kills and restarts the container over and over"
                    }
                    "startupProbe" => {
                        "the startup probe never succeeds, so the kubelet kills and restarts \
                         the container over and over"
                    }
                    _ => {
                        "so the pod never becomes Ready and never receives traffic from its \
                         Services or load balancers"
                    }
                };
                let (message, help) = if probe.handler == "grpc" {
                    (
                        format!(
                            "{}{}: the {} of container `{container}` uses gRPC on port \
                             `{name}`, but a gRPC probe port must be a number: the API server \
                             rejects the workload",
                            tpl.obj.display(),
                            origin_note(&tpl.obj),
                            probe.which,
                        ),
                        "write the port number (`grpc.port` takes no names)".to_string(),
                    )
                } else {
                    let declared: Vec<&str> = c.ports().filter_map(|(n, _, _)| n).collect();
                    let have = if declared.is_empty() {
                        "it declares no named port".to_string()
                    } else {
                        format!("it declares {}", declared.join(", "))
                    };
                    (
                        format!(
                            "{}{}: the {} of container `{container}` targets port `{name}`, \
                             which the container does not declare ({have}): the kubelet cannot \
                             resolve it and the probe fails every period, {effect}",
                            tpl.obj.display(),
                            origin_note(&tpl.obj),
                            probe.which,
                        ),
                        format!(
                            "add `{{name: {name}, containerPort: <n>}}` to this container's \
                             `ports`, or probe the port by number"
                        ),
                    )
                };
                let f = em.violation(tpl.obj.loc(at), Some(tpl.obj.resource()), message, help);
                if let Some(ports) = c.node.get("ports") {
                    f.related(
                        tpl.obj.loc(ports),
                        format!("ports of container `{container}`"),
                    );
                }
            }
        }
    }
}
