//! Kustomize directories through the binary: a directory holding `kustomization.yaml`,
//! `kustomization.yml` or `Kustomization` is skipped (with everything below it) with one notice
//! that says how to lint the rendered output; plain manifests beside it are still linted.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshlint"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("GITHUB_ACTIONS")
        .args(args)
        .output()
        .expect("run meshlint")
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("meshlint-kustomize-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn write(&self, rel: &str, text: &str) {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    fn arg(&self, rel: &str) -> String {
        let p: &Path = &self.0;
        if rel.is_empty() {
            p.to_string_lossy().into_owned()
        } else {
            p.join(rel).to_string_lossy().into_owned()
        }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An ALB Ingress with `target-type: instance` in front of a ClusterIP Service: ALB001 at
/// 10:13 (the annotation value), an error.
const ALB_BAD: &str = "\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: gw
  namespace: istio-ingress
spec:
  ingressClassName: alb
  defaultBackend:
    service:
      name: istio-ingress
      port:
        number: 80
---
apiVersion: v1
kind: Service
metadata:
  name: istio-ingress
  namespace: istio-ingress
spec:
  type: ClusterIP
  selector:
    istio: ingress
  ports:
  - name: http2
    port: 80
";

/// The same mistake, as a kustomize base would hold it: linted raw it would be reported.
const BASE_INGRESS: &str = ALB_BAD;

/// A strategic-merge patch: a fragment, not an object (no namespace, no spec worth the name).
const PROD_PATCH: &str = "\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: gw
  annotations:
    alb.ingress.kubernetes.io/target-type: instance
spec:
  ingressClassName: alb
";

fn repo(name: &str) -> TempDir {
    let t = TempDir::new(name);
    t.write(
        "base/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ingress.yaml\n",
    );
    t.write("base/ingress.yaml", BASE_INGRESS);
    t.write("base/components/extra.yaml", BASE_INGRESS);
    t.write(
        "overlays/prod/kustomization.yaml",
        "resources:\n- ../../base\npatches:\n- path: patch.yaml\n",
    );
    t.write("overlays/prod/patch.yaml", PROD_PATCH);
    t.write("plain/alb.yaml", ALB_BAD);
    t
}

/// `(code, path, line, column)` of each finding in JSON output.
fn findings(out: &Output) -> Vec<(String, String, u64, u64)> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn notice(dir: &str) -> String {
    format!(
        "meshlint: skipped kustomization {dir}: its files are patches, not objects; lint the \
         rendered output with `kubectl kustomize {dir} | meshlint -`"
    )
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn kustomizations_are_skipped_and_siblings_linted() {
    let t = repo("siblings");
    let root = t.arg("");
    let out = run(&["--format", "json", &root]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        findings(&out),
        [(
            "ALB001".to_string(),
            format!("{root}/plain/alb.yaml"),
            10,
            13
        )],
        "{err}"
    );
    for dir in ["base", "overlays/prod"] {
        let want = notice(&format!("{root}/{dir}"));
        assert_eq!(
            err.lines().filter(|l| *l == want).count(),
            1,
            "want once: {want}\nstderr:\n{err}"
        );
    }
    assert_eq!(
        err.matches("skipped kustomization").count(),
        2,
        "one notice per kustomization directory, none for base/components:\n{err}"
    );
}

#[test]
fn human_output_reports_the_sibling_at_its_line_and_column() {
    let t = repo("human");
    let root = t.arg("");
    let out = run(&["--format", "concise", "--color", "never", &root]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("{root}/plain/alb.yaml:10:13")),
        "{text}"
    );
    assert!(!text.contains("/base/"), "{text}");
    assert!(!text.contains("/overlays/"), "{text}");
}

#[test]
fn a_kustomization_given_directly_is_skipped_with_the_notice() {
    let t = repo("direct");
    // The directory, and the kustomization file itself: one notice for the directory.
    let base = t.arg("base");
    let out = run(&[&base, &t.arg("base/kustomization.yaml")]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(
        err.lines().filter(|l| *l == notice(&base)).count(),
        1,
        "{err}"
    );
    assert!(err.contains("no Kubernetes objects found"), "{err}");

    // Other spellings of the kustomization file.
    let t = TempDir::new("spellings");
    t.write("yml/kustomization.yml", "resources: [a.yaml]\n");
    t.write("yml/a.yaml", ALB_BAD);
    t.write("capital/Kustomization", "resources: [a.yaml]\n");
    t.write("capital/a.yaml", ALB_BAD);
    for dir in ["yml", "capital"] {
        let out = run(&["--format", "json", &t.arg(dir)]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{dir}: {err}");
        assert!(findings(&out).is_empty(), "{dir}: {err}");
        assert!(err.contains(&notice(&t.arg(dir))), "{dir}: {err}");
    }
    let out = run(&[&t.arg("capital/Kustomization")]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains(&notice(&t.arg("capital"))),
        "{}",
        stderr(&out)
    );

    // A manifest of a kustomization named explicitly is read, like a Helm chart's file.
    let out = run(&["--format", "json", &t.arg("yml/a.yaml")]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        findings(&out),
        [("ALB001".to_string(), t.arg("yml/a.yaml"), 10, 13)]
    );
}

#[test]
fn quiet_hides_the_notice() {
    let t = repo("quiet");
    let out = run(&["--quiet", "--format", "json", &t.arg("")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !stderr(&out).contains("skipped kustomization"),
        "{}",
        stderr(&out)
    );
}
