//! VirtualService route matches reduced to comparable keys: which match clause repeats or is
//! covered by an earlier one, and which route can never be reached (istio
//! `analyzeUnreachableHTTPRules` / `…TCPRules` / `…TLSRules`, with prefix covering that also
//! looks across different `uri` prefixes). Used by IRT012, IRT013 and IRT017.
//!
//! Linear in the size of the VirtualService: clauses are grouped by everything but their `uri`,
//! and `uri` prefixes live in a trie, so covering needs no pairwise comparison.

use std::collections::HashMap;

use super::RouteKind;
use crate::model::istio::VirtualService;
use crate::yaml::Node;

/// Canonical keys longer than this are not compared (the clause counts as unique).
const MAX_KEY: usize = 64 * 1024;

/// The `uri` condition of an HTTP match clause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Uri {
    /// No condition (absent, or `prefix: /`, which every path has).
    Any,
    Prefix(String),
    Exact(String),
    /// A regex, or a shape the analysis does not interpret: only equal text covers it.
    Other(String),
}

/// A match clause reduced to a comparable form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClauseKey {
    /// Every condition but `uri` (and `name`), canonical.
    pub rest: String,
    pub uri: Uri,
}

impl ClauseKey {
    /// The clause matches every request: no condition at all.
    pub fn is_catch_all(&self) -> bool {
        self.rest.is_empty() && self.uri == Uri::Any
    }
    /// One string for exact-duplicate lookups.
    pub fn full(&self) -> String {
        let uri = match &self.uri {
            Uri::Any => String::new(),
            Uri::Prefix(p) => format!("prefix:{p:?}"),
            Uri::Exact(e) => format!("exact:{e:?}"),
            Uri::Other(o) => format!("other:{o}"),
        };
        format!("{}|{uri}", self.rest)
    }
}

/// One match clause of a route.
#[derive(Clone, Debug)]
pub struct Clause<'d, 's> {
    pub node: Node<'d, 's>,
    /// Position in the route's `match` list.
    pub index: usize,
    /// `None` when the clause is too large or not a mapping: never compared.
    pub key: Option<ClauseKey>,
}

/// One `http`, `tls` or `tcp` route of a VirtualService.
#[derive(Clone, Debug)]
pub struct Route<'d, 's> {
    pub kind: RouteKind,
    /// Position in `spec.<kind>`.
    pub index: usize,
    pub node: Node<'d, 's>,
    /// The route's clauses; empty when it has no `match` (it takes every request).
    pub clauses: Vec<Clause<'d, 's>>,
}

impl<'d, 's> Route<'d, 's> {
    /// `http[2] "name"` for messages.
    pub fn label(&self) -> String {
        let kind = match self.kind {
            RouteKind::Http => "http",
            RouteKind::Tls => "tls",
            RouteKind::Tcp => "tcp",
        };
        match self.node.str_at("name") {
            Some(n) => format!("{kind}[{}] `{n}`", self.index),
            None => format!("{kind}[{}]", self.index),
        }
    }

    /// True when the route has no `match`: it takes every request that reaches it.
    pub fn matches_everything(&self) -> bool {
        self.clauses.is_empty()
    }

    /// The node findings about the whole route point at: its `match` key, else its `name`,
    /// else the key of what it does (`route`, `redirect`, …), else the route itself.
    pub fn anchor(&self) -> Node<'d, 's> {
        if let Some(k) = self.node.key("match") {
            return k;
        }
        if let Some(n) = self.node.get("name") {
            return n;
        }
        for k in ["route", "redirect", "directResponse", "delegate"] {
            if let Some(k) = self.node.key(k) {
                return k;
            }
        }
        self.node
    }
}

/// Where an earlier clause or route sits: `(route, clause)` positions into
/// [`MatchAnalysis::routes`] and that route's `clauses`.
pub type Pos = (usize, usize);

/// Why a route can never be reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shadow {
    /// An earlier route (index into [`MatchAnalysis::routes`]) has no `match`.
    MatchlessRoute(usize),
    /// An earlier clause matches every request.
    CatchAllClause(Pos),
    /// Each clause of the route is covered by an earlier route's clause (in clause order).
    Clauses(Vec<Pos>),
}

/// A clause that repeats, or is covered by, an earlier clause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ineffective {
    pub at: Pos,
    pub by: Pos,
    /// Same conditions (else: the earlier clause's conditions are wider).
    pub duplicate: bool,
}

/// The routes of one kind of one VirtualService and what shadows what.
#[derive(Debug, Default)]
pub struct MatchAnalysis<'d, 's> {
    pub routes: Vec<Route<'d, 's>>,
    /// `(route, why)` for routes that can never be reached.
    pub unreachable: Vec<(usize, Shadow)>,
    /// Ineffective clauses of routes that are otherwise reachable.
    pub ineffective: Vec<Ineffective>,
}

/// The routes of `spec.<kind>` of a VirtualService.
pub fn routes<'d, 's>(vs: &VirtualService<'d, 's>, kind: RouteKind) -> Vec<Route<'d, 's>> {
    let key = match kind {
        RouteKind::Http => "http",
        RouteKind::Tls => "tls",
        RouteKind::Tcp => "tcp",
    };
    let Some(list) = vs.obj.spec().and_then(|s| s.get(key)) else {
        return Vec::new();
    };
    list.items()
        .enumerate()
        .filter(|(_, r)| r.is_map())
        .map(|(index, node)| Route {
            kind,
            index,
            node,
            clauses: node
                .get("match")
                .into_iter()
                .flat_map(|m| m.items())
                .enumerate()
                .map(|(index, n)| Clause {
                    node: n,
                    index,
                    key: clause_key(n, kind),
                })
                .collect(),
        })
        .collect()
}

/// Reduces one match clause to its key.
pub fn clause_key(node: Node<'_, '_>, kind: RouteKind) -> Option<ClauseKey> {
    if !node.is_map() {
        return None;
    }
    let mut entries: Vec<(&str, Node<'_, '_>)> = node
        .entries()
        .filter(|(_, v)| !v.is_null())
        .filter_map(|(k, v)| Some((k.as_str()?, v)))
        .filter(|(k, v)| match *k {
            "name" => false,
            // `false` is the default.
            "ignoreUriCase" => v.as_bool() != Some(false),
            "uri" => kind != RouteKind::Http,
            _ => true,
        })
        .collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let mut rest = String::new();
    for (k, v) in entries {
        rest.push_str(&format!("{k:?}:"));
        canon(v, &mut rest, 0)?;
        rest.push(',');
        if rest.len() > MAX_KEY {
            return None;
        }
    }
    let uri = if kind == RouteKind::Http {
        match node.get("uri") {
            None => Uri::Any,
            Some(u) => uri_of(u)?,
        }
    } else {
        Uri::Any
    };
    Some(ClauseKey { rest, uri })
}

fn uri_of(u: Node<'_, '_>) -> Option<Uri> {
    let set: Vec<(&str, Node<'_, '_>)> = u
        .entries()
        .filter(|(_, v)| !v.is_null())
        .filter_map(|(k, v)| Some((k.as_str()?, v)))
        .collect();
    if let [(which, v)] = set.as_slice()
        && let Some(text) = v.as_str()
        && text.len() <= MAX_KEY
    {
        match *which {
            "prefix" if text == "/" => return Some(Uri::Any),
            "prefix" => return Some(Uri::Prefix(text.to_string())),
            "exact" => return Some(Uri::Exact(text.to_string())),
            _ => {}
        }
    }
    let mut s = String::new();
    canon(u, &mut s, 0)?;
    Some(Uri::Other(s))
}

/// Appends a canonical form of `n` (mapping keys sorted, lists of scalars sorted); `None`
/// when it grows past [`MAX_KEY`].
fn canon(n: Node<'_, '_>, out: &mut String, depth: usize) -> Option<()> {
    if out.len() > MAX_KEY || depth > 64 {
        return None;
    }
    if n.is_map() {
        let mut entries: Vec<(&str, Node<'_, '_>)> = n
            .entries()
            .filter(|(_, v)| !v.is_null())
            .filter_map(|(k, v)| Some((k.as_str()?, v)))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        out.push('{');
        for (k, v) in entries {
            out.push_str(&format!("{k:?}:"));
            canon(v, out, depth + 1)?;
            out.push(',');
        }
        out.push('}');
    } else if n.is_seq() {
        out.push('[');
        if n.items().all(|i| i.is_scalar()) {
            let mut items: Vec<&str> = n.items().filter_map(|i| i.as_str()).collect();
            items.sort_unstable();
            items.dedup();
            for i in items {
                out.push_str(&format!("{i:?},"));
            }
        } else {
            for i in n.items() {
                canon(i, out, depth + 1)?;
                out.push(',');
            }
        }
        out.push(']');
    } else {
        out.push_str(&format!("{:?}", n.as_str().unwrap_or("")));
    }
    (out.len() <= MAX_KEY).then_some(())
}

/// A byte trie of `uri` prefixes, each node holding the earliest clause ending there.
#[derive(Default)]
struct Trie {
    nodes: Vec<TrieNode>,
}

#[derive(Default)]
struct TrieNode {
    children: Vec<(u8, u32)>,
    pos: Option<Pos>,
}

impl Trie {
    fn insert(&mut self, s: &str, pos: Pos) {
        if self.nodes.is_empty() {
            self.nodes.push(TrieNode::default());
        }
        let mut cur = 0usize;
        for &b in s.as_bytes() {
            let next = self.nodes[cur]
                .children
                .iter()
                .find(|(c, _)| *c == b)
                .map(|(_, n)| *n as usize);
            cur = match next {
                Some(n) => n,
                None => {
                    self.nodes.push(TrieNode::default());
                    let n = self.nodes.len() - 1;
                    self.nodes[cur].children.push((b, n as u32));
                    n
                }
            };
        }
        let p = &mut self.nodes[cur].pos;
        if p.is_none() {
            *p = Some(pos);
        }
    }

    /// The earliest clause whose prefix is a prefix of `s` (or `s` itself).
    fn earliest_prefix_of(&self, s: &str) -> Option<Pos> {
        let root = self.nodes.first()?;
        let mut best = root.pos;
        let mut cur = 0usize;
        for &b in s.as_bytes() {
            match self.nodes[cur].children.iter().find(|(c, _)| *c == b) {
                Some((_, n)) => cur = *n as usize,
                None => break,
            }
            best = min_pos(best, self.nodes[cur].pos);
        }
        best
    }
}

fn min_pos(a: Option<Pos>, b: Option<Pos>) -> Option<Pos> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Clauses with equal non-`uri` conditions.
#[derive(Default)]
struct Group {
    any_uri: Option<Pos>,
    prefixes: Trie,
    exacts: HashMap<String, Pos>,
    others: HashMap<String, Pos>,
}

impl Group {
    fn covering(&self, uri: &Uri) -> Option<Pos> {
        let mut best = self.any_uri;
        match uri {
            Uri::Any => {}
            Uri::Prefix(p) => best = min_pos(best, self.prefixes.earliest_prefix_of(p)),
            Uri::Exact(e) => {
                best = min_pos(best, self.prefixes.earliest_prefix_of(e));
                best = min_pos(best, self.exacts.get(e).copied());
            }
            Uri::Other(o) => best = min_pos(best, self.others.get(o).copied()),
        }
        best
    }

    fn insert(&mut self, uri: &Uri, pos: Pos) {
        match uri {
            Uri::Any => {
                self.any_uri.get_or_insert(pos);
            }
            Uri::Prefix(p) => self.prefixes.insert(p, pos),
            Uri::Exact(e) => {
                self.exacts.entry(e.clone()).or_insert(pos);
            }
            Uri::Other(o) => {
                self.others.entry(o.clone()).or_insert(pos);
            }
        }
    }
}

/// Finds unreachable routes and ineffective clauses among `routes` (one kind, in order).
pub fn analyze<'d, 's>(routes: Vec<Route<'d, 's>>) -> MatchAnalysis<'d, 's> {
    let mut out = MatchAnalysis {
        routes,
        ..MatchAnalysis::default()
    };
    let mut groups: HashMap<&str, Group> = HashMap::new();
    let mut full: HashMap<String, Pos> = HashMap::new();
    let mut matchless: Option<usize> = None;
    let mut catch_all: Option<Pos> = None;
    let routes = &out.routes;
    let mut unreachable = Vec::new();
    let mut ineffective = Vec::new();
    for (ri, route) in routes.iter().enumerate() {
        if let Some(prev) = matchless {
            unreachable.push((ri, Shadow::MatchlessRoute(prev)));
            continue;
        }
        if let Some(c) = catch_all {
            unreachable.push((ri, Shadow::CatchAllClause(c)));
            continue;
        }
        if route.matches_everything() {
            matchless = Some(ri);
            continue;
        }
        let mut by_earlier: Vec<Pos> = Vec::new();
        let mut mine = Vec::new();
        for (ci, clause) in route.clauses.iter().enumerate() {
            let Some(key) = &clause.key else { continue };
            let full_key = key.full();
            let dup = full.get(&full_key).copied();
            let covered = min_pos(
                min_pos(dup, catch_all),
                groups
                    .get(key.rest.as_str())
                    .and_then(|g| g.covering(&key.uri)),
            );
            if let Some(by) = covered {
                mine.push(Ineffective {
                    at: (ri, ci),
                    by,
                    duplicate: dup == Some(by),
                });
                if by.0 < ri {
                    by_earlier.push(by);
                }
            }
            full.entry(full_key).or_insert((ri, ci));
            groups
                .entry(key.rest.as_str())
                .or_default()
                .insert(&key.uri, (ri, ci));
            if key.is_catch_all() {
                catch_all.get_or_insert((ri, ci));
            }
        }
        if by_earlier.len() == route.clauses.len() {
            unreachable.push((ri, Shadow::Clauses(by_earlier)));
        } else {
            ineffective.extend(mine);
        }
    }
    out.unreachable = unreachable;
    out.ineffective = ineffective;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Object;
    use crate::source::FileId;
    use crate::yaml::{ParseLimits, parse_stream};

    fn analyze_http(src: &str) -> (Vec<(usize, Shadow)>, Vec<Ineffective>) {
        let parsed = parse_stream(FileId(0), src, &ParseLimits::default());
        let doc = &parsed.docs[0];
        let obj = Object::from_root(doc.root().unwrap(), "default").unwrap();
        let vs = VirtualService::from_object(obj).unwrap();
        let a = analyze(routes(&vs, RouteKind::Http));
        (a.unreachable, a.ineffective)
    }

    const HEAD: &str = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: a}\nspec:\n  hosts: [a]\n  http:\n";

    #[test]
    fn matchless_route_shadows_everything_after_it() {
        let src = format!(
            "{HEAD}  - route: [{{destination: {{host: a}}}}]\n  - match: [{{uri: {{prefix: /x}}}}]\n    route: [{{destination: {{host: b}}}}]\n  - route: [{{destination: {{host: c}}}}]\n"
        );
        let (u, i) = analyze_http(&src);
        assert_eq!(
            u,
            vec![
                (1, Shadow::MatchlessRoute(0)),
                (2, Shadow::MatchlessRoute(0))
            ]
        );
        assert!(i.is_empty());
    }

    #[test]
    fn prefix_covers_longer_prefix_and_exact_with_same_other_conditions() {
        let src = format!(
            "{HEAD}  - match: [{{uri: {{prefix: /api}}, headers: {{x: {{exact: '1'}}}}}}]\n    route: [{{destination: {{host: a}}}}]\n  - match:\n    - {{uri: {{prefix: /api/v1}}, headers: {{x: {{exact: '1'}}}}}}\n    - {{uri: {{exact: /apis}}, headers: {{x: {{exact: '1'}}}}}}\n    route: [{{destination: {{host: b}}}}]\n  - match:\n    - {{uri: {{prefix: /api/v2}}}}\n    route: [{{destination: {{host: c}}}}]\n"
        );
        let (u, i) = analyze_http(&src);
        assert_eq!(u, vec![(1, Shadow::Clauses(vec![(0, 0), (0, 0)]))]);
        // Route 2 lacks the header condition: not covered.
        assert!(i.is_empty());
    }

    #[test]
    fn duplicate_clause_in_a_reachable_route_is_ineffective() {
        let src = format!(
            "{HEAD}  - match: [{{uri: {{exact: /a}}, name: first}}]\n    route: [{{destination: {{host: a}}}}]\n  - match:\n    - {{uri: {{exact: /a}}, name: again}}\n    - {{uri: {{exact: /b}}}}\n    - {{uri: {{exact: /b}}}}\n    route: [{{destination: {{host: b}}}}]\n"
        );
        let (u, i) = analyze_http(&src);
        assert!(u.is_empty());
        assert_eq!(
            i,
            vec![
                Ineffective {
                    at: (1, 0),
                    by: (0, 0),
                    duplicate: true
                },
                Ineffective {
                    at: (1, 2),
                    by: (1, 1),
                    duplicate: true
                },
            ]
        );
    }

    #[test]
    fn root_prefix_is_a_catch_all() {
        let src = format!(
            "{HEAD}  - match: [{{uri: {{prefix: /}}}}]\n    route: [{{destination: {{host: a}}}}]\n  - match: [{{headers: {{x: {{exact: '1'}}}}}}]\n    route: [{{destination: {{host: b}}}}]\n"
        );
        let (u, _) = analyze_http(&src);
        assert_eq!(u, vec![(1, Shadow::CatchAllClause((0, 0)))]);
    }

    #[test]
    fn long_prefixes_stay_linear() {
        let long = "/p".repeat(200_000);
        let src = format!(
            "{HEAD}  - match: [{{uri: {{prefix: '{long}'}}}}]\n    route: [{{destination: {{host: a}}}}]\n  - match: [{{uri: {{prefix: '{long}x'}}}}]\n    route: [{{destination: {{host: b}}}}]\n"
        );
        let (u, _) = analyze_http(&src);
        // Longer than MAX_KEY: not compared.
        assert!(u.is_empty());
    }
}
