//! `.meshlint.yaml` end to end: discovery from the current directory, every setting, CLI
//! precedence, and errors that point into the file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A project directory with the given config and two manifest folders.
fn project(name: &str, config: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("meshlint-cfg-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("k8s/legacy")).unwrap();
    std::fs::create_dir_all(d.join("nested/deeper")).unwrap();
    std::fs::write(d.join(".meshlint.yaml"), config).unwrap();
    let copy = |from: &str, to: &str| {
        std::fs::write(
            d.join(to),
            std::fs::read_to_string(repo().join(from)).unwrap(),
        )
        .unwrap()
    };
    copy("fixtures/ALB001/bad.yaml", "k8s/alb.yaml");
    copy("fixtures/GKE002/bad.yaml", "k8s/gke.yaml");
    copy("fixtures/ALB002/bad.yaml", "k8s/legacy/stray.yaml");
    d
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshlint"))
        .args(args)
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap()
}

fn codes(out: &Output) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    let mut c: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    c.sort();
    c.dedup();
    c
}

#[test]
fn select_ignore_and_cli_precedence() {
    let d = project("select", "select: [ALB001, GKE002]\nignore: [GKE002]\n");
    let out = run(&d, &["--format", "json", "k8s"]);
    assert_eq!(codes(&out), vec!["ALB001"]);
    // Flags override the file.
    let out = run(&d, &["--format", "json", "--select", "ALB002", "k8s"]);
    assert_eq!(codes(&out), vec!["ALB002"]);
    // Found from a subdirectory too.
    let out = run(&d.join("nested/deeper"), &["--format", "json", "../../k8s"]);
    assert_eq!(codes(&out), vec!["ALB001"]);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn severity_override_and_fail_on() {
    let d = project(
        "severity",
        "select: [GKE002]\nseverity: {gke-neg-readiness-gate-missing: warning}\n",
    );
    let out = run(&d, &["--format", "json", "k8s"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["severity"], "warning");
    std::fs::write(
        d.join(".meshlint.yaml"),
        "select: [GKE002]\nseverity: {GKE002: warning}\nfail-on: error\n",
    )
    .unwrap();
    assert_eq!(run(&d, &["k8s"]).status.code(), Some(0));
    assert_eq!(
        run(&d, &["--fail-on", "warning", "k8s"]).status.code(),
        Some(1)
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn include_exclude_and_explicit_config() {
    let d = project("globs", "exclude: ['k8s/legacy/**']\n");
    let out = run(&d, &["--format", "json", "k8s"]);
    assert!(
        !codes(&out).contains(&"ALB002".to_string()),
        "{:?}",
        codes(&out)
    );
    assert!(codes(&out).contains(&"ALB001".to_string()));
    // --config wins over discovery.
    let other = d.join("other.yaml");
    std::fs::write(&other, "include: ['k8s/legacy/**']\n").unwrap();
    let out = run(
        &d,
        &[
            "--format",
            "json",
            "--config",
            other.to_str().unwrap(),
            "k8s",
        ],
    );
    assert_eq!(codes(&out), vec!["ALB002"]);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bad_config_points_at_the_field() {
    let d = project("bad", "select: [ALB001]\nfail-on: sometimes\ncolour: red\n");
    let out = run(&d, &["k8s"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(".meshlint.yaml:2:10: expected error, warning, info or never"),
        "{err}"
    );
    assert!(
        err.contains(".meshlint.yaml:3:1: unknown key `colour`"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn external_objects_resolve() {
    let d = project(
        "external",
        "external:\n- {kind: Gateway, namespace: istio-ingress, name: sample-gatway}\n- {kind: Secret, namespace: istio-system, name: istio-ingressgateway-certs}\n",
    );
    for f in ["IRT001/bad.yaml", "TLS005/bad.yaml"] {
        std::fs::write(
            d.join("k8s").join(f.replace('/', "-")),
            std::fs::read_to_string(repo().join("fixtures").join(f)).unwrap(),
        )
        .unwrap();
    }
    let out = run(
        &d,
        &["--format", "json", "--select", "IRT001,TLS005", "k8s"],
    );
    assert!(codes(&out).is_empty(), "{:?}", codes(&out));
    std::fs::remove_file(d.join(".meshlint.yaml")).unwrap();
    let out = run(
        &d,
        &["--format", "json", "--select", "IRT001,TLS005", "k8s"],
    );
    assert_eq!(codes(&out), vec!["IRT001", "TLS005"]);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_config_above_the_repository_root_is_used_with_a_notice() {
    let d = project("above-root", "select: [ALB001]\n");
    // `nested` is a Git work tree of its own; the config sits above it.
    std::fs::create_dir_all(d.join("nested/.git")).unwrap();
    std::fs::write(
        d.join("nested/alb.yaml"),
        std::fs::read_to_string(repo().join("fixtures/ALB001/bad.yaml")).unwrap(),
    )
    .unwrap();
    let out = run(&d.join("nested"), &["--format", "json", "alb.yaml"]);
    assert_eq!(codes(&out), vec!["ALB001"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("found above the repository root"), "{err}");
    // Inside its own repository: no notice.
    std::fs::create_dir_all(d.join(".git")).unwrap();
    let out = run(
        &d.join("nested/deeper"),
        &["--format", "json", "../alb.yaml"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("found above the repository root"), "{err}");
    let out = run(&d, &["--format", "json", "nested/alb.yaml"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("above the repository root"));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn excluded_files_are_never_read() {
    let d = project("excluded-unread", "exclude: [\"k8s/huge.yaml\"]\n");
    // A 5 GiB sparse file: reading it would be refused as too large (exit 2).
    let f = std::fs::File::create(d.join("k8s/huge.yaml")).unwrap();
    f.set_len(5 << 30).unwrap();
    let out = run(&d, &["--format", "json", "--select", "ALB001", "k8s"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(codes(&out), vec!["ALB001"]);
    // Without the exclusion it is read, and refused.
    std::fs::write(d.join(".meshlint.yaml"), "select: [ALB001]\n").unwrap();
    let out = run(&d, &["--format", "json", "k8s"]);
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&d);
}
