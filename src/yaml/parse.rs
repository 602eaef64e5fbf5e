//! saphyr-parser events → [`Document`] trees.
//!
//! A stream is first cut at `---` lines (a document marker at column 0 ends any scalar, so this
//! is safe by the YAML spec), and each piece is parsed on its own: a syntax error loses only its
//! own document, and large files are parsed in parallel.

use std::collections::HashMap;

use rayon::prelude::*;
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};

use super::{Builder, Document, Kind, NodeId, Style};
use crate::source::{FileId, Span};

/// Bounds that keep hostile input from eating time or memory.
#[derive(Clone, Copy, Debug)]
pub struct ParseLimits {
    /// Deepest nesting of collections.
    pub max_depth: usize,
    /// Most nodes that aliases may add when expanded (billion-laughs guard).
    pub max_alias_expansion: u64,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_depth: 512,
            max_alias_expansion: 1_000_000,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// Not valid YAML.
    Syntax,
    /// A key repeated in one mapping; `first` is the earlier key.
    DuplicateKey { first: Span },
    /// Valid YAML beyond meshlint's safety limits (nesting, alias expansion).
    Limit,
}

#[derive(Clone, Debug)]
pub struct ParseError {
    pub span: Span,
    pub message: String,
    pub kind: ParseErrorKind,
}

/// Everything parsed from one file.
#[derive(Debug, Default)]
pub struct ParseOutput<'s> {
    pub docs: Vec<Document<'s>>,
    pub errors: Vec<ParseError>,
}

/// Files larger than this are parsed piece by piece in parallel.
const PARALLEL_THRESHOLD: usize = 1 << 20;

/// Parses a whole stream (a file's text).
pub fn parse_stream<'s>(file: FileId, src: &'s str, limits: &ParseLimits) -> ParseOutput<'s> {
    let pieces = split_documents(src);
    let parse_one = |r: &std::ops::Range<usize>| parse_document(file, src, r.clone(), limits);
    let results: Vec<ParseOutput<'s>> = if src.len() > PARALLEL_THRESHOLD {
        pieces.par_iter().map(parse_one).collect()
    } else {
        pieces.iter().map(parse_one).collect()
    };
    let mut out = ParseOutput::default();
    for r in results {
        out.docs.extend(r.docs);
        out.errors.extend(r.errors);
    }
    out
}

/// Byte ranges of the pieces of a stream, each starting at a `---` line (or the file start).
/// Directive lines (`%…`) just before a marker stay with the document they introduce.
pub fn split_documents(src: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = src.as_bytes();
    let mut cuts = vec![0usize];
    let mut line_start = 0usize;
    let mut directive_start: Option<usize> = None;
    while line_start < bytes.len() {
        let line_end = memchr_nl(bytes, line_start);
        let line = &bytes[line_start..line_end];
        if line.starts_with(b"---")
            && line
                .get(3)
                .is_none_or(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
        {
            let cut = directive_start.unwrap_or(line_start);
            if cut > 0 && cut > *cuts.last().unwrap_or(&0) {
                cuts.push(cut);
            }
            directive_start = None;
        } else if line.starts_with(b"%") {
            directive_start.get_or_insert(line_start);
        } else if !line.iter().all(|c| c.is_ascii_whitespace()) && !line.starts_with(b"#") {
            directive_start = None;
        }
        line_start = line_end + 1;
    }
    let mut ranges = Vec::with_capacity(cuts.len());
    for (i, &c) in cuts.iter().enumerate() {
        let end = cuts.get(i + 1).copied().unwrap_or(src.len());
        ranges.push(c..end);
    }
    ranges
}

fn memchr_nl(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map(|p| from + p)
        .unwrap_or(bytes.len())
}

/// Converts saphyr's character indices (relative to a piece) to byte offsets in the file.
struct Offsets<'a> {
    text: &'a str,
    base: usize,
    ascii: bool,
    cur_char: usize,
    cur_byte: usize,
}

impl<'a> Offsets<'a> {
    fn new(text: &'a str, base: usize) -> Self {
        Offsets {
            text,
            base,
            ascii: text.is_ascii(),
            cur_char: 0,
            cur_byte: 0,
        }
    }
    fn byte(&mut self, char_index: usize) -> usize {
        if self.ascii {
            return self.base + char_index.min(self.text.len());
        }
        if char_index < self.cur_char {
            self.cur_char = 0;
            self.cur_byte = 0;
        }
        let mut it = self.text[self.cur_byte..].char_indices();
        while self.cur_char < char_index {
            match it.next() {
                Some((_, c)) => {
                    self.cur_byte += c.len_utf8();
                    self.cur_char += 1;
                }
                None => break,
            }
        }
        self.base + self.cur_byte
    }
}

struct Open {
    mark: usize,
    start: usize,
    is_map: bool,
    anchor: usize,
}

struct State<'s, 'l> {
    b: Builder<'s>,
    src: &'s str,
    limits: &'l ParseLimits,
    stack: Vec<Open>,
    anchors: HashMap<usize, NodeId>,
    /// Expanded size of each node (aliases counted at full size), by node id.
    expanded: Vec<u64>,
    alias_extra: u64,
    last_end: usize,
    errors: Vec<ParseError>,
}

/// Parses the documents in `src[range]`.
pub fn parse_document<'s>(
    file: FileId,
    src: &'s str,
    range: std::ops::Range<usize>,
    limits: &ParseLimits,
) -> ParseOutput<'s> {
    let mut out = parse_piece(file, src, range.clone(), &src[range.clone()], limits);
    // saphyr rejects a flow sequence whose closing `]` starts a line at (or left of) its key's
    // column, which libyaml and go-yaml (so kubectl) accept. Move such a `]` to the end of the
    // previous line, keeping every other byte where it was, and parse again.
    let mut patched: Option<String> = None;
    for _ in 0..64 {
        let Some(at) = out
            .errors
            .first()
            .filter(|e| {
                e.kind == ParseErrorKind::Syntax && e.message.contains("invalid indentation")
            })
            .map(|e| e.span.start as usize - range.start)
        else {
            break;
        };
        let text = patched.get_or_insert_with(|| src[range.clone()].to_string());
        if !hoist_closing_bracket(text, at) {
            break;
        }
        out = parse_piece(file, src, range.clone(), text, limits);
    }
    out
}

/// Moves the `]` at byte `at` (first non-blank of its line) right after the last character of
/// the previous non-blank line, shifting the whitespace in between one byte right, so the text
/// keeps its length and every other byte its offset. Refuses when that line ends in a comment.
fn hoist_closing_bracket(text: &mut String, at: usize) -> bool {
    let bytes = text.as_bytes();
    if bytes.get(at) != Some(&b']') {
        return false;
    }
    let line_start = bytes[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    if !bytes[line_start..at]
        .iter()
        .all(|&b| b == b' ' || b == b'\t')
    {
        return false;
    }
    // The end of the previous content: skip back over whitespace and line breaks.
    let mut end = line_start;
    while end > 0 && matches!(bytes[end - 1], b' ' | b'\t' | b'\n' | b'\r') {
        end -= 1;
    }
    if end == 0 {
        return false;
    }
    let prev_start = bytes[..end]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    if bytes[prev_start..end].contains(&b'#') {
        return false;
    }
    // [end..=at] holds only ASCII whitespace and the bracket: rotate the bracket to the front.
    let mut moved: Vec<u8> = bytes[end..=at].to_vec();
    moved.rotate_right(1);
    let Ok(moved) = String::from_utf8(moved) else {
        return false;
    };
    text.replace_range(end..=at, &moved);
    true
}

/// Parses one piece; `input` is the piece's text as saphyr sees it (the source itself, or a
/// copy with the same length and byte offsets), while scalars still borrow from `src`.
fn parse_piece<'s>(
    file: FileId,
    src: &'s str,
    range: std::ops::Range<usize>,
    input: &str,
    limits: &ParseLimits,
) -> ParseOutput<'s> {
    let piece = input;
    let mut out = ParseOutput::default();
    let mut off = Offsets::new(piece, range.start);
    let mut parser = Parser::new_from_str(piece);
    let mut st: Option<State<'s, '_>> = None;
    let mut doc_start = range.start;
    let mut root: Option<NodeId> = None;
    while let Some(ev) = parser.next_event() {
        let (ev, span) = match ev {
            Ok(x) => x,
            Err(e) => {
                let mut err = scan_error(&e, &mut off);
                // An error found only at the end of the piece (an unclosed bracket, say) belongs
                // to the last line with content, not to the next document's marker.
                let content_end = range.start + piece.trim_end().len();
                if err.span.start as usize >= content_end {
                    err.span = Span::new(content_end, content_end);
                }
                if let Some(at) = misplaced_tab(piece, &err, range.start) {
                    err.span = Span::new(at, at + 1);
                }
                out.errors.push(err);
                if let Some(s) = st.take() {
                    out.errors.extend(s.errors);
                }
                break;
            }
        };
        let start = off.byte(span.start.index());
        let end = off.byte(span.end.index());
        match ev {
            Event::StreamStart | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                doc_start = start;
                root = None;
                let mut b = Builder::new(file, src);
                b.reserve(piece.len() / 12);
                st = Some(State {
                    b,
                    src,
                    limits,
                    stack: Vec::new(),
                    anchors: HashMap::new(),
                    expanded: Vec::new(),
                    alias_extra: 0,
                    last_end: start,
                    errors: Vec::new(),
                });
            }
            Event::DocumentEnd => {
                if let Some(s) = st.take() {
                    let end = s.last_end.max(doc_start);
                    out.errors.extend(s.errors);
                    let doc = s.b.finish(root, Span::new(doc_start, end));
                    if doc.root().is_some_and(|r| !r.is_null()) {
                        out.docs.push(doc);
                    }
                }
            }
            other => {
                let Some(s) = st.as_mut() else { continue };
                match s.event(other, start, end) {
                    Ok(Some(id)) => {
                        if s.stack.is_empty() {
                            root = Some(id);
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        out.errors.push(e);
                        if let Some(s) = st.take() {
                            out.errors.extend(s.errors);
                        }
                        break;
                    }
                }
            }
        }
    }
    out
}

/// For the scanner's errors about a tab used as indentation, the byte offset of that tab when
/// the scanner reported another place: it points at the start of the scalar or block whose
/// continuation line holds the tab (`a: 1\n\tb: 2` is reported at `1`), or just after the tab.
fn misplaced_tab(piece: &str, err: &ParseError, base: usize) -> Option<usize> {
    let about_tab = ["found a tab", "cannot start with a tab", "tabs disallowed"];
    if !about_tab.iter().any(|m| err.message.contains(m)) {
        return None;
    }
    let at = (err.span.start as usize).checked_sub(base)?;
    let bytes = piece.as_bytes();
    match (bytes.get(at), at.checked_sub(1).and_then(|i| bytes.get(i))) {
        (Some(b'\t'), _) => return None,
        (_, Some(b'\t')) => return Some(base + at - 1),
        _ => {}
    }
    // The first later line whose indentation holds a tab and that has content after it.
    let mut line = at + piece.get(at..)?.find('\n')? + 1;
    while line < piece.len() {
        let rest = &piece[line..];
        let content = rest.trim_start_matches([' ', '\t']);
        let indent = &rest[..rest.len() - content.len()];
        if let Some(t) = indent.find('\t')
            && !content.is_empty()
            && !content.starts_with(['\n', '\r', '#'])
        {
            return Some(base + line + t);
        }
        line += rest.find('\n')? + 1;
    }
    None
}

fn scan_error(e: &ScanError, off: &mut Offsets<'_>) -> ParseError {
    let at = off.byte(e.marker().index());
    let info = e.info();
    let kind = if info.contains("recursion limit") {
        ParseErrorKind::Limit
    } else {
        ParseErrorKind::Syntax
    };
    ParseError {
        span: Span::new(at, at),
        message: info.to_string(),
        kind,
    }
}

fn style_of(style: ScalarStyle, tag: Option<&saphyr_parser::Tag>) -> Style {
    if let Some(t) = tag
        && t.handle == "tag:yaml.org,2002:"
    {
        return match t.suffix.as_str() {
            "str" => Style::DoubleQuoted,
            _ => Style::Plain,
        };
    }
    match style {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted => Style::SingleQuoted,
        ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
        ScalarStyle::Literal => Style::Literal,
        ScalarStyle::Folded => Style::Folded,
    }
}

impl<'s> State<'s, '_> {
    /// Handles one node event; returns the id of a node that was completed.
    fn event(
        &mut self,
        ev: Event<'_>,
        start: usize,
        end: usize,
    ) -> Result<Option<NodeId>, ParseError> {
        let done = match ev {
            Event::Scalar(value, style, anchor, tag) => {
                let style = style_of(style, tag.as_deref());
                let span = Span::new(start, end);
                let (q0, q1) = match style {
                    Style::SingleQuoted | Style::DoubleQuoted if end >= start + 2 => {
                        (start + 1, end - 1)
                    }
                    _ => (start, end),
                };
                let id = if self.src.get(q0..q1) == Some(value.as_ref()) {
                    self.b.scalar_from_source(Span::new(q0, q1), style)
                } else {
                    self.b.scalar_owned(span, &value, style)
                };
                self.fix_span(id, span);
                self.expanded.push(1);
                self.last_end = self.last_end.max(end);
                if anchor > 0 {
                    self.anchors.insert(anchor, id);
                }
                Some(id)
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= self.limits.max_depth {
                    return Err(ParseError {
                        span: Span::new(start, start),
                        message: format!(
                            "nesting deeper than {} levels; meshlint stops reading this document",
                            self.limits.max_depth
                        ),
                        kind: ParseErrorKind::Limit,
                    });
                }
                let is_map = matches!(ev, Event::MappingStart(..));
                self.stack.push(Open {
                    mark: self.b.open(),
                    start,
                    is_map,
                    anchor,
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(open) = self.stack.pop() else {
                    return Ok(None);
                };
                let span = Span::new(open.start, self.last_end.max(open.start));
                let id = if open.is_map {
                    self.check_keys(open.mark);
                    self.b.close_map(open.mark, span)
                } else {
                    self.b.close_seq(open.mark, span)
                };
                let total = self.expanded_of_children(id);
                self.expanded.push(total);
                if open.anchor > 0 {
                    self.anchors.insert(open.anchor, id);
                }
                Some(id)
            }
            Event::Alias(anchor) => {
                let Some(&id) = self.anchors.get(&anchor) else {
                    return Err(ParseError {
                        span: Span::new(start, end),
                        message: "alias refers to an unknown anchor".into(),
                        kind: ParseErrorKind::Syntax,
                    });
                };
                let size = self.expanded.get(id as usize).copied().unwrap_or(1);
                self.alias_extra = self.alias_extra.saturating_add(size);
                if self.alias_extra > self.limits.max_alias_expansion {
                    return Err(ParseError {
                        span: Span::new(start, end),
                        message: format!(
                            "aliases expand to more than {} nodes (an alias bomb?); meshlint stops \
                             reading this document",
                            self.limits.max_alias_expansion
                        ),
                        kind: ParseErrorKind::Limit,
                    });
                }
                self.last_end = self.last_end.max(end);
                Some(id)
            }
            _ => None,
        };
        if let Some(id) = done
            && !self.stack.is_empty()
        {
            self.b.child(id);
        }
        Ok(done)
    }

    /// Keeps the reported span of a scalar on its full source text (quotes included).
    fn fix_span(&mut self, id: NodeId, span: Span) {
        if let Some(n) = self.b.doc.nodes.get_mut(id as usize) {
            n.span = span;
        }
    }

    fn expanded_of_children(&self, id: NodeId) -> u64 {
        let d = &self.b.doc;
        let (start, n) = match d.nodes[id as usize].kind {
            Kind::Seq { start, len } => (start as usize, len as usize),
            Kind::Map { start, len } => (start as usize, 2 * len as usize),
            Kind::Scalar { .. } => return 1,
        };
        d.children[start..start + n]
            .iter()
            .map(|&c| self.expanded.get(c as usize).copied().unwrap_or(1))
            .fold(1u64, |a, b| a.saturating_add(b))
    }

    /// Reports duplicate keys and applies `<<` merge keys before a mapping closes.
    fn check_keys(&mut self, mark: usize) {
        let pending = self.b.pending_since(mark);
        let n = pending.len() / 2;
        let mut has_merge = false;
        let mut seen: HashMap<&str, Span> = HashMap::with_capacity(n);
        let mut dups = Vec::new();
        for i in 0..n {
            let k = self.b.view(pending[2 * i]);
            let Some(text) = k.as_str().filter(|_| k.is_scalar()) else {
                continue;
            };
            if text == "<<" && k.style() == Some(Style::Plain) {
                has_merge = true;
                continue;
            }
            if let Some(&first) = seen.get(text) {
                dups.push((k.span(), first, text.to_string()));
            } else {
                seen.insert(text, k.span());
            }
        }
        for (span, first, text) in dups {
            self.errors.push(ParseError {
                span,
                message: format!("mapping key `{}` is repeated", text),
                kind: ParseErrorKind::DuplicateKey { first },
            });
        }
        if has_merge {
            self.apply_merge(mark);
        }
    }

    fn apply_merge(&mut self, mark: usize) {
        let pending = self.b.pending_since(mark).to_vec();
        let mut own: Vec<NodeId> = Vec::new();
        let mut merged: Vec<NodeId> = Vec::new();
        for kv in pending.chunks_exact(2) {
            let k = self.b.view(kv[0]);
            if k.as_str() == Some("<<") && k.style() == Some(Style::Plain) {
                let v = self.b.view(kv[1]);
                let sources: Vec<NodeId> = if v.is_seq() {
                    v.items().map(|n| n.id()).collect()
                } else {
                    vec![kv[1]]
                };
                for s in sources {
                    for (mk, mv) in self.b.view(s).entries() {
                        merged.push(mk.id());
                        merged.push(mv.id());
                    }
                }
            } else {
                own.extend_from_slice(kv);
            }
        }
        let mut out = own.clone();
        // Keys already present: the mapping's own, then the merged ones in order (a hash set:
        // a merge of 100k keys must not compare every pair).
        let mut seen: std::collections::HashSet<&str> = own
            .chunks_exact(2)
            .filter_map(|kv| self.b.view(kv[0]).as_str())
            .collect();
        for kv in merged.chunks_exact(2) {
            if let Some(key) = self.b.view(kv[0]).as_str()
                && !seen.insert(key)
            {
                continue;
            }
            out.extend_from_slice(kv);
        }
        self.b.replace_pending(mark, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> ParseOutput<'_> {
        parse_stream(FileId(0), src, &ParseLimits::default())
    }

    #[test]
    fn spans_are_byte_offsets_even_after_multibyte_text() {
        let src = "é: x\nkind: \"Service\"\nport: 80\n";
        let out = parse(src);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let root = out.docs[0].root().unwrap();
        let kind = root.get("kind").unwrap();
        assert_eq!(kind.as_str(), Some("Service"));
        assert_eq!(&src[kind.span().range()], "\"Service\"");
        let (k, v) = root.entry("port").unwrap();
        assert_eq!(&src[k.span().range()], "port");
        assert_eq!(v.as_int(), Some(80));
    }

    #[test]
    fn a_broken_document_does_not_lose_the_others() {
        let src = "a: 1\n---\nb: [1, 2\n---\nc: 3\n";
        let out = parse(src);
        assert_eq!(out.docs.len(), 2);
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].kind, ParseErrorKind::Syntax);
        assert!(out.docs[1].root().unwrap().get("c").is_some());
    }

    #[test]
    fn duplicate_keys_point_at_the_second_key() {
        let src = "a: 1\nb: 2\na: 3\n";
        let out = parse(src);
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].span, Span::new(10, 11));
        assert_eq!(
            out.errors[0].kind,
            ParseErrorKind::DuplicateKey {
                first: Span::new(0, 1)
            }
        );
    }

    #[test]
    fn alias_bombs_stop_fast() {
        let mut src = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
        let mut prev = "a";
        for n in names {
            src.push_str(&format!("{n}: &{n} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
            prev = n;
        }
        let out = parse(&src);
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].kind, ParseErrorKind::Limit);
        assert!(out.docs.is_empty());
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let src = "[".repeat(100_000);
        let out = parse(&src);
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].kind, ParseErrorKind::Limit);
    }

    #[test]
    fn merge_keys_and_aliases_resolve() {
        let src = "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n";
        let out = parse(src);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let m = out.docs[0].root().unwrap().get("m").unwrap();
        assert_eq!(m.get("x").unwrap().as_int(), Some(1));
        assert_eq!(m.get("y").unwrap().as_int(), Some(3));
    }

    #[test]
    fn directives_and_markers_split_cleanly() {
        let src = "a: 1\n%YAML 1.2\n---\nb: 2\n...\n---\n# only a comment\n---\nc: |\n  x\n";
        let out = parse(src);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(out.docs.len(), 3);
    }

    #[test]
    fn tabs_in_indentation_are_pointed_at() {
        for (src, tab) in [
            ("a: 1\n\tb: 2\n", 5),
            ("a:\n  b: 1\n\tc: 2\n", 10),
            ("- a\n\t- b\n", 4),
            ("a: |\n\tx\n", 5),
            ("a:\n\tb: 2\n", 3),
            ("x: 1\r\n---\r\na: long\r\n\t\r\n\tmore: 1\r\n", 23),
        ] {
            let out = parse(src);
            assert_eq!(out.errors.len(), 1, "{src:?}: {:?}", out.errors);
            assert_eq!(&src[out.errors[0].span.range()], "\t", "{src:?}");
            assert_eq!(out.errors[0].span.start, tab, "{src:?}");
        }
    }

    #[test]
    fn closing_bracket_at_the_key_column_is_accepted_like_go_yaml() {
        let src = "spec:\n  args: [\n    \"--a\",\n    \"--b\"\n  ]\n  x: 1\ntop: [\n  1\n]\n";
        let out = parse(src);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let root = out.docs[0].root().unwrap();
        let args: Vec<&str> = root
            .path(&["spec", "args"])
            .unwrap()
            .items()
            .map(|n| n.as_str().unwrap())
            .collect();
        assert_eq!(args, vec!["--a", "--b"]);
        let b = root
            .path(&["spec", "args"])
            .unwrap()
            .items()
            .nth(1)
            .unwrap();
        assert_eq!(&src[b.span().range()], "\"--b\"");
        assert_eq!(root.path(&["spec", "x"]).unwrap().as_int(), Some(1));
        assert_eq!(root.get("top").unwrap().items().len(), 1);
        // A comment on the line before keeps the error (the bracket cannot move into it).
        let out = parse("args: [\n  \"a\"  # note\n]\n");
        assert_eq!(out.errors.len(), 1);
    }

    #[test]
    fn crlf_and_flow_json_load() {
        let src = "{\"kind\": \"Service\",\r\n \"spec\": {\"ports\": [{\"port\": 80}]}}\r\n";
        let out = parse(src);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let port = out.docs[0]
            .root()
            .unwrap()
            .path(&["spec", "ports"])
            .unwrap()
            .items()
            .next()
            .unwrap()
            .get("port")
            .unwrap();
        assert_eq!(&src[port.span().range()], "80");
    }
}
