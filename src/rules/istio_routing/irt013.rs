//! IRT013 vs-ineffective-match.

use crate::finding::Severity;
use crate::index::route_matches::{self, ClauseKey, Uri};
use crate::index::{Index, RouteKind};
use crate::rules::{Emitter, Rule};

pub static RULE: Rule = Rule {
    code: "IRT013",
    id: "vs-ineffective-match",
    family: "istio-routing",
    severity: Severity::Info,
    summary: "A VirtualService match clause repeats, or is covered by, an earlier clause",
    docs: include_str!("irt013.md"),
    check,
    mitigations: &[],
};

fn uri_text(u: &Uri) -> String {
    match u {
        Uri::Any => "any path".to_string(),
        Uri::Prefix(p) => format!("uri prefix `{p}`"),
        Uri::Exact(e) => format!("uri `{e}`"),
        Uri::Other(_) => "its uri condition".to_string(),
    }
}

/// Why the earlier clause takes everything the later one matches.
fn covering(earlier: &ClauseKey, later: &ClauseKey) -> String {
    if earlier.is_catch_all() {
        return "the earlier match has no condition at all".to_string();
    }
    let same_rest = if earlier.rest.is_empty() {
        ""
    } else {
        " with the same other conditions"
    };
    format!(
        "{} is within {} of the earlier match{same_rest}",
        uri_text(&later.uri),
        uri_text(&earlier.uri)
    )
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    for vs in &ix.virtual_services {
        for kind in [RouteKind::Http, RouteKind::Tls, RouteKind::Tcp] {
            let routes = route_matches::routes(vs, kind);
            if routes.is_empty() {
                continue;
            }
            let a = route_matches::analyze(routes);
            for ie in &a.ineffective {
                let (ri, ci) = ie.at;
                let (pi, pc) = ie.by;
                let route = &a.routes[ri];
                let clause = &route.clauses[ci];
                let prev_route = &a.routes[pi];
                let prev = &prev_route.clauses[pc];
                let (Some(key), Some(prev_key)) = (&clause.key, &prev.key) else {
                    continue;
                };
                let earlier = if pi == ri {
                    format!("match #{pc} of the same route")
                } else {
                    format!("match #{pc} of {}", prev_route.label())
                };
                let what = if ie.duplicate {
                    format!("repeats {earlier}")
                } else {
                    format!("is covered by {earlier} ({})", covering(prev_key, key))
                };
                let effect = if pi == ri {
                    "it adds nothing to the route".to_string()
                } else {
                    format!(
                        "the requests it describes are taken by {} first, so it never selects \
                         this route",
                        prev_route.label()
                    )
                };
                em.violation(
                    vs.obj.loc(clause.node),
                    Some(vs.obj.resource()),
                    format!(
                        "match #{ci} of route {} in {} {what}: {effect}",
                        route.label(),
                        vs.obj.display()
                    ),
                    if pi == ri {
                        "delete the repeated match"
                    } else {
                        "delete this match, or move this route above the one with the wider match"
                    },
                )
                .related(
                    vs.obj.loc(prev.node),
                    format!("match #{pc} of {} is here", prev_route.label()),
                );
            }
        }
    }
}
