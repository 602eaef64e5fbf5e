//! Worlds (catalog §0.4): alternatives of one object are never linted together, findings on
//! shared objects are merged once, same-stream duplicates are MLN003, and the CLI says which
//! sets it used.

use std::process::Command;

use meshlint::finding::{Finding, Outcome};
use meshlint::lint::{self, Settings};
use meshlint::source::{SourceFile, Sources};

fn sources(files: &[(&str, &str)]) -> Sources {
    let mut s = Sources::default();
    for (path, text) in files {
        s.add(SourceFile::new(path.to_string(), text.to_string()));
    }
    s
}

fn marks(sources: &Sources, findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            let file = sources.get(f.location.file);
            let lc = file.line_col(f.location.span.start);
            format!("{} {}:{}:{}", f.code, file.path, lc.line, lc.column)
        })
        .collect()
}

const GATEWAY: &str = "apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web, namespace: istio-ingress}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [\"*\"]
";

/// A mesh VirtualService for `host`, binding gateway `gw`, in namespace `shop`.
fn vs(gw: &str, host: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: web, namespace: shop}}
spec:
  hosts: [{host}]
  gateways: [{gw}]
  http:
  - route:
    - destination: {{host: web.shop.svc.cluster.local}}
"
    )
}

#[test]
fn environments_are_linted_apart_and_a_bug_is_found_at_its_own_path() {
    // dev and prod define the same VirtualService; prod misspells the Gateway (IRT001 with a
    // near miss in the shared base). The two VirtualServices would collide (IRT011/IRT017) if
    // they were paired; they are not.
    let s = sources(&[
        ("repo/base/gateway.yaml", GATEWAY),
        (
            "repo/envs/dev/vs.yaml",
            &vs("istio-ingress/web", "web.example.com"),
        ),
        (
            "repo/envs/prod/vs.yaml",
            &vs("istio-ingress/wbe", "web.example.com"),
        ),
    ]);
    let out = lint::run(&s, &Settings::default());
    assert_eq!(
        marks(&s, &out.findings),
        vec!["IRT001 repo/envs/prod/vs.yaml:6:14"]
    );
    assert_eq!(out.worlds.len(), 2, "{:?}", out.worlds);
    assert!(
        out.world_reasons[0].starts_with("sets under `repo/envs`"),
        "{:?}",
        out.world_reasons
    );
}

#[test]
fn a_finding_on_a_shared_object_is_reported_once() {
    // The Gateway in base/ has a selector no workload carries: one IGW001 (unknown) for it,
    // not one per environment.
    let s = sources(&[
        ("repo/base/gateway.yaml", GATEWAY),
        (
            "repo/envs/dev/vs.yaml",
            &vs("istio-ingress/web", "web.example.com"),
        ),
        (
            "repo/envs/prod/vs.yaml",
            &vs("istio-ingress/web", "web.example.com"),
        ),
    ]);
    let out = lint::run(&s, &Settings::default());
    let igw: Vec<String> = marks(&s, &out.unknown)
        .into_iter()
        .filter(|m| m.starts_with("IGW001"))
        .collect();
    assert_eq!(igw, vec!["IGW001 repo/base/gateway.yaml:5:21"]);
}

#[test]
fn a_violation_with_some_alternatives_only_is_undecided_and_says_which() {
    // Two alternative versions of one VirtualService in one folder: only one binds a Gateway
    // name a typo away. The finding is on that alternative's own line, so it holds there.
    // A finding on the shared Gateway that depends on the alternative is undecided.
    let s = sources(&[
        ("net/gateway.yaml", GATEWAY),
        (
            "net/vs-v1.yaml",
            &vs("istio-ingress/web", "web.example.com"),
        ),
        (
            "net/vs-v2.yaml",
            &vs("istio-ingress/wbe", "web.example.com"),
        ),
    ]);
    let out = lint::run(&s, &Settings::default());
    assert_eq!(marks(&s, &out.findings), vec!["IRT001 net/vs-v2.yaml:6:14"]);
    assert_eq!(out.worlds.len(), 2);
    // Copying the folder as an environment elsewhere keeps the finding and adds its twin.
    let s2 = sources(&[
        ("a/net/gateway.yaml", GATEWAY),
        (
            "a/net/vs-v1.yaml",
            &vs("istio-ingress/web", "web.example.com"),
        ),
        (
            "a/net/vs-v2.yaml",
            &vs("istio-ingress/wbe", "web.example.com"),
        ),
        ("b/net/gateway.yaml", GATEWAY),
        (
            "b/net/vs-v1.yaml",
            &vs("istio-ingress/web", "web.example.com"),
        ),
        (
            "b/net/vs-v2.yaml",
            &vs("istio-ingress/wbe", "web.example.com"),
        ),
    ]);
    let out2 = lint::run(&s2, &Settings::default());
    assert_eq!(
        marks(&s2, &out2.findings),
        vec![
            "IRT001 a/net/vs-v2.yaml:6:14",
            "IRT001 b/net/vs-v2.yaml:6:14"
        ]
    );
}

#[test]
fn partial_findings_of_shared_objects_across_alternatives_become_unknown() {
    // The shared Service selects `app: web`; one alternative Deployment labels its pods
    // `app: wbe` (a typo: WRK001 on the shared Service), the other labels them right. The
    // Service's finding holds with one alternative only: undecided, naming it.
    let service = "apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
";
    let deployment = |label: &str| {
        format!(
            "apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: {label}}}}}
  template:
    metadata: {{labels: {{app: {label}}}}}
    spec:
      containers:
      - name: web
        image: example/web:1
        ports: [{{name: http, containerPort: 8080}}]
"
        )
    };
    let s = sources(&[
        ("app/service.yaml", service),
        ("app/deploy-a.yaml", &deployment("web")),
        ("app/deploy-b.yaml", &deployment("wbe")),
    ]);
    let out = lint::run(&s, &Settings::default());
    assert!(
        !out.findings.iter().any(|f| f.code == "WRK001"),
        "{:?}",
        marks(&s, &out.findings)
    );
    let wrk: Vec<&Finding> = out.unknown.iter().filter(|f| f.code == "WRK001").collect();
    assert_eq!(wrk.len(), 1, "{:?}", marks(&s, &out.unknown));
    assert_eq!(wrk[0].outcome, Outcome::Unknown);
    assert!(
        wrk[0]
            .message
            .ends_with("(only with the alternative app/deploy-b.yaml, not with app/deploy-a.yaml: undecided until one of them is chosen)"),
        "{}",
        wrk[0].message
    );
}

#[test]
fn two_definitions_in_one_stream_are_mln003_and_the_later_wins() {
    // The second Service (the one kubectl apply keeps) selects a typo of the pods' labels.
    let text = "apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: wbe}
  ports: [{name: http, port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: example/web:1, ports: [{containerPort: 80}]}]
";
    let s = sources(&[("<stdin>", text)]);
    let out = lint::run(&s, &Settings::default());
    assert_eq!(
        marks(&s, &out.findings),
        vec!["MLN003 <stdin>:10:18", "WRK001 <stdin>:12:19"]
    );
    let dup = &out.findings[0];
    assert_eq!(dup.related.len(), 1);
    assert_eq!(dup.related[0].message, "first defined here");
    assert!(out.worlds.is_empty(), "one stream is one world");
}

#[test]
fn file_order_and_names_do_not_change_the_findings() {
    let files = [
        ("repo/base/gateway.yaml", GATEWAY.to_string()),
        (
            "repo/envs/dev/vs.yaml",
            vs("istio-ingress/web", "web.example.com"),
        ),
        (
            "repo/envs/prod/vs.yaml",
            vs("istio-ingress/wbe", "web.example.com"),
        ),
    ];
    let forward: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let mut backward = forward.clone();
    backward.reverse();
    let a = sources(&forward);
    let b = sources(&backward);
    let mut ma = marks(&a, &lint::run(&a, &Settings::default()).findings);
    let mut mb = marks(&b, &lint::run(&b, &Settings::default()).findings);
    ma.sort();
    mb.sort();
    assert_eq!(ma, mb);
    // Renamed environments: the same finding at the renamed path.
    let renamed: Vec<(String, &str)> = forward
        .iter()
        .map(|(p, t)| {
            (
                p.replace("envs/dev", "envs/alpha")
                    .replace("envs/prod", "envs/omega"),
                *t,
            )
        })
        .collect();
    let r: Vec<(&str, &str)> = renamed.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    let c = sources(&r);
    assert_eq!(
        marks(&c, &lint::run(&c, &Settings::default()).findings),
        vec!["IRT001 repo/envs/omega/vs.yaml:6:14"]
    );
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_meshlint"))
}

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("meshlint-worlds-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn show_sets_names_the_sets_and_why_and_config_sets_declares_them() {
    let d = scratch("cli");
    for (path, text) in [
        (
            "clusters/east/vs.yaml",
            vs("istio-ingress/web", "web.example.com"),
        ),
        (
            "clusters/west/vs.yaml",
            vs("istio-ingress/web", "web.example.com"),
        ),
        ("clusters/west/extra.yaml", GATEWAY.to_string()),
    ] {
        let p = d.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let out = bin()
        .current_dir(&d)
        .args(["--show-sets", "--color", "never", "clusters"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("meshlint: linted as 2 sets: objects defined in more than one file are alternatives, never linted together\n"),
        "{err}"
    );
    assert!(
        err.contains("  split: sets under `clusters`: clusters/east, clusters/west (VirtualService.networking.istio.io shop/web defined in more than one of them)\n"),
        "{err}"
    );
    assert!(err.contains("  set 1: clusters/east\n"), "{err}");
    assert!(err.contains("  set 2: clusters/west\n"), "{err}");

    // Without --show-sets: one line pointing at it; with -q: nothing.
    let out = bin()
        .current_dir(&d)
        .args(["--color", "never", "clusters"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("(--show-sets lists them)"), "{err}");
    let out = bin()
        .current_dir(&d)
        .args(["-q", "--color", "never", "clusters"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("sets"));

    // `sets:` declares the worlds: each cluster directory, even without shared names.
    std::fs::write(d.join(".meshlint.yaml"), "sets: [\"clusters/*\"]\n").unwrap();
    std::fs::write(
        d.join("clusters/west/vs.yaml"),
        vs("istio-ingress/web", "other.example.com"),
    )
    .unwrap();
    let out = bin()
        .current_dir(&d)
        .args(["--show-sets", "--color", "never", "clusters"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("  split: declared in the config (`sets:`): clusters/east, clusters/west\n"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn exact_copies_and_config_sync_selectors_are_not_mln003() {
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\ndata: {k: v}\n";
    let s = sources(&[("<stdin>", &format!("{cm}---\n{cm}"))]);
    let out = lint::run(&s, &Settings::default());
    assert!(out.findings.is_empty(), "{:?}", marks(&s, &out.findings));
    // Config Sync hierarchical repositories: one object per namespace selector.
    let quota = |sel: &str, cpu: &str| {
        format!(
            "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: quota\n  annotations:\n    \
             configmanagement.gke.io/namespace-selector: {sel}\nspec:\n  hard: {{cpu: \"{cpu}\"}}\n"
        )
    };
    let text = format!(
        "{}---\n{}",
        quota("analytics", "1"),
        quota("gamestore", "2")
    );
    let s = sources(&[("eng/quota.yaml", &text)]);
    let out = lint::run(&s, &Settings::default());
    assert!(out.findings.is_empty(), "{:?}", marks(&s, &out.findings));
}

#[test]
fn a_shared_layer_is_overridden_by_the_sibling_that_redefines_it() {
    // docs/shared defines the Gateway and a VirtualService that docs/guide redefines: one set,
    // guide's VirtualService wins over the shared one (whose typo would be an error).
    let s = sources(&[
        ("docs/shared/gateway.yaml", GATEWAY),
        (
            "docs/shared/vs.yaml",
            &vs("istio-ingress/wbe", "web.example.com"),
        ),
        (
            "docs/guide/vs.yaml",
            &vs("istio-ingress/web", "web.example.com"),
        ),
    ]);
    let out = lint::run(&s, &Settings::default());
    assert!(out.worlds.is_empty(), "{:?}", out.worlds);
    assert!(
        !out.findings.iter().any(|f| f.code == "IRT001"),
        "{:?}",
        marks(&s, &out.findings)
    );
}

#[test]
fn a_near_miss_seen_from_a_file_that_did_not_parse_decides_nothing() {
    // The Gateway the VirtualService names may be the document that failed to parse.
    let text = format!(
        "{}---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {{name: [}}\n",
        vs("istio-ingress/wbe", "web.example.com")
    );
    let s = sources(&[("app.yaml", &text), ("gateway.yaml", GATEWAY)]);
    let out = lint::run(&s, &Settings::default());
    assert_eq!(marks(&s, &out.findings), vec!["YAML001 app.yaml:13:19"]);
    assert!(
        marks(&s, &out.unknown).contains(&"IRT001 app.yaml:6:14".to_string()),
        "{:?}",
        marks(&s, &out.unknown)
    );
}
