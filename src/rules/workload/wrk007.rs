//! WRK007 workload-services-port-conflict.

use std::collections::{HashMap, HashSet};

use crate::finding::Severity;
use crate::index::{Index, Meshed};
use crate::model::IntOrName;
use crate::model::istio::Protocol;
use crate::model::service::ServicePort;
use crate::rules::{Emitter, Rule, origin_note};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "WRK007",
    id: "workload-services-port-conflict",
    family: "workload",
    severity: Severity::Warning,
    summary: "Services selecting one workload give one container port different protocols or ports",
    docs: include_str!("wrk007.md"),
    check,
    mitigations: &[],
};

/// How a sidecar handles a port, by Istio protocol: HTTP/1.1, HTTP/2 (gRPC included), TLS
/// (HTTPS included: passed through), plain TCP (Mongo, Redis and MySQL filters are off by
/// default), UDP (not proxied).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Http,
    Http2,
    Tls,
    Tcp,
}

impl Class {
    fn of(p: Protocol) -> Option<Class> {
        Some(match p {
            Protocol::Http | Protocol::GrpcWeb => Class::Http,
            Protocol::Http2 | Protocol::Grpc => Class::Http2,
            Protocol::Https | Protocol::Tls => Class::Tls,
            Protocol::Tcp | Protocol::Mongo | Protocol::Redis | Protocol::Mysql => Class::Tcp,
            Protocol::Udp | Protocol::Unsupported => return None,
        })
    }
    fn name(self) -> &'static str {
        match self {
            Class::Http => "HTTP",
            Class::Http2 => "HTTP/2",
            Class::Tls => "TLS",
            Class::Tcp => "TCP",
        }
    }
}

/// One Service port reaching a template.
struct Entry<'a, 'd, 's> {
    svc: usize,
    port: &'a ServicePort<'d, 's>,
    /// The container port it reaches in this template.
    container: i64,
    class: Option<Class>,
}

fn decl<'d, 's>(port: &ServicePort<'d, 's>) -> Node<'d, 's> {
    port.node
        .get("appProtocol")
        .or_else(|| port.node.get("name"))
        .or_else(|| port.node.get("port"))
        .unwrap_or(port.node)
}

fn target<'d, 's>(port: &ServicePort<'d, 's>) -> Node<'d, 's> {
    port.node
        .get("targetPort")
        .or_else(|| port.node.get("port"))
        .unwrap_or(port.node)
}

fn number<'d, 's>(port: &ServicePort<'d, 's>) -> Node<'d, 's> {
    port.node.get("port").unwrap_or(port.node)
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    if ix.services.len() < 2 {
        return;
    }
    let membership = ix.membership();
    // (kind, service a, service b, number) already reported.
    let mut seen: HashSet<(u8, usize, usize, i64)> = HashSet::new();
    for (t, tpl) in ix.templates.iter().enumerate() {
        let services = ix.template_services(t);
        if services.len() < 2 {
            continue;
        }
        let gateway = ix.is_gateway_template(t);
        let meshed = membership.of(t);
        if matches!(meshed, Some(Meshed::No | Meshed::Ambient)) {
            continue;
        }
        let mut entries: Vec<Entry<'_, '_, '_>> = Vec::new();
        for &s in services {
            let svc = &ix.services[s];
            if svc.multi_cluster {
                continue;
            }
            for port in &svc.ports {
                if port
                    .protocol
                    .is_some_and(|p| !p.eq_ignore_ascii_case("TCP"))
                {
                    continue; // UDP and SCTP are not proxied
                }
                if !port.port.is_some_and(|p| (1..=65535).contains(&p)) {
                    continue;
                }
                let container = match port.target {
                    Some(IntOrName::Int(n)) if (1..=65535).contains(&n) => n,
                    Some(IntOrName::Int(_)) => continue,
                    Some(IntOrName::Name(name)) => {
                        match ix.template_port_named(t, name) {
                            Some(n) => n,
                            None => continue, // WRK002's business
                        }
                    }
                    None => continue,
                };
                entries.push(Entry {
                    svc: s,
                    port,
                    container,
                    class: Class::of(Protocol::of_port(port)),
                });
            }
        }
        // Only entries on one container port (one Service port number on a gateway) can
        // conflict: pair within those buckets, in input order, not all with all.
        let bucket_key = |e: &Entry<'_, '_, '_>| {
            if gateway {
                e.port.port.unwrap_or_default()
            } else {
                e.container
            }
        };
        let mut buckets: HashMap<i64, Vec<usize>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            buckets.entry(bucket_key(e)).or_default().push(i);
        }
        for (j, b) in entries.iter().enumerate() {
            let earlier = buckets
                .get(&bucket_key(b))
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            for a in earlier.iter().take_while(|&&i| i < j).map(|&i| &entries[i]) {
                if a.svc == b.svc {
                    continue;
                }
                // Report on a Service written in a manifest rather than a synthesised one.
                let (a, b) = if ix.services[b.svc].obj.origin().is_some()
                    && ix.services[a.svc].obj.origin().is_none()
                {
                    (b, a)
                } else {
                    (a, b)
                };
                let key = |kind: u8, n: i64| (kind, a.svc.min(b.svc), a.svc.max(b.svc), n);
                let sa = &ix.services[a.svc];
                let sb = &ix.services[b.svc];
                let pa = a.port.port.unwrap_or_default();
                let pb = b.port.port.unwrap_or_default();
                if gateway {
                    // A Gateway server port is resolved through the Service port number to one
                    // container port (istiod `resolvePorts`): two Services disagreeing on it
                    // leave one of them without a listener.
                    if pa == pb && a.container != b.container && seen.insert(key(2, pa)) {
                        let f = em.violation(
                            sb.obj.loc(target(b.port)),
                            Some(sb.obj.resource()),
                            format!(
                                "{}{} maps port {pb} of the gateway pods of {} to container \
                                 port {}, but {}{} maps the same port to {}: istiod resolves a Gateway \
                                 server on port {pb} to one container port only, so the gateway \
                                 listens on one of them and traffic through the other Service \
                                 is refused",
                                sb.obj.display(),
                                origin_note(&sb.obj),
                                tpl.obj.display(),
                                b.container,
                                sa.obj.display(),
                                origin_note(&sa.obj),
                                a.container
                            ),
                            "give both Services the same targetPort for this port, or use \
                             different port numbers",
                        );
                        f.related(
                            sa.obj.loc(target(a.port)),
                            format!("{} maps port {pa} to {}", sa.obj.display(), a.container),
                        );
                        f.related(tpl.obj.loc(tpl.anchor()), "the gateway pods both select");
                    }
                    continue;
                }
                if a.container != b.container {
                    continue;
                }
                let cp = a.container;
                let conflict = match (a.class, b.class) {
                    (Some(x), Some(y)) if x != y => Some((x, y)),
                    _ => None,
                };
                if let Some((x, y)) = conflict {
                    if !seen.insert(key(0, cp)) {
                        continue;
                    }
                    let message = format!(
                        "{}{} port {} reaches container port {cp} of {} as {}, but {} port {} \
                         reaches the same container port as {}: the sidecar has one inbound \
                         listener per container port and uses one protocol for it, so the \
                         traffic of one of the Services is mishandled (HTTP treated as opaque \
                         TCP, or TCP bytes parsed as HTTP and reset)",
                        sb.obj.display(),
                        origin_note(&sb.obj),
                        b.port.display(),
                        tpl.obj.display(),
                        y.name(),
                        sa.obj.display(),
                        a.port.display(),
                        x.name()
                    );
                    let help = "declare the same protocol (port name prefix or appProtocol) in \
                                every Service that reaches this container port";
                    let f = match meshed {
                        None => em.unknown(
                            sb.obj.loc(decl(b.port)),
                            Some(sb.obj.resource()),
                            format!(
                                "{message} (if the pods get a sidecar: namespace {} is not in \
                                 the linted set)",
                                tpl.obj.namespace
                            ),
                            help,
                        ),
                        Some(_) => em.violation(
                            sb.obj.loc(decl(b.port)),
                            Some(sb.obj.resource()),
                            message,
                            help,
                        ),
                    };
                    f.related(
                        sa.obj.loc(decl(a.port)),
                        format!("{} declares {} here", sa.obj.display(), x.name()),
                    );
                    f.related(tpl.obj.loc(tpl.anchor()), "the pods both Services select");
                } else if pa != pb {
                    if !seen.insert(key(1, cp)) {
                        continue;
                    }
                    let message = format!(
                        "{}{} reaches container port {cp} of {} through port {pb}, but {} \
                         reaches the same container port through port {pa}: Istio expects \
                         Services that share a target port to use one port number, and settings \
                         keyed on the Service port (DestinationRule portLevelSettings, \
                         VirtualService port matches) then differ with the Service a client \
                         happens to use",
                        sb.obj.display(),
                        origin_note(&sb.obj),
                        tpl.obj.display(),
                        sa.obj.display()
                    );
                    let help = "use the same port number in both Services for this target port";
                    let f = match meshed {
                        None => em.unknown(
                            sb.obj.loc(number(b.port)),
                            Some(sb.obj.resource()),
                            format!(
                                "{message} (if the pods get a sidecar: namespace {} is not in \
                                 the linted set)",
                                tpl.obj.namespace
                            ),
                            help,
                        ),
                        Some(_) => em.violation(
                            sb.obj.loc(number(b.port)),
                            Some(sb.obj.resource()),
                            message,
                            help,
                        ),
                    };
                    f.related(
                        sa.obj.loc(number(a.port)),
                        format!("{} uses port {pa}", sa.obj.display()),
                    );
                    f.related(tpl.obj.loc(tpl.anchor()), "the pods both Services select");
                }
            }
        }
    }
}
