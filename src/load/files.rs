//! Discovering and reading input files: command-line paths, directories (walked recursively) and
//! stdin (`-`).
//!
//! [`discover`] never fails as a whole: inputs that were read go to [`Discovered::inputs`], things
//! worth telling the user once (skipped Helm charts and kustomizations, binary files, symlink
//! loops …) go to
//! [`Discovered::notices`], and paths that could not be read go to [`Discovered::errors`] (the CLI
//! exits with status 2 when there are any, after linting the rest).

use std::collections::HashSet;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use walkdir::WalkDir;

/// File extensions (compared ASCII case-insensitively) taken from directories.
const MANIFEST_EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];
/// How much of a file is searched for NUL bytes to tell binary files from text.
const SNIFF_LEN: usize = 8 * 1024;
/// File names that make a directory a kustomization (as `kustomize` itself looks for them).
const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];
/// Byte offsets are `u32` (see [`crate::source::Span`]); bigger files are refused.
const MAX_FILE_LEN: u64 = u32::MAX as u64;

/// A file (or stdin) that was read and decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// Path as shown to the user.
    pub path: String,
    pub text: String,
}

/// Something to tell the user once on stderr; not a finding and not an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// A directory holding `Chart.yaml` and `templates/` (or such a chart's `templates/`
    /// directory itself) was not read: templates are not YAML until rendered.
    SkippedHelmChart { dir: String },
    /// A kustomization directory (holding `kustomization.yaml`, `kustomization.yml` or
    /// `Kustomization`), with everything below it, was not read: its files are bases and patches,
    /// which are fragments, not objects. `path` is the directory; a kustomization file named on
    /// the command line is reported as its directory.
    SkippedKustomization { path: String },
    /// NUL bytes in the first 8 KiB, or not valid UTF-8 / UTF-16 / UTF-32 text.
    SkippedBinary { path: String },
    /// A symbolic link (met while walking a directory) that leads back to one of its own
    /// ancestors, or a chain of links that never resolves.
    SymlinkLoop { path: String },
    /// A symbolic link (met while walking a directory) whose target does not exist.
    BrokenSymlink { path: String },
    /// A FIFO, socket or device with a manifest extension met while walking a directory.
    SkippedSpecialFile { path: String },
    /// A symbolic link met while walking a directory that leads out of the directory given on
    /// the command line (to `/`, `/sys`, another checkout): never followed, so a walk stays
    /// inside what the user asked to lint.
    SkippedOutsideLink { path: String },
    /// A directory given on the command line in which nothing was found to lint.
    NoManifests { dir: String },
}

impl Notice {
    /// The display path the notice is about.
    pub fn path(&self) -> &str {
        match self {
            Notice::SkippedHelmChart { dir } | Notice::NoManifests { dir } => dir,
            Notice::SkippedBinary { path }
            | Notice::SymlinkLoop { path }
            | Notice::BrokenSymlink { path }
            | Notice::SkippedSpecialFile { path }
            | Notice::SkippedOutsideLink { path }
            | Notice::SkippedKustomization { path } => path,
        }
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::SkippedHelmChart { dir } => write!(
                f,
                "skipped Helm chart source {dir}: render it with `helm template {} | meshlint -`",
                shell_quote(dir)
            ),
            Notice::SkippedKustomization { path } => write!(
                f,
                "skipped kustomization {path}: its files are patches, not objects; lint the \
                 rendered output with `kubectl kustomize {} | meshlint -`",
                shell_quote(path)
            ),
            Notice::SkippedBinary { path } => write!(f, "skipped {path}: not a text file"),
            Notice::SymlinkLoop { path } => write!(f, "skipped {path}: symbolic link loop"),
            Notice::BrokenSymlink { path } => write!(f, "skipped {path}: broken symbolic link"),
            Notice::SkippedSpecialFile { path } => {
                write!(f, "skipped {path}: not a regular file")
            }
            Notice::SkippedOutsideLink { path } => write!(
                f,
                "skipped {path}: symbolic link out of the linted directory (name its target \
                 on the command line to lint it)"
            ),
            Notice::NoManifests { dir } => {
                write!(f, "no .yaml, .yml or .json files found in {dir}")
            }
        }
    }
}

/// A path that could not be read: nonexistent or unreadable path given on the command line, or
/// an unreadable file or directory found while walking. The run must end with exit status 2.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FatalPathError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for FatalPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for FatalPathError {}

/// Everything [`discover`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Discovered {
    /// Sorted by display path (byte order); each file at most once.
    pub inputs: Vec<Input>,
    /// Sorted by path, then message.
    pub notices: Vec<Notice>,
    /// Sorted by path, then message.
    pub errors: Vec<FatalPathError>,
}

/// Finds and reads the inputs named by `paths` (as given on the command line).
///
/// * `-` reads all of stdin once; it is shown as `stdin_name`.
/// * A file is read whatever its extension, except a kustomization file (`kustomization.yaml`,
///   `kustomization.yml`, `Kustomization`), which is skipped with a notice about its directory.
/// * A directory is walked recursively (following symbolic links, without looping) for files
///   ending `.yaml`, `.yml` or `.json` (case-insensitive); directories whose name starts with a
///   dot are not entered (the directory given itself may be one); Helm chart sources and
///   kustomization directories (and everything below them) are skipped with one notice each. Files are shown as `<arg>/<relative path>` with `/` separators.
/// * The same file reached twice (same path, symbolic or hard link) is read once and shown under
///   its smallest display path.
/// * Text may be UTF-8 (a BOM is dropped) or, with a BOM, UTF-16 or UTF-32.
pub fn discover(paths: &[String], stdin_name: &str) -> Discovered {
    discover_filtered(paths, stdin_name, &|_| true)
}

/// [`discover`], reading only the files whose display path `wanted` accepts (the config's
/// `include`/`exclude`): an excluded file is never opened.
pub fn discover_filtered(
    paths: &[String],
    stdin_name: &str,
    wanted: &(dyn Fn(&str) -> bool + Sync),
) -> Discovered {
    let mut candidates = Vec::new();
    let mut notices = Vec::new();
    let mut errors = Vec::new();
    let mut want_stdin = false;
    for arg in paths {
        if arg == "-" {
            want_stdin = true;
        } else {
            collect_arg(arg, &mut candidates, &mut notices, &mut errors);
        }
    }
    let mut seen = HashSet::new();
    candidates.retain(|c: &Candidate| {
        wanted(&c.display) && seen.insert((c.display.clone(), c.path.clone()))
    });

    let (stdin, read) = rayon::join(
        || want_stdin.then(read_stdin),
        || {
            candidates
                .into_par_iter()
                .map(|c| {
                    let r = read_file(&c.path);
                    (c.display, r)
                })
                .collect::<Vec<_>>()
        },
    );

    let mut loaded: Vec<(String, Option<FileKey>, Decoded)> = Vec::with_capacity(read.len() + 1);
    if let Some(r) = stdin {
        match r {
            Ok(d) => loaded.push((stdin_name.to_string(), None, d)),
            Err(message) => errors.push(FatalPathError {
                path: stdin_name.to_string(),
                message,
            }),
        }
    }
    for (display, r) in read {
        match r {
            Ok((key, d)) => loaded.push((display, key, d)),
            Err(message) => errors.push(FatalPathError {
                path: display,
                message,
            }),
        }
    }
    // Stable: equal display paths (only possible through lossy conversion) keep walk order.
    loaded.sort_by(|a, b| a.0.cmp(&b.0));

    let mut inputs = Vec::with_capacity(loaded.len());
    let mut seen_keys = HashSet::new();
    for (path, key, decoded) in loaded {
        if let Some(key) = key
            && !seen_keys.insert(key)
        {
            continue;
        }
        match decoded {
            Decoded::Text(text) => inputs.push(Input { path, text }),
            Decoded::Binary => notices.push(Notice::SkippedBinary { path }),
        }
    }

    notices.sort_by(|a, b| {
        a.path()
            .cmp(b.path())
            .then_with(|| a.to_string().cmp(&b.to_string()))
    });
    notices.dedup();
    errors.sort();
    errors.dedup();
    Discovered {
        inputs,
        notices,
        errors,
    }
}

/// A file to read: display path and the real path to open.
struct Candidate {
    display: String,
    path: PathBuf,
}

enum Decoded {
    Text(String),
    Binary,
}

fn collect_arg(
    arg: &str,
    candidates: &mut Vec<Candidate>,
    notices: &mut Vec<Notice>,
    errors: &mut Vec<FatalPathError>,
) {
    let path = Path::new(arg);
    match fs::metadata(path) {
        Err(e) => errors.push(FatalPathError {
            path: arg.to_string(),
            message: explicit_path_message(path, &e),
        }),
        Ok(meta) if meta.is_dir() => walk_dir(arg, path, candidates, notices, errors),
        Ok(meta) if meta.is_file() && is_kustomization_file(path) => {
            notices.push(Notice::SkippedKustomization {
                path: parent_display(arg),
            })
        }
        // Named explicitly: read whatever it is (regular file, FIFO such as `<(helm template …)`).
        Ok(_) => candidates.push(Candidate {
            display: arg.to_string(),
            path: path.to_path_buf(),
        }),
    }
}

fn explicit_path_message(path: &Path, e: &io::Error) -> String {
    let is_link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if is_link && e.kind() == io::ErrorKind::NotFound {
        "broken symbolic link".to_string()
    } else if is_link && is_eloop(e) {
        "symbolic link loop".to_string()
    } else if e.kind() == io::ErrorKind::NotFound {
        "no such file or directory".to_string()
    } else {
        io_message(e)
    }
}

fn walk_dir(
    arg: &str,
    root: &Path,
    candidates: &mut Vec<Candidate>,
    notices: &mut Vec<Notice>,
    errors: &mut Vec<FatalPathError>,
) {
    let prefix = display_root(arg);
    let (cands_before, notices_before, errors_before) =
        (candidates.len(), notices.len(), errors.len());
    let mut charts = Vec::new();
    let mut kustomizations = Vec::new();
    let mut outside = Vec::new();
    // Links are followed only while they stay inside the directory given.
    let real_root = fs::canonicalize(root).ok();

    let walker = WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            if e.depth() > 0
                && e.path_is_symlink()
                && let Some(real_root) = &real_root
                && fs::canonicalize(e.path()).is_ok_and(|t| !t.starts_with(real_root))
            {
                outside.push(display_of(&prefix, root, e.path()));
                return false;
            }
            if !e.file_type().is_dir() {
                return true;
            }
            if e.depth() > 0 && e.file_name().as_encoded_bytes().starts_with(b".") {
                return false;
            }
            let chart = is_helm_chart(e.path()) || (e.depth() == 0 && is_chart_templates(e.path()));
            if chart {
                charts.push(display_of(&prefix, root, e.path()));
                return false;
            }
            if is_kustomization(e.path()) {
                kustomizations.push(display_of(&prefix, root, e.path()));
                return false;
            }
            true
        });

    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                walk_error(&err, &prefix, root, notices, errors);
                continue;
            }
        };
        let ft = entry.file_type();
        if ft.is_dir() || !has_manifest_extension(entry.file_name()) {
            continue;
        }
        let display = display_of(&prefix, root, entry.path());
        if ft.is_file() {
            candidates.push(Candidate {
                display,
                path: entry.into_path(),
            });
        } else {
            notices.push(Notice::SkippedSpecialFile { path: display });
        }
    }

    let found_nothing = candidates.len() == cands_before
        && notices.len() == notices_before
        && errors.len() == errors_before
        && charts.is_empty()
        && kustomizations.is_empty()
        && outside.is_empty();
    notices.extend(
        outside
            .into_iter()
            .map(|path| Notice::SkippedOutsideLink { path }),
    );
    notices.extend(
        charts
            .into_iter()
            .map(|dir| Notice::SkippedHelmChart { dir }),
    );
    notices.extend(
        kustomizations
            .into_iter()
            .map(|path| Notice::SkippedKustomization { path }),
    );
    if found_nothing {
        notices.push(Notice::NoManifests { dir: prefix });
    }
}

fn walk_error(
    err: &walkdir::Error,
    prefix: &str,
    root: &Path,
    notices: &mut Vec<Notice>,
    errors: &mut Vec<FatalPathError>,
) {
    let display = match err.path() {
        Some(p) => display_of(prefix, root, p),
        None => prefix.to_string(),
    };
    if err.loop_ancestor().is_some() {
        notices.push(Notice::SymlinkLoop { path: display });
        return;
    }
    if let (Some(path), Some(io_err)) = (err.path(), err.io_error())
        && err.depth() > 0
        && fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
    {
        match fs::metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                notices.push(Notice::BrokenSymlink { path: display });
                return;
            }
            Err(e) if is_eloop(&e) || is_eloop(io_err) => {
                notices.push(Notice::SymlinkLoop { path: display });
                return;
            }
            _ => {}
        }
    }
    let message = match err.io_error() {
        Some(e) => io_message(e),
        None => err.to_string(),
    };
    errors.push(FatalPathError {
        path: display,
        message,
    });
}

/// A Helm chart source: `Chart.yaml` next to a `templates/` directory.
fn is_helm_chart(dir: &Path) -> bool {
    dir.join("Chart.yaml").is_file() && dir.join("templates").is_dir()
}

/// A kustomization directory: it holds one of [`KUSTOMIZATION_FILES`].
fn is_kustomization(dir: &Path) -> bool {
    KUSTOMIZATION_FILES.iter().any(|f| dir.join(f).is_file())
}

/// A file named like a kustomization file (whatever directory it is in).
fn is_kustomization_file(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| KUSTOMIZATION_FILES.iter().any(|k| n == *k))
}

/// The directory part of a file argument, for display: `a/b/kustomization.yaml` → `a/b`,
/// `kustomization.yaml` → `.`, `/kustomization.yaml` → `/`.
fn parent_display(arg: &str) -> String {
    match arg.trim_end_matches('/').rfind('/') {
        Some(0) => "/".to_string(),
        Some(i) => display_root(&arg[..i]),
        None => ".".to_string(),
    }
}

/// The `templates/` directory of a Helm chart (when given on the command line).
fn is_chart_templates(dir: &Path) -> bool {
    let Ok(real) = fs::canonicalize(dir) else {
        return false;
    };
    real.file_name().is_some_and(|n| n == "templates") && real.parent().is_some_and(is_helm_chart)
}

fn has_manifest_extension(name: &std::ffi::OsStr) -> bool {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| {
            MANIFEST_EXTENSIONS
                .iter()
                .any(|m| e.eq_ignore_ascii_case(m))
        })
}

/// The directory argument as a display prefix: trailing slashes dropped (`/` stays `/`).
fn display_root(arg: &str) -> String {
    let trimmed = arg.trim_end_matches('/');
    if trimmed.is_empty() && !arg.is_empty() {
        "/".to_string()
    } else {
        trimmed.to_string()
    }
}

/// `prefix/relative/path` for a path found under `root`, `/`-separated, lossy for non-UTF-8.
fn display_of(prefix: &str, root: &Path, path: &Path) -> String {
    let Ok(rel) = path.strip_prefix(root) else {
        return path.to_string_lossy().into_owned();
    };
    let rel: Vec<_> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect();
    if rel.is_empty() {
        prefix.to_string()
    } else if prefix.ends_with('/') {
        format!("{prefix}{}", rel.join("/"))
    } else {
        format!("{prefix}/{}", rel.join("/"))
    }
}

#[cfg(unix)]
type FileKey = (u64, u64);

#[cfg(unix)]
fn file_key(meta: &fs::Metadata, _path: &Path) -> Option<FileKey> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
type FileKey = PathBuf;

#[cfg(not(unix))]
fn file_key(_meta: &fs::Metadata, path: &Path) -> Option<FileKey> {
    fs::canonicalize(path).ok()
}

fn read_file(path: &Path) -> Result<(Option<FileKey>, Decoded), String> {
    let file = File::open(path).map_err(|e| io_message(&e))?;
    let meta = file.metadata().map_err(|e| io_message(&e))?;
    if meta.len() > MAX_FILE_LEN {
        return Err(too_large());
    }
    let key = file_key(&meta, path);
    // Sniff the first bytes: a binary file (NUL bytes, no UTF-16/32 byte-order mark) is not
    // read further, however large it is.
    let mut file = file;
    let mut head = Vec::with_capacity(SNIFF_LEN);
    (&mut file)
        .take(SNIFF_LEN as u64)
        .read_to_end(&mut head)
        .map_err(|e| io_message(&e))?;
    if head.contains(&0) && !has_wide_bom(&head) {
        return Ok((key, Decoded::Binary));
    }
    let mut bytes = head;
    bytes.reserve((meta.len() as usize).saturating_sub(bytes.len()));
    let rest = read_bounded(file, 0)?;
    bytes.extend_from_slice(&rest);
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(too_large());
    }
    Ok((key, decode(bytes)?))
}

fn read_stdin() -> Result<Decoded, String> {
    read_bounded(io::stdin().lock(), 0).and_then(decode)
}

/// A UTF-16 or UTF-32 byte-order mark (their text holds NUL bytes).
fn has_wide_bom(head: &[u8]) -> bool {
    head.starts_with(&[0xFF, 0xFE])
        || head.starts_with(&[0xFE, 0xFF])
        || head.starts_with(&[0, 0, 0xFE, 0xFF])
}

fn read_bounded(reader: impl Read, size_hint: usize) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::with_capacity(size_hint);
    reader
        .take(MAX_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_message(&e))?;
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(too_large());
    }
    Ok(bytes)
}

fn too_large() -> String {
    "larger than 4 GiB, which is not supported".to_string()
}

/// Decodes a file's bytes. Decoded text larger than the offset limit is refused (UTF-16 text
/// grows by up to half when decoded to UTF-8: a 2.9 GB file would pass 4 GiB and wrap the
/// offsets).
fn decode(mut bytes: Vec<u8>) -> Result<Decoded, String> {
    let text = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
        String::from_utf8(bytes).ok().map(Ok)
    } else if bytes.starts_with(&[0xFF, 0xFE, 0, 0]) {
        decode_utf32(&bytes[4..], u32::from_le_bytes)
    } else if bytes.starts_with(&[0, 0, 0xFE, 0xFF]) {
        decode_utf32(&bytes[4..], u32::from_be_bytes)
    } else if bytes.starts_with(&[0xFF, 0xFE]) {
        decode_utf16(&bytes[2..], u16::from_le_bytes)
    } else if bytes.starts_with(&[0xFE, 0xFF]) {
        decode_utf16(&bytes[2..], u16::from_be_bytes)
    } else {
        String::from_utf8(bytes).ok().map(Ok)
    };
    match text {
        Some(Err(())) => Err(too_large()),
        Some(Ok(t)) if !t.as_bytes()[..t.len().min(SNIFF_LEN)].contains(&0) => Ok(Decoded::Text(t)),
        _ => Ok(Decoded::Binary),
    }
}

/// Pushes decoded characters, stopping with `Err` once the text passes the offset limit.
fn push_bounded(out: &mut String, c: char) -> Result<(), ()> {
    out.push(c);
    if out.len() as u64 > MAX_FILE_LEN {
        Err(())
    } else {
        Ok(())
    }
}

fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Option<Result<String, ()>> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut out = String::with_capacity(bytes.len() / 2);
    for c in char::decode_utf16(units) {
        if push_bounded(&mut out, c.ok()?).is_err() {
            return Some(Err(()));
        }
    }
    Some(Ok(out))
}

fn decode_utf32(bytes: &[u8], unit: fn([u8; 4]) -> u32) -> Option<Result<String, ()>> {
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = String::with_capacity(bytes.len() / 4);
    for c in bytes.chunks_exact(4) {
        if push_bounded(&mut out, char::from_u32(unit([c[0], c[1], c[2], c[3]]))?).is_err() {
            return Some(Err(()));
        }
    }
    Some(Ok(out))
}

/// `ELOOP` ("too many levels of symbolic links"); `io::ErrorKind::FilesystemLoop` is unstable.
fn is_eloop(e: &io::Error) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const ELOOP: i32 = 40;
    #[cfg(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly"
    ))]
    const ELOOP: i32 = 62;
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly"
    )))]
    const ELOOP: i32 = i32::MIN;
    e.raw_os_error() == Some(ELOOP)
}

/// The OS message without the ` (os error N)` suffix, first letter lowercased.
fn io_message(e: &io::Error) -> String {
    let s = e.to_string();
    let s = match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_string(),
        _ => s,
    };
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a.is_ascii_uppercase() && !b.is_ascii_uppercase() => {
            let mut out = a.to_ascii_lowercase().to_string();
            out.push_str(&s[1..]);
            out
        }
        _ => s,
    }
}

/// Quotes a path for the `helm template` hint when it needs it in a POSIX shell.
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:@%=".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            static N: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "meshlint-files-test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
        fn path(&self, rel: &str) -> PathBuf {
            self.0.join(rel)
        }
        fn arg(&self, rel: &str) -> String {
            if rel.is_empty() {
                self.0.to_string_lossy().into_owned()
            } else {
                self.path(rel).to_string_lossy().into_owned()
            }
        }
        fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
            let p = self.path(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, bytes).unwrap();
        }
        fn mkdir(&self, rel: &str) {
            fs::create_dir_all(self.path(rel)).unwrap();
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn paths(d: &Discovered) -> Vec<&str> {
        d.inputs.iter().map(|i| i.path.as_str()).collect()
    }

    fn rel(t: &TempDir, v: &[String]) -> Vec<String> {
        let root = t.arg("");
        v.iter()
            .map(|s| s.strip_prefix(&root).unwrap_or(s).to_string())
            .collect()
    }

    #[test]
    fn walks_nested_dirs_by_extension_sorted() {
        let t = TempDir::new();
        t.write("b.yaml", "kind: B\n");
        t.write("a.YML", "kind: A\n");
        t.write("notes.txt", "not yaml");
        t.write("sub/deeper/c.json", "{}");
        t.write("sub/z.yml", "");
        t.write("sub/Dockerfile", "FROM x");
        t.write(".git/config.yaml", "hidden dir");
        t.write("sub/.cache/x.yaml", "hidden dir");
        t.write(".hidden-file.yaml", "hidden files are read");
        let d = discover(&[t.arg("")], "<stdin>");
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert!(d.notices.is_empty(), "{:?}", d.notices);
        let root = t.arg("");
        let got: Vec<String> = paths(&d)
            .iter()
            .map(|p| p.replacen(&root, "R", 1))
            .collect();
        assert_eq!(
            got,
            [
                "R/.hidden-file.yaml",
                "R/a.YML",
                "R/b.yaml",
                "R/sub/deeper/c.json",
                "R/sub/z.yml"
            ]
        );
        assert_eq!(d.inputs[2].text, "kind: B\n");
        assert_eq!(d.inputs[4].text, "");
    }

    #[test]
    fn display_paths_join_arg_and_relative_path() {
        let t = TempDir::new();
        t.write("x/a.yaml", "a: 1\n");
        let arg = format!("{}/", t.arg("x"));
        let d = discover(std::slice::from_ref(&arg), "<stdin>");
        assert_eq!(paths(&d), [format!("{}a.yaml", arg)]);
        assert_eq!(display_root("fixtures/x/"), "fixtures/x");
        assert_eq!(display_root("/"), "/");
        assert_eq!(
            display_of("/", Path::new("/"), Path::new("/a/b.yaml")),
            "/a/b.yaml"
        );
        assert_eq!(
            display_of(
                "fixtures/x",
                Path::new("fixtures/x/"),
                Path::new("fixtures/x/s/a.yaml")
            ),
            "fixtures/x/s/a.yaml"
        );
        assert_eq!(
            display_of(".", Path::new("."), Path::new("./a.yaml")),
            "./a.yaml"
        );
    }

    #[test]
    fn explicit_file_any_extension_and_explicit_hidden_dir() {
        let t = TempDir::new();
        t.write("manifest.txt", "kind: X\n");
        t.write(".config/k.yaml", "kind: Y\n");
        let d = discover(&[t.arg("manifest.txt"), t.arg(".config")], "<stdin>");
        assert!(d.errors.is_empty() && d.notices.is_empty());
        let root = t.arg("");
        assert_eq!(
            paths(&d),
            [
                format!("{root}/.config/k.yaml"),
                format!("{root}/manifest.txt")
            ]
        );
    }

    #[test]
    fn helm_chart_sources_are_skipped_once() {
        let t = TempDir::new();
        t.write("charts/web/Chart.yaml", "name: web\n");
        t.write("charts/web/values.yaml", "x: 1\n");
        t.write("charts/web/templates/deploy.yaml", "{{ .Values.x }}\n");
        t.write("charts/web/charts/sub/Chart.yaml", "name: sub\n");
        t.mkdir("charts/web/charts/sub/templates");
        // Chart.yaml without templates/: an ordinary directory.
        t.write("charts/notachart/Chart.yaml", "name: n\n");
        t.write("plain.yaml", "kind: A\n");
        let d = discover(&[t.arg("")], "-");
        let root = t.arg("");
        assert_eq!(
            paths(&d),
            [
                format!("{root}/charts/notachart/Chart.yaml"),
                format!("{root}/plain.yaml")
            ]
        );
        assert_eq!(
            d.notices,
            [Notice::SkippedHelmChart {
                dir: format!("{root}/charts/web")
            }]
        );
        assert!(d.notices[0].to_string().starts_with(&format!(
            "skipped Helm chart source {root}/charts/web: render it with `helm template "
        )));

        // The chart itself, or its templates/ directory, given explicitly.
        let d = discover(&[t.arg("charts/web"), t.arg("charts/web/templates")], "-");
        assert!(d.inputs.is_empty());
        assert_eq!(
            d.notices,
            [
                Notice::SkippedHelmChart {
                    dir: t.arg("charts/web")
                },
                Notice::SkippedHelmChart {
                    dir: t.arg("charts/web/templates")
                }
            ]
        );
        // A file of the chart named explicitly is read.
        let d = discover(&[t.arg("charts/web/values.yaml")], "-");
        assert_eq!(d.inputs.len(), 1);
    }

    #[test]
    fn kustomizations_are_skipped_once() {
        let t = TempDir::new();
        t.write("k/base/kustomization.yaml", "resources: [deploy.yaml]\n");
        t.write("k/base/deploy.yaml", "kind: Deployment\n");
        t.write("k/base/patches/p.yaml", "kind: Deployment\n");
        t.write(
            "k/overlays/prod/kustomization.yml",
            "resources: [../../base]\n",
        );
        t.write("k/overlays/prod/patch.yaml", "spec: {}\n");
        t.write("k/overlays/dev/Kustomization", "resources: [../../base]\n");
        t.write(
            "k/overlays/dev/nested/kustomization.yaml",
            "resources: []\n",
        );
        // A chart inside a kustomization: the kustomization notice covers it.
        t.write("k/overlays/dev/chart/Chart.yaml", "name: c\n");
        t.mkdir("k/overlays/dev/chart/templates");
        t.write("k/plain.yaml", "kind: A\n");
        let d = discover(&[t.arg("k")], "-");
        let k = t.arg("k");
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert_eq!(paths(&d), [format!("{k}/plain.yaml")]);
        let skipped = |rel: &str| Notice::SkippedKustomization {
            path: format!("{k}/{rel}"),
        };
        assert_eq!(
            d.notices,
            [
                skipped("base"),
                skipped("overlays/dev"),
                skipped("overlays/prod")
            ]
        );
        assert_eq!(
            Notice::SkippedKustomization {
                path: "envs/my prod".into()
            }
            .to_string(),
            "skipped kustomization envs/my prod: its files are patches, not objects; lint the \
             rendered output with `kubectl kustomize 'envs/my prod' | meshlint -`"
        );

        // Given explicitly: the directory, a trailing-slash spelling of it, or its
        // kustomization file give one notice; another file of it is read.
        let d = discover(
            &[
                t.arg("k/base"),
                format!("{}/", t.arg("k/base")),
                t.arg("k/base/kustomization.yaml"),
                t.arg("k/overlays/dev/Kustomization"),
                t.arg("k/base/deploy.yaml"),
            ],
            "-",
        );
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert_eq!(paths(&d), [format!("{k}/base/deploy.yaml")]);
        assert_eq!(d.notices, [skipped("base"), skipped("overlays/dev")]);
        assert_eq!(parent_display("kustomization.yaml"), ".");
        assert_eq!(parent_display("/kustomization.yaml"), "/");
        assert_eq!(parent_display("a//b/kustomization.yaml"), "a//b");
    }

    #[test]
    fn binary_and_invalid_utf8_are_skipped() {
        let t = TempDir::new();
        t.write("bin.yaml", b"kind: A\n\0\x01\x02");
        t.write("latin1.yaml", b"# caf\xe9\nkind: A\n");
        let mut late_nul = vec![b'#'; SNIFF_LEN + 10];
        late_nul.push(0);
        t.write("late-nul.yaml", &late_nul);
        let d = discover(&[t.arg("")], "-");
        let root = t.arg("");
        assert_eq!(paths(&d), [format!("{root}/late-nul.yaml")]);
        assert_eq!(
            d.notices,
            [
                Notice::SkippedBinary {
                    path: format!("{root}/bin.yaml")
                },
                Notice::SkippedBinary {
                    path: format!("{root}/latin1.yaml")
                }
            ]
        );
        assert_eq!(
            d.notices[0].to_string(),
            format!("skipped {root}/bin.yaml: not a text file")
        );
    }

    #[test]
    fn boms_and_utf16_utf32_are_decoded() {
        let t = TempDir::new();
        let text = "kind: Ünïcode\r\nx: 1\n";
        let mut utf8 = vec![0xEF, 0xBB, 0xBF];
        utf8.extend_from_slice(text.as_bytes());
        t.write("utf8bom.yaml", &utf8);
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for u in text.encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
            be.extend_from_slice(&u.to_be_bytes());
        }
        t.write("utf16le.yaml", &le);
        t.write("utf16be.yaml", &be);
        let mut le32 = vec![0xFF, 0xFE, 0, 0];
        for c in text.chars() {
            le32.extend_from_slice(&(c as u32).to_le_bytes());
        }
        t.write("utf32le.yaml", &le32);
        t.write("bom-only.yaml", [0xEF, 0xBB, 0xBF]);
        t.write("odd-utf16.yaml", [0xFF, 0xFE, b'a']);
        t.write("empty.yaml", "");
        let d = discover(&[t.arg("")], "-");
        let root = t.arg("");
        let by: Vec<(String, &str)> = d
            .inputs
            .iter()
            .map(|i| (i.path.replacen(&root, "", 1), i.text.as_str()))
            .collect();
        assert_eq!(
            by,
            [
                ("/bom-only.yaml".to_string(), ""),
                ("/empty.yaml".to_string(), ""),
                ("/utf16be.yaml".to_string(), text),
                ("/utf16le.yaml".to_string(), text),
                ("/utf32le.yaml".to_string(), text),
                ("/utf8bom.yaml".to_string(), text),
            ]
        );
        assert_eq!(
            d.notices,
            [Notice::SkippedBinary {
                path: format!("{root}/odd-utf16.yaml")
            }]
        );
    }

    #[test]
    fn nonexistent_paths_are_fatal_and_others_still_read() {
        let t = TempDir::new();
        t.write("ok.yaml", "a: 1\n");
        let missing = t.arg("missing.yaml");
        let d = discover(&[missing.clone(), t.arg("ok.yaml")], "-");
        assert_eq!(
            d.errors,
            [FatalPathError {
                path: missing.clone(),
                message: "no such file or directory".into()
            }]
        );
        assert_eq!(
            d.errors[0].to_string(),
            format!("{missing}: no such file or directory")
        );
        assert_eq!(paths(&d), [t.arg("ok.yaml")]);
    }

    #[test]
    fn empty_dir_gets_a_notice() {
        let t = TempDir::new();
        t.write("README.md", "x");
        let d = discover(&[t.arg("")], "-");
        assert_eq!(d.notices, [Notice::NoManifests { dir: t.arg("") }]);
    }

    #[test]
    fn duplicates_are_loaded_once() {
        let t = TempDir::new();
        t.write("d/a.yaml", "a: 1\n");
        let d = discover(
            &[
                t.arg("d"),
                t.arg("d/a.yaml"),
                t.arg("d/"),
                t.arg("d/a.yaml"),
            ],
            "-",
        );
        assert_eq!(paths(&d), [t.arg("d/a.yaml")]);
    }

    #[test]
    fn paths_with_spaces_and_non_ascii() {
        let t = TempDir::new();
        t.write("my dir/ünï cödé.yaml", "a: 1\n");
        let d = discover(&[t.arg("my dir")], "-");
        assert_eq!(paths(&d), [t.arg("my dir/ünï cödé.yaml")]);
        assert_eq!(shell_quote("my dir/x"), "'my dir/x'");
        assert_eq!(shell_quote("charts/web"), "charts/web");
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_file_names_are_read_via_the_real_path() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let t = TempDir::new();
        let name = OsStr::from_bytes(b"bad-\xff.yaml");
        if fs::write(t.0.join(name), "a: 1\n").is_err() {
            return; // filesystem refuses non-UTF-8 names
        }
        let d = discover(&[t.arg("")], "-");
        assert_eq!(paths(&d), [format!("{}/bad-\u{FFFD}.yaml", t.arg(""))]);
        assert_eq!(d.inputs[0].text, "a: 1\n");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_loops_and_broken_links() {
        use std::os::unix::fs::symlink;
        let t = TempDir::new();
        t.write("real/a.yaml", "a: 1\n");
        t.write("other/b.yaml", "b: 1\n");
        // symlinked dir and file out of the tree: skipped with a notice each
        symlink(t.path("other"), t.path("real/linked-dir")).unwrap();
        symlink(t.path("other/b.yaml"), t.path("real/linked.yaml")).unwrap();
        // a link inside the tree is followed
        t.write("real/sub/c.yaml", "c: 1\n");
        symlink(t.path("real/sub"), t.path("real/inside")).unwrap();
        // loop back to an ancestor
        symlink(t.path("real"), t.path("real/loop")).unwrap();
        // self-referencing link and a broken link
        symlink(t.path("real/self.yaml"), t.path("real/self.yaml")).unwrap();
        symlink(t.path("nowhere.yaml"), t.path("real/broken.yaml")).unwrap();
        let d = discover(&[t.arg("real")], "-");
        let r = t.arg("real");
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        // c.yaml is reached twice (via the link and its directory): loaded once, under the
        // smaller display path. Nothing of other/ is read.
        assert_eq!(
            paths(&d),
            [format!("{r}/a.yaml"), format!("{r}/inside/c.yaml")]
        );
        assert_eq!(
            d.notices,
            [
                Notice::BrokenSymlink {
                    path: format!("{r}/broken.yaml")
                },
                Notice::SkippedOutsideLink {
                    path: format!("{r}/linked-dir")
                },
                Notice::SkippedOutsideLink {
                    path: format!("{r}/linked.yaml")
                },
                Notice::SymlinkLoop {
                    path: format!("{r}/loop")
                },
                Notice::SymlinkLoop {
                    path: format!("{r}/self.yaml")
                },
            ]
        );

        // Named explicitly: a broken link or a loop is fatal.
        let d = discover(&[t.arg("real/broken.yaml"), t.arg("real/self.yaml")], "-");
        assert_eq!(
            rel(
                &t,
                &d.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>()
            ),
            [
                "/real/broken.yaml: broken symbolic link",
                "/real/self.yaml: symbolic link loop"
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn unreadable_files_in_a_walk_are_fatal_but_the_rest_is_read() {
        use std::os::unix::fs::PermissionsExt;
        let t = TempDir::new();
        t.write("a.yaml", "a: 1\n");
        t.write("secret.yaml", "s: 1\n");
        t.write("locked/b.yaml", "b: 1\n");
        fs::set_permissions(t.path("secret.yaml"), fs::Permissions::from_mode(0o000)).unwrap();
        fs::set_permissions(t.path("locked"), fs::Permissions::from_mode(0o000)).unwrap();
        if File::open(t.path("secret.yaml")).is_ok() {
            eprintln!("skipped: permissions are not enforced (running as root?)");
            return;
        }
        let d = discover(&[t.arg("")], "-");
        fs::set_permissions(t.path("locked"), fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(paths(&d), [t.arg("a.yaml")]);
        let denied = |rel: &str| FatalPathError {
            path: t.arg(rel),
            message: "permission denied".into(),
        };
        assert_eq!(d.errors, [denied("locked"), denied("secret.yaml")]);
    }

    #[test]
    fn io_messages_are_tidy() {
        let e = io::Error::from_raw_os_error(2);
        assert_eq!(io_message(&e), "no such file or directory");
    }
}
