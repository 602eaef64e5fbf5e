//! Istio host resolution as istiod does it for route destinations and DestinationRules: which
//! Service or ServiceEntry provides a host, from which namespaces it is visible (`exportTo`), and
//! which DestinationRules (wildcards included) apply to it. Built once per rule run
//! ([`HostTable::build`]); lookups are by hash, plus a scan of the (few) wildcard hosts.

use std::collections::HashMap;

use super::Index;

/// Annotation that sets a Service's `exportTo` (comma separated).
pub const SERVICE_EXPORT_TO: &str = "networking.istio.io/exportTo";

/// True if an object of namespace `owner_ns` whose `exportTo` is `export_to` is visible from
/// namespace `consumer_ns`: empty = everywhere, `*` = everywhere, `.` = its own namespace,
/// `~` = nowhere, otherwise a namespace name.
pub fn exported_to(export_to: &[&str], owner_ns: &str, consumer_ns: &str) -> bool {
    export_to.is_empty()
        || export_to.iter().any(|e| match e.trim() {
            "*" => true,
            "." => owner_ns == consumer_ns,
            "~" => false,
            ns => ns == consumer_ns,
        })
}

/// The host istiod reads from a `host` field written in namespace `ns`: a name without a dot is
/// `name.ns.svc.cluster.local`; anything else (`name.other`, FQDNs, wildcards) is taken as is
/// (istio `ResolveShortnameToFQDN`). Lower-cased.
pub fn istio_fqdn(host: &str, ns: &str) -> String {
    if host == "*" || host.contains('.') {
        host.to_ascii_lowercase()
    } else {
        format!("{host}.{ns}.svc.cluster.local").to_ascii_lowercase()
    }
}

/// True if wildcard `pattern` (`*` or `*.suffix`) covers `host` (itself possibly a wildcard):
/// `*.example.com` covers `a.example.com` and `*.a.example.com`, not `example.com`.
pub fn wildcard_covers(pattern: &str, host: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let Some(suffix) = pattern.strip_prefix('*') else {
        return pattern.eq_ignore_ascii_case(host);
    };
    let host = host.to_ascii_lowercase();
    let suffix = suffix.to_ascii_lowercase();
    match host.strip_prefix('*') {
        Some(rest) => rest.ends_with(&suffix),
        None => host.len() > suffix.len() && host.ends_with(&suffix),
    }
}

/// True if two hosts overlap (istio `host.Name.Matches`): equal, or one is a wildcard covering
/// the other.
pub fn hosts_overlap(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
        || (a.starts_with('*') && wildcard_covers(a, b))
        || (b.starts_with('*') && wildcard_covers(b, a))
}

/// What provides a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    /// A Kubernetes Service (index into [`Index::services`]).
    Service(usize),
    /// A ServiceEntry (index into [`Index::service_entries`]) and the index of the host in its
    /// `hosts`.
    Entry(usize, usize),
}

/// One provider of a host, with its visibility.
#[derive(Clone, Debug)]
pub struct Provided<'d> {
    pub provider: Provider,
    /// Namespace of the Service or ServiceEntry.
    pub namespace: &'d str,
    /// Its `exportTo` (the Service annotation, split), empty = everywhere.
    pub export_to: Vec<&'d str>,
}

impl Provided<'_> {
    pub fn visible_from(&self, ns: &str) -> bool {
        exported_to(&self.export_to, self.namespace, ns)
    }
}

/// Hosts of Services and ServiceEntries, and wildcard DestinationRules.
pub struct HostTable<'d> {
    exact: HashMap<String, Vec<Provided<'d>>>,
    /// ServiceEntry hosts starting with `*`, as `(host, provider)`.
    wildcard: Vec<(String, Provided<'d>)>,
    /// DestinationRules (indexes into [`Index::destination_rules`]) whose host is a wildcard.
    wildcard_drs: Vec<usize>,
}

impl<'d> HostTable<'d> {
    pub fn build(ix: &Index<'d, '_>) -> HostTable<'d> {
        let mut t = HostTable {
            exact: HashMap::new(),
            wildcard: Vec::new(),
            wildcard_drs: Vec::new(),
        };
        for (i, svc) in ix.services.iter().enumerate() {
            if svc.multi_cluster {
                continue;
            }
            let export_to = svc
                .obj
                .annotation(SERVICE_EXPORT_TO)
                .map(|a| {
                    a.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            t.exact
                .entry(
                    format!("{}.{}.svc.cluster.local", svc.obj.name, svc.obj.namespace)
                        .to_ascii_lowercase(),
                )
                .or_default()
                .push(Provided {
                    provider: Provider::Service(i),
                    namespace: svc.obj.namespace,
                    export_to,
                });
        }
        for (i, se) in ix.service_entries.iter().enumerate() {
            let export_to = spec_export_to(&se.obj);
            for (h, (host, _)) in se.hosts.iter().enumerate() {
                let p = Provided {
                    provider: Provider::Entry(i, h),
                    namespace: se.obj.namespace,
                    export_to: export_to.clone(),
                };
                let key = istio_fqdn(host, se.obj.namespace);
                if key.starts_with('*') {
                    t.wildcard.push((key.clone(), p.clone()));
                }
                t.exact.entry(key).or_default().push(p);
            }
        }
        for (i, dr) in ix.destination_rules.iter().enumerate() {
            if dr.host.is_some_and(|(h, _)| h.starts_with('*')) {
                t.wildcard_drs.push(i);
            }
        }
        t
    }

    /// Providers of `host` (an istiod host, see [`istio_fqdn`]): exact ones first, then
    /// ServiceEntries whose wildcard host covers it.
    pub fn providers(&self, host: &str) -> Vec<&Provided<'d>> {
        let key = host.to_ascii_lowercase();
        let mut out: Vec<&Provided<'d>> = self.exact.get(&key).into_iter().flatten().collect();
        for (w, p) in &self.wildcard {
            if *w != key && wildcard_covers(w, &key) {
                out.push(p);
            }
        }
        out
    }

    /// What a destination `host` written in namespace `ns` reaches: its providers as istiod
    /// reads the host; when nothing provides it, the Service that R14 names (`reviews.other`),
    /// so that port checks still see the Service that was meant.
    pub fn destination_providers(&self, ix: &Index<'_, '_>, host: &str, ns: &str) -> Vec<Provider> {
        let found: Vec<Provider> = self
            .providers(&istio_fqdn(host, ns))
            .iter()
            .map(|p| p.provider)
            .collect();
        if !found.is_empty() {
            return found;
        }
        match ix.resolve_host(host, ns) {
            super::Host::Service(s) => vec![Provider::Service(s)],
            super::Host::External => Vec::new(),
        }
    }

    /// DestinationRules for a host (its R14 FQDN, see [`super::fqdn`]): those whose host resolves to it,
    /// then those whose wildcard host covers it. Indexes into [`Index::destination_rules`].
    pub fn destination_rules(&self, ix: &Index<'_, '_>, host_fqdn: &str) -> Vec<usize> {
        let mut out: Vec<usize> = ix.destination_rules_for(host_fqdn).to_vec();
        for &d in &self.wildcard_drs {
            if out.contains(&d) {
                continue;
            }
            if let Some((h, _)) = ix.destination_rules[d].host
                && wildcard_covers(h, host_fqdn)
            {
                out.push(d);
            }
        }
        out
    }

    /// The closest existing host to `host` by edit distance (for "did you mean"), if any.
    pub fn closest(&self, host: &str) -> Option<&str> {
        let key = host.to_ascii_lowercase();
        self.exact
            .keys()
            .filter_map(|k| Some((super::typo_distance(&key, k)?, k.as_str())))
            .min()
            .map(|(_, k)| k)
    }
}

/// The name closest to `target` that a typo explains ([`super::typo_distance`]), for "did you
/// mean" hints; never `target` itself.
pub fn closest_name<'a>(names: impl Iterator<Item = &'a str>, target: &str) -> Option<&'a str> {
    names
        .filter_map(|n| Some((super::typo_distance(target, n)?, n)))
        .min()
        .map(|(_, n)| n)
}

/// `spec.exportTo` of an Istio object.
pub fn spec_export_to<'d>(obj: &crate::model::Object<'d, '_>) -> Vec<&'d str> {
    obj.spec()
        .and_then(|s| s.get("exportTo"))
        .into_iter()
        .flat_map(|l| l.items())
        .filter_map(|n| n.as_text())
        .collect()
}

/// The Kubernetes Service a host written in namespace `ns` names, `(namespace, name)`, when it
/// is written as one:
/// `name`, `name.ns.svc[.cluster.local]`, or `name.ns` when `ns` holds Services in the set.
pub fn service_ref<'h>(
    ix: &Index<'_, '_>,
    host: &'h str,
    ns: &'h str,
) -> Option<(&'h str, &'h str)> {
    let labels: Vec<&str> = host.split('.').collect();
    match labels.as_slice() {
        [name] => Some((ns, name)),
        [name, ns]
            if ix.has_kind_in("", "Service", ns) || ix.get("", "Namespace", "", ns).is_some() =>
        {
            Some((ns, name))
        }
        [name, ns, "svc"] | [name, ns, "svc", "cluster", "local"] => Some((ns, name)),
        _ => None,
    }
}

pub fn provider_display(ix: &Index<'_, '_>, p: &Provided<'_>) -> String {
    match p.provider {
        Provider::Service(s) => ix.services[s].obj.display(),
        Provider::Entry(e, _) => ix.service_entries[e].obj.display(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_to_semantics() {
        assert!(exported_to(&[], "a", "b"));
        assert!(exported_to(&["*"], "a", "b"));
        assert!(exported_to(&["."], "a", "a"));
        assert!(!exported_to(&["."], "a", "b"));
        assert!(exported_to(&[".", "b"], "a", "b"));
        assert!(!exported_to(&["~"], "a", "a"));
    }

    #[test]
    fn istiod_expands_only_dotless_names() {
        assert_eq!(
            istio_fqdn("reviews", "shop"),
            "reviews.shop.svc.cluster.local"
        );
        assert_eq!(istio_fqdn("reviews.other", "shop"), "reviews.other");
        assert_eq!(istio_fqdn("*", "shop"), "*");
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_covers("*.example.com", "a.example.com"));
        assert!(wildcard_covers("*.example.com", "*.a.example.com"));
        assert!(wildcard_covers("*.example.com", "*.example.com"));
        assert!(!wildcard_covers("*.example.com", "example.com"));
        assert!(wildcard_covers("*", "example.com"));
        assert!(hosts_overlap("a.example.com", "*.example.com"));
        assert!(hosts_overlap("*.example.com", "*.a.example.com"));
        assert!(!hosts_overlap("example.com", "*.example.com"));
        assert!(hosts_overlap("A.example.com", "a.example.com"));
    }
}
