//! The health check a load balancer runs against one backend: the one health-check model of
//! the catalog (§2 shared model for GKE Ingress / MultiClusterIngress, §3 for the ALB), shared
//! by GKE003–GKE006, GKE014, ALB005, ALB006, ALB008, H2001 and H2005.
//!
//! GKE (ingress-gce `pkg/translator/healthchecks.go`, `translator.go getHTTPProbe`): the
//! controller starts from the default check of the backend mode, applies the settings of a
//! readinessProbe it can infer, then overwrites every field the BackendConfig's
//! `spec.healthCheck` sets (setting `port` switches to `USE_FIXED_PORT`). Each field of
//! [`HealthCheck`] records which of the three layers set it.
//!
//! ALB (aws-load-balancer-controller `model_build_target_group.go`): annotations of the
//! Service, then of the Ingress (the Service wins), over the controller defaults.

use super::{Index, LbBackend, LbKind, ObjId, Resolved};
use crate::model::IntOrName;
use crate::model::annotations;
use crate::model::gke::backend_config_name;
use crate::model::ingress::CLASS_ANNOTATION;
use crate::model::workload::Container;
use crate::yaml::Node;

/// Which layer set a health-check field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum HcSource {
    /// The controller default.
    Default,
    /// GKE: inferred from a container's readinessProbe.
    Probe,
    /// GKE: `BackendConfig.spec.healthCheck`.
    BackendConfig,
    /// ALB: an `alb.ingress.kubernetes.io/healthcheck-*` annotation (Service or Ingress).
    Annotation,
}

/// One health-check field: its value, the layer that set it and the node that did.
#[derive(Clone, Copy, Debug)]
pub struct Setting<'d, 's, T> {
    pub value: T,
    pub source: HcSource,
    /// The field that set the value. For defaults: the field the default derives from when
    /// there is one (the app-protocols annotation for the type), else `None`.
    pub node: Option<Node<'d, 's>>,
}

impl<'d, 's, T> Setting<'d, 's, T> {
    fn default(value: T) -> Self {
        Setting {
            value,
            source: HcSource::Default,
            node: None,
        }
    }
    fn set(value: T, source: HcSource, node: Node<'d, 's>) -> Self {
        Setting {
            value,
            source,
            node: Some(node),
        }
    }
}

/// Where the endpoints of a backend are, which decides the serving port and GKE's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointMode {
    /// Pod IPs: GKE container-native load balancing (NEG), ALB `ip` targets. The serving port
    /// is the resolved targetPort.
    Pod,
    /// Node IPs: GKE instance groups, ALB `instance` targets. The serving port is the nodePort.
    Node,
    /// Cannot be told from the manifests: GKE Service without a `cloud.google.com/neg`
    /// annotation (GKE adds it on VPC-native clusters), unparsable annotation, or an ALB
    /// IngressClassParams outside the set.
    Unknown,
}

/// The port a health check probes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HcPort<'d> {
    /// GKE `USE_SERVING_PORT`, ALB `traffic-port`: the port traffic goes to
    /// (see [`HealthCheck::serving_ports`]).
    Serving,
    /// A fixed number: GKE BackendConfig `port` (`USE_FIXED_PORT`), ALB numeric
    /// `healthcheck-port`.
    Number(i64),
    /// ALB: a Service port name; the controller uses its nodePort (`instance`) or its
    /// integer targetPort (`ip`).
    Named(&'d str),
}

/// How the BackendConfig of a GKE backend's Service port resolved (§2 shared model).
#[derive(Clone, Debug)]
pub enum BcBinding<'d, 's> {
    /// No backend-config annotation entry applies to this port.
    None,
    /// The annotation is not valid JSON (GKE008 reports it).
    Invalid { annotation: Node<'d, 's> },
    /// The named BackendConfig is in the set.
    Found {
        id: ObjId,
        name: String,
        /// The annotation value that named it.
        annotation: Node<'d, 's>,
        /// `spec.healthCheck`, when set.
        health_check: Option<Node<'d, 's>>,
    },
    /// The named BackendConfig is not in the set. `missing` follows §0.4: true when the set
    /// should hold it (GKE008 reports it), false when it is simply outside the set.
    Unresolved {
        name: String,
        annotation: Node<'d, 's>,
        missing: bool,
    },
}

/// Why ingress-gce cannot use a container's readinessProbe as the health check (GKE014's
/// conditions (a)–(e), in the controller's order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeMismatch<'d> {
    /// (a) not an `httpGet` probe (tcpSocket, exec, grpc).
    NotHttpGet,
    /// (b) `httpGet.host` is set, or headers other than a single `Host`.
    HostOrHeaders,
    /// (c) the probe scheme is not the one the app protocol needs (HTTP↔HTTP, HTTPS and
    /// HTTP2↔HTTPS).
    Scheme {
        probe: &'d str,
        needed: &'static str,
    },
    /// (d) the container declares no port matching the Service targetPort.
    NoServingContainerPort,
    /// (e) the probe's port is not that container port.
    ProbePortDiffers,
}

/// A container with a readinessProbe behind the backend, and whether ingress-gce can use it.
#[derive(Clone, Copy, Debug)]
pub struct ProbeCandidate<'d, 's> {
    /// Index into [`Index::templates`].
    pub template: usize,
    pub container: Container<'d, 's>,
    /// The `readinessProbe` mapping.
    pub probe: Node<'d, 's>,
    /// `None` when the probe is usable.
    pub mismatch: Option<ProbeMismatch<'d>>,
}

/// Whether the GKE health check is inferred from a readinessProbe.
#[derive(Clone, Debug)]
pub enum ProbeInference<'d, 's> {
    /// The first usable probe (template order, then container order).
    Inferred(ProbeCandidate<'d, 's>),
    /// The pods are in the set but no readinessProbe is usable; `candidates` are the
    /// containers that have one, each with its first failing condition.
    NotInferable {
        candidates: Vec<ProbeCandidate<'d, 's>>,
    },
    /// The pods are not in the set (open world): cannot tell.
    Unknown,
    /// ALB backends: the controller never reads probes.
    NotApplicable,
}

/// The health check of one load-balancer backend.
#[derive(Clone, Debug)]
pub struct HealthCheck<'d, 's> {
    pub lb_kind: LbKind,
    /// Index into [`Index::services`].
    pub service: usize,
    /// Index into the Service's `ports`.
    pub service_port: usize,
    pub mode: EndpointMode,
    /// The field that decided the mode (NEG annotation, ingress class, target type), if any.
    pub mode_node: Option<Node<'d, 's>>,
    /// GKE: `HTTP`, `HTTPS` or `HTTP2` (the app protocol unless BackendConfig sets `type`).
    /// ALB: `HTTP` or `HTTPS`.
    pub protocol: Setting<'d, 's, &'d str>,
    /// The request path (`/` by default).
    pub path: Setting<'d, 's, String>,
    pub port: Setting<'d, 's, HcPort<'d>>,
    /// Serving port numbers of the pods: the resolved targetPorts, one per distinct value (the
    /// integer targetPort when no pod is in the set). Empty when nothing is known.
    pub endpoint_ports: Vec<i64>,
    /// The Service port's pinned `nodePort`.
    pub node_port: Option<i64>,
    /// Seconds; `None` when the value depends on an unknown mode.
    pub interval: Setting<'d, 's, Option<i64>>,
    pub timeout: Setting<'d, 's, Option<i64>>,
    pub healthy_threshold: Setting<'d, 's, Option<i64>>,
    pub unhealthy_threshold: Setting<'d, 's, Option<i64>>,
    /// ALB only: `success-codes` (HTTP codes, or gRPC codes for `GRPC` backends).
    pub success_codes: Option<Setting<'d, 's, &'d str>>,
    /// ALB only: `backend-protocol-version` is `GRPC`.
    pub grpc: bool,
    /// GKE only.
    pub backend_config: BcBinding<'d, 's>,
    pub probe: ProbeInference<'d, 's>,
}

impl<'d, 's> HealthCheck<'d, 's> {
    /// The layer that shaped the check: BackendConfig/annotation if they set any field, else
    /// the probe if one was inferred, else the defaults.
    pub fn source(&self) -> HcSource {
        [
            self.protocol.source,
            self.path.source,
            self.port.source,
            self.interval.source,
            self.timeout.source,
            self.healthy_threshold.source,
            self.unhealthy_threshold.source,
        ]
        .into_iter()
        .max()
        .unwrap_or(HcSource::Default)
    }

    /// The port numbers the serving port stands for in the current mode (empty when unknown):
    /// the resolved targetPorts for pod endpoints, the pinned nodePort for node endpoints.
    pub fn serving_ports(&self) -> Vec<i64> {
        match self.mode {
            EndpointMode::Pod => self.endpoint_ports.clone(),
            EndpointMode::Node => self.node_port.into_iter().collect(),
            EndpointMode::Unknown => Vec::new(),
        }
    }

    /// The BackendConfig's `spec.healthCheck.<key>` (GKE, when one resolved).
    pub fn backend_config_field(&self, key: &str) -> Option<Node<'d, 's>> {
        match &self.backend_config {
            BcBinding::Found {
                health_check: Some(hc),
                ..
            } => hc.get(key),
            _ => None,
        }
    }

    /// A short human description of the probed port, e.g. `the serving port (8080)`.
    pub fn describe_port(&self) -> String {
        match self.port.value {
            HcPort::Number(n) => format!("port {n}"),
            HcPort::Named(n) => format!("port `{n}`"),
            HcPort::Serving => {
                let list = |v: &[i64]| {
                    v.iter()
                        .map(|n| n.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                match self.mode {
                    EndpointMode::Pod if !self.endpoint_ports.is_empty() => {
                        format!("the serving port ({})", list(&self.endpoint_ports))
                    }
                    EndpointMode::Node => match self.node_port {
                        Some(n) => format!("the serving port (nodePort {n})"),
                        None => "the serving port (the nodePort)".into(),
                    },
                    EndpointMode::Unknown if !self.endpoint_ports.is_empty() => format!(
                        "the serving port ({} with NEG, else the nodePort)",
                        list(&self.endpoint_ports)
                    ),
                    _ => "the serving port".into(),
                }
            }
        }
    }
}

const GKE_NEG_CLASSES: &[&str] = &["gce-internal", "gce-regional-external"];
const ALB_PREFIX: &str = "alb.ingress.kubernetes.io/";

impl<'d, 's> Index<'d, 's> {
    /// The health check the load balancer runs against backend `b`; `None` when the backend's
    /// Service port did not resolve.
    pub fn lb_health_check(&self, b: &LbBackend<'d, 's>) -> Option<HealthCheck<'d, 's>> {
        let (s, _) = self.backend_target(b)?;
        let service_port = b.port?;
        if b.kind.is_gke() {
            Some(self.gke_health_check(b, s, service_port))
        } else {
            Some(self.alb_health_check(b, s, service_port))
        }
    }

    /// The BackendConfig bound to port `port` of Service (or MultiClusterService) `s`, looked
    /// up in the Service's namespace.
    pub fn backend_config_binding(&self, s: usize, port: usize) -> BcBinding<'d, 's> {
        let svc = &self.services[s];
        let Some(p) = svc.ports.get(port) else {
            return BcBinding::None;
        };
        match backend_config_name(svc, p) {
            None => BcBinding::None,
            Some(Err(annotation)) => BcBinding::Invalid { annotation },
            Some(Ok((name, annotation))) => {
                match self.resolve(
                    "cloud.google.com",
                    "BackendConfig",
                    svc.obj.namespace,
                    &name,
                ) {
                    Resolved::Found(id) => BcBinding::Found {
                        id,
                        health_check: self.objects[id].spec().and_then(|sp| sp.get("healthCheck")),
                        name,
                        annotation,
                    },
                    Resolved::Missing { .. } => BcBinding::Unresolved {
                        name,
                        annotation,
                        missing: true,
                    },
                    Resolved::Unknown | Resolved::External => BcBinding::Unresolved {
                        name,
                        annotation,
                        missing: false,
                    },
                }
            }
        }
    }

    /// The resolved targetPort numbers of Service port `port` over the selected templates
    /// (distinct, in order); the integer targetPort itself when no template is in the set.
    fn endpoint_ports(&self, s: usize, port: usize) -> Vec<i64> {
        let Some(p) = self.services[s].ports.get(port) else {
            return Vec::new();
        };
        let mut out: Vec<i64> = Vec::new();
        let resolved = self.target_ports(s, p);
        if resolved.is_empty() {
            if let Some(IntOrName::Int(i)) = p.target {
                out.push(i);
            }
            return out;
        }
        for (_, n) in resolved {
            if let Some(n) = n
                && !out.contains(&n)
            {
                out.push(n);
            }
        }
        out
    }

    /// Readiness probes behind Service port `port` that ingress-gce could turn into the
    /// health check for app protocol `ap` (ingress-gce `getHTTPProbe`).
    pub fn probe_inference(&self, s: usize, port: usize, ap: &str) -> ProbeInference<'d, 's> {
        let svc = &self.services[s];
        let Some(p) = svc.ports.get(port) else {
            return ProbeInference::Unknown;
        };
        let templates = self.service_templates(s);
        if templates.is_empty() {
            return if self.absent_is_missing() {
                ProbeInference::NotInferable {
                    candidates: Vec::new(),
                }
            } else {
                ProbeInference::Unknown
            };
        }
        let needed: &'static str = if ap == "HTTP" { "HTTP" } else { "HTTPS" };
        let mut candidates = Vec::new();
        for &t in templates {
            for c in self.templates[t].containers() {
                let Some(probe) = c.node.get("readinessProbe") else {
                    continue;
                };
                let mismatch = probe_mismatch(&c, probe, p.target, needed);
                let cand = ProbeCandidate {
                    template: t,
                    container: c,
                    probe,
                    mismatch,
                };
                if mismatch.is_none() {
                    return ProbeInference::Inferred(cand);
                }
                candidates.push(cand);
            }
        }
        ProbeInference::NotInferable { candidates }
    }

    /// Where a GKE backend's endpoints are: pods for a MultiClusterIngress, an internal or
    /// regional class (always NEG), or a Service with `cloud.google.com/neg` `"ingress": true`;
    /// nodes (instance groups) when that annotation says `false`; unknown without it (GKE adds
    /// it on VPC-native clusters). Returns the deciding node.
    pub fn gke_endpoint_mode(
        &self,
        b: &LbBackend<'d, 's>,
        s: usize,
    ) -> (EndpointMode, Option<Node<'d, 's>>) {
        let svc = &self.services[s];
        let lb = &self.objects[b.lb];
        if b.kind == LbKind::GkeMci {
            (EndpointMode::Pod, None)
        } else if let Some((_, v)) = lb
            .annotation_entry(CLASS_ANNOTATION)
            .filter(|(_, v)| v.as_str().is_some_and(|c| GKE_NEG_CLASSES.contains(&c)))
        {
            (EndpointMode::Pod, Some(v))
        } else {
            match annotations::json(&svc.obj, "cloud.google.com/neg") {
                Some(a) => match &a.parsed {
                    Ok(v) => {
                        let on = v
                            .get("ingress")
                            .and_then(serde_json::Value::as_bool)
                            .unwrap_or(false);
                        let m = if on {
                            EndpointMode::Pod
                        } else {
                            EndpointMode::Node
                        };
                        (m, Some(a.value_node))
                    }
                    Err(_) => (EndpointMode::Unknown, Some(a.value_node)),
                },
                None => (EndpointMode::Unknown, None),
            }
        }
    }

    fn gke_health_check(
        &self,
        b: &LbBackend<'d, 's>,
        s: usize,
        service_port: usize,
    ) -> HealthCheck<'d, 's> {
        let svc = &self.services[s];
        let sp = &svc.ports[service_port];
        let (mode, mode_node) = self.gke_endpoint_mode(b, s);

        // Defaults (DefaultNEGHealthCheck / DefaultHealthCheck).
        let ap = self.app_protocol(b);
        let ap_name: &'d str = ap.map(|a| a.protocol).unwrap_or("HTTP");
        let mut protocol = Setting {
            value: ap_name,
            source: HcSource::Default,
            node: ap.and_then(|a| a.source),
        };
        let mut path = Setting::default("/".to_string());
        let mut port = Setting::default(HcPort::Serving);
        let by_mode = |pod: i64, node: i64| match mode {
            EndpointMode::Pod => Some(pod),
            EndpointMode::Node => Some(node),
            EndpointMode::Unknown => None,
        };
        let mut interval = Setting::default(by_mode(15, 60));
        let mut timeout = Setting::default(by_mode(15, 60));
        let mut healthy_threshold = Setting::default(Some(1));
        let mut unhealthy_threshold = Setting::default(by_mode(2, 10));

        // Readiness probe (ApplyProbeSettingsToHC).
        let probe = self.probe_inference(s, service_port, ap_name);
        if let ProbeInference::Inferred(c) = &probe {
            let get = c.probe.get("httpGet");
            let p = get.and_then(|g| g.get("path"));
            let text = p.and_then(|n| n.as_text()).unwrap_or("");
            let text = if text.starts_with('/') {
                text.to_string()
            } else {
                format!("/{text}")
            };
            path = Setting {
                value: text,
                source: HcSource::Probe,
                node: p.or(get),
            };
            let period = c.probe.get("periodSeconds");
            let period_v = period.and_then(|n| n.as_int()).unwrap_or(10);
            interval = Setting {
                value: match mode {
                    EndpointMode::Pod => Some(period_v),
                    EndpointMode::Node => Some(period_v + 60),
                    EndpointMode::Unknown => None,
                },
                source: HcSource::Probe,
                node: period.or(Some(c.probe)),
            };
            let t = c.probe.get("timeoutSeconds");
            timeout = Setting {
                value: Some(t.and_then(|n| n.as_int()).unwrap_or(1)),
                source: HcSource::Probe,
                node: t.or(Some(c.probe)),
            };
        }

        // BackendConfig (UpdateFromBackendConfig).
        let backend_config = self.backend_config_binding(s, service_port);
        if let BcBinding::Found {
            health_check: Some(hc),
            ..
        } = &backend_config
        {
            let int = |k: &str| hc.get(k).and_then(|n| Some((n.as_int()?, n)));
            if let Some((v, n)) = int("checkIntervalSec") {
                interval = Setting::set(Some(v), HcSource::BackendConfig, n);
            }
            if let Some((v, n)) = int("timeoutSec") {
                timeout = Setting::set(Some(v), HcSource::BackendConfig, n);
            }
            if let Some((v, n)) = int("healthyThreshold") {
                healthy_threshold = Setting::set(Some(v), HcSource::BackendConfig, n);
            }
            if let Some((v, n)) = int("unhealthyThreshold") {
                unhealthy_threshold = Setting::set(Some(v), HcSource::BackendConfig, n);
            }
            if let Some(n) = hc.get("type")
                && let Some(v) = n.as_text()
            {
                protocol = Setting::set(v, HcSource::BackendConfig, n);
            }
            if let Some(n) = hc.get("requestPath")
                && let Some(v) = n.as_text()
            {
                path = Setting::set(v.to_string(), HcSource::BackendConfig, n);
            }
            if let Some((v, n)) = int("port") {
                port = Setting::set(HcPort::Number(v), HcSource::BackendConfig, n);
            }
        }

        HealthCheck {
            lb_kind: b.kind,
            service: s,
            service_port,
            mode,
            mode_node,
            protocol,
            path,
            port,
            endpoint_ports: self.endpoint_ports(s, service_port),
            node_port: sp.node.get("nodePort").and_then(|n| n.as_int()),
            interval,
            timeout,
            healthy_threshold,
            unhealthy_threshold,
            success_codes: None,
            grpc: false,
            backend_config,
            probe,
        }
    }

    fn alb_health_check(
        &self,
        b: &LbBackend<'d, 's>,
        s: usize,
        service_port: usize,
    ) -> HealthCheck<'d, 's> {
        let svc = &self.services[s];
        let sp = &svc.ports[service_port];
        let lb = &self.objects[b.lb];
        // The Service's annotations win over the Ingress's.
        let ann = |suffix: &str| -> Option<(&'d str, Node<'d, 's>)> {
            let key = format!("{ALB_PREFIX}{suffix}");
            let (_, v) = svc
                .obj
                .annotation_entry(&key)
                .or_else(|| lb.annotation_entry(&key))?;
            Some((v.as_text()?, v))
        };

        let (mode, mode_node) = self.alb_endpoint_mode(b);
        let grpc =
            ann("backend-protocol-version").is_some_and(|(v, _)| v.eq_ignore_ascii_case("GRPC"));
        let backend_protocol = self.app_protocol(b);
        let protocol = match ann("healthcheck-protocol") {
            Some((v, n)) => Setting::set(v, HcSource::Annotation, n),
            None => Setting {
                value: backend_protocol.map(|a| a.protocol).unwrap_or("HTTP"),
                source: HcSource::Default,
                node: backend_protocol.and_then(|a| a.source),
            },
        };
        let path = match ann("healthcheck-path") {
            Some((v, n)) => Setting::set(v.to_string(), HcSource::Annotation, n),
            None => Setting::default(if grpc { "/AWS.ALB/healthcheck" } else { "/" }.to_string()),
        };
        let port = match ann("healthcheck-port") {
            Some(("traffic-port", n)) => Setting::set(HcPort::Serving, HcSource::Annotation, n),
            Some((v, n)) => {
                // The controller reads the annotation with strconv.Atoi (decimal), not YAML rules.
                let p = match v.trim().parse::<i64>().ok() {
                    Some(i) => HcPort::Number(i),
                    None => HcPort::Named(v),
                };
                Setting::set(p, HcSource::Annotation, n)
            }
            None => Setting::default(HcPort::Serving),
        };
        let int = |suffix: &str, default: i64| match ann(suffix) {
            Some((v, n)) => Setting::set(v.trim().parse::<i64>().ok(), HcSource::Annotation, n),
            None => Setting::default(Some(default)),
        };
        let success_codes = Some(match ann("success-codes") {
            Some((v, n)) => Setting::set(v, HcSource::Annotation, n),
            None => Setting::default(if grpc { "12" } else { "200" }),
        });
        HealthCheck {
            lb_kind: b.kind,
            service: s,
            service_port,
            mode,
            mode_node,
            protocol,
            path,
            port,
            endpoint_ports: self.endpoint_ports(s, service_port),
            node_port: sp.node.get("nodePort").and_then(|n| n.as_int()),
            interval: int("healthcheck-interval-seconds", 15),
            timeout: int("healthcheck-timeout-seconds", 5),
            healthy_threshold: int("healthy-threshold-count", 2),
            unhealthy_threshold: int("unhealthy-threshold-count", 2),
            success_codes,
            grpc,
            backend_config: BcBinding::None,
            probe: ProbeInference::NotApplicable,
        }
    }

    /// The ALB endpoint mode of a backend and the node that set it.
    fn alb_endpoint_mode(&self, b: &LbBackend<'d, 's>) -> (EndpointMode, Option<Node<'d, 's>>) {
        match self.alb_target_type(b) {
            super::TargetType::Set(v, n) if v.eq_ignore_ascii_case("ip") => {
                (EndpointMode::Pod, Some(n))
            }
            super::TargetType::Set(v, n) if v.eq_ignore_ascii_case("instance") => {
                (EndpointMode::Node, Some(n))
            }
            super::TargetType::Set(_, n) => (EndpointMode::Unknown, Some(n)),
            super::TargetType::Default => (EndpointMode::Node, None),
            super::TargetType::Unknown(_) => (EndpointMode::Unknown, None),
        }
    }
}

/// The first GKE014 condition a readinessProbe fails for a Service targetPort, `None` when
/// ingress-gce would use it.
fn probe_mismatch<'d>(
    c: &Container<'d, '_>,
    probe: Node<'d, '_>,
    target: Option<IntOrName<'_>>,
    needed: &'static str,
) -> Option<ProbeMismatch<'d>> {
    let Some(get) = probe.get("httpGet") else {
        return Some(ProbeMismatch::NotHttpGet);
    };
    let headers: Vec<_> = get
        .get("httpHeaders")
        .into_iter()
        .flat_map(|h| h.items())
        .collect();
    let simple_headers =
        headers.is_empty() || (headers.len() == 1 && headers[0].str_at("name") == Some("Host"));
    if get.get("host").and_then(|h| h.as_text()).is_some() || !simple_headers {
        return Some(ProbeMismatch::HostOrHeaders);
    }
    let scheme = get.str_at("scheme").unwrap_or("HTTP");
    if scheme != needed {
        return Some(ProbeMismatch::Scheme {
            probe: scheme,
            needed,
        });
    }
    let probe_port = get.get("port").and_then(IntOrName::from_node);
    let mut serving_port_found = false;
    for (name, number, _) in c.ports() {
        let serves = match target {
            Some(IntOrName::Int(i)) => number == Some(i),
            Some(IntOrName::Name(n)) => name == Some(n),
            None => false,
        };
        if !serves {
            continue;
        }
        serving_port_found = true;
        let same = match probe_port {
            Some(IntOrName::Int(i)) => number == Some(i),
            Some(IntOrName::Name(n)) => name == Some(n),
            None => false,
        };
        if same {
            return None;
        }
    }
    Some(if serving_port_found {
        ProbeMismatch::ProbePortDiffers
    } else {
        ProbeMismatch::NoServingContainerPort
    })
}
