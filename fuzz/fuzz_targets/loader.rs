//! The YAML loader: bytes → text (valid UTF-8, or lossily converted as the file reader would
//! refuse it) → `parse_stream`, then a walk over every document. Besides not panicking, every
//! span must lie inside the text on character boundaries, and walking the trees must stay cheap
//! (aliases share nodes; the parser bounds their expansion).

#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use meshlint::source::{FileId, SourceFile, Span};
use meshlint::yaml::{Node, ParseLimits, parse_stream};

fn check_span(text: &str, span: Span, what: &str) {
    let (s, e) = (span.start as usize, span.end as usize);
    assert!(
        s <= e && e <= text.len(),
        "{what}: span {s}..{e} of {}",
        text.len()
    );
    assert!(
        text.is_char_boundary(s) && text.is_char_boundary(e),
        "{what}: span {s}..{e} splits a character"
    );
}

/// Visits each node once (a DAG when aliases are used), reading it every way rules do.
fn walk(node: Node<'_, '_>, text: &str, seen: &mut HashSet<u32>) {
    if !seen.insert(node.id()) {
        return;
    }
    check_span(text, node.span(), "node");
    let _ = (
        node.as_str(),
        node.as_text(),
        node.as_int(),
        node.as_bool(),
        node.is_null(),
    );
    for (k, v) in node.entries() {
        walk(k, text, seen);
        walk(v, text, seen);
        if let Some(key) = k.as_str() {
            let _ = (node.get(key), node.key(key));
        }
    }
    for item in node.items() {
        walk(item, text, seen);
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let out = parse_stream(FileId(0), &text, &ParseLimits::default());
    for e in &out.errors {
        check_span(&text, e.span, "error");
        assert!(!e.message.is_empty());
    }
    for d in &out.docs {
        check_span(&text, d.span, "document");
        if let Some(root) = d.root() {
            walk(root, &text, &mut HashSet::new());
        }
    }
    // Line/column conversion of every error position.
    let file = SourceFile::new("fuzz.yaml".into(), text.clone());
    for e in &out.errors {
        let lc = file.line_col(e.span.start);
        assert!(lc.line >= 1 && lc.column >= 1);
    }
});
