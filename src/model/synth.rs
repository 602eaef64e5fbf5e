//! Synthesis of objects that are not in Git but follow from what is (catalog R2): the ingress
//! gateway Deployment and Service an `IstioOperator` installs, and those Istio's `gateway` Helm
//! chart installs for an Argo CD `Application` or a Flux `HelmRelease`.
//!
//! Synthesised objects are ordinary [`Document`]s whose nodes carry the spans of the fields
//! that produced them (a default value points at the component that implies it), so findings
//! on them point at the right place in the operator's file. Their `origin` says where they
//! come from.

use std::collections::HashMap;

use super::Object;
use crate::source::Span;
use crate::yaml::{Builder, Document, Node, NodeId, ParseLimits, Style, parse_stream};

/// A small owned YAML value with spans, to assemble synthesised objects.
#[derive(Clone, Debug)]
pub enum SVal {
    Scalar {
        text: String,
        style: Style,
        span: Span,
    },
    Map {
        span: Span,
        entries: Vec<(String, Span, SVal)>,
    },
    Seq {
        span: Span,
        items: Vec<SVal>,
    },
}

impl SVal {
    pub fn str(text: impl Into<String>, span: Span) -> SVal {
        SVal::Scalar {
            text: text.into(),
            style: Style::DoubleQuoted,
            span,
        }
    }
    pub fn int(i: i64, span: Span) -> SVal {
        SVal::Scalar {
            text: i.to_string(),
            style: Style::Plain,
            span,
        }
    }
    pub fn map(span: Span, entries: Vec<(&str, SVal)>) -> SVal {
        SVal::Map {
            span,
            entries: entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), span, v))
                .collect(),
        }
    }
    pub fn seq(span: Span, items: Vec<SVal>) -> SVal {
        SVal::Seq { span, items }
    }

    /// Deep copy of a parsed node, spans kept.
    pub fn from_node(n: Node<'_, '_>) -> SVal {
        SVal::from_node_mapped(n, &|s| s)
    }

    /// Deep copy of a parsed node whose spans are translated by `map` (for YAML parsed out of
    /// a string scalar, whose spans are relative to that string).
    pub fn from_node_mapped(n: Node<'_, '_>, map: &dyn Fn(Span) -> Span) -> SVal {
        if n.is_map() {
            SVal::Map {
                span: map(n.span()),
                entries: n
                    .entries()
                    .map(|(k, v)| {
                        (
                            k.as_str().unwrap_or("").to_string(),
                            map(k.span()),
                            SVal::from_node_mapped(v, map),
                        )
                    })
                    .collect(),
            }
        } else if n.is_seq() {
            SVal::Seq {
                span: map(n.span()),
                items: n.items().map(|i| SVal::from_node_mapped(i, map)).collect(),
            }
        } else {
            SVal::Scalar {
                text: n.as_str().unwrap_or("").to_string(),
                style: n.style().unwrap_or(Style::Plain),
                span: map(n.span()),
            }
        }
    }

    fn span(&self) -> Span {
        match self {
            SVal::Scalar { span, .. } | SVal::Map { span, .. } | SVal::Seq { span, .. } => *span,
        }
    }

    /// Sets `key` in a mapping (replacing an existing entry).
    pub fn set(&mut self, key: &str, key_span: Span, value: SVal) {
        if let SVal::Map { entries, .. } = self {
            if let Some(e) = entries.iter_mut().find(|(k, _, _)| k == key) {
                e.1 = key_span;
                e.2 = value;
            } else {
                entries.push((key.to_string(), key_span, value));
            }
        }
    }

    /// Merges the entries of a parsed mapping into this mapping (e.g. annotations).
    pub fn merge_node(&mut self, n: Node<'_, '_>) {
        for (k, v) in n.entries() {
            if let Some(key) = k.as_str() {
                self.set(key, k.span(), SVal::from_node(v));
            }
        }
    }

    fn child_mut(&mut self, seg: &str, create: bool, span: Span) -> Option<&mut SVal> {
        match self {
            SVal::Map { entries, .. } => {
                if let Some(i) = entries.iter().position(|(k, _, _)| k == seg) {
                    return Some(&mut entries[i].2);
                }
                if !create {
                    return None;
                }
                entries.push((
                    seg.to_string(),
                    span,
                    SVal::Map {
                        span,
                        entries: Vec::new(),
                    },
                ));
                entries.last_mut().map(|e| &mut e.2)
            }
            SVal::Seq { items, .. } => {
                // `[N]` or `[key:value]` selectors
                let inner = seg.strip_prefix('[')?.strip_suffix(']')?;
                if let Ok(i) = inner.parse::<usize>() {
                    return items.get_mut(i);
                }
                let (k, v) = inner.split_once(':')?;
                items.iter_mut().find(|it| {
                    matches!(it, SVal::Map { entries, .. }
                        if entries.iter().any(|(ek, _, ev)| ek == k.trim()
                            && matches!(ev, SVal::Scalar { text, .. } if text == v.trim())))
                })
            }
            SVal::Scalar { .. } => None,
        }
    }

    /// Applies an IstioOperator overlay patch: `path` like `spec.template.spec.readinessGates`
    /// or `spec.template.spec.containers.[name:istio-proxy].readinessProbe`.
    pub fn patch(&mut self, path: &str, value: SVal) {
        let segs = split_path(path);
        let Some((last, parents)) = segs.split_last() else {
            return;
        };
        let span = value.span();
        let mut cur = self;
        for seg in parents {
            match cur.child_mut(seg, true, span) {
                Some(c) => cur = c,
                None => return,
            }
        }
        if last.starts_with('[') {
            if let Some(c) = cur.child_mut(last, false, span) {
                *c = value;
            }
        } else {
            cur.set(last, span, value);
        }
    }

    /// Builds this value into `b`.
    pub fn build(&self, b: &mut Builder<'_>) -> NodeId {
        match self {
            SVal::Scalar { text, style, span } => b.scalar_owned(*span, text, *style),
            SVal::Map { span, entries } => {
                let m = b.open();
                for (k, ks, v) in entries {
                    let kid = b.scalar_owned(*ks, k, Style::Plain);
                    b.child(kid);
                    let vid = v.build(b);
                    b.child(vid);
                }
                b.close_map(m, *span)
            }
            SVal::Seq { span, items } => {
                let m = b.open();
                for it in items {
                    let id = it.build(b);
                    b.child(id);
                }
                b.close_seq(m, *span)
            }
        }
    }
}

/// Splits `a.b.[k:v].c` or `a.b[0].c` into segments.
fn split_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        while let Some(i) = rest.find('[') {
            if i > 0 {
                out.push(rest[..i].to_string());
            }
            let end = rest[i..].find(']').map(|e| i + e + 1).unwrap_or(rest.len());
            out.push(rest[i..end].to_string());
            rest = &rest[end..];
        }
        if !rest.is_empty() {
            out.push(rest.to_string());
        }
    }
    out
}

/// `[{name, containerPort}, …]` of a synthesised container.
fn container_ports(at: Span, ports: &[(&str, i64)]) -> SVal {
    SVal::seq(
        at,
        ports
            .iter()
            .map(|&(n, p)| {
                SVal::map(
                    at,
                    vec![
                        ("name", SVal::str(n, at)),
                        ("containerPort", SVal::int(p, at)),
                    ],
                )
            })
            .collect(),
    )
}

/// `{httpGet: {path, port}}`.
fn http_probe(at: Span, path: &str, port: i64) -> SVal {
    SVal::map(
        at,
        vec![(
            "httpGet",
            SVal::map(
                at,
                vec![("path", SVal::str(path, at)), ("port", SVal::int(port, at))],
            ),
        )],
    )
}

/// A workload with one pod template: `apiVersion: apps/v1`, `kind`, `metadata`, and
/// `spec.selector.matchLabels` + `spec.template` (`metadata`, one container).
fn workload(
    at: Span,
    kind: SVal,
    metadata: SVal,
    selector: SVal,
    pod_metadata: SVal,
    container: SVal,
) -> SVal {
    SVal::map(
        at,
        vec![
            ("apiVersion", SVal::str("apps/v1", at)),
            ("kind", kind),
            ("metadata", metadata),
            (
                "spec",
                SVal::map(
                    at,
                    vec![
                        ("selector", SVal::map(at, vec![("matchLabels", selector)])),
                        (
                            "template",
                            SVal::map(
                                at,
                                vec![
                                    ("metadata", pod_metadata),
                                    (
                                        "spec",
                                        SVal::map(
                                            at,
                                            vec![("containers", SVal::seq(at, vec![container]))],
                                        ),
                                    ),
                                ],
                            ),
                        ),
                    ],
                ),
            ),
        ],
    )
}

fn finish<'s>(obj: &Object<'_, '_>, v: &SVal, origin: String) -> Document<'s> {
    let mut b = Builder::new(obj.root.file(), "");
    b.set_origin(origin);
    let root = v.build(&mut b);
    b.finish(Some(root), obj.root.span())
}

/// The ingress gateways an `IstioOperator` installs (R2a): a Deployment and a Service each.
pub fn istio_operator<'s>(obj: &Object<'_, '_>) -> Vec<Document<'s>> {
    if !obj.is("install.istio.io", "IstioOperator") {
        return Vec::new();
    }
    let Some(spec) = obj.spec() else {
        return Vec::new();
    };
    let default_ns = spec
        .path(&["values", "global", "istioNamespace"])
        .and_then(|n| n.as_text())
        .unwrap_or("istio-system");
    let gateways: Vec<Option<Node<'_, '_>>> = match spec.path(&["components", "ingressGateways"]) {
        Some(list) => list.items().map(Some).collect(),
        None => {
            // The default and demo profiles install `istio-ingressgateway`.
            match spec.str_at("profile").unwrap_or("default") {
                "default" | "demo" => vec![None],
                _ => Vec::new(),
            }
        }
    };
    let mut out = Vec::new();
    for (i, gw) in gateways.into_iter().enumerate() {
        if gw.and_then(|g| g.get("enabled")).and_then(|e| e.as_bool()) == Some(false) {
            continue;
        }
        let anchor = gw
            .and_then(|g| g.get("name"))
            .or_else(|| obj.root.key("spec"))
            .unwrap_or(obj.root);
        let at = anchor.span();
        let name = gw
            .and_then(|g| g.str_at("name"))
            .unwrap_or("istio-ingressgateway");
        let ns = gw.and_then(|g| g.str_at("namespace")).unwrap_or(default_ns);
        let k8s = gw.and_then(|g| g.get("k8s"));
        let origin = format!(
            "synthesised from IstioOperator {} (spec.components.ingressGateways[{i}] `{name}`)",
            if obj.namespace.is_empty() {
                obj.name.to_string()
            } else {
                format!("{}/{}", obj.namespace, obj.name)
            }
        );

        let mut labels = SVal::map(
            at,
            vec![
                ("app", SVal::str("istio-ingressgateway", at)),
                ("istio", SVal::str("ingressgateway", at)),
            ],
        );
        if let Some(l) = gw.and_then(|g| g.get("label")) {
            labels.merge_node(l);
        }
        let meta = |kind_labels: &SVal| {
            SVal::map(
                at,
                vec![
                    ("name", SVal::str(name, at)),
                    ("namespace", SVal::str(ns, at)),
                    ("labels", kind_labels.clone()),
                ],
            )
        };

        // Deployment
        let mut pod_meta = SVal::map(at, vec![("labels", labels.clone())]);
        if let Some(a) = k8s.and_then(|k| k.get("podAnnotations")) {
            pod_meta.set("annotations", a.span(), SVal::from_node(a));
        }
        let container = SVal::map(
            at,
            vec![
                ("name", SVal::str("istio-proxy", at)),
                ("image", SVal::str("docker.io/istio/proxyv2:auto", at)),
                (
                    "ports",
                    container_ports(
                        at,
                        &[("http2", 8080), ("https", 8443), ("status-port", 15021)],
                    ),
                ),
                ("readinessProbe", http_probe(at, "/healthz/ready", 15021)),
            ],
        );
        let mut deploy = workload(
            at,
            SVal::str("Deployment", at),
            meta(&labels),
            labels.clone(),
            pod_meta,
            container,
        );

        // Service
        let svc_k8s = k8s.and_then(|k| k.get("service"));
        let svc_type = svc_k8s
            .and_then(|s| s.get("type"))
            .map(SVal::from_node)
            .unwrap_or_else(|| SVal::str("LoadBalancer", at));
        let ports = svc_k8s
            .and_then(|s| s.get("ports"))
            .map(SVal::from_node)
            .unwrap_or_else(|| {
                SVal::seq(
                    at,
                    [
                        ("status-port", 15021, 15021),
                        ("http2", 80, 8080),
                        ("https", 443, 8443),
                    ]
                    .into_iter()
                    .map(|(n, p, t)| {
                        SVal::map(
                            at,
                            vec![
                                ("name", SVal::str(n, at)),
                                ("port", SVal::int(p, at)),
                                ("targetPort", SVal::int(t, at)),
                            ],
                        )
                    })
                    .collect(),
                )
            });
        let mut svc_meta = meta(&labels);
        if let Some(a) = k8s.and_then(|k| k.get("serviceAnnotations")) {
            svc_meta.set("annotations", a.span(), SVal::from_node(a));
        }
        let mut service = SVal::map(
            at,
            vec![
                ("apiVersion", SVal::str("v1", at)),
                ("kind", SVal::str("Service", at)),
                ("metadata", svc_meta),
                (
                    "spec",
                    SVal::map(
                        at,
                        vec![
                            ("type", svc_type),
                            ("selector", labels.clone()),
                            ("ports", ports),
                        ],
                    ),
                ),
            ],
        );

        // Overlays
        for ov in k8s
            .and_then(|k| k.get("overlays"))
            .into_iter()
            .flat_map(|o| o.items())
        {
            let target = match ov.str_at("kind") {
                Some("Deployment") => &mut deploy,
                Some("Service") => &mut service,
                _ => continue,
            };
            if ov.str_at("name").is_some_and(|n| n != name) {
                continue;
            }
            for p in ov.get("patches").into_iter().flat_map(|p| p.items()) {
                let (Some(path), Some(value)) = (p.str_at("path"), p.entry("value")) else {
                    continue;
                };
                target.patch(path, SVal::from_node(value.1));
            }
        }

        out.push(finish(obj, &deploy, origin.clone()));
        out.push(finish(obj, &service, origin));
    }
    out
}

/// `HelmRepository` URLs by (namespace, name), to tell whether a Flux `HelmRelease` installs
/// Istio's chart. Built once per run.
#[derive(Debug, Default)]
pub struct HelmRepos<'d> {
    urls: HashMap<(&'d str, &'d str), &'d str>,
}

impl<'d> HelmRepos<'d> {
    pub fn new(objects: &[Object<'d, '_>]) -> HelmRepos<'d> {
        let mut urls = HashMap::new();
        for o in objects {
            if o.is("source.toolkit.fluxcd.io", "HelmRepository")
                && let Some(url) = o.spec().and_then(|s| s.str_at("url"))
            {
                urls.insert((o.namespace, o.name), url);
            }
        }
        HelmRepos { urls }
    }
}

impl SVal {
    /// The value of `key` in a mapping; a null value counts as absent (Helm deletes keys set
    /// to null).
    pub fn get(&self, key: &str) -> Option<&SVal> {
        match self {
            SVal::Map { entries, .. } => entries
                .iter()
                .find(|(k, _, _)| k == key)
                .map(|(_, _, v)| v)
                .filter(|v| !v.is_null()),
            _ => None,
        }
    }

    pub fn path(&self, keys: &[&str]) -> Option<&SVal> {
        keys.iter().try_fold(self, |v, k| v.get(k))
    }

    fn is_null(&self) -> bool {
        matches!(self, SVal::Scalar { text, style: Style::Plain, .. }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The text of a non-null scalar.
    pub fn text(&self) -> Option<&str> {
        match self {
            SVal::Scalar { text, .. } if !self.is_null() => Some(text),
            _ => None,
        }
    }

    /// Helm's value merge: mappings merge key by key, anything else replaces.
    fn merge_values(&mut self, over: SVal) {
        match (self, over) {
            (SVal::Map { entries, .. }, SVal::Map { entries: over, .. }) => {
                for (k, ks, v) in over {
                    match entries.iter_mut().find(|(ek, _, _)| *ek == k) {
                        Some(e) => {
                            e.1 = ks;
                            e.2.merge_values(v);
                        }
                        None => entries.push((k, ks, v)),
                    }
                }
            }
            (this, over) => *this = over,
        }
    }

    /// Sets a dotted path (`service.type`), creating mappings on the way.
    fn set_path(&mut self, keys: &[&str], value: SVal) {
        let Some((last, parents)) = keys.split_last() else {
            return;
        };
        let span = value.span();
        let mut cur = self;
        for k in parents {
            if cur.get(k).is_none_or(|v| !matches!(v, SVal::Map { .. })) {
                cur.set(k, span, SVal::map(span, Vec::new()));
            }
            match cur.child_mut(k, false, span) {
                Some(c) => cur = c,
                None => return,
            }
        }
        cur.set(last, span, value);
    }

    /// The non-null entries of a mapping.
    fn map_entries(&self) -> impl Iterator<Item = (&str, Span, &SVal)> {
        let entries: &[(String, Span, SVal)] = match self {
            SVal::Map { entries, .. } => entries,
            _ => &[],
        };
        entries
            .iter()
            .filter(|(_, _, v)| !v.is_null())
            .map(|(k, s, v)| (k.as_str(), *s, v))
    }
}

/// Translates spans of YAML parsed out of a string scalar into spans of the file.
enum Embedded {
    /// `(offset of a line in the string, offset of that line in the file)`, ascending.
    Lines(Vec<(u32, u32)>),
    /// Not mappable exactly: everything points here.
    Fixed(Span),
}

impl Embedded {
    fn new(node: Node<'_, '_>, fallback: Span) -> Embedded {
        let (Some(text), Some(src)) = (node.as_str(), node.doc().src.get(node.span().range()))
        else {
            return Embedded::Fixed(fallback);
        };
        let start = node.span().start;
        // Written literally (a plain or quoted scalar without escapes).
        let q = u32::from(matches!(
            node.style(),
            Some(Style::SingleQuoted | Style::DoubleQuoted)
        ));
        if src.get(q as usize..q as usize + text.len()) == Some(text) {
            return Embedded::Lines(vec![(0, start + q)]);
        }
        if node.style() != Some(Style::Literal) {
            return Embedded::Fixed(fallback);
        }
        // A literal block scalar: its span starts at its first content character; each
        // following line of the string is the next line of the file, less the same indentation.
        let full = node.doc().src;
        let first = start as usize;
        let line_start = full
            .get(..first)
            .and_then(|p| p.rfind('\n'))
            .map_or(0, |p| p + 1);
        let indent = first - line_start;
        let skip = text.len() - text.trim_start_matches('\n').len();
        let mut lines = Vec::new();
        let mut src_pos = line_start;
        let mut text_pos = skip;
        for line in text[skip..].split('\n') {
            if text_pos >= text.len() {
                break;
            }
            let rest = full.get(src_pos..).unwrap_or("");
            let src_line_len = rest.find('\n').unwrap_or(rest.len());
            let src_line = rest[..src_line_len].trim_end_matches('\r');
            if line.is_empty() {
                if !src_line.trim().is_empty() {
                    return Embedded::Fixed(fallback);
                }
            } else if src_line.get(indent..) != Some(line)
                || !src_line.as_bytes()[..indent].iter().all(|&b| b == b' ')
            {
                return Embedded::Fixed(fallback);
            } else {
                lines.push((text_pos as u32, (src_pos + indent) as u32));
            }
            text_pos += line.len() + 1;
            src_pos += src_line_len + 1;
        }
        if lines.is_empty() {
            return Embedded::Fixed(fallback);
        }
        Embedded::Lines(lines)
    }

    fn offset(lines: &[(u32, u32)], at: u32) -> u32 {
        let i = lines.partition_point(|&(t, _)| t <= at).saturating_sub(1);
        let (t, f) = lines[i];
        f + at.saturating_sub(t)
    }

    fn map(&self, s: Span) -> Span {
        match self {
            Embedded::Fixed(f) => *f,
            Embedded::Lines(lines) => Span {
                start: Embedded::offset(lines, s.start),
                end: Embedded::offset(lines, s.end.saturating_sub(1).max(s.start))
                    + u32::from(s.end > s.start),
            },
        }
    }
}

/// One installation of Istio's `gateway` chart, as an Argo CD Application or a Flux
/// HelmRelease declares it.
struct ChartRelease {
    origin: String,
    /// The `chart:` key: defaults of the chart point here.
    chart: Span,
    release: (String, Span),
    namespace: (String, Span),
    /// The values given (merged in Helm's order).
    values: SVal,
}

/// User values of an Argo CD source's `helm` section: `values` (a YAML string), then
/// `valuesObject`, then `parameters`. `None` when some come from files not in the set.
fn argo_values(chart: Span, helm: Option<Node<'_, '_>>) -> Option<SVal> {
    let mut values = SVal::map(chart, Vec::new());
    let Some(helm) = helm else {
        return Some(values);
    };
    if helm.get("valueFiles").is_some_and(|f| f.items().len() > 0) {
        return None;
    }
    if let Some((key, v)) = helm.entry("values").filter(|(_, v)| !v.is_null()) {
        if v.is_map() {
            values.merge_values(SVal::from_node(v));
        } else {
            let text = v.as_str()?;
            let parsed = parse_stream(v.file(), text, &ParseLimits::default());
            if !parsed.errors.is_empty() {
                return None;
            }
            let embedded = Embedded::new(v, key.span());
            if let Some(root) = parsed.docs.first().and_then(|d| d.root())
                && root.is_map()
            {
                values.merge_values(SVal::from_node_mapped(root, &|s| embedded.map(s)));
            }
        }
    }
    if let Some(obj) = helm.get("valuesObject").filter(|v| v.is_map()) {
        values.merge_values(SVal::from_node(obj));
    }
    for p in helm.get("parameters").into_iter().flat_map(|p| p.items()) {
        let (Some(name), Some(v)) = (p.str_at("name"), p.get("value")) else {
            continue;
        };
        if name.contains(['[', '\\', ',']) {
            continue;
        }
        let keys: Vec<&str> = name.split('.').collect();
        let mut value = SVal::from_node(v);
        if p.get("forceString").and_then(|f| f.as_bool()) == Some(true)
            && let SVal::Scalar { style, .. } = &mut value
        {
            *style = Style::DoubleQuoted;
        }
        values.set_path(&keys, value);
    }
    Some(values)
}

fn qualified(obj: &Object<'_, '_>) -> String {
    if obj.namespace.is_empty() {
        obj.name.to_string()
    } else {
        format!("{}/{}", obj.namespace, obj.name)
    }
}

/// Helm values strings of an Argo CD Application's gateway chart sources that do not parse:
/// `(the values node, the parser's message)`. The gateway cannot be synthesised from them, and
/// the engine says so at the value rather than dropping the gateway silently.
pub fn embedded_values_errors<'d, 's>(obj: &Object<'d, 's>) -> Vec<(Node<'d, 's>, String)> {
    if obj.group != "argoproj.io" || obj.kind != "Application" {
        return Vec::new();
    }
    let Some(spec) = obj.spec() else {
        return Vec::new();
    };
    let sources: Vec<Node<'d, 's>> = match spec.get("sources") {
        Some(list) => list.items().collect(),
        None => spec.get("source").into_iter().collect(),
    };
    let mut out = Vec::new();
    for src in sources {
        if src.str_at("chart") != Some("gateway") {
            continue;
        }
        let Some(v) = src.path(&["helm", "values"]) else {
            continue;
        };
        let Some(text) = v.as_str().filter(|_| v.is_scalar()) else {
            continue;
        };
        let parsed = parse_stream(v.file(), text, &ParseLimits::default());
        if let Some(e) = parsed.errors.first() {
            out.push((v, e.message.clone()));
        }
    }
    out
}

/// The gateway chart releases of an Argo CD Application (`spec.source` or `spec.sources[]`).
fn argo_releases(obj: &Object<'_, '_>) -> Vec<ChartRelease> {
    let Some(spec) = obj.spec() else {
        return Vec::new();
    };
    let sources: Vec<Node<'_, '_>> = match spec.get("sources") {
        Some(list) => list.items().collect(),
        None => spec.get("source").into_iter().collect(),
    };
    let dest_ns = spec.path(&["destination", "namespace"]);
    let mut out = Vec::new();
    for src in sources {
        if src.str_at("chart") != Some("gateway")
            || !src
                .str_at("repoURL")
                .is_some_and(|u| u.to_ascii_lowercase().contains("istio"))
        {
            continue;
        }
        let Some(chart) = src.key("chart").map(|k| k.span()) else {
            continue;
        };
        let helm = src.get("helm");
        let Some(values) = argo_values(chart, helm) else {
            continue;
        };
        let name_node = obj.metadata().and_then(|m| m.get("name"));
        let release = match helm.and_then(|h| h.get("releaseName")) {
            Some(r) if r.as_text().is_some() => (r.as_text().unwrap_or("").to_string(), r.span()),
            _ => (
                obj.name.to_string(),
                name_node.map(|n| n.span()).unwrap_or(chart),
            ),
        };
        let namespace = match dest_ns.and_then(|n| Some((n.as_text()?, n))) {
            Some((ns, n)) => (ns.to_string(), n.span()),
            None => (obj.namespace.to_string(), chart),
        };
        out.push(ChartRelease {
            origin: format!(
                "synthesised from Argo CD Application {} (Helm chart istio/gateway)",
                qualified(obj)
            ),
            chart,
            release,
            namespace,
            values,
        });
    }
    out
}

/// The gateway chart release of a Flux HelmRelease.
fn flux_release(obj: &Object<'_, '_>, repos: &HelmRepos<'_>) -> Option<ChartRelease> {
    let spec = obj.spec()?;
    let chart_spec = spec.path(&["chart", "spec"])?;
    if chart_spec.str_at("chart") != Some("gateway") {
        return None;
    }
    let source = chart_spec.get("sourceRef")?;
    let src_name = source.str_at("name")?;
    let src_ns = source.str_at("namespace").unwrap_or(obj.namespace);
    let istio = match repos.urls.get(&(src_ns, src_name)) {
        Some(url) => url.to_ascii_lowercase().contains("istio"),
        None => src_name.to_ascii_lowercase().contains("istio"),
    };
    if !istio || spec.get("valuesFrom").is_some_and(|v| v.items().len() > 0) {
        return None;
    }
    let chart = chart_spec.key("chart")?.span();
    let mut values = SVal::map(chart, Vec::new());
    if let Some(v) = spec.get("values").filter(|v| v.is_map()) {
        values.merge_values(SVal::from_node(v));
    }
    let target = spec
        .get("targetNamespace")
        .and_then(|n| Some((n.as_text()?, n)));
    let name_span = obj
        .metadata()
        .and_then(|m| m.get("name"))
        .map(|n| n.span())
        .unwrap_or(chart);
    let release = match spec
        .get("releaseName")
        .and_then(|n| Some((n.as_text()?, n)))
    {
        Some((r, n)) => (r.to_string(), n.span()),
        // Flux names the release `[targetNamespace-]name`.
        None => match target {
            Some((t, _)) => (format!("{t}-{}", obj.name), name_span),
            None => (obj.name.to_string(), name_span),
        },
    };
    let namespace = match target {
        Some((t, n)) => (t.to_string(), n.span()),
        None => (obj.namespace.to_string(), name_span),
    };
    Some(ChartRelease {
        origin: format!(
            "synthesised from Flux HelmRelease {} (Helm chart istio/gateway)",
            qualified(obj)
        ),
        chart,
        release,
        namespace,
        values,
    })
}

/// The gateway Deployment and Service that Istio's `gateway` Helm chart installs (R2b), for an
/// Argo CD `Application` or a Flux `HelmRelease` with inline values. Releases whose values come
/// partly from elsewhere (`valueFiles`, `valuesFrom`) are not synthesised.
pub fn helm_gateway<'s>(obj: &Object<'_, '_>, repos: &HelmRepos<'_>) -> Vec<Document<'s>> {
    let releases = if obj.is("argoproj.io", "Application") {
        argo_releases(obj)
    } else if obj.is("helm.toolkit.fluxcd.io", "HelmRelease") {
        flux_release(obj, repos).into_iter().collect()
    } else {
        return Vec::new();
    };
    releases
        .iter()
        .flat_map(|r| gateway_chart(obj, r))
        .collect()
}

/// Renders the parts of the `gateway` chart meshlint needs from a release's values.
fn gateway_chart<'s>(obj: &Object<'_, '_>, r: &ChartRelease) -> Vec<Document<'s>> {
    let at = r.chart;
    let v = &r.values;
    let text_at = |keys: &[&str]| -> Option<(String, Span)> {
        let n = v.path(keys)?;
        Some((n.text()?.to_string(), n.span())).filter(|(t, _)| !t.is_empty())
    };
    let (name, name_span) = text_at(&["name"]).unwrap_or_else(|| r.release.clone());
    let (ns, ns_span) = r.namespace.clone();

    // Selector labels: `app` and `istio`, overridable by `labels`; other labels are added.
    let label = |key: &str, default: &str| -> SVal {
        match text_at(&["labels", key]) {
            Some((t, s)) => SVal::str(t, s),
            None => SVal::str(default, name_span),
        }
    };
    let selector = SVal::map(
        at,
        vec![
            ("app", label("app", &name)),
            (
                "istio",
                label("istio", name.strip_prefix("istio-").unwrap_or(&name)),
            ),
        ],
    );
    let mut labels = selector.clone();
    if let Some(extra) = v.get("labels") {
        for (k, ks, val) in extra.map_entries() {
            if k != "app" && k != "istio" {
                labels.set(k, ks, val.clone());
            }
        }
    }
    let meta = |namespace: (&str, Span)| {
        SVal::map(
            at,
            vec![
                ("name", SVal::str(name.as_str(), name_span)),
                ("namespace", SVal::str(namespace.0, namespace.1)),
                ("labels", labels.clone()),
            ],
        )
    };

    // Deployment (or DaemonSet, `kind`)
    let kind = match text_at(&["kind"]) {
        Some((k, s)) if k == "DaemonSet" => SVal::str(k, s),
        _ => SVal::str("Deployment", at),
    };
    let mut pod_annotations = SVal::map(
        at,
        vec![
            ("prometheus.io/port", SVal::str("15020", at)),
            ("prometheus.io/scrape", SVal::str("true", at)),
            ("prometheus.io/path", SVal::str("/stats/prometheus", at)),
            ("inject.istio.io/templates", SVal::str("gateway", at)),
            ("sidecar.istio.io/inject", SVal::str("true", at)),
        ],
    );
    if let Some(pa) = v.get("podAnnotations") {
        pod_annotations.merge_values(pa.clone());
        if let SVal::Map { entries, .. } = &mut pod_annotations {
            entries.retain(|(_, _, e)| !e.is_null());
        }
    }
    let mut pod_labels = SVal::map(at, vec![("sidecar.istio.io/inject", SVal::str("true", at))]);
    if let Some((rev, s)) = text_at(&["revision"]) {
        pod_labels.set("istio.io/rev", s, SVal::str(rev, s));
    }
    pod_labels.merge_values(labels.clone());
    pod_labels.set(
        "app.kubernetes.io/name",
        name_span,
        SVal::str(name.as_str(), name_span),
    );
    // Without a readinessProbe value: what the `gateway` injection template gives the proxy.
    let readiness = v
        .get("readinessProbe")
        .cloned()
        .unwrap_or_else(|| http_probe(at, "/healthz/ready", 15021));
    let container = SVal::map(
        at,
        vec![
            ("name", SVal::str("istio-proxy", at)),
            ("image", SVal::str("auto", at)),
            (
                "ports",
                container_ports(at, &[("http-envoy-prom", 15090), ("status-port", 15021)]),
            ),
            ("readinessProbe", readiness),
        ],
    );
    let deploy = workload(
        at,
        kind,
        meta((&r.namespace.0, r.namespace.1)),
        selector.clone(),
        SVal::map(
            at,
            vec![("annotations", pod_annotations), ("labels", pod_labels)],
        ),
        container,
    );
    let mut out = vec![finish(obj, &deploy, r.origin.clone())];

    // Service, unless `service.type: None`
    let svc_type = match v.path(&["service", "type"]) {
        Some(t) if t.text().is_some() => t.clone(),
        _ => SVal::str("LoadBalancer", at),
    };
    if svc_type.text() == Some("None") {
        return out;
    }
    let ports = match v.path(&["service", "ports"]) {
        Some(p @ SVal::Seq { .. }) => p.clone(),
        _ => SVal::seq(
            at,
            [("status-port", 15021), ("http2", 80), ("https", 443)]
                .into_iter()
                .map(|(n, p)| {
                    SVal::map(
                        at,
                        vec![
                            ("name", SVal::str(n, at)),
                            ("port", SVal::int(p, at)),
                            ("protocol", SVal::str("TCP", at)),
                            ("targetPort", SVal::int(p, at)),
                        ],
                    )
                })
                .collect(),
        ),
    };
    let svc_ns = text_at(&["namespace"]).unwrap_or((ns, ns_span));
    let mut svc_meta = meta((&svc_ns.0, svc_ns.1));
    // `merge (deepCopy .Values.service.annotations) .Values.annotations`: the Service's own win.
    let mut annotations = SVal::map(at, Vec::new());
    for key in [&["annotations"][..], &["service", "annotations"][..]] {
        if let Some(a @ SVal::Map { .. }) = v.path(key) {
            annotations.merge_values(a.clone());
        }
    }
    if let SVal::Map { span, entries } = &mut annotations {
        entries.retain(|(_, _, e)| !e.is_null());
        if let Some((_, ks, _)) = entries.first() {
            *span = *ks;
        }
        if !entries.is_empty() {
            svc_meta.set("annotations", *span, annotations.clone());
        }
    }
    let service = SVal::map(
        at,
        vec![
            ("apiVersion", SVal::str("v1", at)),
            ("kind", SVal::str("Service", at)),
            ("metadata", svc_meta),
            (
                "spec",
                SVal::map(
                    at,
                    vec![("type", svc_type), ("ports", ports), ("selector", selector)],
                ),
            ),
        ],
    );
    out.push(finish(obj, &service, r.origin.clone()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use crate::yaml::{ParseLimits, parse_stream};

    #[test]
    fn operator_gateway_with_overlay() {
        let src = r#"apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: cp, namespace: istio-system}
spec:
  components:
    ingressGateways:
    - name: istio-ingressgateway
      enabled: true
      k8s:
        service: {type: NodePort}
        serviceAnnotations:
          cloud.google.com/neg: '{"ingress": true}'
        overlays:
        - kind: Deployment
          name: istio-ingressgateway
          patches:
          - path: spec.template.spec.readinessGates
            value:
            - conditionType: cloud.google.com/load-balancer-neg-ready
"#;
        let out = parse_stream(FileId(0), src, &ParseLimits::default());
        let root = out.docs[0].root().unwrap();
        let obj = Object::from_root(root, "default").unwrap();
        let docs = istio_operator(&obj);
        assert_eq!(docs.len(), 2);
        let d = docs[0].root().unwrap();
        let gates = d
            .path(&["spec", "template", "spec", "readinessGates"])
            .unwrap();
        let cond = gates.items().next().unwrap().get("conditionType").unwrap();
        assert_eq!(
            cond.as_str(),
            Some("cloud.google.com/load-balancer-neg-ready")
        );
        assert_eq!(
            &src[cond.span().range()],
            "cloud.google.com/load-balancer-neg-ready"
        );
        let s = docs[1].root().unwrap();
        assert_eq!(
            s.path(&["spec", "type"]).unwrap().as_str(),
            Some("NodePort")
        );
        assert!(
            docs[1]
                .origin
                .as_deref()
                .unwrap()
                .contains("IstioOperator istio-system/cp")
        );
        let name = s.path(&["metadata", "name"]).unwrap();
        assert_eq!(&src[name.span().range()], "istio-ingressgateway");
    }

    #[test]
    fn path_segments() {
        assert_eq!(
            split_path("spec.template.spec.containers.[name:istio-proxy].readinessProbe"),
            vec![
                "spec",
                "template",
                "spec",
                "containers",
                "[name:istio-proxy]",
                "readinessProbe"
            ]
        );
        assert_eq!(split_path("a.b[0].c"), vec!["a", "b", "[0]", "c"]);
    }
}

#[cfg(test)]
mod helm_tests {
    use super::*;
    use crate::source::FileId;
    use crate::yaml::{ParseLimits, parse_stream};

    fn synth(src: &str) -> Vec<Document<'static>> {
        let out = parse_stream(FileId(0), src, &ParseLimits::default());
        let objs: Vec<Object<'_, '_>> = out
            .docs
            .iter()
            .filter_map(|d| Object::from_root(d.root()?, "default"))
            .collect();
        let repos = HelmRepos::new(&objs);
        objs.iter().flat_map(|o| helm_gateway(o, &repos)).collect()
    }

    fn at<'a>(src: &'a str, d: &Document<'_>, path: &[&str]) -> &'a str {
        let n = d.root().unwrap().path(path).unwrap();
        &src[n.span().range()]
    }

    #[test]
    fn argo_application_defaults_point_at_the_chart() {
        let src = "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: istio-ingressgateway, namespace: argocd}
spec:
  source:
    repoURL: https://istio-release.storage.googleapis.com/charts
    chart: gateway
    helm:
      values: |
        replicaCount: 2
        labels:
          istio: ingressgateway
  destination: {namespace: istio-ingress}
";
        let docs = synth(src);
        assert_eq!(docs.len(), 2);
        let svc = &docs[1];
        let r = svc.root().unwrap();
        assert_eq!(
            r.path(&["spec", "type"]).unwrap().as_str(),
            Some("LoadBalancer")
        );
        assert_eq!(at(src, svc, &["spec", "type"]), "chart");
        assert_eq!(
            r.path(&["metadata", "name"]).unwrap().as_str(),
            Some("istio-ingressgateway")
        );
        assert_eq!(
            r.path(&["metadata", "namespace"]).unwrap().as_str(),
            Some("istio-ingress")
        );
        let istio = r.path(&["spec", "selector", "istio"]).unwrap();
        assert_eq!(istio.as_str(), Some("ingressgateway"));
        assert_eq!(&src[istio.span().range()], "ingressgateway");
        assert_eq!(
            r.path(&["spec", "selector", "app"]).unwrap().as_str(),
            Some("istio-ingressgateway")
        );
        assert!(svc.origin.as_deref().unwrap().contains(
            "Argo CD Application argocd/istio-ingressgateway (Helm chart istio/gateway)"
        ));
        let d = docs[0].root().unwrap();
        assert_eq!(
            d.path(&[
                "spec",
                "template",
                "metadata",
                "annotations",
                "inject.istio.io/templates"
            ])
            .unwrap()
            .as_str(),
            Some("gateway")
        );
    }

    #[test]
    fn argo_values_string_spans_map_into_the_file() {
        let src = "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: gw, namespace: argocd}
spec:
  sources:
  - repoURL: https://github.com/acme/values
    ref: values
  - repoURL: oci://registry.example.com/istio-release/charts
    chart: gateway
    helm:
      releaseName: istio-ingress
      values: |-
        service:
          type: NodePort

          annotations: {a: b}
  destination: {namespace: istio-ingress}
";
        let docs = synth(src);
        assert_eq!(docs.len(), 2);
        let svc = &docs[1];
        assert_eq!(at(src, svc, &["spec", "type"]), "NodePort");
        assert_eq!(at(src, svc, &["metadata", "annotations", "a"]), "b");
        assert_eq!(at(src, svc, &["metadata", "name"]), "istio-ingress");
        let r = svc.root().unwrap();
        assert_eq!(
            r.path(&["spec", "selector", "istio"]).unwrap().as_str(),
            Some("ingress")
        );
    }

    #[test]
    fn quoted_values_and_value_objects() {
        let src = "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: gw, namespace: argocd}
spec:
  source:
    repoURL: https://istio-release.storage.googleapis.com/charts
    chart: gateway
    helm:
      values: \"service:\\n  type: NodePort\\n\"
      valuesObject:
        service:
          ports: [{name: http2, port: 80, targetPort: 8080}]
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: gw2, namespace: argocd}
spec:
  source:
    repoURL: https://istio-release.storage.googleapis.com/charts
    chart: gateway
    helm:
      values: 'service: {type: ClusterIP}'
";
        let docs = synth(src);
        assert_eq!(docs.len(), 4);
        let svc = &docs[1];
        let r = svc.root().unwrap();
        assert_eq!(
            r.path(&["spec", "type"]).unwrap().as_str(),
            Some("NodePort")
        );
        // Escaped string: points at the `values` key.
        assert_eq!(at(src, svc, &["spec", "type"]), "values");
        let port = r.path(&["spec", "ports"]).unwrap().items().next().unwrap();
        assert_eq!(&src[port.get("targetPort").unwrap().span().range()], "8080");
        assert_eq!(at(src, &docs[3], &["spec", "type"]), "ClusterIP");
    }

    #[test]
    fn value_files_and_other_charts_are_not_synthesised() {
        let src = "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: gw, namespace: argocd}
spec:
  source:
    repoURL: https://istio-release.storage.googleapis.com/charts
    chart: gateway
    helm: {valueFiles: [values-prod.yaml]}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: other, namespace: argocd}
spec:
  source: {repoURL: https://charts.example.com, chart: gateway}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: none, namespace: argocd}
spec:
  source:
    repoURL: https://istio-release.storage.googleapis.com/charts
    chart: gateway
    helm: {parameters: [{name: service.type, value: None}]}
";
        let docs = synth(src);
        // Only the third's Deployment: `service.type: None` removes the Service.
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].root().unwrap().str_at("kind"), Some("Deployment"));
    }

    #[test]
    fn flux_helm_release() {
        let src = "apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: istio, namespace: flux-system}
spec: {url: https://istio-release.storage.googleapis.com/charts}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: gateway, namespace: flux-system}
spec:
  targetNamespace: istio-ingress
  chart:
    spec:
      chart: gateway
      sourceRef: {kind: HelmRepository, name: istio}
  values:
    service:
      annotations:
        service.beta.kubernetes.io/aws-load-balancer-type: external
";
        let docs = synth(src);
        assert_eq!(docs.len(), 2);
        let r = docs[1].root().unwrap();
        assert_eq!(
            r.path(&["metadata", "name"]).unwrap().as_str(),
            Some("istio-ingress-gateway")
        );
        assert_eq!(
            r.path(&["metadata", "namespace"]).unwrap().as_str(),
            Some("istio-ingress")
        );
        assert_eq!(
            r.path(&["spec", "selector", "istio"]).unwrap().as_str(),
            Some("ingress-gateway")
        );
        assert_eq!(at(src, &docs[1], &["spec", "type"]), "chart");
        assert!(
            docs[1]
                .origin
                .as_deref()
                .unwrap()
                .contains("Flux HelmRelease flux-system/gateway")
        );
    }
}
