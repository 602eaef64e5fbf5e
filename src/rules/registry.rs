//! Every rule meshlint knows, in code order.

use super::Rule;

pub static ALL: &[&Rule] = &[];

/// Finds a rule by code (`GKE001`) or id (`gke-sni-less-https-backend`), case-insensitively.
pub fn find(name: &str) -> Option<&'static Rule> {
    ALL.iter()
        .copied()
        .find(|r| r.code.eq_ignore_ascii_case(name) || r.id.eq_ignore_ascii_case(name))
}
