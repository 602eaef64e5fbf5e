//! Mesh-wide configuration visible in the set: IstioOperator `spec.meshConfig` or the
//! `istio` ConfigMap's `mesh` document.

use super::Index;
use crate::model::istio::num_trusted_proxies;
use crate::source::FileId;
use crate::yaml::{ParseLimits, parse_stream};

#[derive(Clone, Debug, Default)]
pub struct MeshConfig {
    /// Some mesh config is in the set.
    pub present: bool,
    /// `defaultConfig.gatewayTopology.numTrustedProxies`, when set.
    pub num_trusted_proxies: Option<i64>,
}

impl MeshConfig {
    pub(super) fn from_index(ix: &Index<'_, '_>) -> MeshConfig {
        let mut m = MeshConfig::default();
        let mut note = |n: Option<i64>| {
            m.present = true;
            if n.is_some() {
                m.num_trusted_proxies = m.num_trusted_proxies.max(n);
            }
        };
        for &id in ix.of_kind("install.istio.io", "IstioOperator") {
            let o = &ix.objects[id];
            if let Some(mc) = o.root.path(&["spec", "meshConfig"]) {
                note(mc.get("defaultConfig").and_then(num_trusted_proxies));
            } else if o.spec().is_some() {
                // An operator without meshConfig installs the default: no trusted proxies.
                note(None);
            }
        }
        for &id in ix.of_kind("", "ConfigMap") {
            let o = &ix.objects[id];
            if !(o.name == "istio" || o.name.starts_with("istio-")) {
                continue;
            }
            let Some(text) = o.root.path(&["data", "mesh"]).and_then(|n| n.as_str()) else {
                continue;
            };
            let parsed = parse_stream(FileId(u32::MAX), text, &ParseLimits::default());
            let n = parsed
                .docs
                .first()
                .and_then(|d| d.root())
                .and_then(|r| r.get("defaultConfig"))
                .and_then(num_trusted_proxies);
            note(n);
        }
        m
    }
}
