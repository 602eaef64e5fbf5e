//! IRT017 vs-duplicate-gateway-host.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::finding::Severity;
use crate::index::hosts::exported_to;
use crate::index::route_matches::{self, Route};
use crate::index::{Index, RouteKind, fqdn, gateway_ref};
use crate::rules::{Emitter, Rule};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "IRT017",
    id: "vs-duplicate-gateway-host",
    family: "istio-routing",
    severity: Severity::Warning,
    summary: "Two VirtualServices on one Gateway claim the same host with the same route",
    docs: include_str!("irt017.md"),
    check,
    mitigations: &[],
};

/// What a route claims on a virtual host: every request of its kind, or one match clause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Claim {
    /// Route kind (see [`kind_id`]).
    All(u8),
    /// Route kind and an interned canonical match key.
    Match(u8, u32),
}

fn kind_id(k: RouteKind) -> u8 {
    match k {
        RouteKind::Http => 0,
        RouteKind::Tls => 1,
        RouteKind::Tcp => 2,
    }
}

/// One claim of a VirtualService: the route or clause that makes it.
#[derive(Clone, Copy)]
struct Made<'d, 's> {
    claim: Claim,
    node: Node<'d, 's>,
    route: usize,
    kind: RouteKind,
    /// Clause index, `None` for a route without `match`.
    clause: Option<usize>,
}

fn kind_name(k: RouteKind) -> &'static str {
    match k {
        RouteKind::Http => "http",
        RouteKind::Tls => "tls",
        RouteKind::Tcp => "tcp",
    }
}

/// The claims of a VirtualService, each once.
fn claims<'d, 's>(
    vs: &crate::model::istio::VirtualService<'d, 's>,
    intern: &mut HashMap<String, u32>,
) -> Vec<Made<'d, 's>> {
    let mut out: Vec<Made<'d, 's>> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for kind in [RouteKind::Http, RouteKind::Tls, RouteKind::Tcp] {
        let routes: Vec<Route<'d, 's>> = route_matches::routes(vs, kind);
        for r in &routes {
            if r.matches_everything() {
                if seen.insert(Claim::All(kind_id(kind))) {
                    out.push(Made {
                        claim: Claim::All(kind_id(kind)),
                        node: r.anchor(),
                        route: r.index,
                        kind,
                        clause: None,
                    });
                }
                continue;
            }
            for c in &r.clauses {
                let Some(key) = &c.key else { continue };
                let claim = if key.is_catch_all() {
                    Claim::All(kind_id(kind))
                } else {
                    let next = intern.len() as u32;
                    Claim::Match(kind_id(kind), *intern.entry(key.full()).or_insert(next))
                };
                if seen.insert(claim) {
                    out.push(Made {
                        claim,
                        node: c.node,
                        route: r.index,
                        kind,
                        clause: Some(c.index),
                    });
                }
            }
        }
    }
    out
}

fn describe(m: &Made<'_, '_>) -> String {
    let k = kind_name(m.kind);
    match (m.claim, m.clause) {
        (Claim::All(_), None) => format!("a {k} route without match ({k}[{}])", m.route),
        (Claim::All(_), Some(c)) => {
            format!(
                "a {k} match that takes every request (match #{c} of {k}[{}])",
                m.route
            )
        }
        (Claim::Match(..), Some(c)) => {
            format!("the same {k} match (match #{c} of {k}[{}])", m.route)
        }
        (Claim::Match(..), None) => format!("the same {k} route ({k}[{}])", m.route),
    }
}

/// A conflict to report: the later VirtualService against the first one, on one Gateway and host.
struct Conflict<'d, 's> {
    gw: (&'d str, &'d str),
    host: String,
    first: (usize, Node<'d, 's>, Made<'d, 's>),
    later: (usize, Node<'d, 's>, Made<'d, 's>),
    count: usize,
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    let mut intern: HashMap<String, u32> = HashMap::new();
    type Key<'a> = ((&'a str, &'a str), String, Claim);
    /// Later VirtualService, first VirtualService, Gateway, host.
    type Pair<'a> = (usize, usize, (&'a str, &'a str), String);
    let mut first: HashMap<Key<'_>, (usize, Node<'_, '_>, Made<'_, '_>)> = HashMap::new();
    let mut conflict_of: HashMap<Pair<'_>, usize> = HashMap::new();
    let mut conflicts: Vec<Conflict<'_, '_>> = Vec::new();
    for (v, vs) in ix.virtual_services.iter().enumerate() {
        let ns = vs.obj.namespace;
        let export_to: Vec<&str> = vs.export_to.iter().map(|(e, _)| *e).collect();
        let mut gws: Vec<(&str, &str)> = Vec::new();
        for (text, _) in &vs.gateways {
            if let Some(g) = gateway_ref(ns, text)
                && !g.0.is_empty()
                && !g.1.is_empty()
                && !gws.contains(&g)
                // A VirtualService the gateway cannot see is not merged (IRT003).
                && exported_to(&export_to, ns, g.0)
            {
                gws.push(g);
            }
        }
        if gws.is_empty() {
            continue;
        }
        let made = claims(vs, &mut intern);
        if made.is_empty() {
            continue;
        }
        let mut hosts: Vec<(String, Node<'_, '_>)> = Vec::new();
        let mut seen_hosts = std::collections::HashSet::new();
        for &(h, node) in &vs.hosts {
            let f = fqdn(h, ns).to_ascii_lowercase();
            if seen_hosts.insert(f.clone()) {
                hosts.push((f, node));
            }
        }
        for &gw in &gws {
            for (host, hnode) in &hosts {
                for m in &made {
                    let key = (gw, host.clone(), m.claim);
                    match first.entry(key) {
                        Entry::Vacant(e) => {
                            e.insert((v, *hnode, *m));
                        }
                        Entry::Occupied(e) => {
                            let (fv, fnode, fm) = *e.get();
                            if fv == v {
                                continue;
                            }
                            let ck = (v, fv, gw, host.clone());
                            match conflict_of.get(&ck) {
                                Some(&c) => conflicts[c].count += 1,
                                None => {
                                    conflict_of.insert(ck, conflicts.len());
                                    conflicts.push(Conflict {
                                        gw,
                                        host: host.clone(),
                                        first: (fv, fnode, fm),
                                        later: (v, *hnode, *m),
                                        count: 1,
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    for c in conflicts {
        let (fv, fnode, fm) = c.first;
        let (v, hnode, m) = c.later;
        let vs = &ix.virtual_services[v];
        let other = &ix.virtual_services[fv];
        let (gns, gname) = c.gw;
        let host = &c.host;
        let more = if c.count > 1 {
            format!(" (and {} more such routes)", c.count - 1)
        } else {
            String::new()
        };
        em.violation(
            vs.obj.loc(hnode),
            Some(vs.obj.resource()),
            format!(
                "{} and {} both bind host {host} to Gateway {gns}/{gname} with {}{more}: the \
                 gateway merges their routes for that host and the first one (of the older \
                 VirtualService) takes those requests, so the other never gets them",
                vs.obj.display(),
                other.obj.display(),
                describe(&m)
            ),
            "keep each path or match of a gateway host in one VirtualService: remove the \
             duplicate route, or merge the two VirtualServices",
        )
        .related(vs.obj.loc(m.node), "this route or match".to_string())
        .related(
            other.obj.loc(fnode),
            format!("{} claims {host} here", other.obj.display()),
        )
        .related(
            other.obj.loc(fm.node),
            format!("{} has {} here", other.obj.display(), describe(&fm)),
        );
    }
}
