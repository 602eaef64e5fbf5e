//! IRT016 dr-tls-without-ca.

use crate::finding::Severity;
use crate::index::Index;
use crate::rules::{Emitter, Rule};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "IRT016",
    id: "dr-tls-without-ca",
    family: "istio-routing",
    severity: Severity::Warning,
    summary: "A DestinationRule originates TLS without a CA to verify the upstream certificate",
    docs: include_str!("irt016.md"),
    check,
    mitigations: &[],
};

/// First Istio release that verifies upstream certificates against the OS trust store when
/// `caCertificates` is empty (`VERIFY_CERTIFICATE_AT_CLIENT` on by default).
const VERIFY_AT_CLIENT: (u32, u32) = (1, 21);

/// A `tls` block of a traffic policy and where it sits.
struct TlsAt<'d, 's> {
    tls: Node<'d, 's>,
    /// `subset v2, port 443`, or empty for the DestinationRule's own policy.
    scope: String,
}

/// Every `tls` block of a DestinationRule: the top-level traffic policy and its
/// `portLevelSettings`, then each subset's.
fn tls_blocks<'d, 's>(spec: Node<'d, 's>) -> Vec<TlsAt<'d, 's>> {
    let mut out = Vec::new();
    let mut policy = |p: Node<'d, 's>, subset: Option<&str>| {
        let prefix = subset.map(|s| format!("subset `{s}`")).unwrap_or_default();
        if let Some(tls) = p.get("tls") {
            out.push(TlsAt {
                tls,
                scope: prefix.clone(),
            });
        }
        for pls in p
            .get("portLevelSettings")
            .into_iter()
            .flat_map(|l| l.items())
        {
            let Some(tls) = pls.get("tls") else { continue };
            let port = pls
                .path(&["port", "number"])
                .and_then(|n| n.as_str())
                .map(|n| format!("port {n}"))
                .unwrap_or_else(|| "a port".to_string());
            let scope = if prefix.is_empty() {
                port
            } else {
                format!("{prefix}, {port}")
            };
            out.push(TlsAt { tls, scope });
        }
    };
    if let Some(p) = spec.get("trafficPolicy") {
        policy(p, None);
    }
    for s in spec.get("subsets").into_iter().flat_map(|s| s.items()) {
        if let Some(p) = s.get("trafficPolicy") {
            policy(p, Some(s.str_at("name").unwrap_or("?")));
        }
    }
    out
}

fn non_empty(n: Node<'_, '_>, key: &str) -> bool {
    n.str_at(key).is_some_and(|s| !s.trim().is_empty())
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    for dr in &ix.destination_rules {
        let Some(spec) = dr.obj.spec() else { continue };
        let host = dr.host.map(|(h, _)| h).unwrap_or("?");
        for TlsAt { tls, scope } in tls_blocks(spec) {
            let Some(mode_node) = tls.get("mode") else {
                continue;
            };
            let Some(mode) = mode_node.as_str() else {
                continue;
            };
            let mode = mode.to_ascii_uppercase();
            if mode != "SIMPLE" && mode != "MUTUAL" {
                continue;
            }
            if non_empty(tls, "caCertificates")
                || non_empty(tls, "credentialName")
                || tls.get("insecureSkipVerify").and_then(|n| n.as_bool()) == Some(true)
            {
                continue;
            }
            let at = if scope.is_empty() {
                String::new()
            } else {
                format!(" ({scope})")
            };
            let base = format!(
                "{} originates TLS (mode {mode}) to {host}{at} without `caCertificates` or \
                 `credentialName`",
                dr.obj.display()
            );
            let (severity, message) = match ix.options.istio_version {
                Some(v) if v < VERIFY_AT_CLIENT => (
                    Severity::Warning,
                    format!(
                        "{base}: before Istio 1.21 the proxy then accepts any server certificate, \
                         so anyone who can intercept the connection can impersonate {host}"
                    ),
                ),
                Some(_) => (
                    Severity::Info,
                    format!(
                        "{base}: the proxy checks the server certificate only against its OS \
                         trust store, so an upstream signed by a private CA fails the handshake \
                         (503 UF)"
                    ),
                ),
                None => (
                    Severity::Warning,
                    format!(
                        "{base}: before Istio 1.21 the proxy accepts any server certificate \
                         (open to impersonation), and from 1.21 on it checks only the OS trust \
                         store, which rejects upstreams signed by a private CA"
                    ),
                ),
            };
            em.violation(
                dr.obj.loc(mode_node),
                Some(dr.obj.resource()),
                message,
                "set `caCertificates` (a CA file mounted in the proxy, or `system`) or \
                 `credentialName` (a Secret with `ca.crt`), plus `subjectAltNames`",
            )
            .severity(severity);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Severity;
    use crate::lint::{Settings, run};
    use crate::source::{SourceFile, Sources};

    const DR: &str = "apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db, namespace: shop}
spec:
  host: db.example.com
  trafficPolicy: {tls: {mode: SIMPLE}}
";

    fn severity(version: Option<(u32, u32)>) -> Option<Severity> {
        let mut sources = Sources::default();
        sources.add(SourceFile::new("dr.yaml".into(), DR.into()));
        let settings = Settings {
            istio_version: version,
            ..Settings::default()
        };
        run(&sources, &settings)
            .findings
            .iter()
            .find(|f| f.code == "IRT016")
            .map(|f| f.severity)
    }

    #[test]
    fn severity_follows_the_istio_version() {
        assert_eq!(severity(None), Some(Severity::Warning));
        assert_eq!(severity(Some((1, 20))), Some(Severity::Warning));
        assert_eq!(severity(Some((1, 21))), Some(Severity::Info));
    }
}
