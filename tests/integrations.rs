//! The GitHub Action's run step and the pre-commit hook definitions, executed for real against
//! the built binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use meshlint::source::FileId;
use meshlint::yaml::{ParseLimits, parse_stream};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_meshlint"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn path_with_bin() -> String {
    format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("meshlint-int-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn action_run_step_annotates_summarises_and_writes_sarif() {
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let parsed = parse_stream(FileId(0), &text, &ParseLimits::default());
    let action = parsed.docs[0].root().unwrap();
    assert_eq!(
        action.path(&["runs", "using"]).unwrap().as_str(),
        Some("composite")
    );
    let step = action
        .path(&["runs", "steps"])
        .unwrap()
        .items()
        .find(|s| s.str_at("id") == Some("run"))
        .expect("a step with id `run`");
    let script = step.str_at("run").unwrap();
    let install = action
        .path(&["runs", "steps"])
        .unwrap()
        .items()
        .find(|s| s.str_at("name") == Some("Install meshlint"))
        .unwrap();
    assert!(
        install
            .str_at("run")
            .unwrap()
            .contains("cargo install --locked --path \"$GITHUB_ACTION_PATH\"")
    );

    let dir = temp("action");
    let output = dir.join("output");
    let summary = dir.join("summary.md");
    let sarif = dir.join("out.sarif");
    let status = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(root())
        .env("PATH", path_with_bin())
        .env("GITHUB_ACTION_PATH", root())
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("RUNNER_TEMP", &dir)
        .env("INPUT_PATHS", "fixtures/examples")
        .env("INPUT_FAIL_ON", "error")
        .env("INPUT_ARGS", "--ignore GKE002")
        .env("INPUT_SARIF", &sarif)
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("::error file=fixtures/examples/")),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "exit-code=1\n");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("## meshlint"), "{md}");
    assert!(
        md.contains("| error | GKE001 <code>gke-sni-less-https-backend</code> |"),
        "{md}"
    );
    let n_annotations = stdout.lines().filter(|l| l.starts_with("::")).count();
    let n_rows = md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Severity"))
        .count();
    assert_eq!(n_annotations, n_rows);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pre_commit_hooks_run_meshlint_on_the_whole_set_by_default() {
    let text = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let parsed = parse_stream(FileId(0), &text, &ParseLimits::default());
    let hooks = parsed.docs[0].root().unwrap();
    let main = hooks
        .items()
        .find(|h| h.str_at("id") == Some("meshlint"))
        .expect("hook `meshlint`");
    assert_eq!(main.str_at("language"), Some("rust"));
    assert_eq!(
        main.get("pass_filenames").and_then(|n| n.as_bool()),
        Some(false)
    );
    let entry = main.str_at("entry").unwrap();
    let args: Vec<String> = main
        .get("args")
        .unwrap()
        .items()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();

    // A repository with an ALB Ingress in one file and its Service in another: only linting
    // the whole set finds the mismatch.
    let repo = temp("precommit");
    std::fs::write(
        repo.join("ingress.yaml"),
        std::fs::read_to_string(root().join("fixtures/ALB001/bad.yaml")).unwrap(),
    )
    .unwrap();
    let run = Command::new(entry)
        .args(&args)
        .current_dir(&repo)
        .env("PATH", path_with_bin())
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );

    let files = hooks
        .items()
        .find(|h| h.str_at("id") == Some("meshlint-files"))
        .expect("hook `meshlint-files`");
    assert!(files.get("pass_filenames").is_none());
    let _ = std::fs::remove_dir_all(&repo);
}

#[test]
fn hooks_and_the_action_pass_paths_after_a_double_dash() {
    // A committed file named like a flag must be linted as a file.
    let repo = temp("option-injection");
    let evil = "--config=evil.yaml";
    std::fs::write(
        repo.join(evil),
        std::fs::read_to_string(root().join("fixtures/ALB001/bad.yaml")).unwrap(),
    )
    .unwrap();
    let text = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let parsed = parse_stream(FileId(0), &text, &ParseLimits::default());
    let hooks = parsed.docs[0].root().unwrap();
    let files = hooks
        .items()
        .find(|h| h.str_at("id") == Some("meshlint-files"))
        .expect("hook `meshlint-files`");
    let args: Vec<String> = files
        .get("args")
        .map(|a| a.items().map(|a| a.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    assert_eq!(args.last().map(String::as_str), Some("--"));
    // pre-commit runs: entry, args, then the staged file names.
    let run = Command::new(files.str_at("entry").unwrap())
        .args(&args)
        .arg(evil)
        .current_dir(&repo)
        .env("PATH", path_with_bin())
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stdout).contains("ALB001"));
    let action = std::fs::read_to_string(root().join("action.yml")).unwrap();
    assert!(action.contains("$INPUT_ARGS -- $INPUT_PATHS"), "{action}");
    let _ = std::fs::remove_dir_all(&repo);
}

#[test]
fn the_job_summary_escapes_manifest_text_and_stays_small() {
    let dir = temp("summary-escape");
    let hostile = |i: usize| {
        serde_json::json!({
            "severity": "error", "code": "ALB001", "id": "alb-target-type-service-type-mismatch",
            "path": format!("k8s/`x`|<b>{i}.yaml"), "line": 1, "column": 2,
            "message": "Service [click](https://evil.example) <img src=x> a|b `c` \u{202e}gnp.exe\u{200b}\n## heading",
        })
    };
    let findings: Vec<serde_json::Value> = (0..600).map(hostile).collect();
    let report = serde_json::json!({
        "version": 1,
        "findings": findings,
        "unknown": [],
        "summary": {"errors": 600, "warnings": 1, "infos": 0, "unknown": 0, "files": 1, "objects": 1},
    });
    let input = dir.join("report.json");
    std::fs::write(&input, report.to_string()).unwrap();
    let out = Command::new("python3")
        .arg(root().join("scripts/job_summary.py"))
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.contains("600 errors, 1 warning, 0 infos in 1 file (1 object)"),
        "{md}"
    );
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| error |")).collect();
    assert_eq!(rows.len(), 500);
    let row = rows[0];
    // Exactly the four cells: no `|` from the text splits a cell, no markup survives.
    assert_eq!(row.matches(" | ").count(), 3, "{row}");
    // The newline became a space: `## heading` is text inside the cell, not a heading.
    assert!(!md.lines().any(|l| l.starts_with("## heading")), "{md}");
    for bad in ["<img", "<b>", "](", "`", "\u{202e}", "\u{200b}"] {
        assert!(!row.contains(bad), "{bad} in {row}");
    }
    assert!(md.contains("100 findings more not listed"), "{md}");
    assert!(md.contains("| ALB001 | 100 |"), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}
