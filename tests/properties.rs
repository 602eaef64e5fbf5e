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

use std::fmt::Write as _;

use meshlint::finding::Finding;
use meshlint::lint::{self, Outcomes, Settings};
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

proptest! {
    // 64 cases keep the suite fast; `PROPTEST_CASES=5000 cargo test --release --test
    // properties` searches longer.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(64),
        max_shrink_iters: 1000,
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
