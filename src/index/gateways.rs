//! Istio `Gateway` → gateway workload lookups, built once per rule run by the rules that
//! compare Gateways landing on the same proxies (IGW001–IGW006).

use std::collections::HashMap;

use super::Index;

/// What a group of Gateways shares: the proxies they are programmed on.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WorkloadKey {
    /// A pod template in the set (index into [`Index::templates`]).
    Template(usize),
    /// Gateways that select no template in the set, keyed by their selector (sorted
    /// `key=value` pairs; empty for an absent selector): identical selectors land on the same
    /// proxies wherever those run.
    Selector(String),
}

/// Which templates each Gateway selects, and which Gateways share proxies.
#[derive(Debug, Default)]
pub struct GatewayWorkloads {
    /// Per Gateway (index into [`Index::gateways`]): the templates it selects (R3: its
    /// `spec.selector` across all namespaces; an absent selector selects every gateway
    /// workload).
    pub templates: Vec<Vec<usize>>,
    /// Gateways grouped by the proxies they land on, in key order; each list is in input
    /// order. A Gateway selecting several templates is in several groups.
    pub groups: Vec<(WorkloadKey, Vec<usize>)>,
}

impl GatewayWorkloads {
    /// The templates Gateway `g` selects.
    pub fn of(&self, g: usize) -> &[usize] {
        self.templates.get(g).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// `key=value,…` of a selector, sorted (the form `istioctl` compares selectors in).
pub fn selector_key(selector: Option<&[(&str, &str)]>) -> String {
    let mut pairs: Vec<String> = selector
        .unwrap_or(&[])
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    pairs.sort();
    pairs.join(",")
}

impl Index<'_, '_> {
    /// Gateway → template lookups and workload groups. Linear in templates × the Gateways
    /// selecting each; build it once per rule run.
    pub fn gateway_workloads(&self) -> GatewayWorkloads {
        let mut templates = vec![Vec::new(); self.gateways.len()];
        for t in 0..self.templates.len() {
            for &g in self.template_gateways(t) {
                if let Some(list) = templates.get_mut(g) {
                    list.push(t);
                }
            }
        }
        let mut groups: HashMap<WorkloadKey, Vec<usize>> = HashMap::new();
        for (g, ts) in templates.iter().enumerate() {
            if ts.is_empty() {
                let key = selector_key(self.gateways[g].selector.as_deref());
                groups
                    .entry(WorkloadKey::Selector(key))
                    .or_default()
                    .push(g);
            } else {
                for &t in ts {
                    groups.entry(WorkloadKey::Template(t)).or_default().push(g);
                }
            }
        }
        let mut groups: Vec<(WorkloadKey, Vec<usize>)> = groups.into_iter().collect();
        groups.sort();
        GatewayWorkloads { templates, groups }
    }
}

#[cfg(test)]
mod tests {
    use super::selector_key;

    #[test]
    fn selector_keys_are_order_independent() {
        assert_eq!(
            selector_key(Some(&[("istio", "ingress"), ("app", "gw")])),
            "app=gw,istio=ingress"
        );
        assert_eq!(selector_key(None), "");
    }
}
