//! The meshlint command line.

/// The parser makes many small allocations on every thread: glibc's allocator serialised them
/// (a quarter of a run was futex waits), mimalloc was fast but kept ~9x the input resident.
/// jemalloc measured best on the benchmark corpus: 0.62 s and 6.6x (bench/README.md).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use miette::miette;
use std::collections::BTreeMap;

use meshlint::config::{self, Config};
use meshlint::finding::Severity;
use meshlint::lint::{self, Settings};
use meshlint::load::files::{self, Notice};
use meshlint::report::{self, ColorChoice, Format, Report};
use meshlint::rules::{Rule, registry};
use meshlint::source::{SourceFile, Sources};

/// Lint Kubernetes service-mesh and ingress manifests (GKE / AWS load balancers in front of
/// Istio) before they reach a cluster.
#[derive(Parser, Debug)]
#[command(name = "meshlint", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Files and directories to lint (`.yaml`, `.yml`, `.json`, recursively); `-` reads stdin.
    #[arg(value_name = "PATH")]
    paths: Vec<String>,

    /// Name shown for stdin in locations.
    #[arg(long, value_name = "NAME", default_value = "<stdin>")]
    stdin_filename: String,

    /// Output format (default: human; github when GITHUB_ACTIONS=true).
    #[arg(long, value_enum)]
    format: Option<Format>,

    /// Also write FORMAT to PATH (repeatable), e.g. `--output sarif=meshlint.sarif`.
    #[arg(long, value_name = "FORMAT=PATH", value_parser = parse_output)]
    output: Vec<(Format, String)>,

    /// Report only findings that are not in this baseline file.
    #[arg(long, value_name = "FILE")]
    baseline: Option<String>,

    /// Record the current findings in a baseline file and exit 0.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<String>,

    /// Print the number of findings per rule instead of the findings.
    #[arg(long)]
    statistics: bool,

    /// Lowest severity that makes the run fail (exit 1) [default: warning].
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,

    /// Configuration file (default: the nearest .meshlint.yaml from the current directory up).
    #[arg(long, value_name = "PATH")]
    config: Option<String>,

    /// Every reference must resolve inside the linted set (as `istioctl analyze` assumes).
    #[arg(long)]
    closed_world: bool,

    /// Istio version of the target mesh, e.g. `1.14` (version-dependent rules use it).
    #[arg(long, value_name = "X.Y", value_parser = lint::parse_istio_version)]
    istio_version: Option<(u32, u32)>,

    /// Also show findings that could not be decided because an object is not in the set.
    #[arg(long)]
    show_unknown: bool,

    /// Print the sets (worlds) the files were split into, and why, on stderr.
    #[arg(long)]
    show_sets: bool,

    /// Only run these rules (codes or ids, comma separated).
    #[arg(long, value_name = "CODES", value_delimiter = ',')]
    select: Vec<String>,

    /// Do not run these rules (codes or ids, comma separated).
    #[arg(long, value_name = "CODES", value_delimiter = ',')]
    ignore: Vec<String>,

    /// Namespace of objects that do not set one [default: default].
    #[arg(long, value_name = "NS")]
    namespace: Option<String>,

    /// When to use colours.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,

    /// Print findings only: no summary, no notices.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List every rule: code, id, default severity, summary.
    Rules,
    /// Explain a rule: what it finds, why it breaks, bad and good examples, how to suppress.
    Rule {
        /// A code (`GKE001`) or id (`gke-sni-less-https-backend`).
        name: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

impl FailOn {
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(report) => {
            let _ = write_error(&mut std::io::stderr().lock(), report.as_ref());
            ExitCode::from(2)
        }
    }
}

/// Writes an error for people: `meshlint: error: MESSAGE`, then `  help: HELP`. (miette's
/// default handler without its `fancy` feature prints a debug dump.) Paths and other text from
/// the inputs are escaped so that they cannot drive the terminal.
fn write_error(out: &mut dyn Write, d: &dyn miette::Diagnostic) -> std::io::Result<()> {
    let escape = |s: String| report::human::escape(&s, true).into_owned();
    writeln!(out, "meshlint: error: {}", escape(d.to_string()))?;
    if let Some(help) = d.help() {
        writeln!(out, "  help: {}", escape(help.to_string()))?;
    }
    Ok(())
}

fn parse_output(s: &str) -> Result<(Format, String), String> {
    let (f, path) = s
        .split_once('=')
        .ok_or_else(|| format!("expected FORMAT=PATH, got `{s}`"))?;
    let format = Format::from_str(f, true)
        .map_err(|_| format!("unknown format `{f}` (human, json, concise, github, sarif)"))?;
    if path.is_empty() {
        return Err("empty PATH".into());
    }
    Ok((format, path.to_string()))
}

/// The config file given with `--config`, else the nearest `.meshlint.yaml`, else defaults.
fn load_config(path: Option<&str>) -> miette::Result<(Config, Option<String>)> {
    let mut notice = None;
    let path = match path {
        Some(p) => Some(std::path::PathBuf::from(p)),
        None => std::env::current_dir().ok().and_then(|d| {
            let found = config::find(&d)?;
            // A config above the Git work tree is someone else's: used, but said.
            if let Some(root) = config::git_root(&d)
                && found.parent().is_some_and(|dir| !dir.starts_with(&root))
            {
                notice = Some(format!(
                    "using {}, found above the repository root {}",
                    found.display(),
                    root.display()
                ));
            }
            Some(found)
        }),
    };
    let Some(path) = path else {
        return Ok((Config::default(), None));
    };
    let shown = one_line(&path.display().to_string());
    let text = read_side_file(&path).map_err(|e| miette!("cannot read {shown}: {e}"))?;
    config::parse(&SourceFile::new(shown.clone(), text))
        .map(|c| (c, notice))
        .map_err(|errors| {
            let list: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            miette!(
                help = "see the Configuration section of the README",
                "invalid configuration {shown}:\n  {}",
                list.join("\n  ")
            )
        })
}

fn resolve_rules(names: &[String], flag: &str) -> miette::Result<Vec<&'static Rule>> {
    names
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|name| {
            registry::find(name).ok_or_else(|| {
                miette!(
                    help = "`meshlint rules` lists every code and id",
                    "{flag}: unknown rule `{name}`"
                )
            })
        })
        .collect()
}

fn run(cli: Cli) -> miette::Result<ExitCode> {
    if let Some(Command::Rules) = cli.command {
        let mut out = std::io::stdout().lock();
        for r in registry::ALL {
            let _ = writeln!(
                out,
                "{:<8} {:<42} {:<8} {}",
                r.code,
                r.id,
                r.severity.as_str(),
                r.summary
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(Command::Rule { name }) = &cli.command {
        let rule = registry::find(name).ok_or_else(|| {
            miette!(
                help = "`meshlint rules` lists every code and id",
                "unknown rule `{name}`"
            )
        })?;
        let _ = write!(
            std::io::stdout().lock(),
            "{}",
            meshlint::rules::doc_page(rule)
        );
        return Ok(ExitCode::SUCCESS);
    }
    let start = Instant::now();
    let (cfg, config_notice) = load_config(cli.config.as_deref())?;
    if let Some(n) = config_notice
        && !cli.quiet
    {
        let _ = writeln!(
            std::io::stderr().lock(),
            "meshlint: {}",
            report::human::escape(&n, false)
        );
    }
    let select = resolve_rules(&cli.select, "--select")?;
    let ignore = resolve_rules(&cli.ignore, "--ignore")?;
    // Command-line flags override the config file.
    let settings = Settings {
        closed_world: cli.closed_world || cfg.closed_world.unwrap_or(false),
        default_namespace: cli
            .namespace
            .clone()
            .or_else(|| cfg.namespace.clone())
            .unwrap_or_else(|| "default".into()),
        select: if select.is_empty() {
            cfg.select.clone()
        } else {
            Some(select)
        },
        ignore: if ignore.is_empty() {
            cfg.ignore.clone()
        } else {
            ignore
        },
        severity: cfg.severity.clone(),
        istio_version: cli.istio_version,
        sets: cfg.sets.clone(),
        external: cfg
            .external
            .iter()
            .map(|e| (e.kind.clone(), e.namespace.clone(), e.name.clone()))
            .collect(),
        ..Settings::default()
    };
    let fail_on = match cli.fail_on {
        Some(f) => f,
        None => match cfg.fail_on.as_deref() {
            Some(f) => FailOn::from_str(f, true).unwrap_or(FailOn::Warning),
            None => FailOn::Warning,
        },
    };

    let paths = if cli.paths.is_empty() {
        // `helm template … | meshlint` would lint `.` and ignore the pipe: say how to read it.
        if !cli.quiet && !std::io::stdin().is_terminal() {
            let _ = writeln!(
                std::io::stderr().lock(),
                "meshlint: no path given: linting `.`, not standard input; to lint what is piped \
                 in, pass `-` (`helm template … | meshlint -`)"
            );
        }
        vec![".".to_string()]
    } else {
        cli.paths.clone()
    };
    // Excluded files are never read.
    let found = files::discover_filtered(&paths, &cli.stdin_filename, &|p| cfg.wants(p));
    let mut stderr = std::io::stderr().lock();
    if !cli.quiet {
        for n in &found.notices {
            let _ = writeln!(
                stderr,
                "meshlint: {}",
                report::human::escape(&n.to_string(), false)
            );
        }
    }
    let mut fatal = false;
    for e in &found.errors {
        fatal = true;
        let _ = write_error(
            &mut stderr,
            miette!(
                help = "check the path and its permissions",
                "{}: {}",
                one_line(&e.path),
                e.message
            )
            .as_ref(),
        );
    }

    let mut sources = Sources::default();
    for input in found.inputs {
        sources.add(SourceFile::new(input.path, input.text));
    }
    let outcomes = lint::run(&sources, &settings);
    if outcomes.objects == 0 && !cli.quiet {
        let helm = found
            .notices
            .iter()
            .any(|n| matches!(n, Notice::SkippedHelmChart { .. }));
        let kustomize = found
            .notices
            .iter()
            .any(|n| matches!(n, Notice::SkippedKustomization { .. }));
        let _ = writeln!(
            stderr,
            "meshlint: no Kubernetes objects found in {} file(s){}",
            sources.files.len(),
            match (helm, kustomize) {
                (true, true) => {
                    " (Helm chart sources and kustomizations are skipped: pipe `helm template …` \
                     or `kubectl kustomize …` into `meshlint -`)"
                }
                (true, false) => {
                    " (Helm chart sources are skipped: pipe `helm template …` into `meshlint -`)"
                }
                (false, true) => {
                    " (kustomizations are skipped: pipe `kubectl kustomize DIR` into `meshlint -`)"
                }
                (false, false) => "",
            }
        );
    }

    if !outcomes.worlds.is_empty() && (cli.show_sets || !cli.quiet) {
        let _ = writeln!(
            stderr,
            "meshlint: linted as {} sets: objects defined in more than one file are alternatives, never linted together{}",
            outcomes.worlds.len(),
            if cli.show_sets {
                ""
            } else {
                " (--show-sets lists them)"
            }
        );
        if cli.show_sets {
            for r in &outcomes.world_reasons {
                let _ = writeln!(stderr, "  split: {}", report::human::escape(r, false));
            }
            for (i, w) in outcomes.worlds.iter().enumerate() {
                let _ = writeln!(
                    stderr,
                    "  set {}: {}",
                    i + 1,
                    report::human::escape(w, false)
                );
            }
        }
    } else if cli.show_sets {
        let _ = writeln!(
            stderr,
            "meshlint: linted as one set: no object is defined in more than one file"
        );
    }
    if outcomes.worlds_capped && !cli.quiet {
        let _ = writeln!(
            stderr,
            "meshlint: more than {} alternative sets; the rest were linted together, keeping the last definition of each object by path (declare `sets:` in .meshlint.yaml)",
            meshlint::index::worlds::MAX_WORLDS
        );
    }
    let mut outcomes = outcomes;
    if let Some(path) = &cli.write_baseline {
        // A baseline of a run that could not read all its inputs would forget their findings.
        if fatal {
            return Ok(ExitCode::from(2));
        }
        let inputs = input_files(&sources);
        write_output(path, &inputs, |w| {
            w.write_all(meshlint::baseline::write(&outcomes.findings, &sources).as_bytes())
        })
        .map_err(|e| miette!("cannot write {}: {e}", one_line(path)))?;
        if !cli.quiet {
            let _ = writeln!(
                stderr,
                "meshlint: recorded {} finding(s) in {path}",
                outcomes.findings.len()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(path) = &cli.baseline {
        let text = read_side_file(std::path::Path::new(path))
            .map_err(|e| miette!("cannot read {}: {e}", one_line(path)))?;
        let dropped = meshlint::baseline::filter(&mut outcomes.findings, &text, &sources)
            .map_err(|e| miette!(help = "write one with --write-baseline", "{path}: {e}"))?;
        if !cli.quiet && dropped > 0 {
            let _ = writeln!(
                stderr,
                "meshlint: {dropped} finding(s) in the baseline not shown"
            );
        }
    }
    let failing = fail_on
        .threshold()
        .is_some_and(|t| outcomes.findings.iter().any(|f| f.severity >= t));
    let report = Report {
        findings: outcomes.findings,
        unknown: outcomes.unknown,
        show_unknown: cli.show_unknown,
        files: sources.files.len(),
        objects: outcomes.objects,
        elapsed: start.elapsed(),
        quiet: cli.quiet,
    };
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let inputs = if cli.output.is_empty() {
        Vec::new()
    } else {
        input_files(&sources)
    };
    for (format, path) in &cli.output {
        let written = write_output(path, &inputs, |w| {
            report::render(*format, &report, &sources, w, false)
        });
        if let Err(e) = written {
            return Err(miette!("cannot write {}: {e}", one_line(path)));
        }
    }
    let format = cli.format.unwrap_or_else(|| {
        if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
            Format::Github
        } else {
            Format::Human
        }
    });
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let rendered = if cli.statistics {
        statistics(&report, &mut stdout)
    } else {
        report::render(format, &report, &sources, &mut stdout, color)
    };
    if let Err(e) = rendered.and_then(|_| stdout.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(miette!("cannot write the report: {e}"));
    }
    Ok(if fatal {
        ExitCode::from(2)
    } else if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A path (or other text from outside) for an error line: newlines and control characters
/// escaped, so that no part of it starts a line of its own (under GitHub Actions a line
/// starting `::` is a workflow command).
fn one_line(s: &str) -> String {
    report::human::escape(s, false).into_owned()
}

/// Config and baseline files are small: refuse anything but a regular file, and anything
/// larger than this, before reading it (`/dev/zero` or a FIFO fails at once).
const MAX_SIDE_FILE: u64 = 64 << 20;

fn read_side_file(path: &std::path::Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_SIDE_FILE {
        return Err(format!("larger than {} MiB", MAX_SIDE_FILE >> 20));
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| {
            use std::io::Read;
            f.take(MAX_SIDE_FILE + 1).read_to_string(&mut text)
        })
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > MAX_SIDE_FILE {
        return Err(format!("larger than {} MiB", MAX_SIDE_FILE >> 20));
    }
    Ok(text)
}

/// The linted files as real paths, so that no output overwrites one of them.
fn input_files(sources: &Sources) -> Vec<std::path::PathBuf> {
    sources
        .files
        .iter()
        .filter_map(|f| std::fs::canonicalize(&f.path).ok())
        .collect()
}

/// Writes `path` atomically (a temporary file beside it, then a rename), and never over one of
/// the linted files.
fn write_output(
    path: &str,
    inputs: &[std::path::PathBuf],
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let target = std::path::Path::new(path);
    if let Ok(real) = std::fs::canonicalize(target)
        && inputs.contains(&real)
    {
        return Err(std::io::Error::other(
            "it is one of the linted files; choose another output path",
        ));
    }
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let tmp = dir.join(format!(".{name}.meshlint-{}.tmp", std::process::id()));
    let result = std::fs::File::create(&tmp).and_then(|f| {
        let mut w = std::io::BufWriter::new(f);
        render(&mut w)?;
        w.flush()?;
        w.get_ref().sync_all()
    });
    match result.and_then(|_| std::fs::rename(&tmp, target)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// `--statistics`: findings per rule, most frequent first.
fn statistics(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let mut counts: BTreeMap<&str, (usize, &str, Severity)> = BTreeMap::new();
    for f in &report.findings {
        let e = counts.entry(f.code).or_insert((0, f.id, f.severity));
        e.0 += 1;
        e.2 = e.2.max(f.severity);
    }
    let mut rows: Vec<_> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    for (code, (n, id, sev)) in rows {
        writeln!(out, "{n:>6}  {code:<8} {id:<42} {}", sev.as_str())?;
    }
    Ok(())
}
