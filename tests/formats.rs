//! Output formats end to end: concise, GitHub workflow commands (with injection-proof escaping),
//! SARIF 2.1.0 structure, several outputs in one run, statistics.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_meshlint"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c.env_remove("GITHUB_ACTIONS");
    c
}

fn run_stdin(cmd: &mut Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// An ALB Ingress whose backend Service has a hostile name (newline + workflow command).
const EVIL: &str = r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: gw, namespace: ns}
spec:
  ingressClassName: alb
  defaultBackend:
    service:
      name: "x\n::error file=pwned.yaml,line=1::injected %0A"
      port: {number: 80}
---
apiVersion: v1
kind: Service
metadata: {name: "x\n::error file=pwned.yaml,line=1::injected %0A", namespace: ns}
spec:
  type: LoadBalancer
  selector: {app: x}
  ports: [{port: 80}]
"#;

#[test]
fn concise_is_one_line_per_finding() {
    let out = bin()
        .args(["--format", "concise", "fixtures/ALB001/bad.yaml"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(
        lines[0].starts_with("fixtures/ALB001/bad.yaml:"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains(": ALB001 [error] "), "{}", lines[0]);
}

#[test]
fn github_annotations_cannot_be_injected() {
    let out = run_stdin(
        bin().args(["--format", "github", "--stdin-filename", "a,b:c.yaml", "-"]),
        EVIL,
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "one finding, one line: {text}");
    let line = lines[0];
    assert!(
        line.starts_with("::warning file=a%2Cb%3Ac.yaml,line=8,col=13,endLine=8,endColumn="),
        "{line}"
    );
    assert!(
        line.contains(",title=ALB002 alb-stray-loadbalancer-service::"),
        "{line}"
    );
    // The hostile name stays inside the message, escaped.
    assert!(
        line.contains("x%0A::error file=pwned.yaml,line=1::injected %250A"),
        "{line}"
    );
    assert_eq!(line.matches("::").count(), 2 + 2, "{line}");
}

#[test]
fn github_is_the_default_in_github_actions() {
    let out = bin()
        .env("GITHUB_ACTIONS", "true")
        .arg("fixtures/ALB001/bad.yaml")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("::error file=fixtures/ALB001/bad.yaml,line="),
        "{text}"
    );
}

fn check_sarif(v: &serde_json::Value, expect_results: usize) {
    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "meshlint");
    let rules = driver["rules"].as_array().unwrap();
    assert!(rules.len() >= 9);
    for r in rules {
        assert!(r["id"].is_string());
        assert!(r["name"].is_string());
        assert!(r["shortDescription"]["text"].is_string());
        assert!(r["fullDescription"]["text"].is_string());
        assert!(r["helpUri"].as_str().unwrap().ends_with(".md"));
        assert!(
            ["error", "warning", "note"]
                .contains(&r["defaultConfiguration"]["level"].as_str().unwrap())
        );
    }
    let results = runs[0]["results"].as_array().unwrap();
    assert_eq!(results.len(), expect_results);
    for res in results {
        let rule_index = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[rule_index]["id"], res["ruleId"]);
        assert!(["error", "warning", "note"].contains(&res["level"].as_str().unwrap()));
        assert!(!res["message"]["text"].as_str().unwrap().is_empty());
        let loc = &res["locations"][0]["physicalLocation"];
        assert!(loc["artifactLocation"]["uri"].is_string());
        for k in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(loc["region"][k].as_u64().unwrap() >= 1, "{k}");
        }
        assert!(res["partialFingerprints"].as_object().unwrap().len() == 1);
        for rel in res["relatedLocations"].as_array().unwrap() {
            assert!(
                rel["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap()
                    >= 1
            );
        }
    }
}

#[test]
fn sarif_has_the_required_structure() {
    let out = bin()
        .args(["--format", "sarif", "fixtures/GKE001/bad.yaml"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    check_sarif(&v, 1);
    let res = &v["runs"][0]["results"][0];
    assert_eq!(res["ruleId"], "GKE001");
    assert_eq!(
        res["locations"][0]["physicalLocation"]["region"]["startLine"],
        13
    );
    assert_eq!(
        res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "fixtures/GKE001/bad.yaml"
    );
    assert!(!res["relatedLocations"].as_array().unwrap().is_empty());
    // Valid with zero findings too.
    let out = bin()
        .args([
            "--format",
            "sarif",
            "--select",
            "GKE001",
            "fixtures/GKE001/good.yaml",
        ])
        .output()
        .unwrap();
    check_sarif(&serde_json::from_slice(&out.stdout).unwrap(), 0);
}

#[test]
fn sarif_fingerprints_ignore_line_moves() {
    let base = std::fs::read_to_string("fixtures/ALB001/bad.yaml").unwrap();
    let moved = format!("# a comment\n# another\n{base}");
    let fp = |input: &str| {
        let out = run_stdin(bin().args(["--format", "sarif", "-"]), input);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (
            v["runs"][0]["results"][0]["partialFingerprints"].clone(),
            v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"]
                .clone(),
        )
    };
    let (a, la) = fp(&base);
    let (b, lb) = fp(&moved);
    assert_eq!(a, b);
    assert_ne!(la, lb);
}

#[test]
fn several_outputs_in_one_run_and_statistics() {
    let dir = std::env::temp_dir().join(format!("meshlint-formats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sarif = dir.join("out.sarif");
    let json = dir.join("out.json");
    let out = bin()
        .args([
            "--color",
            "never",
            "--output",
            &format!("sarif={}", sarif.display()),
            "--output",
            &format!("json={}", json.display()),
            "fixtures/examples",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let human = String::from_utf8(out.stdout).unwrap();
    assert!(human.contains("Found "), "{human}");
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let j: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let n = j["findings"].as_array().unwrap().len();
    assert!(n >= 5);
    check_sarif(&s, n);

    let stats = bin()
        .args(["--statistics", "fixtures/examples"])
        .output()
        .unwrap();
    let text = String::from_utf8(stats.stdout).unwrap();
    let total: usize = text
        .lines()
        .map(|l| {
            l.split_whitespace()
                .next()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    assert_eq!(total, n, "{text}");
    assert!(text.contains("ALB001"));
    let bad = bin()
        .args(["--output", "xml=/tmp/x", "fixtures"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn baseline_hides_known_findings_even_when_lines_move() {
    let dir = std::env::temp_dir().join(format!("meshlint-baseline-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let manifests = dir.join("k8s");
    std::fs::create_dir_all(&manifests).unwrap();
    let bad = std::fs::read_to_string("fixtures/ALB002/bad-two-paths.yaml").unwrap();
    std::fs::write(manifests.join("a.yaml"), &bad).unwrap();
    let baseline = dir.join("baseline.json");
    let k8s = manifests.to_str().unwrap();

    let w = bin()
        .args([
            "--select",
            "ALB001,ALB002",
            "--write-baseline",
            baseline.to_str().unwrap(),
            k8s,
        ])
        .output()
        .unwrap();
    assert_eq!(w.status.code(), Some(0));
    let b: serde_json::Value = serde_json::from_slice(&std::fs::read(&baseline).unwrap()).unwrap();
    let entries = b["findings"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(
        entries[0]["path"]
            .as_str()
            .unwrap()
            .starts_with("spec.rules["),
        "{b}"
    );

    let with = |extra: &[&str]| {
        let mut args = vec![
            "--format",
            "json",
            "--select",
            "ALB001,ALB002",
            "--baseline",
            baseline.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        args.push(k8s);
        bin().args(args).output().unwrap()
    };
    let o = with(&[]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["findings"].as_array().unwrap().is_empty());

    // Lines move: still known.
    std::fs::write(manifests.join("a.yaml"), format!("# moved\n# down\n{bad}")).unwrap();
    let o = with(&[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    // A new problem in another file is reported.
    std::fs::write(
        manifests.join("b.yaml"),
        std::fs::read_to_string("fixtures/ALB001/bad.yaml")
            .unwrap()
            .replace("namespace: istio-ingress", "namespace: other"),
    )
    .unwrap();
    let o = with(&[]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["ALB001"]);

    std::fs::write(&baseline, "not json").unwrap();
    assert_eq!(with(&[]).status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_baseline_is_per_file_and_per_syntax_error() {
    let dir = std::env::temp_dir().join(format!("meshlint-baseline-files-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for env in ["staging", "prod"] {
        std::fs::create_dir_all(dir.join(env)).unwrap();
    }
    let bad = std::fs::read_to_string("fixtures/ALB002/bad-two-paths.yaml").unwrap();
    std::fs::write(dir.join("staging/a.yaml"), &bad).unwrap();
    std::fs::write(dir.join("prod/a.yaml"), &bad).unwrap();
    // Two syntax errors in one file; the baseline is written while only the first exists.
    let broken_one = "a: [\n";
    std::fs::write(dir.join("staging/broken.yaml"), broken_one).unwrap();
    let baseline = dir.join("baseline.json");
    let run = |args: &[&str]| bin().current_dir(&dir).args(args).output().unwrap();
    let w = run(&["--write-baseline", baseline.to_str().unwrap(), "staging"]);
    assert_eq!(
        w.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&w.stderr)
    );
    let b: serde_json::Value = serde_json::from_slice(&std::fs::read(&baseline).unwrap()).unwrap();
    assert_eq!(b["version"], 2);

    let codes = |o: &Output| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{} {}",
                    f["code"].as_str().unwrap(),
                    f["path"].as_str().unwrap()
                )
            })
            .collect()
    };
    // A baseline written for staging/ never silences prod/.
    let o = run(&[
        "--format",
        "json",
        "--baseline",
        "baseline.json",
        "staging",
        "prod",
    ]);
    let got = codes(&o);
    assert!(
        !got.is_empty() && got.iter().all(|c| c.ends_with("prod/a.yaml")),
        "{got:?}"
    );
    // One baselined syntax error never absorbs another one in the same file.
    std::fs::write(
        dir.join("staging/broken.yaml"),
        format!("{broken_one}---\nb: {{\n"),
    )
    .unwrap();
    let o = run(&["--format", "json", "--baseline", "baseline.json", "staging"]);
    assert_eq!(codes(&o), vec!["YAML001 staging/broken.yaml"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn outputs_never_overwrite_inputs_and_side_files_are_bounded() {
    let dir = std::env::temp_dir().join(format!("meshlint-outputs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let bad = std::fs::read_to_string("fixtures/ALB002/bad-two-paths.yaml").unwrap();
    std::fs::write(dir.join("a.yaml"), &bad).unwrap();
    let run = |args: &[&str]| bin().current_dir(&dir).args(args).output().unwrap();

    // --output onto a linted file: refused, the file untouched.
    let o = run(&["--output", "json=a.yaml", "a.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("cannot write a.yaml: it is one of the linted files"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(std::fs::read_to_string(dir.join("a.yaml")).unwrap(), bad);
    // Written atomically: the result and no temporary file beside it.
    let o = run(&["--output", "json=out.json", "a.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(names, ["a.yaml", "out.json"]);

    // A baseline of a run with a missing input is not written.
    let o = run(&["--write-baseline", "base.json", "a.yaml", "missing.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!dir.join("base.json").exists());

    // Config and baseline from /dev/zero fail at once instead of growing without bound.
    let started = std::time::Instant::now();
    for flag in ["--config", "--baseline"] {
        let o = run(&[flag, "/dev/zero", "a.yaml"]);
        assert_eq!(o.status.code(), Some(2), "{flag}");
        assert!(
            String::from_utf8_lossy(&o.stderr)
                .contains("cannot read /dev/zero: not a regular file"),
            "{flag}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let _ = std::fs::remove_dir_all(&dir);
}
