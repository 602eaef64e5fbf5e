//! TLS005 gateway-legacy-file-cert-secret.

use std::collections::{HashMap, HashSet};

use crate::finding::{Location, Severity};
use crate::index::Index;
use crate::index::typo_distance;
use crate::model::istio::{Gateway, Server};
use crate::model::workload::PodTemplate;
use crate::rules::{Emitter, Rule, origin_note};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    code: "TLS005",
    id: "gateway-legacy-file-cert-secret",
    family: "tls",
    severity: Severity::Error,
    summary: "Gateway loads certificate files that legacy gateways mount from a secret that is missing",
    docs: include_str!("tls005.md"),
    check,
    mitigations: &[],
};

/// A legacy mount: the directory the old gateway charts mount, and the Secret they mount there.
struct Legacy {
    dir: &'static str,
    secret: &'static str,
    fields: &'static [&'static str],
}

const LEGACY: &[Legacy] = &[
    Legacy {
        dir: "/etc/istio/ingressgateway-certs",
        secret: "istio-ingressgateway-certs",
        fields: &["serverCertificate", "privateKey"],
    },
    Legacy {
        dir: "/etc/istio/ingressgateway-ca-certs",
        secret: "istio-ingressgateway-ca-certs",
        fields: &["caCertificates"],
    },
];

/// The default gateway selector of an Istio install, whose pods run in `istio-system`.
const DEFAULT_SELECTOR: (&str, &str) = ("istio", "ingressgateway");
const DEFAULT_NAMESPACE: &str = "istio-system";

/// What writes a Secret: a cert-manager Certificate (`spec.secretName`) or an ExternalSecret
/// (`spec.target.name`), or the Secret itself.
struct Source<'d> {
    at: Location,
    display: String,
    /// For Certificates: `spec.dnsNames` and `spec.commonName`.
    dns_names: Vec<&'d str>,
}

/// Secret names in the set and what writes them, built once per run.
struct SecretSources<'d> {
    /// (namespace, Secret name) of writers (not Secrets themselves).
    writers: HashSet<(&'d str, &'d str)>,
    /// Writers by namespace, in input order: (Secret name, source), for hints.
    by_ns: HashMap<&'d str, Vec<(&'d str, Source<'d>)>>,
    /// Secrets and writers by Secret name, in input order: (namespace, source), for hints.
    by_name: HashMap<&'d str, Vec<(&'d str, Source<'d>)>>,
}

fn secret_sources<'d>(ix: &Index<'d, '_>) -> SecretSources<'d> {
    let mut out = SecretSources {
        writers: HashSet::new(),
        by_ns: HashMap::new(),
        by_name: HashMap::new(),
    };
    for &id in ix.of_kind("", "Secret") {
        let o = &ix.objects[id];
        out.by_name.entry(o.name).or_default().push((
            o.namespace,
            Source {
                at: o.name_loc(),
                display: o.display(),
                dns_names: Vec::new(),
            },
        ));
    }
    let kinds: [(&str, &str, &[&str]); 3] = [
        ("cert-manager.io", "Certificate", &["spec", "secretName"]),
        ("certmanager.k8s.io", "Certificate", &["spec", "secretName"]),
        (
            "external-secrets.io",
            "ExternalSecret",
            &["spec", "target", "name"],
        ),
    ];
    for (group, kind, path) in kinds {
        for &id in ix.of_kind(group, kind) {
            let o = &ix.objects[id];
            let Some(node) = o.root.path(path) else {
                continue;
            };
            let Some(name) = node.as_text() else { continue };
            out.writers.insert((o.namespace, name));
            let spec = o.spec();
            let dns_names: Vec<&str> = spec
                .and_then(|s| s.get("dnsNames"))
                .into_iter()
                .flat_map(|l| l.items())
                .filter_map(|n| n.as_text())
                .chain(spec.and_then(|s| s.str_at("commonName")))
                .collect();
            let src = || Source {
                at: o.loc(node),
                display: o.display(),
                dns_names: dns_names.clone(),
            };
            out.by_ns
                .entry(o.namespace)
                .or_default()
                .push((name, src()));
            out.by_name
                .entry(name)
                .or_default()
                .push((o.namespace, src()));
        }
    }
    out
}

/// The Secret a template mounts at `dir`, with the mount node: `Some(None)` when something that
/// is not a Secret volume is mounted there, `None` when nothing is.
fn mounted_secret<'d, 's>(
    tpl: &PodTemplate<'d, 's>,
    dir: &str,
) -> Option<(Option<&'d str>, Node<'d, 's>)> {
    let spec = tpl.spec?;
    for c in tpl.containers() {
        for m in c
            .node
            .get("volumeMounts")
            .into_iter()
            .flat_map(|v| v.items())
        {
            let Some(path) = m.str_at("mountPath") else {
                continue;
            };
            if path.trim_end_matches('/') != dir {
                continue;
            }
            let vol_name = m.str_at("name");
            let secret = spec
                .get("volumes")
                .into_iter()
                .flat_map(|v| v.items())
                .find(|v| v.str_at("name") == vol_name)
                .and_then(|v| v.path(&["secret", "secretName"]))
                .and_then(|n| n.as_text());
            return Some((secret, m.get("mountPath").unwrap_or(m)));
        }
    }
    None
}

/// The first field of `server.tls` that loads a file from `dir`.
fn legacy_field<'d, 's>(
    server: &Server<'d, 's>,
    legacy: &Legacy,
) -> Option<(&'static str, &'d str, Node<'d, 's>)> {
    let tls = server.tls?;
    legacy.fields.iter().find_map(|&f| {
        let n = tls.get(f)?;
        let path = n.as_text()?;
        path.strip_prefix(legacy.dir)
            .is_some_and(|rest| rest.starts_with('/'))
            .then_some((f, path, n))
    })
}

fn check(ix: &Index<'_, '_>, em: &mut Emitter<'_>) {
    // Only Gateways with file-mounted certificates matter; most sets have none.
    let mut uses: Vec<(usize, usize, &Legacy)> = Vec::new();
    for (g, gw) in ix.gateways.iter().enumerate() {
        for (i, srv) in gw.servers.iter().enumerate() {
            // With credentialName, istiod serves the certificate over SDS and ignores the files.
            if srv.tls.is_some_and(|t| {
                t.get("credentialName").is_some() || t.get("credentialNames").is_some()
            }) {
                continue;
            }
            for legacy in LEGACY {
                if legacy_field(srv, legacy).is_some() {
                    uses.push((g, i, legacy));
                }
            }
        }
    }
    if uses.is_empty() {
        return;
    }
    let mut pods: HashMap<usize, Vec<usize>> = HashMap::new();
    for t in 0..ix.templates.len() {
        for &g in ix.template_gateways(t) {
            pods.entry(g).or_default().push(t);
        }
    }
    let sources = secret_sources(ix);
    for (g, i, legacy) in uses {
        let gw = &ix.gateways[g];
        let srv = &gw.servers[i];
        let Some((field, path, node)) = legacy_field(srv, legacy) else {
            continue;
        };
        let ctx = Ctx {
            ix,
            gw,
            srv,
            field,
            path,
            at: gw.obj.loc(node),
            sources: &sources,
        };
        let templates = pods.get(&g).map(Vec::as_slice).unwrap_or(&[]);
        if templates.is_empty() {
            if ix.absent_is_missing() {
                // No gateway pods at all: IGW001's finding, nothing loads these files.
                continue;
            }
            let default_selector = gw
                .selector
                .as_ref()
                .is_some_and(|s| s.as_slice() == [DEFAULT_SELECTOR]);
            if default_selector {
                ctx.check_secret(em, DEFAULT_NAMESPACE, legacy.secret, None, true);
            } else {
                em.unknown(
                    ctx.at,
                    Some(gw.obj.resource()),
                    format!(
                        "{} loads `{path}`, which legacy gateways mount from the Secret `{}` in the \
                         gateway pods' namespace, but the pods its selector matches are not in the \
                         linted set: cannot check that Secret",
                        ctx.server_desc(),
                        legacy.secret
                    ),
                    "lint the gateway Deployment (or IstioOperator / Helm values) together with \
                     this Gateway, or switch to `tls.credentialName`",
                );
            }
            continue;
        }
        let mut seen: HashSet<(&str, &str)> = HashSet::new();
        for &t in templates {
            let tpl = &ix.templates[t];
            let ns = tpl.obj.namespace;
            let (secret, mount) = if tpl.obj.origin().is_some() {
                // Synthesised from IstioOperator / Helm values: the legacy charts mount the
                // legacy Secret; the Deployment itself is not visible.
                (legacy.secret, None)
            } else {
                match mounted_secret(tpl, legacy.dir) {
                    Some((Some(secret), m)) => (secret, Some(tpl.obj.loc(m))),
                    // A CSI / projected volume or similar: not ours to judge.
                    Some((None, _)) => continue,
                    None => {
                        if seen.insert((ns, "")) {
                            let f = em.violation(
                                ctx.at,
                                Some(gw.obj.resource()),
                                format!(
                                    "{} loads `{path}`, but the gateway pods of {}{} mount nothing \
                                     at {}: newer gateway charts no longer mount the legacy Secret \
                                     `{}`, so the file is missing and the HTTPS listener gets no \
                                     certificate",
                                    ctx.server_desc(),
                                    tpl.obj.display(),
                                    origin_note(&tpl.obj),
                                    legacy.dir,
                                    legacy.secret
                                ),
                                "use `tls.credentialName` (SDS, Secret in the gateway pods' \
                                 namespace) instead of file paths, or mount the Secret at that \
                                 path in the gateway Deployment",
                            );
                            f.severity(Severity::Warning);
                            f.related(tpl.obj.loc(tpl.anchor()), "gateway pod template");
                        }
                        continue;
                    }
                }
            };
            if !seen.insert((ns, secret)) {
                continue;
            }
            ctx.check_secret(em, ns, secret, Some(t), false);
            if let (Some(at), Some(f)) = (mount, em.findings.last_mut())
                && f.location == ctx.at
            {
                f.related(at, format!("the gateway pods mount Secret `{secret}` here"));
            }
        }
    }
}

struct Ctx<'a, 'd, 's> {
    ix: &'a Index<'d, 's>,
    gw: &'a Gateway<'d, 's>,
    srv: &'a Server<'d, 's>,
    field: &'static str,
    path: &'d str,
    at: Location,
    sources: &'a SecretSources<'d>,
}

impl Ctx<'_, '_, '_> {
    fn server_desc(&self) -> String {
        format!(
            "the server of {} on port {} (`tls.{}`)",
            self.gw.obj.display(),
            self.srv.number.unwrap_or_default(),
            self.field
        )
    }

    /// Reference policy for a missing certificate Secret: a near miss is a Certificate of
    /// `ns` for one of the server's hosts that writes another Secret, a Secret or writer of
    /// `ns` whose name is a typo away, or the same Secret in another namespace.
    fn near_miss(&self, ns: &str, secret: &str) -> bool {
        let hosts: Vec<&str> = self.srv.hosts.iter().map(|(h, _)| *h).collect();
        let covers = |d: &str| {
            hosts.iter().any(|h| {
                let h = h.rsplit('/').next().unwrap_or(h);
                h == d
                    || h == "*"
                    || d == "*"
                    || h.strip_prefix("*.").is_some_and(|s| d.ends_with(s))
            })
        };
        self.sources
            .by_ns
            .get(ns)
            .into_iter()
            .flatten()
            .any(|(name, src)| {
                src.dns_names.iter().any(|d| covers(d)) || typo_distance(secret, name).is_some()
            })
            || self
                .sources
                .by_name
                .get(secret)
                .into_iter()
                .flatten()
                .any(|(other, _)| *other != ns)
    }

    /// Checks that Secret `secret` exists in `ns` (or a Certificate / ExternalSecret writes it),
    /// under the reference policy of §0.4.
    fn check_secret(
        &self,
        em: &mut Emitter<'_>,
        ns: &str,
        secret: &str,
        tpl: Option<usize>,
        assumed_ns: bool,
    ) {
        let ix = self.ix;
        if ix.get("", "Secret", ns, secret).is_some()
            || ix.is_external("Secret", ns, secret)
            || self.sources.writers.contains(&(ns, secret))
        {
            return;
        }
        let gw = self.gw;
        let path = self.path;
        // "which <who> mount from the Secret `x` of <where>"
        let (who, where_) = match tpl {
            Some(t) => {
                let o = &ix.templates[t].obj;
                let who = if o.origin().is_some() {
                    format!("legacy gateways such as {}{}", o.display(), origin_note(o))
                } else {
                    format!("the gateway pods of {}", o.display())
                };
                (who, format!("their namespace `{ns}`"))
            }
            None => (
                "legacy gateways".to_string(),
                format!(
                    "their namespace, assumed to be `{ns}` (the default `istio: ingressgateway` \
                     pods are not in the linted set)"
                ),
            ),
        };
        let message = format!(
            "{} loads `{path}`, which {who} mount from the Secret `{secret}` of {where_}, but \
             no such Secret (nor a cert-manager Certificate writing it) is there: the optional volume \
             stays empty, the pod starts anyway and the HTTPS listener has no certificate, so TLS \
             handshakes fail",
            self.server_desc()
        );
        let help = format!(
            "create the certificate as Secret `{secret}` in namespace `{ns}` (cert-manager: \
             `spec.secretName: {secret}`), or better switch to `tls.credentialName`, which \
             newer gateways load over SDS"
        );
        let decided = ix.absent_is_missing() || self.near_miss(ns, secret);
        let f = if decided {
            let f = em.violation(self.at, Some(gw.obj.resource()), message, help);
            if assumed_ns {
                f.severity(Severity::Warning);
            }
            f
        } else {
            em.unknown(
                self.at,
                Some(gw.obj.resource()),
                format!(
                    "{} loads `{path}`, which {who} mount from the Secret `{secret}` of \
                     {where_}; no Secret or Certificate of that namespace is in the linted set, so it cannot \
                     be checked",
                    self.server_desc()
                ),
                help,
            )
        };
        // Hints: what the namespace's Certificates write instead, and the name elsewhere.
        for (name, src) in self.sources.by_ns.get(ns).into_iter().flatten().take(3) {
            f.related(
                src.at,
                format!("{} writes Secret `{name}`, not `{secret}`", src.display),
            );
        }
        for (other_ns, src) in self
            .sources
            .by_name
            .get(secret)
            .into_iter()
            .flatten()
            .take(3)
        {
            if *other_ns != ns {
                f.related(
                    src.at,
                    format!(
                        "{} provides `{secret}`, but in namespace `{other_ns}`",
                        src.display
                    ),
                );
            }
        }
    }
}
