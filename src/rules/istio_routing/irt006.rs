//! IRT006 vs-route-weight-total.

use crate::finding::Severity;
use crate::index::Index;
use crate::rules::{Emitter, Rule};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "IRT006",
    id: "vs-route-weight-total",
    family: "istio-routing",
    severity: Severity::Warning,
    summary: "The weights of a VirtualService route's destinations are negative, all zero, or do not add up to 100",
    docs: include_str!("irt006.md"),
    check,
    mitigations: &[],
};

/// First Istio minor release that treats weights as relative (istio/istio#39544).
const RELATIVE_SINCE: (u32, u32) = (1, 15);

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    for vs in &ix.virtual_services {
        let obj = &vs.obj;
        let Some(spec) = obj.spec() else { continue };
        for kind in ["http", "tcp", "tls"] {
            for rule in spec.get(kind).into_iter().flat_map(|r| r.items()) {
                let Some((route_key, route)) = rule.entry("route") else {
                    continue;
                };
                // (weight, its node) per destination; an omitted weight is 0.
                let mut weights: Vec<(i64, Option<Node<'_, '_>>)> = Vec::new();
                let mut readable = true;
                for rd in route.items().filter(|rd| rd.get("destination").is_some()) {
                    match rd.get("weight") {
                        None => weights.push((0, None)),
                        Some(n) => match n.as_int() {
                            Some(w) => weights.push((w, Some(n))),
                            None => readable = false,
                        },
                    }
                }
                if !readable || weights.len() < 2 {
                    continue;
                }
                let what = format!("this {kind} route of {}", obj.display());
                if let Some((w, Some(n))) = weights.iter().find(|(w, _)| *w < 0) {
                    em.violation(
                        obj.loc(*n),
                        Some(obj.resource()),
                        format!(
                            "a destination of {what} has weight {w}: istiod rejects negative \
                             weights, so the VirtualService is not applied (or its routes are \
                             dropped)"
                        ),
                        "use a weight between 0 and 100",
                    )
                    .severity(Severity::Error);
                    continue;
                }
                let total: i64 = weights.iter().map(|(w, _)| *w).sum();
                if total == 0 {
                    em.violation(
                        obj.loc(route_key),
                        Some(obj.resource()),
                        format!(
                            "the {} destinations of {what} all have weight 0 or none: istiod \
                             rejects it (\"total destination weight = 0\"), so the route is never \
                             served",
                            weights.len()
                        ),
                        "give each destination its share, e.g. 80 and 20",
                    )
                    .severity(Severity::Error);
                    continue;
                }
                if total == 100 {
                    continue;
                }
                let written: Vec<String> = weights
                    .iter()
                    .map(|(w, n)| match n {
                        Some(_) => w.to_string(),
                        None => "(none)".to_string(),
                    })
                    .collect();
                let shares: Vec<String> = weights
                    .iter()
                    .map(|(w, _)| format!("{:.0}%", (*w as f64) * 100.0 / (total as f64)))
                    .collect();
                let omitted = if weights.iter().any(|(_, n)| n.is_none()) {
                    " (an omitted weight counts as 0)"
                } else {
                    ""
                };
                let first = weights.iter().position(|(_, n)| n.is_some());
                let at = first.and_then(|i| weights[i].1).unwrap_or(route_key);
                let relative = format!(
                    "Istio 1.15 and later treat weights as relative, so the destinations get {} \
                     rather than the percentages written",
                    shares.join(" / ")
                );
                let (message, severity) = match ix.options.istio_version {
                    Some(v) if v < RELATIVE_SINCE => (
                        format!(
                            "the weights of {what} add up to {total} ({}){omitted}: Istio \
                             {}.{} rejects the VirtualService (\"total destination weight {total} \
                             != 100\"), so none of its routes are applied",
                            written.join(" + "),
                            v.0,
                            v.1
                        ),
                        Severity::Error,
                    ),
                    Some(_) => (
                        format!(
                            "the weights of {what} add up to {total} ({}){omitted}: {relative}",
                            written.join(" + ")
                        ),
                        Severity::Info,
                    ),
                    None => (
                        format!(
                            "the weights of {what} add up to {total} ({}){omitted}: Istio before \
                             1.15 rejects the VirtualService, and {relative}",
                            written.join(" + ")
                        ),
                        Severity::Warning,
                    ),
                };
                let f = em.violation(
                    obj.loc(at),
                    Some(obj.resource()),
                    message,
                    "make the weights add up to 100 (set --istio-version to rate this by the \
                     mesh's version)",
                );
                f.severity(severity);
                let rest = first.map_or(0, |i| i + 1);
                for n in weights.iter().skip(rest).filter_map(|(_, n)| *n) {
                    f.related(obj.loc(n), "another weight of this route");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Severity;
    use crate::lint::{Settings, parse_istio_version, run};
    use crate::source::{SourceFile, Sources};

    const VS: &str = "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 80}
    - {destination: {host: reviews, subset: v2}, weight: 30}
";

    fn severity(version: Option<(u32, u32)>) -> Option<Severity> {
        let mut sources = Sources::default();
        sources.add(SourceFile::new("vs.yaml".into(), VS.into()));
        let settings = Settings {
            istio_version: version,
            ..Settings::default()
        };
        run(&sources, &settings)
            .findings
            .iter()
            .find(|f| f.code == "IRT006")
            .map(|f| f.severity)
    }

    #[test]
    fn severity_follows_the_istio_version() {
        assert_eq!(severity(None), Some(Severity::Warning));
        assert_eq!(severity(Some((1, 14))), Some(Severity::Error));
        assert_eq!(severity(Some((1, 15))), Some(Severity::Info));
        assert_eq!(severity(Some((1, 22))), Some(Severity::Info));
    }

    #[test]
    fn istio_versions_parse() {
        assert_eq!(parse_istio_version("1.14"), Ok((1, 14)));
        assert_eq!(parse_istio_version("v1.22.3"), Ok((1, 22)));
        assert_eq!(parse_istio_version("1.20-asm.1"), Ok((1, 20)));
        assert!(parse_istio_version("1").is_err());
        assert!(parse_istio_version("latest").is_err());
    }
}
