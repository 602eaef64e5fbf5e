//! H2001 h2c-port-with-http-probe.

use crate::finding::Severity;
use crate::index::Index;
use crate::model::esp;
use crate::rules::{Emitter, Rule};

pub static RULE: Rule = Rule {
    code: "H2001",
    id: "h2c-port-with-http-probe",
    family: "grpc-h2",
    severity: Severity::Error,
    summary: "An HTTP/1.1 httpGet probe targets a port that only speaks plaintext HTTP/2 (h2c)",
    docs: include_str!("h2001.md"),
    check,
    mitigations: &[],
};

/// Is this Service port plaintext HTTP/2 only (appProtocol h2c/grpc, or an Istio `grpc` name)?
fn h2c_only(app_protocol: Option<&str>, name: Option<&str>) -> Option<&'static str> {
    match app_protocol {
        Some("kubernetes.io/h2c") => return Some("appProtocol kubernetes.io/h2c"),
        Some(p) if p.eq_ignore_ascii_case("grpc") => return Some("appProtocol grpc"),
        Some(_) => return None,
        None => {}
    }
    let name = name?.to_ascii_lowercase();
    if name.starts_with("grpc-web") {
        return None;
    }
    (name == "grpc" || name.starts_with("grpc-")).then_some("Istio port name grpc")
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    for (t, tpl) in ix.templates.iter().enumerate() {
        for c in tpl.containers() {
            let esp = if esp::is_esp_v1(&c) {
                esp::http2_port(&c)
            } else {
                None
            };
            for probe in c.probes() {
                if probe.handler != "httpGet" {
                    continue;
                }
                let (Some(r), Some(port_node)) = (probe.port, probe.port_node) else {
                    continue;
                };
                let Some(n) = c.resolve(r) else { continue };
                let at = tpl.obj.loc(port_node);
                let container = c.name.unwrap_or("?");
                if let Some((p, arg)) = esp
                    && p == n
                {
                    let f = em.violation(
                        at,
                        Some(tpl.obj.resource()),
                        format!(
                            "{} of container `{container}` sends an HTTP/1.1 GET to port {n}, ESP's \
                             `--http2_port`, where NGINX accepts only plaintext HTTP/2: the probe \
                             always fails, the pod never becomes Ready and the Service gets no \
                             endpoints",
                            probe.which
                        ),
                        "give ESP an HTTP/1.1 port (`--http_port=8001`) and probe `/healthz` there, \
                         keeping gRPC on the HTTP/2 port; or use a `tcpSocket` or `grpc` probe",
                    );
                    f.related(tpl.obj.loc(arg), "HTTP/2-only port declared here");
                    continue;
                }
                // Over TLS the probe negotiates HTTP/1.1 by ALPN: only plaintext ports are
                // h2c-only (FR5: the HTTPS probe on ESP's --ssl_port worked).
                let https = probe
                    .handler_node
                    .str_at("scheme")
                    .is_some_and(|s| s.eq_ignore_ascii_case("HTTPS"));
                if https {
                    continue;
                }
                // A Service port that carries only h2c / gRPC to this container port.
                let hit = ix.template_services(t).iter().find_map(|&s| {
                    let svc = &ix.services[s];
                    svc.ports.iter().find_map(|sp| {
                        let why = h2c_only(sp.app_protocol, sp.name)?;
                        let reaches = ix
                            .target_ports(s, sp)
                            .into_iter()
                            .any(|(tt, p)| tt == t && p == Some(n));
                        reaches.then_some((s, sp.node, why))
                    })
                });
                if let Some((s, node, why)) = hit {
                    let svc = &ix.services[s];
                    let f = em.violation(
                        at,
                        Some(tpl.obj.resource()),
                        format!(
                            "{} of container `{container}` sends an HTTP/1.1 GET to port {n}, which \
                             {} serves as HTTP/2 only ({why}): a server that speaks only h2c or \
                             gRPC rejects the probe and the pod never becomes Ready",
                            probe.which,
                            svc.obj.display()
                        ),
                        "probe a separate HTTP/1.1 port, or use a `grpc` probe (grpc.health.v1) or \
                         a `tcpSocket` probe",
                    );
                    f.severity(Severity::Warning);
                    f.related(svc.obj.loc(node), "HTTP/2-only Service port");
                }
            }
        }
    }
}
