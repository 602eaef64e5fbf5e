//! The YAML tree meshlint owns: one arena per document, byte spans on every node, scalar text
//! borrowed from the source where it is written literally.
//!
//! A [`Document`] is immutable once built. Nodes are addressed by [`NodeId`]; collections store
//! their children as a contiguous range of a shared `children` vector (a mapping stores key,
//! value, key, value, ...). Aliases share the anchored node instead of copying it, so an alias
//! bomb costs no memory; the parser bounds the *expanded* size separately.

mod parse;

pub use parse::{
    ParseError, ParseErrorKind, ParseLimits, ParseOutput, parse_document, parse_stream,
    split_documents,
};

use crate::source::{FileId, Span};

pub type NodeId = u32;

/// How a scalar was written. Kubernetes decodes YAML like go-yaml: only plain scalars can be
/// numbers, booleans or null.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// Where a scalar's text lives.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Text {
    /// `src[start..end]` of the document's source.
    Source { start: u32, end: u32 },
    /// `owned[start..end]` of the document's own string buffer.
    Owned { start: u32, end: u32 },
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    Scalar { text: Text, style: Style },
    Seq { start: u32, len: u32 },
    Map { start: u32, len: u32 },
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct NodeData {
    pub(crate) span: Span,
    pub(crate) kind: Kind,
}

/// One YAML document (or one synthesised object), with its source text.
#[derive(Debug)]
pub struct Document<'s> {
    pub file: FileId,
    pub(crate) src: &'s str,
    pub(crate) nodes: Vec<NodeData>,
    pub(crate) children: Vec<NodeId>,
    pub(crate) owned: String,
    pub(crate) root: Option<NodeId>,
    /// Span of the whole document text (for findings about the document itself).
    pub span: Span,
    /// For synthesised objects: where they come from, e.g. "synthesised from IstioOperator
    /// istio-system/control-plane". Their spans point at the fields that produced them.
    pub origin: Option<String>,
}

impl<'s> Document<'s> {
    /// The text of the file (or stream) this document was parsed from.
    pub fn source(&self) -> &'s str {
        self.src
    }

    pub fn root(&self) -> Option<Node<'_, 's>> {
        self.root.map(|id| Node { doc: self, id })
    }
    pub fn node(&self, id: NodeId) -> Node<'_, 's> {
        Node { doc: self, id }
    }
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
}

/// A borrowed view of one node.
#[derive(Clone, Copy)]
pub struct Node<'d, 's> {
    doc: &'d Document<'s>,
    id: NodeId,
}

impl std::fmt::Debug for Node<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.data().kind {
            Kind::Scalar { .. } => write!(f, "Scalar({:?})", self.as_str().unwrap_or("")),
            Kind::Seq { len, .. } => write!(f, "Seq[{len}]"),
            Kind::Map { len, .. } => write!(f, "Map{{{len}}}"),
        }
    }
}

impl<'d, 's> Node<'d, 's> {
    fn data(&self) -> &'d NodeData {
        &self.doc.nodes[self.id as usize]
    }
    pub fn id(&self) -> NodeId {
        self.id
    }
    pub fn doc(&self) -> &'d Document<'s> {
        self.doc
    }
    pub fn file(&self) -> FileId {
        self.doc.file
    }
    pub fn span(&self) -> Span {
        self.data().span
    }
    pub fn is_map(&self) -> bool {
        matches!(self.data().kind, Kind::Map { .. })
    }
    pub fn is_seq(&self) -> bool {
        matches!(self.data().kind, Kind::Seq { .. })
    }
    pub fn is_scalar(&self) -> bool {
        matches!(self.data().kind, Kind::Scalar { .. })
    }
    pub fn style(&self) -> Option<Style> {
        match self.data().kind {
            Kind::Scalar { style, .. } => Some(style),
            _ => None,
        }
    }
    /// True for an absent-equivalent value: plain `null`, `~` or empty.
    pub fn is_null(&self) -> bool {
        match self.data().kind {
            Kind::Scalar {
                style: Style::Plain,
                ..
            } => matches!(self.as_str(), Some("" | "~" | "null" | "Null" | "NULL")),
            _ => false,
        }
    }

    /// The text of a scalar, whatever its style. `None` for collections.
    pub fn as_str(&self) -> Option<&'d str> {
        match self.data().kind {
            Kind::Scalar { text, .. } => Some(match text {
                Text::Source { start, end } => {
                    self.doc.src.get(start as usize..end as usize).unwrap_or("")
                }
                Text::Owned { start, end } => self
                    .doc
                    .owned
                    .get(start as usize..end as usize)
                    .unwrap_or(""),
            }),
            _ => None,
        }
    }

    /// A string value as Kubernetes reads it: any non-null scalar (numbers and booleans
    /// included, since annotations and labels are often written unquoted).
    pub fn as_text(&self) -> Option<&'d str> {
        if self.is_null() { None } else { self.as_str() }
    }

    /// An integer, only from a plain scalar (a quoted `"80"` is a string to Kubernetes).
    pub fn as_int(&self) -> Option<i64> {
        if self.style() != Some(Style::Plain) {
            return None;
        }
        parse_int(self.as_str()?)
    }

    /// A boolean, only from a plain scalar, resolved as kubectl's YAML decoder (go-yaml v2,
    /// YAML 1.1) resolves it: see [`parse_bool`].
    pub fn as_bool(&self) -> Option<bool> {
        if self.style() != Some(Style::Plain) {
            return None;
        }
        parse_bool(self.as_str()?)
    }

    /// Sequence items (empty for anything else).
    pub fn items(self) -> impl ExactSizeIterator<Item = Node<'d, 's>> + 'd {
        let (start, len) = match self.data().kind {
            Kind::Seq { start, len } => (start as usize, len as usize),
            _ => (0, 0),
        };
        let doc = self.doc;
        doc.children[start..start + len]
            .iter()
            .map(move |&id| Node { doc, id })
    }

    /// Mapping entries as (key, value) in document order (empty for anything else).
    pub fn entries(self) -> impl ExactSizeIterator<Item = (Node<'d, 's>, Node<'d, 's>)> + 'd {
        let (start, len) = match self.data().kind {
            Kind::Map { start, len } => (start as usize, len as usize),
            _ => (0, 0),
        };
        let doc = self.doc;
        doc.children[start..start + 2 * len]
            .chunks_exact(2)
            .map(move |kv| (Node { doc, id: kv[0] }, Node { doc, id: kv[1] }))
    }

    /// The (key, value) entry for `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<(Node<'d, 's>, Node<'d, 's>)> {
        self.entries().find(|(k, _)| k.as_str() == Some(key))
    }

    /// The value for `key` in a mapping. A null value counts as absent.
    pub fn get(&self, key: &str) -> Option<Node<'d, 's>> {
        self.entry(key).map(|(_, v)| v).filter(|v| !v.is_null())
    }

    /// The key node for `key` in a mapping (for findings that point at the key).
    pub fn key(&self, key: &str) -> Option<Node<'d, 's>> {
        self.entry(key).map(|(k, _)| k)
    }

    /// Follows a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<Node<'d, 's>> {
        let mut n = *self;
        for k in keys {
            n = n.get(k)?;
        }
        Some(n)
    }

    /// `self.get(key)?.as_text()`.
    pub fn str_at(&self, key: &str) -> Option<&'d str> {
        self.get(key)?.as_text()
    }
}

/// Parses a Go-style integer literal as Kubernetes' YAML decoder would accept for an int field.
pub fn parse_int(s: &str) -> Option<i64> {
    // go-yaml v2 (`resolve.go`): underscores removed, then Go's `strconv.ParseInt(s, 0, 64)`:
    // an optional sign, then `0x`/`0X` hex, `0o`/`0O` or a leading `0` octal, `0b`/`0B`
    // binary, else decimal. So `0673` is 443, `0x1BB` is 443, `4_43` is 443.
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    let (negative, t) = match plain.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, plain.strip_prefix('+').unwrap_or(&plain)),
    };
    if t.is_empty() || t.starts_with(['+', '-']) {
        return None;
    }
    let (digits, radix) = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        (h, 16)
    } else if let Some(o) = t.strip_prefix("0o").or_else(|| t.strip_prefix("0O")) {
        (o, 8)
    } else if let Some(b) = t.strip_prefix("0b").or_else(|| t.strip_prefix("0B")) {
        (b, 2)
    } else if t.len() > 1 && t.starts_with('0') {
        (&t[1..], 8)
    } else {
        (t, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i64::from_str_radix(digits, radix).ok()?;
    Some(if negative { -v } else { v })
}

/// A YAML 1.1 boolean as go-yaml v2 (kubectl's decoder) resolves plain scalars:
/// `y Y yes Yes YES true True TRUE on On ON` and `n N no No NO false False FALSE off Off OFF`.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

/// Builds documents programmatically (used by the parser and for synthesised objects).
#[derive(Debug)]
pub struct Builder<'s> {
    doc: Document<'s>,
    /// Child ids of the collections being built, innermost last.
    pending: Vec<NodeId>,
}

impl<'s> Builder<'s> {
    pub fn new(file: FileId, src: &'s str) -> Builder<'s> {
        Builder {
            doc: Document {
                file,
                src,
                nodes: Vec::new(),
                children: Vec::new(),
                owned: String::new(),
                root: None,
                span: Span::default(),
                origin: None,
            },
            pending: Vec::new(),
        }
    }

    /// Reserves room for about `nodes` nodes.
    pub fn reserve(&mut self, nodes: usize) {
        self.doc.nodes.reserve(nodes);
        self.doc.children.reserve(nodes);
    }

    fn push(&mut self, span: Span, kind: Kind) -> NodeId {
        self.doc.nodes.push(NodeData { span, kind });
        (self.doc.nodes.len() - 1) as NodeId
    }

    /// A scalar whose text is exactly `src[span]`.
    pub fn scalar_from_source(&mut self, span: Span, style: Style) -> NodeId {
        self.push(
            span,
            Kind::Scalar {
                text: Text::Source {
                    start: span.start,
                    end: span.end,
                },
                style,
            },
        )
    }

    /// A scalar whose text differs from the source (escapes, folding) or is synthesised.
    pub fn scalar_owned(&mut self, span: Span, text: &str, style: Style) -> NodeId {
        let start = self.doc.owned.len() as u32;
        self.doc.owned.push_str(text);
        let end = self.doc.owned.len() as u32;
        self.push(
            span,
            Kind::Scalar {
                text: Text::Owned { start, end },
                style,
            },
        )
    }

    /// Marks the start of a collection's children on the pending stack; returns the mark.
    pub fn open(&self) -> usize {
        self.pending.len()
    }

    /// Adds a finished node as a child of the innermost open collection.
    pub fn child(&mut self, id: NodeId) {
        self.pending.push(id);
    }

    /// Closes a sequence opened at `mark`.
    pub fn close_seq(&mut self, mark: usize, span: Span) -> NodeId {
        let start = self.doc.children.len() as u32;
        let len = (self.pending.len() - mark) as u32;
        self.doc.children.extend(self.pending.drain(mark..));
        self.push(span, Kind::Seq { start, len })
    }

    /// Closes a mapping opened at `mark` (pending children alternate key, value).
    pub fn close_map(&mut self, mark: usize, span: Span) -> NodeId {
        let start = self.doc.children.len() as u32;
        let n = self.pending.len() - mark;
        // An odd count (a key without value) cannot come from the parser; drop the stray key.
        if n % 2 == 1 {
            self.pending.pop();
        }
        let len = ((self.pending.len() - mark) / 2) as u32;
        self.doc.children.extend(self.pending.drain(mark..));
        self.push(span, Kind::Map { start, len })
    }

    /// Pending children of the innermost open collection (for duplicate-key checks).
    pub fn pending_since(&self, mark: usize) -> &[NodeId] {
        &self.pending[mark..]
    }

    /// Replaces the pending children since `mark` (used to apply merge keys).
    pub fn replace_pending(&mut self, mark: usize, ids: Vec<NodeId>) {
        self.pending.truncate(mark);
        self.pending.extend(ids);
    }

    pub fn view(&self, id: NodeId) -> Node<'_, 's> {
        Node { doc: &self.doc, id }
    }

    /// Marks the document as synthesised (see [`Document::origin`]).
    pub fn set_origin(&mut self, origin: String) {
        self.doc.origin = Some(origin);
    }

    pub fn finish(mut self, root: Option<NodeId>, span: Span) -> Document<'s> {
        self.doc.nodes.shrink_to_fit();
        self.doc.children.shrink_to_fit();
        self.doc.root = root;
        self.doc.span = span;
        self.doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_makes_a_navigable_tree() {
        let src = "a: 80\nb: [x]\n";
        let mut b = Builder::new(FileId(0), src);
        let m = b.open();
        let k = b.scalar_from_source(Span::new(0, 1), Style::Plain);
        b.child(k);
        let v = b.scalar_from_source(Span::new(3, 5), Style::Plain);
        b.child(v);
        let k2 = b.scalar_from_source(Span::new(6, 7), Style::Plain);
        b.child(k2);
        let s = b.open();
        let x = b.scalar_owned(Span::new(10, 11), "x", Style::Plain);
        b.child(x);
        let seq = b.close_seq(s, Span::new(9, 12));
        b.child(seq);
        let root = b.close_map(m, Span::new(0, 13));
        let doc = b.finish(Some(root), Span::new(0, 13));
        let r = doc.root().unwrap();
        assert_eq!(r.get("a").unwrap().as_int(), Some(80));
        assert_eq!(
            r.get("b").unwrap().items().next().unwrap().as_str(),
            Some("x")
        );
        assert!(r.get("c").is_none());
        assert_eq!(r.key("b").unwrap().span(), Span::new(6, 7));
    }
}

#[cfg(test)]
mod size_tests {
    #[test]
    fn nodes_stay_small() {
        // The tree's memory is mostly nodes: keep them compact.
        assert!(std::mem::size_of::<super::NodeData>() <= 24);
    }
}

#[cfg(test)]
mod resolution_tests {
    use super::{parse_bool, parse_int};

    #[test]
    fn integers_resolve_as_go_yaml_v2_does() {
        for (s, v) in [
            ("443", 443),
            ("+443", 443),
            ("-443", -443),
            ("0673", 443),
            ("0o673", 443),
            ("0x1BB", 443),
            ("0X1bb", 443),
            ("0b110111011", 443),
            ("4_43", 443),
            ("0", 0),
        ] {
            assert_eq!(parse_int(s), Some(v), "{s}");
        }
        for s in [
            "", "-", "0x", "089", "4.43e2", "443.0", "--1", "+-1", "1e3", "0x1G",
        ] {
            assert_eq!(parse_int(s), None, "{s}");
        }
    }

    #[test]
    fn booleans_resolve_as_yaml_1_1() {
        for s in [
            "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
        ] {
            assert_eq!(parse_bool(s), Some(true), "{s}");
        }
        for s in [
            "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
        ] {
            assert_eq!(parse_bool(s), Some(false), "{s}");
        }
        for s in ["yES", "enabled", "1", "0", ""] {
            assert_eq!(parse_bool(s), None, "{s}");
        }
    }
}
