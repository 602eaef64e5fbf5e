//! WRK009 istio-annotation-misuse.

use crate::finding::Severity;
use crate::index::Index;
use crate::model::Object;
use crate::model::workload::template_path;
use crate::rules::{Emitter, Rule};
use crate::yaml::{Node, Style};

pub static RULE: Rule = Rule {
    code: "WRK009",
    id: "istio-annotation-misuse",
    family: "workload",
    severity: Severity::Warning,
    summary: "An Istio annotation is misplaced, misspelt, invalid or deprecated",
    docs: include_str!("wrk009.md"),
    check,
    mitigations: &[],
};

/// Where an annotation belongs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum On {
    Any,
    Pod,
    Service,
    ServiceEntry,
    Gateway,
    GatewayClass,
    AuthorizationPolicy,
    WorkloadEntry,
}

impl On {
    fn name(self) -> &'static str {
        match self {
            On::Any => "any resource",
            On::Pod => "Pod",
            On::Service => "Service",
            On::ServiceEntry => "ServiceEntry",
            On::Gateway => "Gateway",
            On::GatewayClass => "GatewayClass",
            On::AuthorizationPolicy => "AuthorizationPolicy",
            On::WorkloadEntry => "WorkloadEntry",
        }
    }
}

/// A value check (istio `inject.AnnotationValidation`): `Err(why)` when invalid.
type Validate = fn(&str) -> Result<(), String>;

struct Def {
    name: &'static str,
    on: &'static [On],
    deprecated: Option<&'static str>,
    validate: Option<Validate>,
}

const fn def(name: &'static str, on: &'static [On]) -> Def {
    Def {
        name,
        on,
        deprecated: None,
        validate: None,
    }
}
const fn dep(name: &'static str, on: &'static [On], why: &'static str) -> Def {
    Def {
        name,
        on,
        deprecated: Some(why),
        validate: None,
    }
}
const fn val(name: &'static str, validate: Validate) -> Def {
    Def {
        name,
        on: &[On::Pod],
        deprecated: None,
        validate: Some(validate),
    }
}

const P: &[On] = &[On::Pod];

/// Istio's resource annotations (istio/api `annotation/annotations.yaml`, Istio 1.2x).
static DEFS: &[Def] = &[
    def("ambient.istio.io/bypass-inbound-capture", P),
    def("ambient.istio.io/redirection", P),
    def(
        "ambient.istio.io/waypoint-inbound-binding",
        &[On::GatewayClass],
    ),
    dep(
        "alpha.istio.io/canonical-serviceaccounts",
        &[On::Service],
        "",
    ),
    dep(
        "alpha.istio.io/kubernetes-serviceaccounts",
        &[On::Service],
        "",
    ),
    dep("alpha.istio.io/identity", P, ""),
    def("galley.istio.io/analyze-suppress", &[On::Any]),
    def("gateway.istio.io/controller-version", &[On::Any]),
    def("gateway.istio.io/service-account", &[On::Gateway]),
    def("gateway.istio.io/name-override", &[On::Gateway]),
    def("inject.istio.io/templates", P),
    def("install.operator.istio.io/chart-owner", &[On::Any]),
    def("install.operator.istio.io/owner-generation", &[On::Any]),
    def("install.operator.istio.io/version", &[On::Any]),
    def("istio.io/autoRegistrationGroup", &[On::WorkloadEntry]),
    def("istio.io/connectedAt", &[On::WorkloadEntry]),
    def("istio.io/disconnectedAt", &[On::WorkloadEntry]),
    def("istio.io/dry-run", &[On::AuthorizationPolicy]),
    def("istio.io/rev", P),
    def("istio.io/workloadController", &[On::WorkloadEntry]),
    def("networking.istio.io/address-type", &[On::Gateway]),
    def("networking.istio.io/exportTo", &[On::Service]),
    def("networking.istio.io/service-type", &[On::Gateway]),
    def(
        "networking.istio.io/traffic-distribution",
        &[On::Service, On::ServiceEntry],
    ),
    val("prometheus.istio.io/merge-metrics", validate_bool),
    val("proxy.istio.io/config", validate_proxy_config),
    def("proxy.istio.io/overrides", P),
    val(
        "readiness.status.sidecar.istio.io/applicationPorts",
        validate_port_list,
    ),
    val(
        "readiness.status.sidecar.istio.io/failureThreshold",
        validate_uint32,
    ),
    val(
        "readiness.status.sidecar.istio.io/initialDelaySeconds",
        validate_uint32,
    ),
    val(
        "readiness.status.sidecar.istio.io/periodSeconds",
        validate_uint32,
    ),
    def("security.istio.io/autoMTLS", P),
    def("sidecar.istio.io/agentLogLevel", P),
    def("sidecar.istio.io/bootstrapOverride", P),
    def("sidecar.istio.io/componentLogLevel", P),
    dep("sidecar.istio.io/controlPlaneAuthPolicy", P, ""),
    dep("sidecar.istio.io/discoveryAddress", P, ""),
    def("sidecar.istio.io/enableCoreDump", P),
    def("sidecar.istio.io/extraStatTags", P),
    dep(
        "sidecar.istio.io/inject",
        P,
        " in favor of the `sidecar.istio.io/inject` label",
    ),
    val(
        "sidecar.istio.io/interceptionMode",
        validate_interception_mode,
    ),
    def("sidecar.istio.io/logLevel", P),
    def("sidecar.istio.io/nativeSidecar", P),
    def("sidecar.istio.io/proxyCPU", P),
    def("sidecar.istio.io/proxyCPULimit", P),
    def("sidecar.istio.io/proxyImage", P),
    def("sidecar.istio.io/proxyImageType", P),
    def("sidecar.istio.io/proxyMemory", P),
    def("sidecar.istio.io/proxyMemoryLimit", P),
    def("sidecar.istio.io/rewriteAppHTTPProbers", P),
    def("sidecar.istio.io/statsCompression", P),
    def("sidecar.istio.io/statsEvictionInterval", P),
    def("sidecar.istio.io/statsFlushInterval", P),
    def("sidecar.istio.io/statsHistogramBuckets", P),
    dep("sidecar.istio.io/statsInclusionPrefixes", P, ""),
    dep("sidecar.istio.io/statsInclusionRegexps", P, ""),
    dep("sidecar.istio.io/statsInclusionSuffixes", P, ""),
    def("sidecar.istio.io/status", P),
    def("sidecar.istio.io/userVolume", P),
    def("sidecar.istio.io/userVolumeMount", P),
    val("status.sidecar.istio.io/port", validate_port),
    def("topology.istio.io/controlPlaneClusters", &[On::Any]),
    def("traffic.istio.io/nodeSelector", &[On::Service]),
    val(
        "traffic.sidecar.istio.io/excludeInboundPorts",
        validate_port_list,
    ),
    def("traffic.sidecar.istio.io/excludeInterfaces", P),
    val(
        "traffic.sidecar.istio.io/excludeOutboundIPRanges",
        validate_cidr_list,
    ),
    val(
        "traffic.sidecar.istio.io/excludeOutboundPorts",
        validate_port_list,
    ),
    val(
        "traffic.sidecar.istio.io/includeInboundPorts",
        validate_include_ports,
    ),
    val(
        "traffic.sidecar.istio.io/includeOutboundIPRanges",
        validate_include_ranges,
    ),
    def("traffic.sidecar.istio.io/includeOutboundPorts", P),
    def("traffic.sidecar.istio.io/kubevirtInterfaces", P),
];

fn validate_bool(v: &str) -> Result<(), String> {
    // Go strconv.ParseBool
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" | "0" | "f" | "F" | "FALSE" | "false"
        | "False" => Ok(()),
        _ => Err("not a boolean".into()),
    }
}

fn validate_uint32(v: &str) -> Result<(), String> {
    v.parse::<u32>()
        .map(|_| ())
        .map_err(|_| "not a non-negative 32-bit integer".into())
}

fn parse_port(p: &str) -> Result<u16, String> {
    p.trim()
        .parse::<u16>()
        .map_err(|_| format!("`{}` is not a port number", p.trim()))
}

fn validate_port(v: &str) -> Result<(), String> {
    parse_port(v).map(|_| ())
}

fn validate_port_list(v: &str) -> Result<(), String> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(());
    }
    v.split(',').try_for_each(|p| parse_port(p).map(|_| ()))
}

fn validate_include_ports(v: &str) -> Result<(), String> {
    if v == "*" {
        Ok(())
    } else {
        validate_port_list(v)
    }
}

/// Go `netip.ParsePrefix` per comma-separated entry (no trimming, as istio does).
fn validate_cidr_list(v: &str) -> Result<(), String> {
    if v.is_empty() {
        return Ok(());
    }
    for cidr in v.split(',') {
        let ok = cidr.split_once('/').is_some_and(|(ip, bits)| {
            let bits_ok = |max: u8| {
                bits.parse::<u8>().is_ok_and(|b| b <= max)
                    && !bits.starts_with('+')
                    && (bits == "0" || !bits.starts_with('0'))
            };
            if let Ok(a) = ip.parse::<std::net::Ipv4Addr>() {
                let _ = a;
                bits_ok(32)
            } else if ip.parse::<std::net::Ipv6Addr>().is_ok() {
                bits_ok(128)
            } else {
                false
            }
        });
        if !ok {
            return Err(format!("`{cidr}` is not a CIDR range"));
        }
    }
    Ok(())
}

fn validate_include_ranges(v: &str) -> Result<(), String> {
    if v == "*" {
        Ok(())
    } else {
        validate_cidr_list(v)
    }
}

fn validate_interception_mode(v: &str) -> Result<(), String> {
    match v {
        "REDIRECT" | "TPROXY" | "NONE" => Ok(()),
        _ => Err("use REDIRECT, TPROXY or NONE".into()),
    }
}

fn validate_proxy_config(v: &str) -> Result<(), String> {
    let parsed = crate::yaml::parse_stream(
        crate::source::FileId(u32::MAX),
        v,
        &crate::yaml::ParseLimits::default(),
    );
    if !parsed.errors.is_empty() {
        return Err("not valid YAML".into());
    }
    match parsed.docs.first().and_then(|d| d.root()) {
        None => Ok(()),
        Some(r) if r.is_map() => Ok(()),
        Some(r) if r.is_null() => Ok(()),
        Some(_) => Err("not a ProxyConfig mapping".into()),
    }
}

/// True for annotation keys in Istio's namespaces (`*istio.io/…`).
fn is_istio(key: &str) -> bool {
    key.split_once('/')
        .is_some_and(|(prefix, _)| prefix.ends_with("istio.io"))
}

fn lookup(key: &str) -> Option<&'static Def> {
    DEFS.iter().find(|d| d.name == key)
}

/// The known annotation `key` most likely means (case or a small typo).
fn did_you_mean(key: &str) -> Option<&'static str> {
    let lower = key.to_ascii_lowercase();
    if let Some(d) = DEFS.iter().find(|d| d.name.to_ascii_lowercase() == lower) {
        return Some(d.name);
    }
    DEFS.iter()
        .filter_map(|d| Some((edit_distance(d.name, key)?, d.name)))
        .min()
        .map(|(_, n)| n)
}

/// Levenshtein distance when at most 2.
fn edit_distance(a: &str, b: &str) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 2 {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= 2).then_some(d)
}

/// A plain YAML scalar Kubernetes decodes as a bool, number or null: an annotation value must
/// be a string, so the API server rejects the object.
fn not_a_string(v: Node<'_, '_>) -> Option<&'static str> {
    if v.style() != Some(Style::Plain) {
        return if v.is_scalar() {
            None
        } else {
            Some("a list or mapping")
        };
    }
    let t = v.as_str().unwrap_or("");
    if v.is_null() {
        return Some("null");
    }
    let yaml11_bool = matches!(
        t,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    );
    if yaml11_bool {
        return Some("a boolean");
    }
    if v.as_int().is_some() || (t.parse::<f64>().is_ok() && t.chars().any(|c| c.is_ascii_digit())) {
        return Some("a number");
    }
    None
}

/// Where a set of annotations sits.
struct Place<'d, 's> {
    obj: Object<'d, 's>,
    /// The `annotations` mapping.
    annotations: Node<'d, 's>,
    /// What Istio sees them on: `Pod`, `Service`, `Namespace`, or a workload kind for the
    /// workload's own metadata.
    kind: &'d str,
    /// The pod template's labels (for `Pod`), to spot the injection label.
    pod_labels: Vec<(&'d str, &'d str)>,
    /// For a workload's own metadata: its pod template's annotations.
    pod_annotations: Option<Node<'d, 's>>,
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let mut places: Vec<Place<'_, '_>> = Vec::new();
    for tpl in &ix.templates {
        if tpl.obj.origin().is_some() {
            continue;
        }
        if let Some(a) = tpl.metadata.and_then(|m| m.get("annotations")) {
            places.push(Place {
                obj: tpl.obj,
                annotations: a,
                kind: "Pod",
                pod_labels: tpl.labels.clone(),
                pod_annotations: None,
            });
        }
        // The workload's own metadata (not for a Pod, whose metadata is the template's).
        if template_path(&tpl.obj).is_some_and(|p| !p.is_empty())
            && let Some(a) = tpl.obj.annotations()
        {
            places.push(Place {
                obj: tpl.obj,
                annotations: a,
                kind: tpl.obj.kind,
                pod_labels: Vec::new(),
                pod_annotations: tpl.metadata.and_then(|m| m.get("annotations")),
            });
        }
    }
    for (group, kind) in [("", "Service"), ("", "Namespace")] {
        for &id in ix.of_kind(group, kind) {
            let obj = ix.objects[id];
            if obj.origin().is_some() {
                continue;
            }
            if let Some(a) = obj.annotations() {
                places.push(Place {
                    obj,
                    annotations: a,
                    kind,
                    pod_labels: Vec::new(),
                    pod_annotations: None,
                });
            }
        }
    }
    for place in &places {
        check_place(em, place);
    }
    misplaced_injection_labels(ix, em);
}

fn check_place(em: &mut Emitter<'_>, place: &Place<'_, '_>) {
    let obj = &place.obj;
    let workload_meta = !matches!(place.kind, "Pod" | "Service" | "Namespace");
    for (k, v) in place.annotations.entries() {
        let Some(key) = k.as_str() else { continue };
        if !is_istio(key) {
            continue;
        }
        let Some(d) = lookup(key) else {
            match did_you_mean(key) {
                Some(known) => {
                    em.violation(
                        obj.loc(k),
                        Some(obj.resource()),
                        format!(
                            "{}: `{key}` is not an Istio annotation (did you mean `{known}`?): \
                             Istio ignores it, so the setting it was meant to make never applies",
                            obj.display()
                        ),
                        format!("rename the annotation to `{known}`"),
                    );
                }
                None => {
                    em.unknown(
                        obj.loc(k),
                        Some(obj.resource()),
                        format!(
                            "{}: `{key}` is not an Istio annotation meshlint knows; it may be \
                             newer than meshlint's list, or misspelt (Istio ignores unknown \
                             annotations)",
                            obj.display()
                        ),
                        "check the name against https://istio.io/latest/docs/reference/config/annotations/",
                    );
                }
            }
            continue;
        };
        // Misplaced: on a kind it does not apply to.
        let applies = d.on.contains(&On::Any)
            || (place.kind == "Pod" && d.on.contains(&On::Pod))
            || (place.kind == "Service" && d.on.contains(&On::Service));
        // The same annotation with the same value on the pod template as well: the copy on
        // the workload is redundant, not a mistake that loses the setting.
        if !applies
            && workload_meta
            && place
                .pod_annotations
                .and_then(|a| a.get(key))
                .is_some_and(|pv| pv.as_str() == v.as_str())
        {
            continue;
        }
        if !applies {
            let belongs = d.on.iter().map(|o| o.name()).collect::<Vec<_>>().join(", ");
            let (message, help) = if workload_meta && d.on.contains(&On::Pod) {
                (
                    format!(
                        "{}: `{key}` is a pod annotation, but it is on the {}'s own metadata: \
                         Istio only reads it from the pods, so it has no effect",
                        obj.display(),
                        obj.kind
                    ),
                    "move it to `spec.template.metadata.annotations`".to_string(),
                )
            } else if place.kind == "Namespace" && key == "sidecar.istio.io/inject" {
                (
                    format!(
                        "{}: `{key}` is a pod annotation and has no effect on a Namespace: \
                         injection for a namespace is set with the `istio-injection: enabled` \
                         (or `istio.io/rev`) label",
                        obj.display()
                    ),
                    "label the Namespace `istio-injection: enabled` instead".to_string(),
                )
            } else {
                (
                    format!(
                        "{}: `{key}` applies to {belongs}, not to a {}: Istio ignores it here",
                        obj.display(),
                        place.kind
                    ),
                    format!("move it to the {belongs} it is meant for"),
                )
            };
            em.violation(obj.loc(k), Some(obj.resource()), message, help);
            continue;
        }
        // A value the API server cannot take as a string.
        if let Some(what) = not_a_string(v) {
            let text = v.as_str().unwrap_or("");
            let f = em.violation(
                obj.loc(v),
                Some(obj.resource()),
                format!(
                    "{}: the value of `{key}` is {what}, but annotation values must be strings: \
                     the API server rejects the object",
                    obj.display()
                ),
                format!("quote the value: `{key}: \"{text}\"`"),
            );
            f.severity(Severity::Error);
            continue;
        }
        if let Some(why) = d.deprecated {
            // Istio stays quiet when the replacement label is set as well.
            let has_label = place
                .pod_labels
                .iter()
                .any(|(lk, _)| *lk == "sidecar.istio.io/inject");
            if !(key == "sidecar.istio.io/inject" && has_label) {
                let help = if key == "sidecar.istio.io/inject" {
                    "use the `sidecar.istio.io/inject` label on the pod template instead"
                } else {
                    "remove the annotation, or replace it as the Istio release notes describe"
                };
                let f = em.violation(
                    obj.loc(k),
                    Some(obj.resource()),
                    format!(
                        "{}: `{key}` is deprecated{why} and may stop working in a future Istio \
                         release",
                        obj.display()
                    ),
                    help,
                );
                f.severity(Severity::Info);
            }
        }
        if let (Some(validate), Some(text)) = (d.validate, v.as_str())
            && let Err(why) = validate(text)
        {
            em.violation(
                obj.loc(v),
                Some(obj.resource()),
                format!(
                    "{}: `{key}: {text}` is invalid ({why}): the sidecar injector fails on it \
                     and, with Istio's default webhook failurePolicy (Fail), the pod is not \
                     created",
                    obj.display()
                ),
                format!("fix the value of `{key}`"),
            );
        }
    }
}

/// `sidecar.istio.io/inject` as a label on a workload's own metadata but not on its pods.
fn misplaced_injection_labels(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    const KEY: &str = "sidecar.istio.io/inject";
    for tpl in &ix.templates {
        if tpl.obj.origin().is_some() || template_path(&tpl.obj).is_none_or(|p| p.is_empty()) {
            continue;
        }
        let Some((k, _)) = tpl.obj.labels().and_then(|l| l.entry(KEY)) else {
            continue;
        };
        if tpl.labels.iter().any(|(lk, _)| *lk == KEY) {
            continue;
        }
        em.violation(
            tpl.obj.loc(k),
            Some(tpl.obj.resource()),
            format!(
                "{}: the `{KEY}` label is on the {}'s own metadata, not on its pods: the \
                 injector only reads it from the pod, so it has no effect",
                tpl.obj.display(),
                tpl.obj.kind
            ),
            "move the label to `spec.template.metadata.labels`",
        );
    }
}
