//! Hostile and broken input, end to end through the built binary (issue 6).
//!
//! Every case puts a file with a known finding (a copy of `fixtures/ALB001/bad.yaml`) beside the
//! hostile one and checks that:
//!
//! * the hostile input gives a clear finding or notice, with its location;
//! * the other file is still linted (its ALB001 finding is reported, at its exact place);
//! * the exit status is the documented one, and never 101 (a panic) or a signal;
//! * the run ends within a time bound (the child is killed and the test fails otherwise).
//!
//! Documented outcomes, by kind of input (exit status of a run on the hostile input alone):
//!
//! | input                                                        | outcome                          | exit |
//! |--------------------------------------------------------------|----------------------------------|------|
//! | alias bomb, nesting past 512 levels                          | YAML003 at the alias / level 513 | 1    |
//! | unclosed `[`, unterminated quote, tab indentation            | YAML001 at the place             | 1    |
//! | invalid UTF-8, UTF-16 without BOM, NUL bytes, binary         | notice `skipped P: not a text file` | 0 |
//! | UTF-8 BOM, UTF-16/32 with BOM, CRLF                          | read; positions as without them  | —    |
//! | empty file, only comments, only `---`, scalars, lists        | nothing (`no Kubernetes objects`)| 0    |
//! | objects without kind/apiVersion/metadata, wrong field types, malformed annotation JSON, absurd numbers | no finding: a field of the wrong type counts as absent (meshlint is no schema validator) | 0 |
//! | unreadable file or directory (not as root)                   | `meshlint: error: P: permission denied`, rest linted | 2 |
//! | broken or looping symlink met in a directory                 | notice                           | 0    |
//! | broken or looping symlink named on the command line          | `meshlint: error: …`             | 2    |
//! | empty stdin, stdin closed at once or never opened            | nothing                          | 0    |
//! | stdin closed in the middle of a document                     | YAML001 at the cut, if it cuts a token | 1 |
//! | stdout closed by the reader                                  | no output, no panic              | as findings |
//!
//! Slow cases (a 50 MB stream, 50,000 files) are `#[ignore]`d and run in release mode by
//! `.ci/run`: `cargo test --release --test adversarial -- --ignored`.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

const ALB_BAD: &str = include_str!("../fixtures/ALB001/bad.yaml");

/// [`ALB_BAD`] in namespace `ns-<n>` (as long as `istio-ingress`, so positions do not move):
/// copies in one run must not resolve each other's Services.
fn alb(n: u32) -> String {
    assert_eq!(ALB_BAD.matches("namespace: istio-ingress\n").count(), 2);
    ALB_BAD.replace(
        "namespace: istio-ingress\n",
        &format!("namespace: ns-{n:010}\n"),
    )
}
/// Default bound for one run of the binary (debug build, two cores shared with other builds).
const LIMIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// Scratch directories and running the binary

/// A fresh directory under the system temp dir, removed (permissions restored) on drop.
struct Scratch {
    root: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "meshlint-adversarial-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        Scratch { root }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// Writes the file with the known finding as `dir/alb.yaml`.
    fn alb(&self, dir: &str) {
        self.write(&format!("{dir}/alb.yaml"), ALB_BAD);
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for e in walk(&self.root) {
                if let Ok(m) = std::fs::symlink_metadata(&e)
                    && !m.file_type().is_symlink()
                {
                    let mode = if m.is_dir() { 0o755 } else { 0o644 };
                    let _ = std::fs::set_permissions(&e, std::fs::Permissions::from_mode(mode));
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Every path under `root` (directories first, symlinks not followed), sorted.
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755));
        }
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                todo.push(p.clone());
            }
            out.push(p);
        }
    }
    out.sort();
    out
}

/// What a run produced.
struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                String::from_utf8_lossy(&self.stdout),
                self.stderr
            )
        })
    }
}

enum Stdin {
    Null,
    /// Write these bytes, then close the pipe.
    Bytes(Vec<u8>),
}

/// One invocation of the binary, with a time bound.
struct Cmd {
    cmd: Command,
    stdin: Stdin,
    limit: Duration,
    close_stdout: bool,
}

fn meshlint(cwd: &Path) -> Cmd {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meshlint"));
    cmd.current_dir(cwd)
        .env_remove("GITHUB_ACTIONS")
        .env("NO_COLOR", "1");
    Cmd {
        cmd,
        stdin: Stdin::Null,
        limit: LIMIT,
        close_stdout: false,
    }
}

impl Cmd {
    fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.cmd
            .args(args.into_iter().map(Into::into).collect::<Vec<OsString>>());
        self
    }
    fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Stdin::Bytes(bytes.into());
        self
    }
    fn limit(mut self, secs: u64) -> Cmd {
        self.limit = Duration::from_secs(secs);
        self
    }

    /// Runs to completion; fails the test on a panic (101), a signal or a timeout.
    fn run(mut self) -> Run {
        self.cmd
            .stdin(match self.stdin {
                Stdin::Null => Stdio::null(),
                Stdin::Bytes(_) => Stdio::piped(),
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let start = Instant::now();
        let mut child = self.cmd.spawn().expect("spawn meshlint");
        let feeder = match self.stdin {
            Stdin::Bytes(bytes) => {
                let mut pipe = child.stdin.take().unwrap();
                Some(std::thread::spawn(move || {
                    // The child may stop reading early; a broken pipe is fine.
                    let _ = pipe.write_all(&bytes);
                }))
            }
            Stdin::Null => None,
        };
        let mut out_pipe = child.stdout.take().unwrap();
        let stdout = if self.close_stdout {
            drop(out_pipe);
            None
        } else {
            Some(std::thread::spawn(move || {
                let mut v = Vec::new();
                let _ = out_pipe.read_to_end(&mut v);
                v
            }))
        };
        let mut err_pipe = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = err_pipe.read_to_end(&mut v);
            v
        });
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > self.limit {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "meshlint did not finish within {:?}: {:?}",
                    self.limit, self.cmd
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        if let Some(f) = feeder {
            f.join().unwrap();
        }
        let stdout = stdout.map(|t| t.join().unwrap()).unwrap_or_default();
        let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
        let code = match status.code() {
            Some(c) => c,
            None => panic!("meshlint was killed by a signal ({status:?}); stderr:\n{stderr}"),
        };
        assert_ne!(code, 101, "meshlint panicked; stderr:\n{stderr}");
        assert!(
            !stderr.contains("panicked at"),
            "meshlint panicked; stderr:\n{stderr}"
        );
        Run {
            code,
            stdout,
            stderr,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Findings

/// A finding's code, path and start/end positions, from the JSON output.
#[derive(Clone, Debug, PartialEq, Eq)]
struct F {
    code: String,
    path: String,
    line: u64,
    column: u64,
    end_line: u64,
    end_column: u64,
    message: String,
}

fn findings(v: &Value) -> Vec<F> {
    v["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| F {
            code: f["code"].as_str().unwrap().into(),
            path: f["path"].as_str().unwrap().into(),
            line: f["line"].as_u64().unwrap(),
            column: f["column"].as_u64().unwrap(),
            end_line: f["end_line"].as_u64().unwrap(),
            end_column: f["end_column"].as_u64().unwrap(),
            message: f["message"].as_str().unwrap().into(),
        })
        .collect()
}

/// Asserts the ALB001 finding of the copied fixture at `path`, exactly where it belongs, with
/// its related locations.
fn assert_alb(v: &Value, path: &str) {
    let all = v["findings"].as_array().unwrap();
    let f = all
        .iter()
        .find(|f| f["code"] == "ALB001" && f["path"] == path)
        .unwrap_or_else(|| panic!("no ALB001 in {path}; findings: {all:#?}"));
    let pos = |x: &Value| {
        (
            x["line"].as_u64().unwrap(),
            x["column"].as_u64().unwrap(),
            x["end_line"].as_u64().unwrap(),
            x["end_column"].as_u64().unwrap(),
        )
    };
    assert_eq!(pos(f), (10, 44, 10, 52), "{f:#}");
    let related: Vec<_> = f["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["path"].as_str().unwrap().to_string(), pos(r)))
        .collect();
    assert_eq!(
        related,
        [
            (path.to_string(), (32, 9, 32, 18)),
            (path.to_string(), (22, 19, 22, 32))
        ],
        "{f:#}"
    );
}

/// The findings of `code` in `path`.
fn of(v: &Value, code: &str, path: &str) -> Vec<F> {
    findings(v)
        .into_iter()
        .filter(|f| f.code == code && f.path == path)
        .collect()
}

/// Asserts that `path` has exactly one finding of `code`, starting at `line:column`. Other rules
/// may report other things about the objects of the file (rules are added all the time).
fn assert_at(v: &Value, path: &str, code: &str, line: u64, column: u64) -> F {
    let mine = of(v, code, path);
    assert_eq!(mine.len(), 1, "{path}: {:#?}", findings(v));
    let f = mine.into_iter().next().unwrap();
    assert_eq!((f.line, f.column), (line, column), "{f:#?}");
    f
}

/// Asserts that `path` has exactly one finding, of `code`, starting at `line:column`: for files
/// that hold no object (broken YAML), where no other rule can have anything to say.
fn assert_only(v: &Value, path: &str, code: &str, line: u64, column: u64) -> F {
    let mine: Vec<F> = findings(v).into_iter().filter(|f| f.path == path).collect();
    assert_eq!(mine.len(), 1, "{path}: {mine:#?}");
    let f = mine.into_iter().next().unwrap();
    assert_eq!(
        (f.code.as_str(), f.line, f.column),
        (code, line, column),
        "{f:#?}"
    );
    f
}

/// Asserts that nothing is reported in `path`.
fn assert_none(v: &Value, path: &str) {
    let mine: Vec<F> = findings(v).into_iter().filter(|f| f.path == path).collect();
    assert!(mine.is_empty(), "{path}: {mine:#?}");
}

/// Lints `dir` (relative to the scratch root) in JSON; the ALB copy in it must be reported.
fn lint_dir(s: &Scratch, dir: &str) -> (Run, Value) {
    let run = meshlint(&s.root).args(["--format", "json", dir]).run();
    let v = run.json();
    assert_alb(&v, &format!("{dir}/alb.yaml"));
    (run, v)
}

/// The exit status of a run on `paths` alone (no file with findings beside them).
fn status_alone(s: &Scratch, paths: &[&str]) -> Run {
    meshlint(&s.root)
        .args(["--format", "json"])
        .args(paths.iter().copied())
        .run()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

// ---------------------------------------------------------------------------------------------
// Resource exhaustion

/// Nine levels of ten aliases each: 10^9 nodes once expanded.
fn billion_laughs() -> String {
    let mut s = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n");
    s.push_str("  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    let mut prev = 'a';
    for n in 'b'..='i' {
        let items = vec![format!("*{prev}"); 10].join(",");
        s.push_str(&format!("  {n}: &{n} [{items}]\n"));
        prev = n;
    }
    s
}

#[test]
fn alias_bomb_is_stopped_at_the_alias_and_the_rest_is_linted() {
    let s = Scratch::new("bomb");
    s.alb("in");
    // The bomb's own file also holds the known finding, in a later document.
    s.write(
        "in/bomb.yaml",
        format!("{}---\n{}", billion_laughs(), alb(1)),
    );
    let (run, v) = lint_dir(&s, "in");
    assert_eq!(run.code, 1);
    // Each `*e` adds 111,111 nodes; with the 123,440 added by `b:` to `e:` the 8th alias of
    // `f:` passes 1,000,000.
    let f = assert_only_code(&v, "in/bomb.yaml", "YAML003");
    assert_eq!((f.line, f.column, f.end_column), (10, 31, 33), "{f:#?}");
    assert!(f.message.contains("alias bomb"), "{f:#?}");
    // The ALB document after the bomb, in the same file: lines shifted by the bomb's 14 lines.
    assert_at(&v, "in/bomb.yaml", "ALB001", 10 + 14, 44);
    assert_eq!(status_alone(&s, &["in/bomb.yaml"]).code, 1);
}

/// The one finding of `code` in `path` (other codes may be present).
fn assert_only_code(v: &Value, path: &str, code: &str) -> F {
    let mine = of(v, code, path);
    assert_eq!(mine.len(), 1, "{path}: {:#?}", findings(v));
    mine.into_iter().next().unwrap()
}

#[test]
fn deep_flow_nesting_is_bounded() {
    let s = Scratch::new("deep-flow");
    s.alb("in");
    s.write("in/brackets.yaml", "[".repeat(100_000));
    s.write(
        "in/balanced.yaml",
        format!("{}{}\n", "[".repeat(100_000), "]".repeat(100_000)),
    );
    s.write("in/braces.yaml", "{a: ".repeat(100_000));
    let (run, v) = lint_dir(&s, "in");
    assert_eq!(run.code, 1);
    // saphyr's own recursion guard fires at depth 256, before meshlint's 512.
    for p in ["in/brackets.yaml", "in/balanced.yaml"] {
        let f = assert_only(&v, p, "YAML003", 1, 256);
        assert!(f.message.contains("recursion limit"), "{f:#?}");
    }
    let f = assert_only(&v, "in/braces.yaml", "YAML003", 1, 1021);
    assert!(f.message.contains("recursion limit"), "{f:#?}");
    assert_eq!(status_alone(&s, &["in/brackets.yaml"]).code, 1);
}

#[test]
fn deep_block_nesting_is_bounded() {
    let s = Scratch::new("deep-block");
    s.alb("in");
    // 100,000 levels of block mappings (explicit keys) and of block sequences, each on one
    // line: indentation-nested levels cost quadratic space, so those go 3,000 deep.
    s.write("in/keys.yaml", format!("{}x\n", "? ".repeat(100_000)));
    s.write("in/dashes.yaml", format!("{}x\n", "- ".repeat(100_000)));
    let mut indented = String::new();
    for i in 0..3000 {
        indented.push_str(&" ".repeat(i));
        indented.push_str(&format!("k{i}:\n"));
    }
    s.write("in/indented.yaml", indented);
    let (run, v) = lint_dir(&s, "in");
    assert_eq!(run.code, 1);
    // Level 513 starts at column 2*512+1 on the one-line files, and on line 513 (after 512
    // spaces) in the indented one.
    for p in ["in/keys.yaml", "in/dashes.yaml"] {
        let f = assert_only(&v, p, "YAML003", 1, 1025);
        assert!(f.message.contains("deeper than 512"), "{f:#?}");
    }
    let f = assert_only(&v, "in/indented.yaml", "YAML003", 513, 513);
    assert!(f.message.contains("deeper than 512"), "{f:#?}");
    assert_eq!(status_alone(&s, &["in/keys.yaml"]).code, 1);
}

/// Many small documents, about 50 MB, with the known finding at the very end.
fn big_stream(target: usize) -> (String, u64) {
    let mut s = String::with_capacity(target + ALB_BAD.len() + 1024);
    let mut lines = 0u64;
    let mut i = 0;
    while s.len() < target {
        s.push_str(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  namespace: ns-{}\n  \
             labels: {{app: a{i}, tier: \"t\"}}\ndata:\n  key: \"value {i} é\"\n  list: [1, 2, 3]\n---\n",
            i % 50
        ));
        lines += 10;
        i += 1;
    }
    s.push_str(&alb(1));
    (s, lines)
}

#[test]
#[ignore = "50 MB: slow in debug builds; .ci/run runs it with --release"]
fn fifty_megabytes_of_documents() {
    let s = Scratch::new("big");
    s.alb("in");
    let (text, lines) = big_stream(50 << 20);
    s.write("in/big.yaml", &text);
    let run = meshlint(&s.root)
        .args(["--format", "json", "in"])
        .limit(90)
        .run();
    let v = run.json();
    assert_eq!(run.code, 1);
    assert_alb(&v, "in/alb.yaml");
    let f = assert_at(&v, "in/big.yaml", "ALB001", lines + 10, 44);
    assert_eq!((f.end_line, f.end_column), (lines + 10, 52));
    assert!(v["summary"]["objects"].as_u64().unwrap() > 300_000);
}

#[test]
fn ten_megabyte_scalar_line() {
    let s = Scratch::new("long-line");
    s.alb("in");
    // A 10 MB annotation value (non-ASCII first, so offsets are not bytes = chars) on the line
    // before the finding, and a 10 MB unterminated quoted scalar.
    let big = format!("é{}", "x".repeat(10 << 20));
    let with_big = alb(1).replacen(
        "  annotations:\n",
        &format!("  annotations:\n    example.com/big: \"{big}\"\n"),
        1,
    );
    s.write("in/long.yaml", with_big);
    s.write(
        "in/unterminated.yaml",
        format!("a: 1\nb: \"{}\n", "y".repeat(10 << 20)),
    );
    let (run, v) = lint_dir(&s, "in");
    assert_eq!(run.code, 1);
    let f = assert_at(&v, "in/long.yaml", "ALB001", 11, 44);
    assert_eq!(f.end_column, 52);
    let f = assert_only(&v, "in/unterminated.yaml", "YAML001", 2, 4);
    assert!(f.message.contains("quoted scalar"), "{f:#?}");

    // The human format does not print the 10 MB line: it gives the position instead.
    let human = meshlint(&s.root)
        .args(["--color", "never", "in/unterminated.yaml"])
        .run();
    assert_eq!(human.code, 1);
    let out = human.stdout();
    assert!(out.len() < 4096, "{} bytes of output", out.len());
    assert!(out.contains("at: in/unterminated.yaml:2:4"), "{out}");
}

// ---------------------------------------------------------------------------------------------
// Encodings and empty input

#[test]
fn invalid_utf8_nul_bytes_and_binary_files_are_skipped_with_a_notice() {
    let s = Scratch::new("binary");
    s.alb("in");
    s.write(
        "in/latin1.yaml",
        b"kind: Service\nmetadata: {name: caf\xe9}\n",
    );
    s.write("in/truncated-utf8.yaml", b"kind: Service\nname: \xc3");
    s.write("in/nul.yaml", b"kind: Service\n\0\0\0\n");
    let utf16_no_bom: Vec<u8> = ALB_BAD.encode_utf16().flat_map(u16::to_le_bytes).collect();
    s.write("in/utf16-no-bom.yaml", utf16_no_bom);
    let png: Vec<u8> = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"
        .iter()
        .copied()
        .chain((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8))
        .collect();
    s.write("in/image.json", png);
    let (run, v) = lint_dir(&s, "in");
    assert_eq!(run.code, 1);
    for p in [
        "in/image.json",
        "in/latin1.yaml",
        "in/nul.yaml",
        "in/truncated-utf8.yaml",
        "in/utf16-no-bom.yaml",
    ] {
        assert!(
            run.stderr
                .contains(&format!("meshlint: skipped {p}: not a text file\n")),
            "{p}: {}",
            run.stderr
        );
        assert_none(&v, p);
    }
    assert_eq!(v["summary"]["files"], 1, "only alb.yaml was read");
    let alone = status_alone(&s, &["in/latin1.yaml", "in/nul.yaml"]);
    assert_eq!(alone.code, 0, "{}", alone.stderr);
}

#[test]
fn boms_and_utf16_are_decoded_with_exact_positions() {
    let s = Scratch::new("bom");
    s.alb("in");
    let mut utf8 = vec![0xEF, 0xBB, 0xBF];
    utf8.extend_from_slice(alb(1).as_bytes());
    s.write("in/utf8-bom.yaml", utf8);
    let mut le = vec![0xFF, 0xFE];
    let mut be = vec![0xFE, 0xFF];
    for u in alb(2).encode_utf16() {
        le.extend_from_slice(&u.to_le_bytes());
    }
    for u in alb(3).encode_utf16() {
        be.extend_from_slice(&u.to_be_bytes());
    }
    s.write("in/utf16le.yaml", le);
    s.write("in/utf16be.yaml", be);
    let mut le32 = vec![0xFF, 0xFE, 0, 0];
    for c in alb(4).chars() {
        le32.extend_from_slice(&(c as u32).to_le_bytes());
    }
    s.write("in/utf32le.yaml", le32);
    // A BOM, then a syntax error on line 2: the BOM is not a column.
    s.write("in/bom-error.yaml", b"\xEF\xBB\xBFa: 1\nb: [\n");
    let (run, v) = lint_dir(&s, "in");
    assert_eq!(run.code, 1);
    for p in ["utf8-bom", "utf16le", "utf16be", "utf32le"] {
        assert_alb(&v, &format!("in/{p}.yaml"));
    }
    assert_only(&v, "in/bom-error.yaml", "YAML001", 2, 5);
    assert!(!run.stderr.contains("skipped"), "{}", run.stderr);
}

#[test]
fn empty_files_comments_and_bare_markers_are_not_errors() {
    let s = Scratch::new("empty");
    s.alb("in");
    let cases: [(&str, &[u8]); 7] = [
        ("empty.yaml", b""),
        ("bom-only.yaml", b"\xEF\xBB\xBF"),
        ("blank.yaml", b"\n\n   \n\t\n"),
        ("comments.yaml", b"# only a comment\n   # another one\n"),
        ("dashes.yaml", b"---\n---\n---\n"),
        ("ends.yaml", b"---\n...\n---\n...\n"),
        ("nulls.yaml", b"--- ~\n--- null\n---\n"),
    ];
    for (name, bytes) in cases {
        s.write(&format!("in/{name}"), bytes);
    }
    let (run, v) = lint_dir(&s, "in");
    assert_eq!(run.code, 1);
    for (name, _) in cases {
        assert_none(&v, &format!("in/{name}"));
    }
    assert_eq!(v["summary"]["files"], 1 + cases.len());
    assert!(!run.stderr.contains("skipped"), "{}", run.stderr);
    let names: Vec<String> = cases.iter().map(|c| format!("in/{}", c.0)).collect();
    let alone = status_alone(&s, &names.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(alone.code, 0);
    assert!(
        alone
            .stderr
            .contains("meshlint: no Kubernetes objects found in 7 file(s)"),
        "{}",
        alone.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Line endings, tabs, document markers and styles

#[test]
fn crlf_and_tabs_keep_locations_exact() {
    let s = Scratch::new("crlf");
    s.alb("in");
    s.write("in/crlf.yaml", alb(1).replace('\n', "\r\n"));
    // Old Mac line ends are not line breaks to YAML 1.2 readers that split on LF only; a lone CR
    // inside a line must not shift columns either.
    // Tabs where YAML allows them: inside quoted scalars and before comments. A tab counts as
    // one column.
    let tabbed = alb(2)
        .replace(
            "    alb.ingress.kubernetes.io/target-type: instance  # expect: ALB001\n",
            "    \"x\\ty\": \"a\tb\"\t# tab\n    alb.ingress.kubernetes.io/target-type: \"\t\"\n",
        )
        .replacen(
            "  annotations:\n",
            "  annotations: {\"a\tb\": \"c\td\", alb.ingress.kubernetes.io/target-type: instance}\n  labels:\n",
            1,
        );
    s.write("in/tabs.yaml", tabbed);
    // Tab indentation is a syntax error that points at the tab, CRLF or not.
    s.write(
        "in/tab-indent.yaml",
        "apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: t\r\ndata:\r\n  a: long\r\n\tb: 2\r\n",
    );
    let (run, v) = lint_dir(&s, "in");
    assert_eq!(run.code, 1);
    assert_alb(&v, "in/crlf.yaml");
    // `instance` after `  annotations: {"a<TAB>b": "c<TAB>d", alb.ingress.kubernetes.io/target-type: `
    let f = assert_at(&v, "in/tabs.yaml", "ALB001", 8, 70);
    assert_eq!((f.end_line, f.end_column), (8, 78), "{f:#?}");
    let f = assert_only(&v, "in/tab-indent.yaml", "YAML001", 7, 1);
    assert_eq!((f.end_line, f.end_column), (7, 2), "{f:#?}");
    assert!(f.message.contains("tab"), "{f:#?}");
}

#[test]
fn document_markers_inside_block_scalars() {
    let s = Scratch::new("block-scalar");
    s.alb("in");
    // Indented `---` and `...` are text of the block scalar: one ConfigMap, then the ALB pair.
    let indented = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: script\ndata:\n  run.sh: |\n    \
         echo start\n    ---\n    ...\n    echo end\n  folded: >\n    a\n    --- b\n---\n{}",
        alb(1)
    );
    s.write("in/indented.yaml", indented);
    // At column 0, `---` ends the document even inside a block scalar (YAML 1.2, 9.1): the rest
    // becomes the next document. Nothing is lost or misplaced after it.
    let col0 = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: script\ndata:\n  run.sh: |\n    \
         echo start\n---\n    echo end\n---\n{}",
        alb(2)
    );
    s.write("in/col0.yaml", col0);
    let (run, v) = lint_dir(&s, "in");
    assert_eq!(run.code, 1);
    let f = assert_at(&v, "in/indented.yaml", "ALB001", 14 + 10, 44);
    assert_eq!(f.end_column, 52);
    // `    echo end` alone is a plain scalar document: no object, no error.
    assert_at(&v, "in/col0.yaml", "ALB001", 10 + 10, 44);
}

#[test]
fn flow_and_block_styles_mixed() {
    let s = Scratch::new("mixed");
    s.alb("in");
    let mixed = "\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: alb-istio-ingress, namespace: mixed-ingress,
  annotations: {alb.ingress.kubernetes.io/scheme: internet-facing,
    alb.ingress.kubernetes.io/target-type: instance}}
spec:
  ingressClassName: alb
  rules: [{http: {paths: [{path: /, pathType: Prefix,
    backend: {service: {name: istio-ingress, port: {number: 80}}}}]}}]
---
{\"apiVersion\": \"v1\", \"kind\": \"Service\",
 \"metadata\": {\"name\": \"istio-ingress\", \"namespace\": \"mixed-ingress\"},
 \"spec\": {\"type\": \"ClusterIP\",
   \"selector\": {\"app\": \"istio-ingress\", \"istio\": \"ingress\"},
   \"ports\": [
     {\"name\": \"http2\", \"port\": 80, \"targetPort\": 80}]}}
";
    s.write("in/mixed.yaml", mixed);
    let (run, v) = lint_dir(&s, "in");
    assert_eq!(run.code, 1);
    let f = assert_at(&v, "in/mixed.yaml", "ALB001", 5, 44);
    assert_eq!(f.end_column, 52);
    let related: Vec<(u64, u64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "in/mixed.yaml" && f["code"] == "ALB001")
        .unwrap()["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["column"].as_u64().unwrap()))
        .collect();
    // `"ClusterIP"` in the JSON Service, `istio-ingress` in the flow backend.
    assert_eq!(related, [(13, 19), (9, 31)]);
}

// ---------------------------------------------------------------------------------------------
// Wrong shapes

#[test]
fn documents_that_are_not_objects() {
    let s = Scratch::new("not-objects");
    s.alb("in");
    s.write(
        "in/shapes.yaml",
        "- a\n- b\n---\njust a scalar\n---\n42\n---\n[1, {kind: Service}]\n---\n\
         !!binary aGVsbG8=\n---\n\"quoted\"\n---\n|\n  block\n---\n? [complex, key]\n: value\n",
    );
    s.write(
        "in/identity.yaml",
        "metadata: {name: no-kind}\n---\nkind: Service\n---\napiVersion: v1\nkind: Service\n\
         ---\napiVersion: v1\nmetadata: {name: no-kind}\n---\nkind: [Service]\napiVersion: {a: 1}\n\
         metadata: [x]\n---\nkind: Service\napiVersion: v1\nmetadata: {name: [a], namespace: {b: 1}, \
         labels: [x], annotations: \"str\"}\n---\nkind: \"\"\napiVersion: \"\"\nmetadata: {name: \"\"}\n\
         ---\nkind: Service\napiVersion: v1\nmetadata: null\nspec: null\n---\napiVersion: v1\n\
         kind: List\nitems: \"x\"\n---\napiVersion: v1\nkind: ServiceList\nitems: [1, \"a\", [2], \
         {kind: Service}, {kind: List, items: [{kind: List}]}]\n",
    );
    let (run, v) = lint_dir(&s, "in");
    assert_eq!(run.code, 1);
    assert_none(&v, "in/shapes.yaml");
    assert_none(&v, "in/identity.yaml");
    let alone = status_alone(&s, &["in/shapes.yaml", "in/identity.yaml"]);
    assert_eq!(alone.code, 0, "{}", alone.stderr);
}

/// Wrong types and absurd values in every field the rules read.
const WRONG_TYPES: &str = r#"apiVersion: v1
kind: Service
metadata: {name: s1, namespace: wt}
spec:
  type: NodePort
  selector: []
  ports:
  - port: "http"
    targetPort: -1
    nodePort: 70000
  - port: -1
    appProtocol: [h2c]
  - port: 70000
    name: {x: 1}
  - port: 99999999999999999999999
  - port: 0x7fffffffffffffff
  - "not a port"
---
apiVersion: v1
kind: Service
metadata: {name: s2, namespace: wt, annotations: {cloud.google.com/neg: '{"ingress": tru', cloud.google.com/app-protocols: '["HTTPS", "HTTP"]', service.alpha.kubernetes.io/app-protocols: '{"https": 5}', cloud.google.com/backend-config: 'null', service.beta.kubernetes.io/aws-load-balancer-type: [nlb]}}
spec:
  type: [LoadBalancer]
  ports: {}
  selector: "x"
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d1, namespace: wt}
spec:
  replicas: -5
  selector: {matchLabels: [a]}
  template:
    metadata: {labels: "x", annotations: [1]}
    spec:
      containers: {a: b}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d2, namespace: wt}
spec:
  template:
    metadata: {labels: {app: s1}}
    spec:
      containers:
      - name: c
        args: {a: 1}
        ports: [{containerPort: "x"}, {containerPort: -5, name: [h2c]}, 7]
        readinessProbe: {httpGet: {port: [1], scheme: 5}}
        livenessProbe: "x"
        startupProbe: {grpc: {port: 70000}}
      - "string container"
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: i1
  namespace: wt
  annotations:
    kubernetes.io/ingress.class: [gce]
    cloud.google.com/neg: '{"ingress": tru'
    alb.ingress.kubernetes.io/target-type: ["instance"]
    alb.ingress.kubernetes.io/group.name: {a: 1}
    alb.ingress.kubernetes.io/listen-ports: '[{"HTTPS": "x"}, 5, {"HTTP": -1}]'
    alb.ingress.kubernetes.io/actions.ssl-redirect: '{"Type": "redirect", "RedirectConfig": []}'
spec:
  ingressClassName: [gce]
  rules: "x"
  tls: {a: 1}
  defaultBackend: {service: {name: [x], port: {number: "80", name: 5}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i2, namespace: wt, annotations: {kubernetes.io/ingress.class: gce}}
spec:
  rules:
  - host: [x]
    http: {paths: {a: 1}}
  - http:
      paths:
      - backend: {service: {name: s1, port: {number: 70000}}}
      - backend: {service: {name: s1, port: {number: -1}}}
      - backend: {service: {name: s1, port: {name: ""}}}
      - backend: "x"
      - 5
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: wt}
spec:
  hosts: "x"
  gateways: {a: 1}
  http:
  - route:
    - destination: {host: s1, port: {number: 70000}}
      weight: -5
    - destination: "x"
      weight: "abc"
    - destination: {host: s1, port: {number: -1}}
      weight: 99999999999999999999
  - "bad"
  tcp: 5
  tls: [{match: "x", route: {a: 1}}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: wt}
spec:
  selector: []
  servers:
  - port: {number: 70000, name: x, protocol: 5}
    hosts: "*"
  - port: -1
  - hosts: [[1]]
    tls: "x"
  - port: {number: 443, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: [SIMPLE], credentialName: {a: 1}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dr, namespace: wt}
spec:
  host: [x]
  trafficPolicy: {tls: {mode: [1]}, portLevelSettings: {a: 1}}
---
apiVersion: cloud.google.com/v1
kind: BackendConfig
metadata: {name: bc, namespace: wt}
spec:
  healthCheck: {port: 70000, requestPath: [x], type: 5, checkIntervalSec: -5}
---
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: op, namespace: istio-system}
spec:
  meshConfig: "x"
  values: [1]
  components:
    ingressGateways: {a: 1}
---
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: op2, namespace: istio-system}
spec:
  components:
    ingressGateways:
    - name: [x]
      enabled: "yes"
      k8s: {service: [1], serviceAnnotations: [1], overlays: {a: 1}}
    - name: gw2
      enabled: true
      k8s:
        service: {type: 5, ports: [{port: 70000}, "x", {port: -1, targetPort: [1]}]}
        overlays: [{kind: Deployment, name: gw2, patches: [{path: 5, value: {a: 1}}, "x"]}]
    - 5
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: app, namespace: argocd}
spec:
  source: {chart: gateway, repoURL: "https://istio-release.storage.googleapis.com/charts", helm: {values: "service: [\n", valuesObject: [1], parameters: {a: 1}}}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: app2, namespace: argocd}
spec:
  sources: "x"
  source: {chart: gateway, repoURL: "https://istio-release.storage.googleapis.com/charts", helm: {valuesObject: {service: {type: [x], ports: {a: 1}}}, parameters: [{name: service.type}, {value: 5}, 7]}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: hr, namespace: flux}
spec:
  chart: {spec: {chart: gateway, sourceRef: {kind: HelmRepository, name: [x]}}}
  values: "x"
"#;

#[test]
fn wrong_types_malformed_annotations_and_absurd_values() {
    let s = Scratch::new("wrong-types");
    s.alb("in");
    s.write("in/wrong.yaml", WRONG_TYPES);
    // The known finding with hostile extras in the same objects: it must survive them.
    let hostile_alb = alb(1)
        .replace(
            "    alb.ingress.kubernetes.io/scheme: internet-facing\n",
            "    alb.ingress.kubernetes.io/scheme: [internet-facing]\n    \
             cloud.google.com/neg: '{\"ingress\": tru'\n    \
             cloud.google.com/app-protocols: '[\"HTTPS\"]'\n",
        )
        .replace(
            "    targetPort: 15021\n",
            "    targetPort: 15021\n  - port: \"http\"\n  - port: 70000\n  - port: -1\n  - {}\n",
        );
    s.write("in/alb-hostile.yaml", &hostile_alb);
    let (run, v) = lint_dir(&s, "in");
    assert_eq!(run.code, 1);
    // Wrong-typed fields count as absent: no finding about them (schema validation is not
    // meshlint's job), and none of the rules misreads them into one. The one exception is the
    // gateway chart's Helm values string that does not parse: said at the value.
    let f = assert_only(&v, "in/wrong.yaml", "YAML001", 162, 107);
    assert!(
        f.message
            .contains("the Helm values of Application argocd/app are not valid YAML")
    );
    let f = assert_only_code(&v, "in/alb-hostile.yaml", "ALB001");
    assert_eq!((f.line, f.column), (12, 44), "{f:#?}");
    let alone = status_alone(&s, &["in/wrong.yaml"]);
    assert_eq!(alone.code, 1, "{}", alone.stdout());
    // Also with every rule forced to decide (closed world) and unknowns shown.
    let closed = meshlint(&s.root)
        .args([
            "--format",
            "json",
            "--closed-world",
            "--show-unknown",
            "in/wrong.yaml",
        ])
        .run();
    assert!(closed.code == 0 || closed.code == 1);
    for f in findings(&closed.json()) {
        assert!(f.line >= 1 && f.line <= WRONG_TYPES.lines().count() as u64);
    }
}

// ---------------------------------------------------------------------------------------------
// The file system

#[cfg(unix)]
#[test]
fn unreadable_files_and_directories() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new("unreadable");
    s.alb("in");
    let secret = s.write("in/secret.yaml", alb(1));
    s.write("in/locked/inner.yaml", alb(2));
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(s.path("in/locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
    // Runs in any case (never a panic, never a hang, the rest linted); the exit status and
    // the message are only asserted where permissions are enforced.
    let run = meshlint(&s.root).args(["--format", "json", "in"]).run();
    let v = run.json();
    assert_alb(&v, "in/alb.yaml");
    if is_root() {
        eprintln!("running as root: permissions are not enforced, exit status not checked");
        return;
    }
    assert_eq!(run.code, 2, "{}", run.stderr);
    for p in ["in/locked", "in/secret.yaml"] {
        assert!(
            run.stderr.contains(&format!(
                "meshlint: error: {p}: permission denied\n  help: check the path and its permissions\n"
            )),
            "{}",
            run.stderr
        );
    }
    assert_eq!(findings(&v).len(), 1, "{:#?}", findings(&v));
    // Named explicitly: the same.
    let alone = status_alone(&s, &["in/secret.yaml"]);
    assert_eq!(alone.code, 2);
}

#[cfg(unix)]
#[test]
fn broken_and_looping_symlinks() {
    use std::os::unix::fs::symlink;
    let s = Scratch::new("symlinks");
    s.alb("in");
    s.write("elsewhere/linked.yaml", alb(1));
    symlink("nowhere.yaml", s.path("in/broken.yaml")).unwrap();
    symlink("loop-b.yaml", s.path("in/loop-a.yaml")).unwrap();
    symlink("loop-a.yaml", s.path("in/loop-b.yaml")).unwrap();
    symlink("self.yaml", s.path("in/self.yaml")).unwrap();
    symlink(".", s.path("in/here")).unwrap();
    symlink("..", s.path("in/parent")).unwrap();
    symlink(s.path("elsewhere"), s.path("in/outside")).unwrap();
    // Links out of the tree to the whole filesystem: never followed (a walk of `/` or `/sys`
    // would read anything and take minutes).
    symlink("/", s.path("in/root")).unwrap();
    symlink("/sys", s.path("in/sys")).unwrap();
    let started = std::time::Instant::now();
    let (run, v) = lint_dir(&s, "in");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(run.code, 1, "{}", run.stderr);
    for (p, what) in [
        ("in/broken.yaml", "broken symbolic link"),
        ("in/here", "symbolic link loop"),
        // `parent`, `outside`, `root` and `sys` lead out of the directory given.
        (
            "in/parent",
            "symbolic link out of the linted directory (name its target on the command line to lint it)",
        ),
        (
            "in/outside",
            "symbolic link out of the linted directory (name its target on the command line to lint it)",
        ),
        (
            "in/root",
            "symbolic link out of the linted directory (name its target on the command line to lint it)",
        ),
        (
            "in/sys",
            "symbolic link out of the linted directory (name its target on the command line to lint it)",
        ),
        ("in/loop-a.yaml", "symbolic link loop"),
        ("in/loop-b.yaml", "symbolic link loop"),
        ("in/self.yaml", "symbolic link loop"),
    ] {
        assert!(
            run.stderr
                .contains(&format!("meshlint: skipped {p}: {what}\n")),
            "{p}: {}",
            run.stderr
        );
    }
    // Nothing outside is read, and the file inside is still linted at its exact position.
    assert!(of(&v, "ALB001", "in/outside/linked.yaml").is_empty());
    assert!(!run.stdout().contains("elsewhere"), "{}", run.stdout());
    assert_alb(&v, "in/alb.yaml");
    let alb_paths: Vec<String> = of_code(&v, "ALB001");
    let mut unique = alb_paths.clone();
    unique.dedup();
    assert_eq!(alb_paths, unique, "a file linted twice");
    // Walked, they are notices (exit 0); named on the command line, errors (exit 2).
    let alone = status_alone(&s, &["in/broken.yaml"]);
    assert_eq!(alone.code, 2);
    assert!(
        alone
            .stderr
            .contains("meshlint: error: in/broken.yaml: broken symbolic link"),
        "{}",
        alone.stderr
    );
    let alone = status_alone(&s, &["in/loop-a.yaml"]);
    assert_eq!(alone.code, 2);
    assert!(
        alone
            .stderr
            .contains("meshlint: error: in/loop-a.yaml: symbolic link loop"),
        "{}",
        alone.stderr
    );
}

fn of_code(v: &Value, code: &str) -> Vec<String> {
    findings(v)
        .into_iter()
        .filter(|f| f.code == code)
        .map(|f| f.path)
        .collect()
}

/// meshlint itself takes about 3 s (debug build) for this; creating the 50,000 files can take
/// half a minute on a slow disk, hence `#[ignore]` (run by `.ci/run`; set `TMPDIR` to a tmpfs to
/// make it fast).
#[test]
#[ignore = "creating 50,000 files is slow on some disks; .ci/run runs it"]
fn a_directory_of_fifty_thousand_small_files() {
    let s = Scratch::new("many");
    s.alb("in");
    for d in 0..50 {
        let dir = s.path(&format!("in/d{d:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..1000 {
            std::fs::write(
                dir.join(format!("cm{i:04}.yaml")),
                format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm{i}, namespace: n{d}}}\n"
                ),
            )
            .unwrap();
        }
    }
    s.write("in/d49/zz-broken.yaml", "a: [\n");
    let run = meshlint(&s.root)
        .args(["--format", "json", "in"])
        .limit(60)
        .run();
    let v = run.json();
    assert_eq!(run.code, 1);
    assert_alb(&v, "in/alb.yaml");
    assert_only(&v, "in/d49/zz-broken.yaml", "YAML001", 1, 5);
    assert_eq!(v["summary"]["files"], 50_002);
    assert_eq!(v["summary"]["objects"].as_u64().unwrap(), 50_002);
}

#[test]
fn paths_with_spaces_non_ascii_and_control_characters() {
    let s = Scratch::new("names");
    s.alb("in");
    s.write("in/dir with spaces/ünï cödé/bad file é.yaml", alb(1));
    s.write("in/-dash.yaml", alb(2));
    #[cfg(unix)]
    let evil_names = {
        s.write("in/evil\u{1b}[2J\u{7}.yaml", "a: [\n");
        s.write("in/bin\u{1b}]0;x\u{7}.yaml", b"\0\0");
        true
    };
    #[cfg(not(unix))]
    let evil_names = false;
    let (run, v) = lint_dir(&s, "in");
    assert_eq!(run.code, 1);
    assert_alb(&v, "in/dir with spaces/ünï cödé/bad file é.yaml");
    assert_alb(&v, "in/-dash.yaml");
    // Named explicitly, with the same display path.
    let explicit = meshlint(&s.root)
        .args([
            "--format",
            "json",
            "--",
            "in/dir with spaces/ünï cödé/bad file é.yaml",
            "in/-dash.yaml",
        ])
        .run();
    assert_eq!(explicit.code, 1);
    assert_alb(
        &explicit.json(),
        "in/dir with spaces/ünï cödé/bad file é.yaml",
    );
    if evil_names {
        // JSON keeps the real name; terminal formats and notices escape it.
        assert_only(&v, "in/evil\u{1b}[2J\u{7}.yaml", "YAML001", 1, 5);
        assert!(!run.stderr.contains('\u{1b}'), "{:?}", run.stderr);
        assert!(
            run.stderr
                .contains("meshlint: skipped in/bin\\u{1b}]0;x\\u{7}.yaml: not a text file"),
            "{:?}",
            run.stderr
        );
        let concise = meshlint(&s.root).args(["--format", "concise", "in"]).run();
        let out = concise.stdout();
        assert!(
            out.contains("in/evil\\u{1b}[2J\\u{7}.yaml:1:5: YAML001 [error]"),
            "{out:?}"
        );
        assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// stdin and stdout

#[test]
fn empty_stdin() {
    let s = Scratch::new("stdin-empty");
    let run = meshlint(&s.root).args(["-"]).stdin("").run();
    assert_eq!(run.code, 0);
    assert!(
        run.stderr
            .contains("meshlint: no Kubernetes objects found in 1 file(s)"),
        "{}",
        run.stderr
    );
    // /dev/null as stdin, and stdin closed before meshlint starts: both read as empty.
    let run = meshlint(&s.root).args(["-"]).run();
    assert_eq!(run.code, 0);
    #[cfg(unix)]
    {
        let out = Command::new("sh")
            .args(["-c", "exec \"$0\" - <&-", env!("CARGO_BIN_EXE_meshlint")])
            .current_dir(&s.root)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
    }
}

#[test]
fn stdin_closed_in_the_middle_of_a_document() {
    let s = Scratch::new("stdin-early");
    s.alb("in");
    // Cut inside the double-quoted `"15021"` of line 12: the reader sees an unterminated
    // string. The files given beside `-` are still linted.
    let cut = ALB_BAD.find("\"15021\"").unwrap() + 3;
    let run = meshlint(&s.root)
        .args([
            "--format",
            "json",
            "--stdin-filename",
            "rendered.yaml",
            "-",
            "in",
        ])
        .stdin(&ALB_BAD.as_bytes()[..cut])
        .run();
    let v = run.json();
    assert_eq!(run.code, 1);
    assert_alb(&v, "in/alb.yaml");
    let f = assert_only(&v, "rendered.yaml", "YAML001", 12, 49);
    assert!(f.message.contains("quoted scalar"), "{f:#?}");
    // Cut in the middle of a multi-byte character: not UTF-8, so skipped with a notice.
    let run = meshlint(&s.root)
        .args(["--format", "json", "-", "in"])
        .stdin(&"kind: é".as_bytes()[..7])
        .run();
    assert_eq!(run.code, 1);
    assert_alb(&run.json(), "in/alb.yaml");
    assert!(
        run.stderr
            .contains("meshlint: skipped <stdin>: not a text file"),
        "{}",
        run.stderr
    );
}

#[test]
fn stdout_closed_by_the_reader() {
    let s = Scratch::new("stdout-closed");
    for i in 0..50 {
        s.write(&format!("in/alb{i}.yaml"), ALB_BAD);
    }
    for format in ["human", "json", "concise", "github", "sarif"] {
        let mut cmd = meshlint(&s.root).args(["--format", format, "in"]);
        cmd.close_stdout = true;
        let run = cmd.run();
        // The findings decide the status; the closed pipe is not an error of its own.
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
    }
}

// ---------------------------------------------------------------------------------------------
// Safe output

/// Findings whose messages carry hostile names (escape sequences, BEL, CR/LF, bidi override,
/// a workflow command), with raw control characters in a comment on the finding's line.
const EVIL: &str = "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: \"web\\e[2J\\e]0;pwned\\a\"
  namespace: \"ns\\r\\n::error file=x.yaml,line=1::injected %0A\"
  annotations:
    alb.ingress.kubernetes.io/target-type: instance  # \u{1b}[31m raw \u{7} \u{9b}1m \u{202e}
spec:
  ingressClassName: alb
  defaultBackend:
    service:
      name: \"gw\\e[31m\\u202e\\u0085\"
      port: {number: 80}
---
apiVersion: v1
kind: Service
metadata:
  name: \"gw\\e[31m\\u202e\\u0085\"
  namespace: \"ns\\r\\n::error file=x.yaml,line=1::injected %0A\"
spec:
  type: ClusterIP
  ports: [{port: 80}]
";

/// Characters that must never reach a terminal raw.
fn raw_control(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

#[test]
fn manifest_text_never_reaches_the_terminal_raw() {
    let s = Scratch::new("safe-output");
    s.write("in/evil.yaml", EVIL);
    let names = "in/evil\u{1b}[1m.yaml";
    s.write(names, EVIL);
    let run = |args: &[&str]| {
        let r = meshlint(&s.root)
            .args(args.iter().copied())
            .args(["in", "--stdin-filename", "std\u{1b}[2Jin", "-"])
            .stdin(EVIL)
            .run();
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        r
    };

    // JSON: the exact text survives, the structure holds, no raw control bytes.
    let json = run(&["--format", "json"]);
    let raw = json.stdout();
    // serde_json escapes C0 controls; C1 and bidi characters are legal JSON, kept as they are.
    assert!(!raw.bytes().any(|b| b < 0x20 && b != b'\n'), "{raw:?}");
    let v = json.json();
    let f: Vec<F> = findings(&v)
        .into_iter()
        .filter(|f| f.code == "ALB001")
        .collect();
    assert_eq!(f.len(), 3, "{f:#?}");
    let paths: Vec<&str> = f.iter().map(|f| f.path.as_str()).collect();
    // Sorted by display path, bytewise: ESC sorts before `.`.
    assert_eq!(paths, [names, "in/evil.yaml", "std\u{1b}[2Jin"]);
    let m = &f[0].message;
    assert!(m.contains("gw\u{1b}[31m\u{202e}\u{85}"), "{m:?}");
    assert!(
        m.contains("ns\r\n::error file=x.yaml,line=1::injected %0A"),
        "{m:?}"
    );
    for x in &f {
        assert_eq!((x.line, x.column), (7, 44), "{x:#?}");
    }

    // SARIF: valid JSON, one result each, URIs percent-encoded.
    let sarif: Value = serde_json::from_slice(&run(&["--format", "sarif"]).stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), findings(&v).len());
    let results: Vec<&Value> = results.iter().filter(|r| r["ruleId"] == "ALB001").collect();
    assert_eq!(results.len(), 3);
    let uri = results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap();
    assert_eq!(uri, "in/evil%1B%5B1m.yaml");
    assert!(
        results[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("\u{1b}[31m")
    );

    // GitHub: one command per finding, nothing raw, nothing injected.
    let gh = run(&["--format", "github"]).stdout();
    assert_eq!(raw_control(&gh), None, "{gh:?}");
    let all: Vec<&str> = gh.lines().collect();
    assert_eq!(all.len(), findings(&v).len(), "one line per finding: {gh}");
    for line in &all {
        assert!(
            ["::error file=", "::warning file=", "::notice file="]
                .iter()
                .any(|c| line.starts_with(c)),
            "{line}"
        );
    }
    let lines: Vec<&str> = all
        .into_iter()
        .filter(|l| l.contains(",title=ALB001 "))
        .collect();
    assert_eq!(lines.len(), 3, "{gh}");
    for line in &lines {
        assert!(line.starts_with("::error file="), "{line}");
        // `::error <props>::<data>`: properties escape `:` and `,`, so the first `::` after the
        // command ends them; the data holds the hostile text on this one line.
        let props_end = "::error ".len() + line["::error ".len()..].find("::").unwrap();
        let props = &line["::error ".len()..props_end];
        let keys: Vec<&str> = props
            .split(',')
            .map(|kv| kv.split_once('=').unwrap().0)
            .collect();
        assert_eq!(
            keys,
            ["file", "line", "col", "endLine", "endColumn", "title"],
            "{line}"
        );
        assert!(
            line[props_end..].contains("ns%0D%0A::error file=x.yaml,line=1::injected %250A"),
            "{line}"
        );
    }
    assert!(
        lines[0].starts_with("::error file=in/evil\\u{1b}[1m.yaml,line=7,col=44,"),
        "{}",
        lines[0]
    );

    // Human, with and without colour, and concise: escaped names, sanitised snippets.
    for args in [
        &["--format", "human", "--color", "never"][..],
        &["--format", "concise"][..],
    ] {
        let out = run(args).stdout();
        assert_eq!(raw_control(&out), None, "{args:?}: {out:?}");
        assert!(out.contains("gw\\u{1b}[31m\\u{202e}\\u{85}"), "{out}");
        assert!(out.contains("std\\u{1b}[2Jin:7:44"), "{out}");
        assert!(out.contains("in/evil\\u{1b}[1m.yaml:7:44"), "{out}");
    }
    let human = run(&["--format", "human", "--color", "never"]).stdout();
    assert!(
        human.contains("instance  # ?[31m raw ? ??1m ???"),
        "{human}"
    );
    let colored = run(&["--format", "human", "--color", "always"]).stdout();
    // Colour escapes are meshlint's own SGR sequences, nothing else.
    for (i, _) in colored.match_indices('\u{1b}') {
        let rest = &colored[i + 1..];
        let sgr = rest.starts_with('[')
            && rest[1..].find('m').is_some_and(|m| {
                rest[1..1 + m]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b';')
            });
        assert!(
            sgr,
            "foreign escape at {i}: {:?}",
            &colored[i..colored.len().min(i + 20)]
        );
    }
    assert!(!colored.contains("\u{1b}[2J") && !colored.contains("\u{1b}]0;"));
    let plain = raw_control(&colored.replace('\u{1b}', ""));
    assert_eq!(plain, None);
}

/// A snapshot of a directory tree: paths, sizes and modification times.
fn snapshot(root: &Path) -> Vec<(PathBuf, u64, Option<std::time::SystemTime>)> {
    walk(root)
        .into_iter()
        .map(|p| {
            let m = std::fs::symlink_metadata(&p).unwrap();
            (p, m.len(), m.modified().ok())
        })
        .collect()
}

#[test]
fn writes_nothing_except_where_told() {
    let s = Scratch::new("no-writes");
    s.alb("in");
    s.write("in/more.yaml", EVIL);
    s.write("in/broken.yaml", "a: [\n");
    std::fs::create_dir_all(s.path("cwd")).unwrap();
    std::fs::create_dir_all(s.path("home")).unwrap();
    std::fs::create_dir_all(s.path("tmp")).unwrap();
    let input = s.path("in").to_string_lossy().into_owned();
    let before = snapshot(&s.root);
    let env = |c: Cmd| {
        let mut c = c;
        c.cmd
            .env("HOME", s.path("home"))
            .env("TMPDIR", s.path("tmp"))
            .env("XDG_CACHE_HOME", s.path("home/.cache"));
        c
    };
    for args in [
        &["--format", "human"][..],
        &["--format", "json"][..],
        &["--format", "sarif"][..],
        &["--format", "github"][..],
        &["--format", "concise", "--statistics"][..],
        &["--show-unknown", "--closed-world", "--quiet"][..],
    ] {
        let run = env(meshlint(&s.path("cwd")))
            .args(args.iter().copied())
            .arg_path(&input)
            .run();
        assert_eq!(run.code, 1, "{args:?}");
        assert_eq!(snapshot(&s.root), before, "{args:?} wrote a file");
    }
    // A baseline that is read is not rewritten; stdin is not a file.
    let run = env(meshlint(&s.path("cwd")))
        .args(["--write-baseline", "base.json"])
        .arg_path(&input)
        .run();
    assert_eq!(run.code, 0);
    let baseline = s.path("cwd/base.json");
    assert!(baseline.is_file());
    let before = snapshot(&s.root);
    let run = env(meshlint(&s.path("cwd")))
        .args(["--baseline", "base.json", "--format", "json", "-"])
        .arg_path(&input)
        .stdin(ALB_BAD.replace("alb-istio-ingress", "another-ingress"))
        .run();
    assert_eq!(run.code, 1, "stdin's finding is new: {}", run.stderr);
    assert_eq!(snapshot(&s.root), before);
    // --output writes exactly the files named.
    let before = snapshot(&s.root);
    let run = env(meshlint(&s.path("cwd")))
        .args([
            "--format",
            "concise",
            "--output",
            "json=out/a.json",
            "--output",
            "sarif=b.sarif",
        ])
        .arg_path(&input)
        .run();
    // `out/` does not exist: the run fails with exit 2 and creates nothing.
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(snapshot(&s.root), before);
    std::fs::create_dir_all(s.path("cwd/out")).unwrap();
    let before: Vec<PathBuf> = walk(&s.root);
    let run = env(meshlint(&s.path("cwd")))
        .args([
            "--format",
            "concise",
            "--output",
            "json=out/a.json",
            "--output",
            "sarif=b.sarif",
        ])
        .arg_path(&input)
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut after = walk(&s.root);
    after.retain(|p| !before.contains(p));
    assert_eq!(after, [s.path("cwd/b.sarif"), s.path("cwd/out/a.json")]);
    for p in &after {
        let _: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    }
}

impl Cmd {
    fn arg_path(mut self, p: &str) -> Cmd {
        self.cmd.arg(p);
        self
    }
}

/// Under strace (when installed), meshlint creates no socket of any family.
#[cfg(target_os = "linux")]
#[test]
fn makes_no_network_connection() {
    let Ok(probe) = Command::new("strace").arg("-V").output() else {
        eprintln!("strace not installed: skipped");
        return;
    };
    if !probe.status.success() {
        eprintln!("strace not usable: skipped");
        return;
    }
    let s = Scratch::new("network");
    s.alb("in");
    let log = s.path("strace.log");
    let out = Command::new("strace")
        .arg("-f")
        .args(["-e", "trace=%network", "-o"])
        .arg(&log)
        .arg(env!("CARGO_BIN_EXE_meshlint"))
        .args(["--format", "sarif", "in"])
        .current_dir(&s.root)
        .output()
        .unwrap();
    let trace = std::fs::read_to_string(&log).unwrap_or_default();
    if out.status.code() != Some(1) && trace.is_empty() {
        eprintln!("strace could not trace (no ptrace permission?): skipped: {out:?}");
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    // Only lines that name a network call count: under load strace also prints undecodable
    // fragments (`???( <unfinished …>`) of threads caught mid-syscall.
    const NETWORK: &[&str] = &[
        "socket(",
        "socketpair(",
        "connect(",
        "bind(",
        "listen(",
        "accept(",
        "accept4(",
        "sendto(",
        "sendmsg(",
        "sendmmsg(",
        "recvfrom(",
        "recvmsg(",
        "recvmmsg(",
        "getsockopt(",
        "setsockopt(",
        "getsockname(",
        "getpeername(",
        "shutdown(",
    ];
    let calls: Vec<&str> = trace
        .lines()
        .filter(|l| NETWORK.iter().any(|c| l.contains(c)))
        .collect();
    assert!(calls.is_empty(), "network system calls: {calls:#?}");
}

// ---------------------------------------------------------------------------------------------
// Regressions found by fuzzing

/// Every file in `tests/regressions/` (inputs that once crashed or hung a fuzz target) through
/// the loader, the whole pipeline and every output format, in process, and through the binary.
#[test]
fn fuzz_regressions_replay() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"));
    files.sort();
    for p in &files {
        let bytes = std::fs::read(p).unwrap();
        let start = Instant::now();
        replay(&bytes);
        assert!(
            start.elapsed() < LIMIT,
            "{} took {:?}",
            p.display(),
            start.elapsed()
        );
    }
    if !files.is_empty() {
        let run = meshlint(&dir).args(["--format", "json", "."]).run();
        assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    }
}

/// What the fuzz targets do with one input (see `fuzz/fuzz_targets/`).
fn replay(bytes: &[u8]) {
    use meshlint::lint::{self, Settings};
    use meshlint::report::{self, Format, Report};
    use meshlint::source::{FileId, SourceFile, Sources};
    let text = String::from_utf8_lossy(bytes).into_owned();
    let out = meshlint::yaml::parse_stream(FileId(0), &text, &Default::default());
    for e in &out.errors {
        assert!(e.span.end as usize <= text.len());
    }
    let mut sources = Sources::default();
    sources.add(SourceFile::new("fuzz.yaml".into(), text));
    let outcomes = lint::run(&sources, &Settings::default());
    for f in outcomes.findings.iter().chain(&outcomes.unknown) {
        for loc in std::iter::once(f.location).chain(f.related.iter().map(|r| r.location)) {
            let text = &sources.get(loc.file).text;
            let (s, e) = (loc.span.start as usize, loc.span.end as usize);
            assert!(s <= e && e <= text.len(), "{}: {s}..{e}", f.code);
            assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
        }
    }
    let report = Report {
        findings: outcomes.findings,
        unknown: outcomes.unknown,
        show_unknown: true,
        files: 1,
        objects: outcomes.objects,
        ..Report::default()
    };
    for format in [
        Format::Human,
        Format::Json,
        Format::Concise,
        Format::Github,
        Format::Sarif,
    ] {
        let mut buf = Vec::new();
        report::render(format, &report, &sources, &mut buf, true).unwrap();
        if matches!(format, Format::Json | Format::Sarif) {
            let _: Value = serde_json::from_slice(&buf).expect("valid JSON");
        }
    }
}

/// Many Services and Deployments sharing one selector (every Service selects every pod
/// template): linear output and no quadratic pairing. Each finding names a few workloads and
/// keeps at most `MAX_RELATED` related locations, the last saying how many more there are.
#[test]
fn many_services_sharing_one_selector_stay_linear() {
    let s = Scratch::new("shared-selector");
    s.alb("in");
    let mut text = String::new();
    for i in 0..600 {
        text.push_str(&format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: a}}\nspec:\n  \
             selector: {{app: x}}\n  ports: [{{name: http, port: {p}, targetPort: {t}}}]\n---\n\
             apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d{i}, namespace: a}}\nspec:\n  \
             selector: {{matchLabels: {{app: x}}}}\n  template:\n    metadata: {{labels: {{app: x}}}}\n    \
             spec:\n      containers: [{{name: c, image: x, ports: [{{containerPort: {t}}}]}}]\n---\n",
            p = 80 + i,
            t = 8000 + i
        ));
    }
    s.write("in/shared.yaml", &text);
    let started = std::time::Instant::now();
    let (run, v) = lint_dir(&s, "in");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    assert!(
        run.stdout().len() < 8 << 20,
        "{} bytes of JSON",
        run.stdout().len()
    );
    let wrk002: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "WRK002")
        .collect();
    assert_eq!(wrk002.len(), 600);
    let related = wrk002[0]["related"].as_array().unwrap();
    assert_eq!(related.len(), meshlint::lint::MAX_RELATED);
    assert!(
        related[related.len() - 1]["message"]
            .as_str()
            .unwrap()
            .ends_with("(and 579 more like it, not shown)"),
        "{}",
        related[related.len() - 1]
    );
    assert!(
        wrk002[0]["message"]
            .as_str()
            .unwrap()
            .contains(" and 596 more "),
        "{}",
        wrk002[0]["message"]
    );
}

/// A merge key that brings in 100,000 keys is linear (it took 22 s when each merged key was
/// compared with every other).
#[test]
fn a_merge_of_100k_keys_is_linear() {
    let s = Scratch::new("big-merge");
    s.alb("in");
    let mut text = String::from("base: &b\n");
    for i in 0..100_000 {
        text.push_str(&format!("  k{i}: v\n"));
    }
    text.push_str("obj:\n  <<: *b\n  k5: own\n");
    s.write("in/merge.yaml", &text);
    let started = std::time::Instant::now();
    let (run, _) = lint_dir(&s, "in");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}
