//! `.meshlint.yaml`: project settings, found by walking up from the current directory (or
//! given with `--config`). Unknown keys and bad values are errors that point into the file.
//!
//! ```yaml
//! select: [GKE001, alb-stray-loadbalancer-service]   # default: all rules
//! ignore: [GKE002]
//! severity: {GKE002: warning}
//! fail-on: warning
//! closed-world: false
//! namespace: default
//! include: ["k8s/**"]
//! exclude: ["k8s/legacy/**"]
//! sets: ["envs/*"]          # each match is its own set (world); default: inferred
//! external:
//!   - {kind: Secret, namespace: istio-system, name: app-cert}
//! ```

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::finding::Severity;
use crate::rules::{Rule, registry};
use crate::source::{FileId, SourceFile};
use crate::yaml::{Node, ParseLimits, parse_stream};

pub const FILE_NAMES: &[&str] = &[".meshlint.yaml", ".meshlint.yml"];

/// An object that exists outside the linted files; references to it resolve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct External {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

#[derive(Debug, Default)]
pub struct Config {
    pub path: String,
    pub select: Option<Vec<&'static Rule>>,
    pub ignore: Vec<&'static Rule>,
    pub severity: Vec<(&'static str, Severity)>,
    pub fail_on: Option<String>,
    pub closed_world: Option<bool>,
    pub namespace: Option<String>,
    pub include: Option<GlobSet>,
    pub exclude: Option<GlobSet>,
    pub external: Vec<External>,
    /// Declared world roots (`sets: ["envs/*"]`), relative paths as linted.
    pub sets: Option<GlobSet>,
}

/// A problem in the config file, with its 1-based position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.column, self.message
        )
    }
}

/// The root of the Git work tree holding `start` (the nearest ancestor with a `.git`).
pub fn git_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The nearest `.meshlint.yaml` in `start` or its parents.
pub fn find(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        for name in FILE_NAMES {
            let p = d.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
        dir = d.parent();
    }
    None
}

impl Config {
    /// Whether a display path passes `include`/`exclude`.
    pub fn wants(&self, path: &str) -> bool {
        let p = path.trim_start_matches("./");
        self.include.as_ref().is_none_or(|g| g.is_match(p))
            && self.exclude.as_ref().is_none_or(|g| !g.is_match(p))
    }
}

struct Reader<'a> {
    file: &'a SourceFile,
    errors: Vec<ConfigError>,
}

impl Reader<'_> {
    fn error(&mut self, n: Node<'_, '_>, message: impl Into<String>) {
        let lc = self.file.line_col(n.span().start);
        self.errors.push(ConfigError {
            path: self.file.path.clone(),
            line: lc.line,
            column: lc.column,
            message: message.into(),
        });
    }

    fn strings<'d, 's>(&mut self, n: Node<'d, 's>) -> Vec<(&'d str, Node<'d, 's>)> {
        if let Some(s) = n.as_text().filter(|_| n.is_scalar()) {
            // `select: GKE001,ALB002` is accepted too.
            return s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| (s, n))
                .collect();
        }
        if !n.is_seq() {
            self.error(n, "expected a list of strings");
            return Vec::new();
        }
        let mut out = Vec::new();
        for it in n.items() {
            match it.as_text().filter(|_| it.is_scalar()) {
                Some(s) => out.push((s, it)),
                None => self.error(it, "expected a string"),
            }
        }
        out
    }

    fn rules(&mut self, n: Node<'_, '_>) -> Vec<&'static Rule> {
        let mut out = Vec::new();
        for (name, node) in self.strings(n) {
            match registry::find(name) {
                Some(r) => out.push(r),
                None => self.error(
                    node,
                    format!("unknown rule `{name}` (see `meshlint rules`)"),
                ),
            }
        }
        out
    }

    fn globs(&mut self, n: Node<'_, '_>) -> Option<GlobSet> {
        let mut b = GlobSetBuilder::new();
        for (g, node) in self.strings(n) {
            match Glob::new(g) {
                Ok(glob) => {
                    b.add(glob);
                }
                Err(e) => self.error(node, format!("invalid glob `{g}`: {e}")),
            }
        }
        b.build().ok()
    }
}

fn severity(s: &str) -> Option<Severity> {
    match s {
        "error" => Some(Severity::Error),
        "warning" => Some(Severity::Warning),
        "info" => Some(Severity::Info),
        _ => None,
    }
}

/// Reads a config file's text.
pub fn parse(file: &SourceFile) -> Result<Config, Vec<ConfigError>> {
    let mut r = Reader {
        file,
        errors: Vec::new(),
    };
    let parsed = parse_stream(FileId(0), &file.text, &ParseLimits::default());
    for e in &parsed.errors {
        let lc = file.line_col(e.span.start);
        r.errors.push(ConfigError {
            path: file.path.clone(),
            line: lc.line,
            column: lc.column,
            message: e.message.clone(),
        });
    }
    let mut cfg = Config {
        path: file.path.clone(),
        ..Config::default()
    };
    let Some(root) = parsed.docs.first().and_then(|d| d.root()) else {
        return if r.errors.is_empty() {
            Ok(cfg)
        } else {
            Err(r.errors)
        };
    };
    if !root.is_map() {
        r.error(root, "expected a mapping of settings");
        return Err(r.errors);
    }
    for (k, v) in root.entries() {
        let key = k.as_str().unwrap_or("");
        match key {
            "select" => {
                let rules = r.rules(v);
                // `select: []` would silently run nothing: say so instead.
                let empty = (v.is_seq() && v.items().next().is_none())
                    || (v.is_scalar() && v.as_text().is_some_and(|t| t.trim().is_empty()));
                if empty {
                    r.error(
                        v,
                        "`select` lists no rule: remove it to run every rule, or name the rules \
                         to run",
                    );
                }
                cfg.select = Some(rules);
            }
            "ignore" => cfg.ignore = r.rules(v),
            "severity" => {
                if !v.is_map() {
                    r.error(v, "expected a mapping of rule to severity");
                    continue;
                }
                for (rk, rv) in v.entries() {
                    let name = rk.as_str().unwrap_or("");
                    let Some(rule) = registry::find(name) else {
                        r.error(rk, format!("unknown rule `{name}` (see `meshlint rules`)"));
                        continue;
                    };
                    match rv.as_str().and_then(severity) {
                        Some(s) => cfg.severity.push((rule.code, s)),
                        None => r.error(rv, "expected error, warning or info"),
                    }
                }
            }
            "fail-on" => match v.as_str() {
                Some(s @ ("error" | "warning" | "info" | "never")) => {
                    cfg.fail_on = Some(s.to_string())
                }
                _ => r.error(v, "expected error, warning, info or never"),
            },
            "closed-world" => match v.as_bool() {
                Some(b) => cfg.closed_world = Some(b),
                None => r.error(v, "expected true or false"),
            },
            "namespace" => match v.as_text().filter(|_| v.is_scalar()) {
                Some(s) => cfg.namespace = Some(s.to_string()),
                None => r.error(v, "expected a namespace name"),
            },
            "include" => cfg.include = r.globs(v),
            "exclude" => cfg.exclude = r.globs(v),
            "sets" => cfg.sets = r.globs(v),
            "external" => {
                if !v.is_seq() {
                    r.error(v, "expected a list of {kind, namespace, name}");
                    continue;
                }
                for item in v.items() {
                    let (Some(kind), Some(name)) = (item.str_at("kind"), item.str_at("name"))
                    else {
                        r.error(item, "an external object needs `kind` and `name`");
                        continue;
                    };
                    for (ek, _) in item.entries() {
                        let k = ek.as_str().unwrap_or("");
                        if !matches!(k, "kind" | "namespace" | "name" | "apiVersion") {
                            r.error(ek, format!("unknown key `{k}` (kind, namespace, name)"));
                        }
                    }
                    cfg.external.push(External {
                        kind: kind.to_string(),
                        namespace: item.str_at("namespace").unwrap_or("").to_string(),
                        name: name.to_string(),
                    });
                }
            }
            _ => r.error(
                k,
                format!(
                    "unknown key `{key}` (select, ignore, severity, fail-on, closed-world, \
                     namespace, include, exclude, external, sets)"
                ),
            ),
        }
    }
    if r.errors.is_empty() {
        Ok(cfg)
    } else {
        Err(r.errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> Result<Config, Vec<ConfigError>> {
        parse(&SourceFile::new(".meshlint.yaml".into(), text.into()))
    }

    #[test]
    fn reads_every_key() {
        let c = cfg("select: [GKE001, alb-stray-loadbalancer-service]\nignore: GKE002\nseverity: {GKE002: warning}\nfail-on: error\nclosed-world: true\nnamespace: apps\ninclude: ['k8s/**']\nexclude: ['k8s/legacy/**']\nexternal:\n- {kind: Secret, namespace: istio-system, name: app-cert}\n").unwrap();
        let sel: Vec<&str> = c.select.unwrap().iter().map(|r| r.code).collect();
        assert_eq!(sel, vec!["GKE001", "ALB002"]);
        assert_eq!(c.ignore[0].code, "GKE002");
        assert_eq!(c.severity, vec![("GKE002", Severity::Warning)]);
        assert_eq!(c.fail_on.as_deref(), Some("error"));
        assert_eq!(c.closed_world, Some(true));
        let e = parse(&SourceFile::new(
            ".meshlint.yaml".into(),
            "select: []\n".into(),
        ))
        .unwrap_err();
        assert_eq!(e[0].line, 1);
        assert!(e[0].message.contains("`select` lists no rule"), "{e:?}");
        assert_eq!(c.namespace.as_deref(), Some("apps"));
        assert_eq!(c.external[0].name, "app-cert");
        let c = cfg("include: ['k8s/**']\nexclude: ['k8s/legacy/**']\n").unwrap();
        assert!(c.wants("k8s/a.yaml"));
        assert!(c.wants("./k8s/b/c.yaml"));
        assert!(!c.wants("k8s/legacy/a.yaml"));
        assert!(!c.wants("other/a.yaml"));
    }

    #[test]
    fn errors_point_into_the_file() {
        let e = cfg("select: [GKE001]\nfail-on: sometimes\nbogus: 1\nseverity: {NOPE: error, GKE001: loud}\n").unwrap_err();
        let got: Vec<(u32, u32)> = e.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(got, vec![(2, 10), (3, 1), (4, 12), (4, 33)]);
        assert!(e[1].message.contains("unknown key `bogus`"));
    }
}
