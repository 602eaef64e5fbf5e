//! IRT010 vs-destination-port-required.

use crate::finding::Severity;
use crate::index::Index;
use crate::index::hosts::Provider;
use crate::index::vsroutes::{DestKind, destinations};
use crate::rules::{Emitter, Rule};

pub static RULE: Rule = Rule {
    code: "IRT010",
    id: "vs-destination-port-required",
    family: "istio-routing",
    severity: Severity::Error,
    summary: "A VirtualService destination gives no port although its Service has several",
    docs: include_str!("irt010.md"),
    check,
    mitigations: &[],
};

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let table = ix.host_table();
    for vs in &ix.virtual_services {
        let obj = &vs.obj;
        for d in destinations(vs) {
            if d.port_written || d.host.contains('*') {
                continue;
            }
            // The first provider with several ports decides; hosts nothing provides are
            // IRT009's (unknown there), not a second undecided finding here.
            let mut several: Option<(String, Vec<String>, crate::finding::Location)> = None;
            for p in table.destination_providers(ix, d.host, obj.namespace) {
                let (owner, ports, at) = match p {
                    Provider::Service(s) => {
                        let svc = &ix.services[s];
                        let at = svc
                            .spec
                            .and_then(|sp| sp.key("ports"))
                            .map(|k| svc.obj.loc(k))
                            .unwrap_or_else(|| svc.obj.name_loc());
                        let ports: Vec<String> = svc
                            .ports
                            .iter()
                            .filter(|sp| sp.port.is_some())
                            .map(|sp| sp.display())
                            .collect();
                        (svc.obj.display(), ports, at)
                    }
                    Provider::Entry(e, _) => {
                        let se = &ix.service_entries[e];
                        let at = se
                            .obj
                            .spec()
                            .and_then(|sp| sp.key("ports"))
                            .map(|k| se.obj.loc(k))
                            .unwrap_or_else(|| se.obj.name_loc());
                        let ports: Vec<String> = se
                            .ports
                            .iter()
                            .filter_map(|(n, name, _)| {
                                let n = (*n)?;
                                Some(match name {
                                    Some(name) => format!("{n} ({name})"),
                                    None => n.to_string(),
                                })
                            })
                            .collect();
                        (se.obj.display(), ports, at)
                    }
                };
                if ports.len() > 1 {
                    several = Some((owner, ports, at));
                    break;
                }
            }
            let Some((owner, ports, at)) = several else {
                continue;
            };
            let consequence = if d.kind == DestKind::Mirror {
                "the mirrored copy is dropped"
            } else {
                "those requests get 503 (NC)"
            };
            let first = ports
                .first()
                .and_then(|p| p.split(' ').next())
                .unwrap_or("80")
                .to_string();
            em.violation(
                obj.loc(d.host_node),
                Some(obj.resource()),
                format!(
                    "{} to `{}` in {} gives no port, and {owner} has several ({}): istiod then \
                     picks the cluster by the port the request arrived on, and where that is not \
                     one of these ports (a gateway listening on 443, a client calling another \
                     port) there is no cluster, so {consequence}",
                    d.kind.label(),
                    d.host,
                    obj.display(),
                    ports.join(", ")
                ),
                format!("name the Service port the route is for, e.g. `port: {{number: {first}}}`"),
            )
            .related(at, format!("ports of {owner}"));
        }
    }
}
