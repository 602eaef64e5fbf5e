//! Synthesis of objects that are not in Git but follow from what is (catalog R2): the ingress
//! gateway Deployment and Service an `IstioOperator` installs.
//!
//! Synthesised objects are ordinary [`Document`]s whose nodes carry the spans of the fields
//! that produced them (a default value points at the component that implies it), so findings
//! on them point at the right place in the operator's file. Their `origin` says where they
//! come from.

use super::Object;
use crate::source::Span;
use crate::yaml::{Builder, Document, Node, NodeId, Style};

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
        if n.is_map() {
            SVal::Map {
                span: n.span(),
                entries: n
                    .entries()
                    .map(|(k, v)| {
                        (
                            k.as_str().unwrap_or("").to_string(),
                            k.span(),
                            SVal::from_node(v),
                        )
                    })
                    .collect(),
            }
        } else if n.is_seq() {
            SVal::Seq {
                span: n.span(),
                items: n.items().map(SVal::from_node).collect(),
            }
        } else {
            SVal::Scalar {
                text: n.as_str().unwrap_or("").to_string(),
                style: n.style().unwrap_or(Style::Plain),
                span: n.span(),
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
                    SVal::seq(
                        at,
                        [("http2", 8080), ("https", 8443), ("status-port", 15021)]
                            .into_iter()
                            .map(|(n, p)| {
                                SVal::map(
                                    at,
                                    vec![
                                        ("name", SVal::str(n, at)),
                                        ("containerPort", SVal::int(p, at)),
                                    ],
                                )
                            })
                            .collect(),
                    ),
                ),
                (
                    "readinessProbe",
                    SVal::map(
                        at,
                        vec![(
                            "httpGet",
                            SVal::map(
                                at,
                                vec![
                                    ("path", SVal::str("/healthz/ready", at)),
                                    ("port", SVal::int(15021, at)),
                                ],
                            ),
                        )],
                    ),
                ),
            ],
        );
        let mut deploy = SVal::map(
            at,
            vec![
                ("apiVersion", SVal::str("apps/v1", at)),
                ("kind", SVal::str("Deployment", at)),
                ("metadata", meta(&labels)),
                (
                    "spec",
                    SVal::map(
                        at,
                        vec![
                            (
                                "selector",
                                SVal::map(at, vec![("matchLabels", labels.clone())]),
                            ),
                            (
                                "template",
                                SVal::map(
                                    at,
                                    vec![
                                        ("metadata", pod_meta),
                                        (
                                            "spec",
                                            SVal::map(
                                                at,
                                                vec![(
                                                    "containers",
                                                    SVal::seq(at, vec![container]),
                                                )],
                                            ),
                                        ),
                                    ],
                                ),
                            ),
                        ],
                    ),
                ),
            ],
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
