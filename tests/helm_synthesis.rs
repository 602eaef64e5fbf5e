//! Gateway synthesis from Argo CD Applications and Flux HelmReleases (catalog R2b): findings on
//! the synthesised gateway Service point at the values field, or at the `chart:` reference when
//! a chart default applies.

use std::path::Path;

use meshlint::lint::{self, Settings};
use meshlint::source::{SourceFile, Sources};

fn lint_file(rel: &str) -> (Sources, lint::Outcomes) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let text = std::fs::read_to_string(&path).expect("fixture");
    let mut sources = Sources::default();
    sources.add(SourceFile::new(rel.to_string(), text));
    let out = lint::run(&sources, &Settings::default());
    (sources, out)
}

fn line_of(sources: &Sources, f: &meshlint::finding::Location) -> (u32, String) {
    let file = sources.get(f.file);
    let lc = file.line_col(f.span.start);
    (lc.line, file.text[f.span.range()].to_string())
}

#[test]
fn field_report_3_stray_nlb_points_at_the_chart_reference() {
    let (sources, out) = lint_file("fixtures/ALB002/bad-argocd-gateway.yaml");
    let f = out
        .findings
        .iter()
        .find(|f| f.code == "ALB002")
        .expect("ALB002 on the Application's gateway");
    assert_eq!(
        line_of(&sources, &f.location),
        (47, "istio-ingressgateway".to_string())
    );
    assert!(
        f.message.contains(
            "synthesised from Argo CD Application argocd/istio-ingress (Helm chart istio/gateway)"
        ),
        "{}",
        f.message
    );
    let related = &f.related[0].location;
    assert_eq!(line_of(&sources, related), (13, "chart".to_string()));
}

#[test]
fn an_explicit_service_type_in_the_values_string_is_pointed_at() {
    let src = "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: gw, namespace: argocd}
spec:
  source:
    repoURL: https://istio-release.storage.googleapis.com/charts
    chart: gateway
    helm:
      values: |
        service:
          type: LoadBalancer
  destination: {namespace: istio-ingress}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: alb
  namespace: istio-ingress
  annotations: {alb.ingress.kubernetes.io/target-type: ip}
spec:
  ingressClassName: alb
  defaultBackend:
    service: {name: gw, port: {number: 80}}
";
    let mut sources = Sources::default();
    sources.add(SourceFile::new("app.yaml".into(), src.into()));
    let out = lint::run(&sources, &Settings::default());
    let f = out
        .findings
        .iter()
        .find(|f| f.code == "ALB002")
        .expect("ALB002");
    assert_eq!(
        line_of(&sources, &f.related[0].location),
        (11, "LoadBalancer".to_string())
    );
}
