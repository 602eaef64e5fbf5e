//! Property tests over generated manifest sets (issue 6): structurally valid Services,
//! Deployments, Ingresses (GKE and ALB classes), Istio Gateways, VirtualServices and
//! DestinationRules with random names, namespaces, ports, labels and references drawn from small
//! pools (so that references often resolve and the cross-resource rules have something to say),
//! spread over a few files, some with CRLF line ends, some in flow style.
//!
//! Invariants:
//! * linting never panics, and every output format renders;
//! * the result is the same on a repeated run and on a one-thread rayon pool;
//! * every location (and related location) lies inside its file, on character boundaries;
//! * a finding about an object points into that object's document;
//! * adding an unrelated object (a ConfigMap in a fresh namespace) never removes a finding.
//!
//! Metamorphic properties (catalog §0.4), over the generated sets and over every fixture set
//! (see "Metamorphic properties" below):
//! * removing documents never adds an error, unless a removed document is a declared mitigation
//!   of that rule;
//! * a copy of a directory in a sibling directory (a second environment), edited or not,
//!   leaves the original's findings unchanged, and an unedited copy has the same findings;
//! * renaming or reordering files changes no finding except its path.

mod common;
use common::{Rng, fixtures_root, group_kind, metadata_field};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use meshlint::finding::{Finding, Location, Outcome, Severity};
use meshlint::lint::{self, Outcomes, Settings};
use meshlint::load::files;
use meshlint::report::{self, Format, Report};
use meshlint::source::{SourceFile, Sources};
use proptest::prelude::*;
use proptest::sample::select;

// ---------------------------------------------------------------------------------------------
// The model

const NAMESPACES: &[&str] = &["istio-system", "istio-ingress", "app", "shop", "default"];
const SERVICE_NAMES: &[&str] = &[
    "istio-ingressgateway",
    "istio-ingress",
    "web",
    "api",
    "grpc",
];
const GATEWAY_NAMES: &[&str] = &["web", "gw", "istio-ingressgateway", "public"];
const APPS: &[&str] = &["istio-ingressgateway", "istio-ingress", "web", "api"];
const ISTIO_LABELS: &[&str] = &["ingressgateway", "ingress", "eastwestgateway"];
const PORTS: &[u16] = &[80, 443, 8080, 8443, 15021, 50051, 9000];
const PORT_NAMES: &[&str] = &[
    "http",
    "http2",
    "https",
    "grpc",
    "status-port",
    "tcp",
    "tls",
];
const HOSTS: &[&str] = &["*", "app.example.com", "api.example.com", "*.example.com"];
const PROTOCOLS: &[&str] = &["HTTP", "HTTPS", "HTTP2", "GRPC", "TLS", "TCP"];
const IMAGES: &[&str] = &[
    "docker.io/istio/proxyv2:1.22.3",
    "auto",
    "gcr.io/endpoints-release/endpoints-runtime:1",
    "nginx:1.25",
];
const ESP_ARGS: &[&str] = &[
    "--http2_port=8002",
    "--backend=grpc://127.0.0.1:50051",
    "-P",
    "8002",
    "--listener_port=8080",
    "--ssl_port=8443",
];

#[derive(Clone, Debug)]
struct Labels {
    app: &'static str,
    istio: Option<&'static str>,
}

#[derive(Clone, Debug)]
struct Port {
    name: Option<&'static str>,
    port: u16,
    target: Option<u16>,
    app_protocol: Option<&'static str>,
}

#[derive(Clone, Debug)]
enum Obj {
    Service {
        name: &'static str,
        ns: Option<&'static str>,
        kind: &'static str,
        selector: Labels,
        ports: Vec<Port>,
        neg: bool,
        app_protocols: Vec<(&'static str, &'static str)>,
        nlb: bool,
        backend_config: Option<&'static str>,
        note: String,
    },
    Deployment {
        name: &'static str,
        ns: Option<&'static str>,
        labels: Labels,
        image: &'static str,
        args: Vec<&'static str>,
        ports: Vec<(u16, Option<&'static str>)>,
        probe: Option<(u16, &'static str, bool)>,
        readiness_gate: bool,
    },
    BackendConfig {
        name: &'static str,
        ns: Option<&'static str>,
        port: Option<u16>,
        path: Option<&'static str>,
        kind: Option<&'static str>,
    },
    /// Istio's mesh config (`ConfigMap istio-system/istio`).
    MeshConfig { trusted_proxies: Option<u8> },
    Ingress {
        name: &'static str,
        ns: Option<&'static str>,
        class: Class,
        target_type: Option<&'static str>,
        backends: Vec<(&'static str, Backend)>,
        hosts: Vec<&'static str>,
        tls: bool,
        ssl_redirect: bool,
    },
    Gateway {
        name: &'static str,
        ns: Option<&'static str>,
        selector: &'static str,
        servers: Vec<Server>,
    },
    VirtualService {
        name: &'static str,
        ns: Option<&'static str>,
        hosts: Vec<&'static str>,
        gateways: Vec<(Option<&'static str>, &'static str)>,
        routes: Vec<Route>,
    },
    DestinationRule {
        name: &'static str,
        ns: Option<&'static str>,
        host: &'static str,
        tls: Option<&'static str>,
    },
}

/// A route destination: Service, its namespace in the host (FQDN) or none (short name), port,
/// weight.
type Route = (&'static str, Option<&'static str>, Option<u16>, Option<i32>);

#[derive(Clone, Copy, Debug)]
enum Class {
    Default,
    GceClassName,
    GceAnnotation,
    AlbClassName,
    AlbAnnotation,
    Nginx,
}

#[derive(Clone, Copy, Debug)]
enum Backend {
    Number(u16),
    Name(&'static str),
}

#[derive(Clone, Debug)]
struct Server {
    number: u16,
    name: &'static str,
    protocol: &'static str,
    hosts: Vec<&'static str>,
    tls: Option<&'static str>,
}

/// A manifest set: objects, each with the file it goes to, plus per-file style choices.
#[derive(Clone, Debug)]
struct Set {
    objects: Vec<(usize, bool, Obj)>,
    files: Vec<FileStyle>,
}

#[derive(Clone, Copy, Debug)]
struct FileStyle {
    crlf: bool,
    /// Start with `---`, and end documents with `...` sometimes.
    markers: bool,
}

// ---------------------------------------------------------------------------------------------
// Strategies

fn ns() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![9 => select(NAMESPACES).prop_map(Some), 1 => Just(None)]
}

fn labels() -> impl Strategy<Value = Labels> {
    (select(APPS), proptest::option::of(select(ISTIO_LABELS)))
        .prop_map(|(app, istio)| Labels { app, istio })
}

fn port_number() -> impl Strategy<Value = u16> {
    prop_oneof![8 => select(PORTS), 1 => 1u16..=65535]
}

fn port() -> impl Strategy<Value = Port> {
    (
        proptest::option::of(select(PORT_NAMES)),
        port_number(),
        proptest::option::of(port_number()),
        proptest::option::of(select(
            &["http", "https", "h2c", "grpc", "kubernetes.io/h2c"][..],
        )),
    )
        .prop_map(|(name, port, target, app_protocol)| Port {
            name,
            port,
            target,
            app_protocol,
        })
}

/// Text with a bit of everything: non-ASCII, quotes, backslashes, a tab.
fn note() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        select(
            &[
                "a", "é", "漢", "🙂", "\"", "\\", "\t", " ", "#", ": ", "---", "%",
            ][..],
        ),
        0..8,
    )
    .prop_map(|v| v.concat())
}

fn service() -> impl Strategy<Value = Obj> {
    (
        select(SERVICE_NAMES),
        ns(),
        select(&["ClusterIP", "NodePort", "LoadBalancer"][..]),
        labels(),
        proptest::collection::vec(port(), 1..4),
        any::<bool>(),
        app_protocols(),
        any::<bool>(),
        proptest::option::of(select(SERVICE_NAMES)),
        note(),
    )
        .prop_map(
            |(name, ns, kind, selector, ports, neg, app_protocols, nlb, backend_config, note)| {
                Obj::Service {
                    name,
                    ns,
                    kind,
                    selector,
                    ports,
                    neg,
                    app_protocols,
                    nlb,
                    backend_config,
                    note,
                }
            },
        )
}

fn app_protocols() -> impl Strategy<Value = Vec<(&'static str, &'static str)>> {
    proptest::collection::vec(
        (select(PORT_NAMES), select(&["HTTP", "HTTPS", "HTTP2"][..])),
        0..3,
    )
}

fn probe() -> impl Strategy<Value = Option<(u16, &'static str, bool)>> {
    proptest::option::of((
        port_number(),
        select(&["/healthz/ready", "/", "/ready"][..]),
        any::<bool>(),
    ))
}

fn deployment() -> impl Strategy<Value = Obj> {
    (
        select(SERVICE_NAMES),
        ns(),
        labels(),
        select(IMAGES),
        proptest::collection::vec(select(ESP_ARGS), 0..3),
        proptest::collection::vec(
            (port_number(), proptest::option::of(select(PORT_NAMES))),
            0..4,
        ),
        probe(),
        any::<bool>(),
    )
        .prop_map(
            |(name, ns, labels, image, args, ports, probe, readiness_gate)| Obj::Deployment {
                name,
                ns,
                labels,
                image,
                args,
                ports,
                probe,
                readiness_gate,
            },
        )
}

fn backend_config() -> impl Strategy<Value = Obj> {
    (
        select(SERVICE_NAMES),
        ns(),
        proptest::option::of(select(&[15021u16, 80, 8080, 443][..])),
        proptest::option::of(select(&["/healthz/ready", "/"][..])),
        proptest::option::of(select(&["HTTP", "HTTPS", "HTTP2"][..])),
    )
        .prop_map(|(name, ns, port, path, kind)| Obj::BackendConfig {
            name,
            ns,
            port,
            path,
            kind,
        })
}

/// The objects of one ingress-gateway installation, wired together (selector, ports, backend
/// references), each field still random: the cross-resource rules see whole chains.
fn stack() -> impl Strategy<Value = Vec<Obj>> {
    (
        (
            ns(),
            select(&["istio-ingressgateway", "istio-ingress"][..]),
            select(ISTIO_LABELS),
            select(&["ClusterIP", "NodePort", "LoadBalancer"][..]),
        ),
        (
            any::<[bool; 3]>(),
            app_protocols(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
        (
            select(CLASSES),
            proptest::option::of(select(&["instance", "ip"][..])),
            prop_oneof![
                select(&[80u16, 443][..]).prop_map(Backend::Number),
                select(&["http2", "https"][..]).prop_map(Backend::Name),
            ],
            any::<bool>(),
            proptest::collection::vec(select(HOSTS), 0..2),
        ),
        (
            proptest::collection::vec(server(), 1..3),
            select(GATEWAY_NAMES),
        ),
        (
            proptest::option::of((
                select(&[15021u16, 8080, 8443][..]),
                select(&["/healthz/ready", "/"][..]),
                any::<bool>(),
            )),
            any::<bool>(),
            select(&IMAGES[..2]),
        ),
        proptest::option::of(backend_config()),
    )
        .prop_map(
            |(
                (ns, name, istio, kind),
                (keep, app_protocols, neg, with_bc, nlb),
                (class, target_type, backend, tls, hosts),
                (servers, gw_name),
                (probe, readiness_gate, image),
                bc,
            )| {
                let labels = Labels {
                    app: name,
                    istio: Some(istio),
                };
                let base = [
                    ("status-port", 15021u16, 15021u16),
                    ("http2", 80, 8080),
                    ("https", 443, 8443),
                ];
                let mut ports: Vec<Port> = base
                    .iter()
                    .zip(keep)
                    .filter(|(_, k)| *k)
                    .map(|(&(n, p, t), _)| Port {
                        name: Some(n),
                        port: p,
                        target: Some(t),
                        app_protocol: None,
                    })
                    .collect();
                if ports.is_empty() {
                    ports.push(Port {
                        name: Some("http2"),
                        port: 80,
                        target: Some(8080),
                        app_protocol: None,
                    });
                }
                let mut objs = vec![
                    Obj::Deployment {
                        name,
                        ns,
                        labels: labels.clone(),
                        image,
                        args: vec![],
                        ports: base.iter().map(|&(n, _, t)| (t, Some(n))).collect(),
                        probe,
                        readiness_gate,
                    },
                    Obj::Service {
                        name,
                        ns,
                        kind,
                        selector: labels,
                        ports,
                        neg,
                        app_protocols,
                        nlb,
                        backend_config: with_bc.then_some(name),
                        note: String::new(),
                    },
                    Obj::Gateway {
                        name: gw_name,
                        ns,
                        selector: istio,
                        servers,
                    },
                    Obj::Ingress {
                        name: "web",
                        ns,
                        class,
                        target_type,
                        backends: vec![(name, backend)],
                        hosts,
                        tls,
                        ssl_redirect: false,
                    },
                    Obj::VirtualService {
                        name: "web",
                        ns: Some("app"),
                        hosts: vec!["app.example.com"],
                        gateways: vec![(ns.or(Some("default")), gw_name)],
                        routes: vec![("web", Some("app"), Some(80), None)],
                    },
                ];
                if let Some(Obj::BackendConfig {
                    port, path, kind, ..
                }) = bc
                {
                    objs.push(Obj::BackendConfig {
                        name,
                        ns,
                        port,
                        path,
                        kind,
                    });
                }
                objs
            },
        )
}

fn backend() -> impl Strategy<Value = Backend> {
    prop_oneof![
        port_number().prop_map(Backend::Number),
        select(PORT_NAMES).prop_map(Backend::Name),
    ]
}

const CLASSES: &[Class] = &[
    Class::Default,
    Class::GceClassName,
    Class::GceAnnotation,
    Class::AlbClassName,
    Class::AlbAnnotation,
    Class::Nginx,
];

fn ingress() -> impl Strategy<Value = Obj> {
    (
        select(&["web", "public", "alb", "gclb"][..]),
        ns(),
        select(CLASSES),
        proptest::option::of(select(&["instance", "ip"][..])),
        proptest::collection::vec((select(SERVICE_NAMES), backend()), 1..3),
        proptest::collection::vec(select(HOSTS), 0..3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(name, ns, class, target_type, backends, hosts, tls, ssl_redirect)| Obj::Ingress {
                name,
                ns,
                class,
                target_type,
                backends,
                hosts,
                tls,
                ssl_redirect,
            },
        )
}

fn server() -> impl Strategy<Value = Server> {
    (
        port_number(),
        select(PORT_NAMES),
        select(PROTOCOLS),
        proptest::collection::vec(select(HOSTS), 1..3),
        proptest::option::of(select(
            &["SIMPLE", "PASSTHROUGH", "MUTUAL", "ISTIO_MUTUAL"][..],
        )),
    )
        .prop_map(|(number, name, protocol, hosts, tls)| Server {
            number,
            name,
            protocol,
            hosts,
            tls,
        })
}

fn gateway() -> impl Strategy<Value = Obj> {
    (
        select(GATEWAY_NAMES),
        ns(),
        select(ISTIO_LABELS),
        proptest::collection::vec(server(), 1..4),
    )
        .prop_map(|(name, ns, selector, servers)| Obj::Gateway {
            name,
            ns,
            selector,
            servers,
        })
}

fn virtual_service() -> impl Strategy<Value = Obj> {
    (
        select(&["web", "api", "routes"][..]),
        ns(),
        proptest::collection::vec(select(HOSTS), 1..3),
        proptest::collection::vec(
            (
                proptest::option::of(select(NAMESPACES)),
                select(GATEWAY_NAMES),
            ),
            0..3,
        ),
        proptest::collection::vec(
            (
                select(SERVICE_NAMES),
                proptest::option::of(select(NAMESPACES)),
                proptest::option::of(port_number()),
                proptest::option::of(-5i32..=100),
            ),
            1..4,
        ),
    )
        .prop_map(|(name, ns, hosts, gateways, routes)| Obj::VirtualService {
            name,
            ns,
            hosts,
            gateways,
            routes,
        })
}

fn destination_rule() -> impl Strategy<Value = Obj> {
    (
        select(&["web", "api", "tls"][..]),
        ns(),
        select(SERVICE_NAMES),
        proptest::option::of(select(&["DISABLE", "SIMPLE", "ISTIO_MUTUAL", "MUTUAL"][..])),
    )
        .prop_map(|(name, ns, host, tls)| Obj::DestinationRule {
            name,
            ns,
            host,
            tls,
        })
}

fn object() -> impl Strategy<Value = Obj> {
    prop_oneof![
        3 => service(),
        2 => deployment(),
        3 => ingress(),
        2 => gateway(),
        2 => virtual_service(),
        1 => destination_rule(),
        1 => backend_config(),
        1 => proptest::option::of(0u8..3)
            .prop_map(|trusted_proxies| Obj::MeshConfig { trusted_proxies }),
    ]
}

fn manifest_set() -> impl Strategy<Value = Set> {
    (
        proptest::collection::vec((any::<bool>(), any::<bool>()), 1..4),
        proptest::collection::vec(stack(), 0..3),
        proptest::collection::vec(object(), 0..10),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<bool>()), 30),
    )
        .prop_map(|(files, stacks, objects, places)| {
            let files: Vec<FileStyle> = files
                .into_iter()
                .map(|(crlf, markers)| FileStyle { crlf, markers })
                .collect();
            let n = files.len();
            let all = stacks.into_iter().flatten().chain(objects);
            Set {
                objects: all
                    .zip(places.into_iter().cycle())
                    .map(|(o, (i, flow))| (i.index(n), flow, o))
                    .collect(),
                files,
            }
        })
}

// ---------------------------------------------------------------------------------------------
// Rendering to YAML

/// A double-quoted YAML string.
fn q(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `metadata:` with name, namespace, labels and annotations; flow style or block style.
fn metadata(
    name: &str,
    ns: Option<&str>,
    labels: &[(&str, String)],
    annotations: &[(&str, String)],
    flow: bool,
) -> String {
    let map = |entries: &[(&str, String)]| -> String {
        let inner: Vec<String> = entries.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        format!("{{{}}}", inner.join(", "))
    };
    if flow {
        let mut parts = vec![format!("name: {name}")];
        if let Some(ns) = ns {
            parts.push(format!("namespace: {ns}"));
        }
        if !labels.is_empty() {
            parts.push(format!("labels: {}", map(labels)));
        }
        if !annotations.is_empty() {
            parts.push(format!("annotations: {}", map(annotations)));
        }
        return format!("metadata: {{{}}}\n", parts.join(", "));
    }
    let mut s = format!("metadata:\n  name: {name}\n");
    if let Some(ns) = ns {
        let _ = writeln!(s, "  namespace: {ns}");
    }
    for (key, entries) in [("labels", labels), ("annotations", annotations)] {
        if !entries.is_empty() {
            let _ = writeln!(s, "  {key}:");
            for (k, v) in entries {
                let _ = writeln!(s, "    {k}: {v}");
            }
        }
    }
    s
}

fn label_pairs(l: &Labels) -> Vec<(&'static str, String)> {
    let mut v = vec![("app", l.app.to_string())];
    if let Some(i) = l.istio {
        v.push(("istio", i.to_string()));
    }
    v
}

fn render(o: &Obj, flow: bool) -> String {
    match o {
        Obj::Service {
            name,
            ns,
            kind,
            selector,
            ports,
            neg,
            app_protocols,
            nlb,
            backend_config,
            note,
        } => {
            let mut ann = vec![("example.com/note", q(note))];
            if *neg {
                ann.push(("cloud.google.com/neg", "'{\"ingress\": true}'".into()));
            }
            if !app_protocols.is_empty() {
                let json: Vec<String> = app_protocols
                    .iter()
                    .map(|(p, v)| format!("\"{p}\":\"{v}\""))
                    .collect();
                ann.push((
                    "cloud.google.com/app-protocols",
                    format!("'{{{}}}'", json.join(",")),
                ));
            }
            if let Some(bc) = backend_config {
                ann.push((
                    "cloud.google.com/backend-config",
                    format!("'{{\"default\": \"{bc}\"}}'"),
                ));
            }
            if *nlb {
                ann.push((
                    "service.beta.kubernetes.io/aws-load-balancer-type",
                    "external".into(),
                ));
                ann.push((
                    "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type",
                    "ip".into(),
                ));
            }
            let mut s = String::from("apiVersion: v1\nkind: Service\n");
            s.push_str(&metadata(name, *ns, &label_pairs(selector), &ann, flow));
            let _ = writeln!(s, "spec:\n  type: {kind}\n  selector:");
            for (k, v) in label_pairs(selector) {
                let _ = writeln!(s, "    {k}: {v}");
            }
            s.push_str("  ports:\n");
            for p in ports {
                if flow {
                    let mut parts = vec![format!("port: {}", p.port)];
                    if let Some(n) = p.name {
                        parts.push(format!("name: {n}"));
                    }
                    if let Some(t) = p.target {
                        parts.push(format!("targetPort: {t}"));
                    }
                    if let Some(a) = p.app_protocol {
                        parts.push(format!("appProtocol: {a}"));
                    }
                    let _ = writeln!(s, "  - {{{}}}", parts.join(", "));
                } else {
                    let _ = writeln!(s, "  - port: {}", p.port);
                    if let Some(n) = p.name {
                        let _ = writeln!(s, "    name: {n}");
                    }
                    if let Some(t) = p.target {
                        let _ = writeln!(s, "    targetPort: {t}");
                    }
                    if let Some(a) = p.app_protocol {
                        let _ = writeln!(s, "    appProtocol: {a}");
                    }
                }
            }
            s
        }
        Obj::Deployment {
            name,
            ns,
            labels,
            image,
            args,
            ports,
            probe,
            readiness_gate,
        } => {
            let mut s = String::from("apiVersion: apps/v1\nkind: Deployment\n");
            s.push_str(&metadata(name, *ns, &[], &[], flow));
            s.push_str("spec:\n  selector:\n    matchLabels:\n");
            for (k, v) in label_pairs(labels) {
                let _ = writeln!(s, "      {k}: {v}");
            }
            s.push_str("  template:\n    metadata:\n      labels:\n");
            for (k, v) in label_pairs(labels) {
                let _ = writeln!(s, "        {k}: {v}");
            }
            s.push_str("    spec:\n");
            if *readiness_gate {
                s.push_str(
                    "      readinessGates:\n      - conditionType: cloud.google.com/load-balancer-neg-ready\n",
                );
            }
            let _ = writeln!(
                s,
                "      containers:\n      - name: istio-proxy\n        image: {image}"
            );
            if !args.is_empty() {
                let args: Vec<String> = args.iter().map(|a| q(a)).collect();
                let _ = writeln!(s, "        args: [{}]", args.join(", "));
            }
            if !ports.is_empty() {
                s.push_str("        ports:\n");
                for (p, n) in ports {
                    let _ = writeln!(s, "        - containerPort: {p}");
                    if let Some(n) = n {
                        let _ = writeln!(s, "          name: {n}");
                    }
                }
            }
            if let Some((port, path, liveness)) = probe {
                let which = if *liveness {
                    "livenessProbe"
                } else {
                    "readinessProbe"
                };
                let _ = write!(
                    s,
                    "        {which}:\n          httpGet:\n            path: {path}\n            port: {port}\n"
                );
            }
            s
        }
        Obj::BackendConfig {
            name,
            ns,
            port,
            path,
            kind,
        } => {
            let mut s = String::from("apiVersion: cloud.google.com/v1\nkind: BackendConfig\n");
            s.push_str(&metadata(name, *ns, &[], &[], flow));
            s.push_str("spec:\n  healthCheck:\n");
            if let Some(k) = kind {
                let _ = writeln!(s, "    type: {k}");
            }
            if let Some(p) = path {
                let _ = writeln!(s, "    requestPath: {p}");
            }
            match port {
                Some(p) => {
                    let _ = writeln!(s, "    port: {p}");
                }
                None => s.push_str("    checkIntervalSec: 5\n"),
            }
            s
        }
        Obj::MeshConfig { trusted_proxies } => {
            let mut s = String::from("apiVersion: v1\nkind: ConfigMap\n");
            s.push_str(&metadata("istio", Some("istio-system"), &[], &[], flow));
            s.push_str("data:\n  mesh: |\n    accessLogFile: /dev/stdout\n");
            if let Some(n) = trusted_proxies {
                let _ = write!(
                    s,
                    "    defaultConfig:\n      gatewayTopology:\n        numTrustedProxies: {n}\n"
                );
            }
            s
        }
        Obj::Ingress {
            name,
            ns,
            class,
            target_type,
            backends,
            hosts,
            tls,
            ssl_redirect,
        } => {
            let mut ann: Vec<(&str, String)> = Vec::new();
            match class {
                Class::GceAnnotation => ann.push(("kubernetes.io/ingress.class", "gce".into())),
                Class::AlbAnnotation => ann.push(("kubernetes.io/ingress.class", "alb".into())),
                _ => {}
            }
            if let Some(t) = target_type {
                ann.push(("alb.ingress.kubernetes.io/target-type", t.to_string()));
            }
            if *ssl_redirect {
                ann.push(("alb.ingress.kubernetes.io/ssl-redirect", "'443'".into()));
                ann.push((
                    "alb.ingress.kubernetes.io/listen-ports",
                    "'[{\"HTTP\": 80}, {\"HTTPS\": 443}]'".into(),
                ));
            }
            let mut s = String::from("apiVersion: networking.k8s.io/v1\nkind: Ingress\n");
            s.push_str(&metadata(name, *ns, &[], &ann, flow));
            s.push_str("spec:\n");
            match class {
                Class::GceClassName => s.push_str("  ingressClassName: gce\n"),
                Class::AlbClassName => s.push_str("  ingressClassName: alb\n"),
                Class::Nginx => s.push_str("  ingressClassName: nginx\n"),
                _ => {}
            }
            if *tls {
                s.push_str("  tls:\n  - secretName: cert\n");
            }
            let backend = |svc: &str, b: &Backend| match b {
                Backend::Number(n) => {
                    format!("{{service: {{name: {svc}, port: {{number: {n}}}}}}}")
                }
                Backend::Name(n) => format!("{{service: {{name: {svc}, port: {{name: {n}}}}}}}"),
            };
            let (first_svc, first) = &backends[0];
            let _ = writeln!(s, "  defaultBackend: {}", backend(first_svc, first));
            s.push_str("  rules:\n");
            for (i, (svc, b)) in backends.iter().enumerate() {
                match hosts.get(i).filter(|h| !h.starts_with('*')) {
                    Some(h) => {
                        let _ = writeln!(s, "  - host: {h}\n    http:");
                    }
                    None => s.push_str("  - http:\n"),
                }
                let _ = write!(
                    s,
                    "      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          \
                     service:\n            name: {svc}\n            port:\n"
                );
                match b {
                    Backend::Number(n) => {
                        let _ = writeln!(s, "              number: {n}");
                    }
                    Backend::Name(n) => {
                        let _ = writeln!(s, "              name: {n}");
                    }
                }
            }
            s
        }
        Obj::Gateway {
            name,
            ns,
            selector,
            servers,
        } => {
            let mut s = String::from("apiVersion: networking.istio.io/v1\nkind: Gateway\n");
            s.push_str(&metadata(name, *ns, &[], &[], flow));
            let _ = writeln!(s, "spec:\n  selector:\n    istio: {selector}\n  servers:");
            for sv in servers {
                let hosts: Vec<String> = sv.hosts.iter().map(|h| q(h)).collect();
                let _ = writeln!(
                    s,
                    "  - port:\n      number: {}\n      name: {}\n      protocol: {}\n    hosts: [{}]",
                    sv.number,
                    sv.name,
                    sv.protocol,
                    hosts.join(", ")
                );
                if let Some(mode) = sv.tls {
                    let _ = writeln!(
                        s,
                        "    tls:\n      mode: {mode}\n      credentialName: cert"
                    );
                }
            }
            s
        }
        Obj::VirtualService {
            name,
            ns,
            hosts,
            gateways,
            routes,
        } => {
            let mut s = String::from("apiVersion: networking.istio.io/v1\nkind: VirtualService\n");
            s.push_str(&metadata(name, *ns, &[], &[], flow));
            let hosts: Vec<String> = hosts.iter().map(|h| q(h)).collect();
            let _ = writeln!(s, "spec:\n  hosts: [{}]", hosts.join(", "));
            if !gateways.is_empty() {
                s.push_str("  gateways:\n");
                for (gns, g) in gateways {
                    match gns {
                        Some(n) => {
                            let _ = writeln!(s, "  - {n}/{g}");
                        }
                        None => {
                            let _ = writeln!(s, "  - {g}");
                        }
                    }
                }
            }
            s.push_str("  http:\n  - route:\n");
            for (svc, rns, port, weight) in routes {
                let host = match rns {
                    Some(n) => format!("{svc}.{n}.svc.cluster.local"),
                    None => svc.to_string(),
                };
                let _ = writeln!(s, "    - destination:\n        host: {host}");
                if let Some(p) = port {
                    let _ = writeln!(s, "        port: {{number: {p}}}");
                }
                if let Some(w) = weight {
                    let _ = writeln!(s, "      weight: {w}");
                }
            }
            s
        }
        Obj::DestinationRule {
            name,
            ns,
            host,
            tls,
        } => {
            let mut s = String::from("apiVersion: networking.istio.io/v1\nkind: DestinationRule\n");
            s.push_str(&metadata(name, *ns, &[], &[], flow));
            let _ = writeln!(s, "spec:\n  host: {host}");
            if let Some(mode) = tls {
                let _ = writeln!(s, "  trafficPolicy:\n    tls:\n      mode: {mode}");
            }
            s
        }
    }
}

fn identity(o: &Obj) -> (&'static str, &'static str, Option<&'static str>) {
    match o {
        Obj::Service { name, ns, .. } => ("Service", name, *ns),
        Obj::Deployment { name, ns, .. } => ("Deployment", name, *ns),
        Obj::Ingress { name, ns, .. } => ("Ingress", name, *ns),
        Obj::Gateway { name, ns, .. } => ("Gateway", name, *ns),
        Obj::VirtualService { name, ns, .. } => ("VirtualService", name, *ns),
        Obj::DestinationRule { name, ns, .. } => ("DestinationRule", name, *ns),
        Obj::BackendConfig { name, ns, .. } => ("BackendConfig", name, *ns),
        Obj::MeshConfig { .. } => ("ConfigMap", "istio", Some("istio-system")),
    }
}

/// Where each object's document lies: file index, kind, namespace, name, first and last line.
type Docs = Vec<(usize, String, String, String, u32, u32)>;

/// The set as files, and where each object's document is.
fn build(set: &Set, extra: Option<&str>) -> (Sources, Docs) {
    let mut texts: Vec<String> = vec![String::new(); set.files.len()];
    let mut docs = Docs::new();
    for (file, flow, o) in &set.objects {
        let style = set.files[*file];
        let text = &mut texts[*file];
        if !text.is_empty() || style.markers {
            text.push_str("---\n");
        }
        let start = text.matches('\n').count() as u32 + 1;
        let body = render(o, *flow);
        let end = start + body.matches('\n').count() as u32 - 1;
        text.push_str(&body);
        if style.markers {
            text.push_str("...\n");
        }
        let (kind, name, ns) = identity(o);
        docs.push((
            *file,
            kind.into(),
            ns.unwrap_or("default").into(),
            name.into(),
            start,
            end,
        ));
    }
    let mut sources = Sources::default();
    for (i, (text, style)) in texts.into_iter().zip(&set.files).enumerate() {
        let text = if style.crlf {
            text.replace('\n', "\r\n")
        } else {
            text
        };
        sources.add(SourceFile::new(format!("set/file{i}.yaml"), text));
    }
    if let Some(extra) = extra {
        sources.add(SourceFile::new("set/unrelated.yaml".into(), extra.into()));
    }
    (sources, docs)
}

// ---------------------------------------------------------------------------------------------
// Checks

/// Every output format, rendered into memory.
fn render_all(outcomes: &Outcomes, sources: &Sources) -> Vec<Vec<u8>> {
    let report = Report {
        findings: outcomes.findings.clone(),
        unknown: outcomes.unknown.clone(),
        show_unknown: true,
        files: sources.files.len(),
        objects: outcomes.objects,
        ..Report::default()
    };
    [
        Format::Human,
        Format::Json,
        Format::Concise,
        Format::Github,
        Format::Sarif,
    ]
    .into_iter()
    .map(|format| {
        let mut buf = Vec::new();
        report::render(format, &report, sources, &mut buf, false).expect("renders");
        buf
    })
    .collect()
}

fn check_locations(outcomes: &Outcomes, sources: &Sources, docs: &Docs) -> Result<(), String> {
    for f in outcomes.findings.iter().chain(&outcomes.unknown) {
        let locs = std::iter::once(f.location).chain(f.related.iter().map(|r| r.location));
        for loc in locs {
            let file = sources
                .files
                .get(loc.file.0 as usize)
                .ok_or_else(|| format!("{}: no file {:?}", f.code, loc.file))?;
            let (s, e) = (loc.span.start as usize, loc.span.end as usize);
            if s > e || e > file.text.len() {
                return Err(format!("{}: span {s}..{e} outside {}", f.code, file.path));
            }
            if !file.text.is_char_boundary(s) || !file.text.is_char_boundary(e) {
                return Err(format!("{}: span {s}..{e} splits a character", f.code));
            }
        }
        let Some(r) = &f.resource else { continue };
        let file = f.location.file.0 as usize;
        let line = sources.files[file].line_col(f.location.span.start).line;
        let ns = r.namespace.as_deref().unwrap_or("default");
        let candidates: Vec<_> = docs
            .iter()
            .filter(|d| d.1 == r.kind && d.2 == ns && d.3 == r.name)
            .collect();
        if candidates.is_empty() {
            // Not one of the generated objects (nothing here synthesises any): a bug.
            return Err(format!("{} names unknown {r:?}", f.code));
        }
        if !candidates
            .iter()
            .any(|d| d.0 == file && d.4 <= line && line <= d.5)
        {
            return Err(format!(
                "{} about {} {}/{} points at {}:{line}, outside its document(s) {:?}",
                f.code,
                r.kind,
                ns,
                r.name,
                sources.files[file].path,
                candidates
                    .iter()
                    .map(|d| (sources.files[d.0].path.as_str(), d.4, d.5))
                    .collect::<Vec<_>>()
            ));
        }
    }
    Ok(())
}

fn key(f: &Finding) -> String {
    format!(
        "{} {:?} {:?} {} {:?}",
        f.code, f.location, f.resource, f.message, f.related
    )
}

fn one_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool")
        .install(f)
}

/// A fixed seed, so that CI runs the same cases every time (no flaky runs); set
/// `PROPTEST_SEED=N` (and `PROPTEST_CASES`) to explore other sets.
fn seed() -> proptest::test_runner::RngSeed {
    proptest::test_runner::RngSeed::Fixed(
        std::env::var("PROPTEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x6d65_7368),
    )
}

proptest! {
    // 64 cases keep the suite fast; `PROPTEST_CASES=5000 cargo test --release --test
    // properties` searches longer.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(64),
        max_shrink_iters: 1000,
        rng_seed: seed(),
        ..ProptestConfig::default()
    })]

    #[test]
    fn linting_generated_sets_keeps_its_invariants(set in manifest_set()) {
        let settings = Settings::default();
        let (sources, docs) = build(&set, None);
        let first = lint::run(&sources, &settings);
        let rendered = render_all(&first, &sources);

        // Deterministic: again, and on one thread.
        let again = lint::run(&sources, &settings);
        prop_assert_eq!(&first.findings, &again.findings);
        prop_assert_eq!(&first.unknown, &again.unknown);
        prop_assert_eq!(first.objects, again.objects);
        let single = one_thread(|| lint::run(&sources, &settings));
        prop_assert_eq!(&first.findings, &single.findings);
        prop_assert_eq!(&first.unknown, &single.unknown);
        prop_assert!(rendered == render_all(&single, &sources), "rendering differs");

        // Valid input: no YAML findings; every generated object is seen.
        for f in &first.findings {
            prop_assert!(!f.code.starts_with("YAML"), "{:?}", f);
        }
        prop_assert_eq!(first.objects, set.objects.len());

        if let Err(e) = check_locations(&first, &sources, &docs) {
            prop_assert!(false, "{}\n{}", e, sources.files.iter().map(|f| format!("# {}\n{}", f.path, f.text)).collect::<String>());
        }

        // An unrelated object never removes a finding (nor an undecided one).
        let extra = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unrelated\n  \
                     namespace: zz-unrelated-ns\ndata:\n  a: b\n";
        let (more_sources, _) = build(&set, Some(extra));
        let more = lint::run(&more_sources, &settings);
        for (before, after) in [(&first.findings, &more.findings), (&first.unknown, &more.unknown)] {
            let after: Vec<String> = after.iter().map(key).collect();
            for f in before {
                prop_assert!(after.contains(&key(f)), "lost after adding a ConfigMap: {:?}", f);
            }
        }
    }
}

/// The generator reaches the rules: over a fixed sample of sets, several rules fire. (Guards
/// against a generator that silently stops producing anything the rules care about.)
#[test]
fn generated_sets_exercise_the_rules() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(Default::default(), &[7; 32]),
    );
    let mut codes = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let set = manifest_set().new_tree(&mut runner).unwrap().current();
        let (sources, _) = build(&set, None);
        let out = lint::run(&sources, &Settings::default());
        codes.extend(out.findings.iter().chain(&out.unknown).map(|f| f.code));
    }
    assert!(codes.len() >= 4, "only {codes:?}");
}

// ---------------------------------------------------------------------------------------------
// Metamorphic properties (catalog §0.4: worlds, open-world references)
//
// Over the generated sets and over every fixture set under `fixtures/<CODE>/` (each file alone,
// each subfolder as a set) plus `fixtures/examples`:
// * removing documents never adds an error-level violation, unless a removed document is a
//   declared mitigation of that rule (tests/subsets.rs tries every subset of the fixtures);
// * copying a directory to a sibling directory (a second environment) leaves the original's
//   violations unchanged and gives the copy the same ones at its own paths; a copy with one
//   object edited still leaves the original's violations unchanged;
// * renaming files (within their directory) or reordering them changes no finding (violation
//   or unknown) except its path.

/// Rule codes → the `group/Kind`s whose removal may legitimately add that rule's finding.
fn mitigations(code: &str) -> &'static [&'static str] {
    meshlint::rules::registry::find(code).map_or(&[], |r| r.mitigations)
}

/// A set as `(path, text)` pairs.
type Files = Vec<(String, String)>;

fn sources_of(files: &[(String, String)]) -> Sources {
    let mut sources = Sources::default();
    for (path, text) in files {
        sources.add(SourceFile::new(path.clone(), text.clone()));
    }
    sources
}

/// A generated set's files, under `dir` (which ends with `/`) instead of `set/`.
fn files_of(set: &Set, dir: &str) -> Files {
    let (sources, _) = build(set, None);
    sources
        .files
        .into_iter()
        .map(|f| (f.path.replacen("set/", dir, 1), f.text))
        .collect()
}

/// The files of a fixture set, as tests/fixtures.rs reads them.
fn load(path: &Path) -> Files {
    let found = files::discover(&[path.to_string_lossy().into_owned()], "<stdin>");
    assert!(found.errors.is_empty(), "{:?}", found.errors);
    let root = format!("{}/", env!("CARGO_MANIFEST_DIR"));
    found
        .inputs
        .into_iter()
        .map(|i| {
            (
                i.path.strip_prefix(&root).unwrap_or(&i.path).to_string(),
                i.text,
            )
        })
        .collect()
}

/// Every lint set of the fixtures ([`common::fixture_set_paths`]), then `fixtures/examples`;
/// with names relative to `fixtures/`.
fn fixture_sets() -> Vec<(String, Files)> {
    let root = fixtures_root();
    let mut sets = common::fixture_set_paths();
    sets.push(root.join("examples"));
    assert!(sets.len() > 12, "fixtures not found");
    sets.into_iter()
        .map(|p| {
            let name = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, load(&p))
        })
        .collect()
}

/// A fixture set's files under `envs/dev/`: a single file by its name, a folder's files by
/// their path inside it.
fn as_env(files: &Files, dev: &str) -> Files {
    let prefix = common_dir(files);
    files
        .iter()
        .map(|(p, t)| (format!("{dev}{}", &p[prefix.len()..]), t.clone()))
        .collect()
}

/// The longest directory prefix (ending with `/`) shared by all paths.
fn common_dir(files: &Files) -> String {
    let dir = |p: &str| {
        p.rfind('/')
            .map(|i| p[..=i].to_string())
            .unwrap_or_default()
    };
    let mut prefix = dir(&files[0].0);
    for (p, _) in files {
        while !p.starts_with(&prefix) {
            prefix = dir(&prefix[..prefix.len() - 1]);
        }
    }
    prefix
}

// --- Documents ---------------------------------------------------------------------------------

/// A document: the lines between lines that are exactly `---`, holding something other than
/// blank lines and comments.
struct Doc {
    file: usize,
    lines: std::ops::Range<usize>,
    /// `group/Kind` from its top-level `apiVersion:` and `kind:` (core group as `/Kind`).
    group_kind: String,
    /// `group/Kind namespace/name` as far as a tiny scan finds them: two documents of one file
    /// with the same identity are one object (the later wins), removed together.
    identity: String,
}

struct Split {
    paths: Vec<String>,
    lines: Vec<Vec<String>>,
    docs: Vec<Doc>,
}

fn split(files: &Files) -> Split {
    let mut out = Split {
        paths: Vec::new(),
        lines: Vec::new(),
        docs: Vec::new(),
    };
    for (fi, (path, text)) in files.iter().enumerate() {
        let lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
        let mut start = 0;
        for i in 0..=lines.len() {
            if i == lines.len() || lines[i].trim_end_matches(['\n', '\r']) == "---" {
                let body = &lines[start..i];
                let content = body.iter().any(|l| {
                    let t = l.trim();
                    !t.is_empty() && !t.starts_with('#')
                });
                if content {
                    out.docs.push(Doc {
                        file: fi,
                        lines: start..i,
                        group_kind: group_kind(body),
                        identity: format!(
                            "{} {}/{}",
                            group_kind(body),
                            metadata_field(body, "namespace"),
                            metadata_field(body, "name")
                        ),
                    });
                }
                start = i + 1;
            }
        }
        out.paths.push(path.clone());
        out.lines.push(lines);
    }
    out
}

impl Split {
    /// The files with the documents where `keep` is false replaced by empty lines (so that the
    /// others keep their lines and columns).
    fn files(&self, keep: &[bool]) -> Files {
        let mut lines = self.lines.clone();
        for (d, _) in self.docs.iter().zip(keep).filter(|(_, k)| !**k) {
            for l in &mut lines[d.file][d.lines.clone()] {
                let end = l.len() - l.trim_end_matches(['\n', '\r']).len();
                *l = l[l.len() - end..].to_string();
            }
        }
        self.paths
            .iter()
            .cloned()
            .zip(lines.into_iter().map(|l| l.concat()))
            .collect()
    }

    fn describe(&self, i: usize) -> String {
        let d = &self.docs[i];
        format!(
            "{} at {}:{}",
            d.group_kind,
            self.paths[d.file],
            d.lines.start + 1
        )
    }
}

// --- Finding keys ------------------------------------------------------------------------------

fn position(sources: &Sources, loc: Location) -> (String, u32, u32) {
    let file = sources.get(loc.file);
    let lc = file.line_col(loc.span.start);
    (file.path.clone(), lc.line, lc.column)
}

/// Error-level violations as (code, path, line, column), with their messages.
fn errors(files: &Files) -> BTreeMap<(&'static str, String, u32, u32), String> {
    let sources = sources_of(files);
    lint::run(&sources, &Settings::default())
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error && f.outcome == Outcome::Violation)
        .map(|f| {
            let (path, line, col) = position(&sources, f.location);
            // The help rides along: a near miss says "did you mean" there.
            (
                (f.code, path, line, col),
                format!("{}\n{}", f.message, f.help),
            )
        })
        .collect()
}

/// A finding as compared by the copy and rename properties.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    code: &'static str,
    path: String,
    line: u32,
    col: u32,
    outcome: Outcome,
    severity: Severity,
    message: String,
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut message: String = self.message.chars().take(600).collect();
        if message.len() < self.message.len() {
            message.push('…');
        }
        let unknown = if self.outcome == Outcome::Unknown {
            " (unknown)"
        } else {
            ""
        };
        write!(
            f,
            "{}{unknown} at {}:{}:{}: {message}",
            self.code, self.path, self.line, self.col
        )
    }
}

/// Violations (and, with `unknown`, undecided findings), sorted.
fn keys(files: &Files, unknown: bool) -> Vec<Key> {
    let sources = sources_of(files);
    let out = lint::run(&sources, &Settings::default());
    let undecided = if unknown { &out.unknown[..] } else { &[] };
    let mut keys: Vec<Key> = out
        .findings
        .iter()
        .chain(undecided)
        .map(|f| {
            let (path, line, col) = position(&sources, f.location);
            Key {
                code: f.code,
                path,
                line,
                col,
                outcome: f.outcome,
                severity: f.severity,
                message: sort_alternatives(&f.message),
            }
        })
        .collect();
    keys.sort();
    keys
}

/// `-` lines for keys only in `want`, `+` lines for keys only in `got` (as multisets).
fn diff(want: &[Key], got: &[Key]) -> Vec<String> {
    let mut count: BTreeMap<&Key, i32> = BTreeMap::new();
    for k in want {
        *count.entry(k).or_default() -= 1;
    }
    for k in got {
        *count.entry(k).or_default() += 1;
    }
    count
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|(k, n)| format!("{}{k}", if n > 0 { "+" } else { "-" }))
        .collect()
}

// --- The properties ----------------------------------------------------------------------------

/// (a) Removing the documents where `remove` is true adds no error-level violation, except one
/// of a rule that declares a removed document's kind a mitigation.
fn check_removal(files: &Files, remove: &[bool]) -> Result<(), Vec<String>> {
    let split = split(files);
    let mut keep: Vec<bool> = (0..split.docs.len())
        .map(|i| !remove.get(i).copied().unwrap_or(false))
        .collect();
    // Removing one definition of an object that its file defines twice would expose the other
    // (the later one wins), and removing one of two alternative definitions in different
    // files chooses the other (an edit, not a removal): remove the object, that is all of
    // its definitions.
    for i in 0..keep.len() {
        if !keep[i] {
            for (j, d) in split.docs.iter().enumerate() {
                if d.identity == split.docs[i].identity {
                    keep[j] = false;
                }
            }
        }
    }
    if !keep.contains(&false) {
        return Ok(());
    }
    let removed: Vec<usize> = (0..keep.len()).filter(|&i| !keep[i]).collect();
    let kinds: BTreeSet<&str> = removed
        .iter()
        .map(|&i| split.docs[i].group_kind.as_str())
        .collect();
    let whole = errors(&split.files(&vec![true; keep.len()]));
    let part = errors(&split.files(&keep));
    // Catalog §0.4 case 2: when the removed documents include the very object a reference
    // names, and what remains is a near miss of it (a typo, the same name in another
    // namespace), the error is the policy's own claim about the smaller set, not a defect.
    let targets: Vec<String> = removed
        .iter()
        .map(|&i| {
            let d = &split.docs[i];
            let (gk, nsname) = d.identity.split_once(' ').unwrap_or(("", ""));
            let kind = gk.rsplit('/').next().unwrap_or(gk);
            let nsname = match nsname.strip_prefix('/') {
                Some(name) => format!("default/{name}"),
                None => nsname.to_string(),
            };
            format!("{kind} {nsname}")
        })
        .collect();
    let names = |message: &str, t: &str| {
        message.match_indices(t).any(|(i, _)| {
            message[i + t.len()..]
                .chars()
                .next()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
        })
    };
    // The same holds when a removed document was a reference that made the near miss
    // ineligible (a hint never names an object another working reference uses, §0.4):
    // without that reference, the sibling becomes the near miss.
    let removed_referrer = kinds.iter().any(|k| {
        matches!(
            *k,
            "networking.istio.io/VirtualService"
                | "networking.istio.io/Gateway"
                | "networking.k8s.io/Ingress"
        )
    });
    let near_miss_of_removed = |message: &str| {
        (message.contains("(the set has `") || message.contains("did you mean"))
            && (removed_referrer || targets.iter().any(|t| names(message, t)))
    };
    let added: Vec<String> = part
        .into_iter()
        .filter(|(k, message)| {
            !whole.contains_key(k)
                && !mitigations(k.0).iter().any(|m| kinds.contains(m))
                && !near_miss_of_removed(message)
        })
        .map(|((code, path, line, col), message)| {
            let message: String = message.chars().take(400).collect();
            format!("+{code} at {path}:{line}:{col}: {message}")
        })
        .collect();
    if added.is_empty() {
        return Ok(());
    }
    let removed: Vec<String> = removed.iter().map(|&i| split.describe(i)).collect();
    let mut out = vec![format!("removing [{}]", removed.join("; "))];
    out.extend(added);
    Err(out)
}

/// Edit sites in a copy: (file, line, what to change). A port-like number, or a label-like
/// value.
fn edit_sites(files: &Files) -> Vec<(usize, usize)> {
    let mut sites = Vec::new();
    for (fi, (_, text)) in files.iter().enumerate() {
        for (li, line) in text.split_inclusive('\n').enumerate() {
            if edit_line(line).is_some() {
                sites.push((fi, li));
            }
        }
    }
    sites
}

/// The line with its first port number (`port`, `number`, `containerPort`, `targetPort`) moved
/// by one, or else its first `app`/`istio`/`version` label value changed.
fn edit_line(line: &str) -> Option<String> {
    for key in ["port: ", "number: ", "containerPort: ", "targetPort: "] {
        let Some(i) = line.find(key) else { continue };
        let before = &line[..i];
        if before.ends_with(|c: char| c.is_ascii_alphanumeric()) && key == "port: " {
            continue; // e.g. `targetPort: ` handled by its own key
        }
        let rest = &line[i + key.len()..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 || digits > 5 {
            continue;
        }
        let n: u32 = rest[..digits].parse().ok()?;
        let m = if n >= 65535 { n - 1 } else { n + 1 };
        return Some(format!("{before}{key}{m}{}", &rest[digits..]));
    }
    for key in ["app: ", "istio: ", "version: "] {
        let Some(i) = line.find(key) else { continue };
        let before = &line[..i];
        if before.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
            continue;
        }
        let rest = &line[i + key.len()..];
        let len = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                .len();
        if len == 0 || !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        return Some(format!("{before}{key}{}-x{}", &rest[..len], &rest[len..]));
    }
    None
}

/// (b) `dev` (files under `envs/dev/`) copied to `envs/prod/`: the original keeps its
/// violations, and the copy gets the same ones; with `edit`, one line of the copy is edited
/// (see [`edit_line`]) and only the original is compared.
fn check_copy(dev: &Files, edit: Option<usize>) -> Result<(), Vec<String>> {
    let before = keys(dev, false);
    let mut prod: Files = dev
        .iter()
        .map(|(p, t)| (p.replacen("envs/dev/", "envs/prod/", 1), t.clone()))
        .collect();
    let mut edited = None;
    let sites = edit_sites(&prod);
    if let Some(e) = edit
        && !sites.is_empty()
    {
        let (fi, li) = sites[e % sites.len()];
        let mut lines: Vec<String> = prod[fi].1.split_inclusive('\n').map(String::from).collect();
        let old = lines[li].clone();
        lines[li] = edit_line(&old).expect("an edit site");
        prod[fi].1 = lines.concat();
        edited = Some(format!(
            "a copy in envs/prod/ with {}:{} edited: {:?} → {:?}",
            prod[fi].0,
            li + 1,
            old.trim(),
            lines[li].trim()
        ));
    }
    let both: Files = dev.iter().cloned().chain(prod.iter().cloned()).collect();
    let after = keys(&both, false);
    let (orig, copy): (Vec<Key>, Vec<Key>) = after
        .into_iter()
        .partition(|k| k.path.starts_with("envs/dev/"));
    let mut out = diff(&before, &orig);
    if edited.is_none() {
        let mut want: Vec<Key> = before
            .iter()
            .map(|k| Key {
                path: k.path.replacen("envs/dev/", "envs/prod/", 1),
                message: k.message.replace("envs/dev/", "envs/prod/"),
                ..k.clone()
            })
            .collect();
        want.sort();
        out.extend(diff(&want, &copy).into_iter().map(|l| format!("copy: {l}")));
    }
    if out.is_empty() {
        return Ok(());
    }
    let what = edited.unwrap_or_else(|| "a plain copy in envs/prod/".to_string());
    out.insert(0, format!("adding {what}"));
    Err(out)
}

/// The engine names alternatives by path, in path order: after a rename the same lists come
/// in another order. Sorts the items of each `(only with the alternative A, B, not with C, D:`
/// note so that only their names are compared.
fn sort_alternatives(s: &str) -> String {
    const HEAD: &str = "(only with the alternative ";
    const TAIL: &str = ": undecided until one of them is chosen)";
    let (Some(a), Some(b)) = (s.find(HEAD), s.find(TAIL)) else {
        return s.to_string();
    };
    if b < a {
        return s.to_string();
    }
    let inner = &s[a + HEAD.len()..b];
    let Some((with, without)) = inner.split_once(", not with ") else {
        return s.to_string();
    };
    let sorted = |list: &str| {
        let mut v: Vec<&str> = list.split(", ").collect();
        v.sort_unstable();
        v.join(", ")
    };
    format!(
        "{}{HEAD}{}, not with {}{}",
        &s[..a],
        sorted(with),
        sorted(without),
        &s[b..]
    )
}

/// (c) Files renamed within their directories (to `renamed-<names[i]>.<ext>`) and reordered
/// (`order`): every finding, violation or unknown, is the same at its new path.
fn check_rename(files: &Files, names: &[usize], order: &[usize]) -> Result<(), Vec<String>> {
    let renamed: Vec<String> = files
        .iter()
        .zip(names)
        .map(|((p, _), n)| {
            let (dir, base) = p.rsplit_once('/').unwrap_or(("", p));
            let ext = base.rsplit_once('.').map(|(_, e)| e).unwrap_or("yaml");
            let dir = if dir.is_empty() && p.starts_with('/') {
                "/"
            } else {
                dir
            };
            if dir.is_empty() {
                format!("renamed-{n:02}.{ext}")
            } else if dir.ends_with('/') {
                format!("{dir}renamed-{n:02}.{ext}")
            } else {
                format!("{dir}/renamed-{n:02}.{ext}")
            }
        })
        .collect();
    let map = |s: &str| -> String {
        // Old paths to placeholders first, so that no replacement hits another's result.
        let mut idx: Vec<usize> = (0..files.len()).collect();
        idx.sort_by_key(|&i| std::cmp::Reverse(files[i].0.len()));
        let mut s = s.to_string();
        for &i in &idx {
            s = s.replace(&files[i].0, &format!("\u{0}{i}\u{0}"));
        }
        for (i, new) in renamed.iter().enumerate() {
            s = s.replace(&format!("\u{0}{i}\u{0}"), new);
        }
        sort_alternatives(&s)
    };
    let mut want: Vec<Key> = keys(files, true)
        .into_iter()
        .map(|k| Key {
            path: map(&k.path),
            message: map(&k.message),
            ..k
        })
        .collect();
    want.sort();
    let moved: Files = order
        .iter()
        .map(|&i| (renamed[i].clone(), files[i].1.clone()))
        .collect();
    let got = keys(&moved, true);
    let out = diff(&want, &got);
    if out.is_empty() {
        return Ok(());
    }
    let mut head = vec![format!(
        "renaming {} and linting in the order {:?}",
        files
            .iter()
            .zip(&renamed)
            .map(|((o, _), n)| format!("{o} → {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        order
    )];
    head.extend(out);
    Err(head)
}

/// Runs `check` on every fixture set and fails with a summary of at most ~30 lines.
fn over_fixtures(what: &str, check: impl Fn(&Files, &mut Rng) -> Result<(), Vec<String>>) {
    let mut failures: Vec<(String, Vec<String>)> = Vec::new();
    let sets = fixture_sets();
    let total = sets.len();
    for (i, (name, files)) in sets.into_iter().enumerate() {
        let mut rng = Rng(0x6d65_7368 ^ (i as u64).wrapping_mul(0x1000_0000_01b3));
        if let Err(lines) = check(&files, &mut rng) {
            failures.push((name, lines));
        }
    }
    if failures.is_empty() {
        return;
    }
    let mut by_code: BTreeMap<String, usize> = BTreeMap::new();
    for (_, lines) in &failures {
        let codes: BTreeSet<String> = lines
            .iter()
            .filter_map(|l| {
                let l = l.strip_prefix("copy: ").unwrap_or(l);
                let l = l.strip_prefix(['+', '-'])?;
                Some(l.split([' ', '(']).next()?.to_string())
            })
            .collect();
        for c in codes {
            *by_code.entry(c).or_default() += 1;
        }
    }
    let mut report = format!(
        "{what}: {} of {total} fixture sets fail; sets by rule: {}\n",
        failures.len(),
        by_code
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // At most ~30 lines: each failing set with its first two differences.
    let mut printed = 0;
    for (name, lines) in &failures {
        if printed >= 30 {
            report.push_str("… and more sets\n");
            break;
        }
        report.push_str(&format!("{name}: {}\n", lines[0]));
        for l in lines.iter().skip(1).take(2) {
            report.push_str(&format!("    {l}\n"));
        }
        if lines.len() > 3 {
            report.push_str(&format!("    … and {} more\n", lines.len() - 3));
        }
        printed += lines.len().min(4);
    }
    panic!("\n{report}");
}

#[test]
fn fixtures_removing_documents_never_adds_an_error() {
    over_fixtures("removing documents", |files, rng| {
        let n = split(files).docs.len();
        for _ in 0..4 {
            let p = [25u64, 50, 75][rng.below(3)];
            let mut remove: Vec<bool> = (0..n).map(|_| rng.next() % 100 < p).collect();
            let Err(mut lines) = check_removal(files, &remove) else {
                continue;
            };
            // Shrink: put documents back while the removal still adds an error.
            for i in 0..n {
                if remove[i] {
                    remove[i] = false;
                    match check_removal(files, &remove) {
                        Err(l) => lines = l,
                        Ok(()) => remove[i] = true,
                    }
                }
            }
            return Err(lines);
        }
        Ok(())
    });
}

#[test]
fn fixtures_copied_to_a_second_environment_keep_their_findings() {
    over_fixtures("copying to a sibling environment", |files, rng| {
        let dev = as_env(files, "envs/dev/");
        check_copy(&dev, None)?;
        let sites = edit_sites(&dev).len();
        for _ in 0..2.min(sites) {
            check_copy(&dev, Some(rng.below(sites)))?;
        }
        Ok(())
    });
}

#[test]
fn fixtures_renamed_or_reordered_keep_their_findings() {
    over_fixtures("renaming and reordering", |files, rng| {
        for _ in 0..2 {
            let names = rng.shuffled(files.len());
            let order = rng.shuffled(files.len());
            check_rename(files, &names, &order)?;
        }
        Ok(())
    });
}

#[test]
fn metamorphic_helpers_work() {
    let files: Files = vec![
        ("fx/R/set/a.yaml".into(), "a: 1\n".into()),
        ("fx/R/set/sub/b.yaml".into(), "b: 1\n".into()),
    ];
    assert_eq!(common_dir(&files), "fx/R/set/");
    assert_eq!(as_env(&files, "envs/dev/")[1].0, "envs/dev/sub/b.yaml");
    assert_eq!(common_dir(&files[..1].to_vec()), "fx/R/set/");
    assert_eq!(
        edit_line("  - containerPort: 8080\n").as_deref(),
        Some("  - containerPort: 8081\n")
    );
    assert_eq!(
        edit_line("  - {port: 80, targetPort: 8080}\r\n").as_deref(),
        Some("  - {port: 81, targetPort: 8080}\r\n")
    );
    assert_eq!(
        edit_line("    istio: ingressgateway # gw\n").as_deref(),
        Some("    istio: ingressgateway-x # gw\n")
    );
    assert_eq!(edit_line("  name: http\n"), None);
    let s = split(&vec![(
        "a.yaml".into(),
        "# c\n---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\n  \
         namespace: istio-system\n  labels:\n    name: no\n---\napiVersion: v1\nkind: ConfigMap\n\
         metadata: {name: cm, namespace: x, labels: {a: b}}\n"
            .into(),
    )]);
    let kinds: Vec<&str> = s.docs.iter().map(|d| d.identity.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "networking.istio.io/Gateway istio-system/gw",
            "/ConfigMap x/cm"
        ]
    );
    assert_eq!(
        s.files(&[false, true])[0].1,
        "# c\n---\n\n\n\n\n\n\n\n---\napiVersion: v1\nkind: ConfigMap\n\
         metadata: {name: cm, namespace: x, labels: {a: b}}\n"
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(48),
        max_shrink_iters: 500,
        rng_seed: seed(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn removing_generated_documents_never_adds_an_error(
        set in manifest_set(),
        remove in proptest::collection::vec(any::<bool>(), 32),
    ) {
        let files = files_of(&set, "set/");
        if let Err(lines) = check_removal(&files, &remove) {
            prop_assert!(false, "{}\n{}", lines.join("\n"), dump(&files));
        }
    }

    #[test]
    fn generated_sets_copied_to_a_second_environment_keep_their_findings(
        set in manifest_set(),
        edit in proptest::option::of(any::<usize>()),
    ) {
        let dev = files_of(&set, "envs/dev/");
        if let Err(lines) = check_copy(&dev, edit) {
            prop_assert!(false, "{}\n{}", lines.join("\n"), dump(&dev));
        }
    }

    #[test]
    fn renaming_or_reordering_generated_files_keeps_their_findings(
        (set, names, order) in manifest_set().prop_flat_map(|set| {
            let n = set.files.len();
            let ids: Vec<usize> = (0..n).collect();
            (Just(set), Just(ids.clone()).prop_shuffle(), Just(ids).prop_shuffle())
        }),
    ) {
        let files = files_of(&set, "set/");
        if let Err(lines) = check_rename(&files, &names, &order) {
            prop_assert!(false, "{}\n{}", lines.join("\n"), dump(&files));
        }
    }
}

fn dump(files: &Files) -> String {
    files.iter().map(|(p, t)| format!("# {p}\n{t}")).collect()
}
