//! The binary end to end: exit codes, stdin, rule selection, JSON shape, determinism, and a
//! broken document that does not hide the others.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_meshlint"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c.env_remove("GITHUB_ACTIONS");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run meshlint")
}

fn run_stdin(args: &[&str], input: &str) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn meshlint");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `(code, path, line, column)` of each finding.
fn findings(v: &serde_json::Value) -> Vec<(String, String, u64, u64)> {
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

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("meshlint-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

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

#[test]
fn exit_codes_follow_fail_on() {
    let bad = run(&["fixtures/ALB001/bad.yaml"]);
    assert_eq!(
        bad.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&bad.stdout)
    );
    let good = run(&["fixtures/ALB001/good.yaml"]);
    assert_eq!(good.status.code(), Some(0));
    let never = run(&["--fail-on", "never", "fixtures/ALB001/bad.yaml"]);
    assert_eq!(never.status.code(), Some(0));
    // GKE002 is info: it does not fail a run by default, only with --fail-on info.
    let info = run(&["--select", "GKE002", "fixtures/GKE002/bad.yaml"]);
    assert_eq!(info.status.code(), Some(0));
    let info = run(&[
        "--select",
        "GKE002",
        "--fail-on",
        "info",
        "fixtures/GKE002/bad.yaml",
    ]);
    assert_eq!(info.status.code(), Some(1));
}

#[test]
fn usage_errors_and_missing_paths_exit_2() {
    assert_eq!(run(&["--format", "xml", "fixtures"]).status.code(), Some(2));
    assert_eq!(
        run(&["--select", "NOPE001", "fixtures"]).status.code(),
        Some(2)
    );
    let missing = run(&["does/not/exist.yaml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does/not/exist.yaml"));
}

#[test]
fn stdin_with_a_filename() {
    let out = run_stdin(
        &["--format", "json", "--stdin-filename", "rendered.yaml", "-"],
        ALB_BAD,
    );
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(
        findings(&v),
        vec![("ALB001".into(), "rendered.yaml".into(), 10, 13)]
    );
}

#[test]
fn empty_input_says_no_objects() {
    let out = run_stdin(&["-"], "");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Kubernetes objects"));
}

#[test]
fn select_and_ignore_take_codes_and_ids() {
    let all = json(&run(&["--format", "json", "fixtures/examples"]));
    let codes: Vec<String> = findings(&all).into_iter().map(|f| f.0).collect();
    assert!(codes.contains(&"ALB001".to_string()), "{codes:?}");
    assert!(codes.contains(&"GKE001".to_string()), "{codes:?}");

    let sel = json(&run(&[
        "--format",
        "json",
        "--select",
        "alb-target-type-service-type-mismatch,GKE001",
        "fixtures/examples",
    ]));
    let mut sel_codes: Vec<String> = findings(&sel).into_iter().map(|f| f.0).collect();
    sel_codes.dedup();
    sel_codes.sort();
    sel_codes.dedup();
    assert_eq!(sel_codes, vec!["ALB001", "GKE001"]);

    let ign = json(&run(&[
        "--format",
        "json",
        "--ignore",
        "ALB001",
        "--ignore",
        "gke-sni-less-https-backend",
        "fixtures/examples",
    ]));
    assert!(
        findings(&ign)
            .iter()
            .all(|f| f.0 != "ALB001" && f.0 != "GKE001")
    );
    assert_eq!(findings(&ign).len(), codes.len() - findings(&sel).len());
}

#[test]
fn json_shape() {
    let out = run(&["--format", "json", "fixtures/GKE001/bad.yaml"]);
    let v = json(&out);
    assert_eq!(v["version"], 1);
    let f = &v["findings"][0];
    assert_eq!(f["code"], "GKE001");
    assert_eq!(f["id"], "gke-sni-less-https-backend");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["path"], "fixtures/GKE001/bad.yaml");
    for key in ["message", "help"] {
        assert!(!f[key].as_str().unwrap().is_empty());
    }
    for key in ["line", "column", "end_line", "end_column"] {
        assert!(f[key].as_u64().unwrap() >= 1);
    }
    assert_eq!(f["resource"]["kind"], "Ingress");
    assert_eq!(f["resource"]["apiVersion"], "networking.k8s.io/v1");
    assert_eq!(f["resource"]["namespace"], "istio-system");
    let related = f["related"].as_array().unwrap();
    assert!(!related.is_empty());
    assert!(
        related
            .iter()
            .all(|r| r["path"].is_string() && r["line"].as_u64().unwrap() >= 1)
    );
    assert!(v["unknown"].is_array());
    for key in ["errors", "warnings", "infos", "unknown", "files", "objects"] {
        assert!(v["summary"][key].is_u64(), "summary.{key}");
    }
    assert_eq!(v["summary"]["files"], 1);
}

#[test]
fn output_is_deterministic() {
    let a = run(&["--format", "json", "fixtures"]);
    let b = run(&["--format", "json", "fixtures"]);
    assert!(!a.stdout.is_empty());
    assert_eq!(a.stdout, b.stdout);
    // Sorted by path, line, column.
    let f = findings(&json(&a));
    let mut sorted = f.clone();
    sorted.sort_by(|x, y| (&x.1, x.2, x.3, &x.0).cmp(&(&y.1, y.2, y.3, &y.0)));
    assert_eq!(f, sorted);
}

#[test]
fn a_syntax_error_does_not_hide_other_documents_or_files() {
    let dir = temp_dir("syntax");
    std::fs::write(
        dir.join("a.yaml"),
        format!("{ALB_BAD}---\nkind: ConfigMap\ndata: {{a: [1, 2\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("b.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n",
    )
    .unwrap();
    let out = run(&["--format", "json", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let f = findings(&json(&out));
    let a = format!("{}/a.yaml", dir.display());
    assert_eq!(
        f,
        vec![
            ("ALB001".into(), a.clone(), 10, 13),
            ("YAML001".into(), a, 28, 16),
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn helm_chart_sources_are_skipped_with_a_hint() {
    let dir = temp_dir("helm");
    let chart = dir.join("chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: x\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/svc.yaml"),
        "{{ if .Values.x }}\nkind: Service\n{{ end }}\n",
    )
    .unwrap();
    let out = run(&[dir.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("helm template"), "{err}");
    assert_eq!(out.status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn human_output_points_at_the_field() {
    let out = run(&["--color", "never", "fixtures/ALB001/bad.yaml"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("error[ALB001]"), "{text}");
    assert!(text.contains("fixtures/ALB001/bad.yaml:"), "{text}");
    assert!(text.contains("help:"), "{text}");
    assert!(text.contains("Found 1 error"), "{text}");
}

#[test]
fn rules_lists_every_rule() {
    let out = run(&["rules"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for code in [
        "GKE001", "GKE002", "ALB001", "ALB002", "TLS001", "H2001", "YAML001", "YAML002",
    ] {
        assert!(text.lines().any(|l| l.starts_with(code)), "{code} missing");
    }
    assert!(text.contains("gke-sni-less-https-backend"));
}

#[test]
fn kind_list_and_json_files_load() {
    let dir = temp_dir("list");
    let list = serde_json::json!({
        "apiVersion": "v1", "kind": "List",
        "items": [
            {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
             "metadata": {"name": "gw", "namespace": "istio-ingress"},
             "spec": {"ingressClassName": "alb",
                      "defaultBackend": {"service": {"name": "istio-ingress", "port": {"number": 80}}}}},
            {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "istio-ingress", "namespace": "istio-ingress"},
             "spec": {"selector": {"istio": "ingress"}, "ports": [{"port": 80}]}}
        ]
    });
    std::fs::write(
        dir.join("list.json"),
        serde_json::to_string_pretty(&list).unwrap(),
    )
    .unwrap();
    let out = run(&["--format", "json", dir.to_str().unwrap()]);
    let f = findings(&json(&out));
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].0, "ALB001");
    assert_eq!(f[0].2, 14);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn namespace_flag_defaults_objects_without_one() {
    // The Ingress names no namespace; the Service is in `edge`. Only with --namespace edge do
    // they meet.
    let input = ALB_BAD
        .replace(
            "  namespace: istio-ingress\nspec:\n  ingressClassName",
            "spec:\n  ingressClassName",
        )
        .replace("namespace: istio-ingress", "namespace: edge");
    let plain = json(&run_stdin(&["--format", "json", "-"], &input));
    assert!(findings(&plain).is_empty());
    let edge = json(&run_stdin(
        &["--format", "json", "--namespace", "edge", "-"],
        &input,
    ));
    assert_eq!(findings(&edge).len(), 1);
}

#[test]
fn closed_world_and_show_unknown() {
    let p = Path::new("fixtures/GKE001/unknown-gateway-pods-missing.yaml");
    assert!(p.exists());
    let open = json(&run(&["--format", "json", p.to_str().unwrap()]));
    assert!(findings(&open).is_empty());
    assert!(!open["unknown"].as_array().unwrap().is_empty());
    let human = run(&["--color", "never", p.to_str().unwrap()]);
    assert_eq!(human.status.code(), Some(0));
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("undecided (run with --show-unknown)"),
        "{text}"
    );
    let shown = run(&["--color", "never", "--show-unknown", p.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&shown.stdout).contains("unknown:"));
    assert_eq!(shown.status.code(), Some(0));
    // In a closed world the pods that are not in the set do not exist: not a gateway, no
    // GKE001 finding (WRK001 reports the Service that now selects nothing).
    let closed = json(&run(&[
        "--format",
        "json",
        "--closed-world",
        p.to_str().unwrap(),
    ]));
    assert!(findings(&closed).iter().all(|f| f.0 != "GKE001"));
    assert!(closed["unknown"].as_array().unwrap().is_empty());
}

#[test]
fn rule_explains_itself_by_code_or_id() {
    let by_code = run(&["rule", "GKE001"]);
    assert_eq!(by_code.status.code(), Some(0));
    let text = String::from_utf8_lossy(&by_code.stdout);
    assert!(
        text.starts_with("# GKE001 `gke-sni-less-https-backend`"),
        "{text}"
    );
    assert!(text.contains("## Why is this bad?"));
    assert!(text.contains("meshlint.io/ignore"));
    let by_id = run(&["rule", "gke-sni-less-https-backend"]);
    assert_eq!(by_id.stdout, by_code.stdout);
    let page = std::fs::read_to_string("docs/rules/gke-sni-less-https-backend.md").unwrap();
    assert_eq!(page.as_bytes(), &by_code.stdout[..]);
    assert_eq!(run(&["rule", "NOPE"]).status.code(), Some(2));
    // Every human finding names the command.
    let out = run(&["--color", "never", "fixtures/ALB001/bad.yaml"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("meshlint rule ALB001"));
}

#[test]
fn path_errors_cannot_start_a_workflow_command() {
    let out = bin()
        .args([
            "--format",
            "json",
            "bad\n::error::pwned.yaml",
            "\r::warning::x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines().all(|l| !l.trim_start().starts_with("::")),
        "{err}"
    );
    assert!(err.contains("bad\\u{a}::error::pwned.yaml"), "{err}");
}

#[test]
fn no_path_with_a_pipe_says_how_to_read_stdin() {
    let dir = std::env::temp_dir().join(format!("meshlint-nopath-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = bin()
        .current_dir(&dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(b"apiVersion: v1\nkind: Service\n");
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "no path given: linting `.`, not standard input; to lint what is piped in, pass `-`"
        ),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
