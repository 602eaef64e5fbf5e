//! IRT012 vs-unreachable-rule.

use crate::finding::Severity;
use crate::index::route_matches::{self, Route, Shadow};
use crate::index::{Index, RouteKind};
use crate::rules::{Emitter, Rule};

pub static RULE: Rule = Rule {
    code: "IRT012",
    id: "vs-unreachable-rule",
    family: "istio-routing",
    severity: Severity::Warning,
    summary: "A VirtualService route can never match because an earlier route takes all its traffic",
    docs: include_str!("irt012.md"),
    check,
    mitigations: &[],
};

/// What a route does, for the message.
fn action(route: &Route<'_, '_>) -> &'static str {
    let n = route.node;
    if n.get("redirect").is_some() {
        "redirect"
    } else if n.get("directResponse").is_some() {
        "direct response"
    } else if n.get("delegate").is_some() {
        "delegation"
    } else {
        "destinations"
    }
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    for vs in &ix.virtual_services {
        for kind in [RouteKind::Http, RouteKind::Tls, RouteKind::Tcp] {
            let routes = route_matches::routes(vs, kind);
            if routes.len() < 2 {
                continue;
            }
            let a = route_matches::analyze(routes);
            for (ri, why) in &a.unreachable {
                let route = &a.routes[*ri];
                let (reason, related) = match why {
                    Shadow::MatchlessRoute(p) => {
                        let prev = &a.routes[*p];
                        (
                            format!(
                                "{} before it has no `match` and takes every request",
                                prev.label()
                            ),
                            vec![(
                                prev.anchor(),
                                format!("{} takes every request", prev.label()),
                            )],
                        )
                    }
                    Shadow::CatchAllClause((p, c)) => {
                        let prev = &a.routes[*p];
                        (
                            format!(
                                "match #{c} of {} matches every request before it",
                                prev.label()
                            ),
                            vec![(
                                prev.clauses[*c].node,
                                format!("this match of {} takes every request", prev.label()),
                            )],
                        )
                    }
                    Shadow::Clauses(by) => {
                        let mut earlier: Vec<(usize, usize)> = by.clone();
                        earlier.sort_unstable();
                        earlier.dedup();
                        let names: Vec<String> = earlier
                            .iter()
                            .take(3)
                            .map(|&(p, c)| format!("match #{c} of {}", a.routes[p].label()))
                            .collect();
                        let more = if earlier.len() > 3 {
                            format!(" and {} more", earlier.len() - 3)
                        } else {
                            String::new()
                        };
                        (
                            format!(
                                "each of its matches repeats, or is narrower than, an earlier one \
                                 ({}{more})",
                                names.join(", ")
                            ),
                            earlier
                                .iter()
                                .take(5)
                                .map(|&(p, c)| {
                                    (
                                        a.routes[p].clauses[c].node,
                                        format!(
                                            "{} takes these requests first",
                                            a.routes[p].label()
                                        ),
                                    )
                                })
                                .collect(),
                        )
                    }
                };
                let f = em.violation(
                    vs.obj.loc(route.anchor()),
                    Some(vs.obj.resource()),
                    format!(
                        "route {} of {} is never used: {reason}; routes are tried in order and the \
                         first match wins, so its {} never take effect",
                        route.label(),
                        vs.obj.display(),
                        action(route)
                    ),
                    "move this route above the one that takes its traffic, narrow the earlier \
                     match, or delete the dead route",
                );
                for (node, msg) in related {
                    f.related(vs.obj.loc(node), msg);
                }
            }
        }
    }
}
