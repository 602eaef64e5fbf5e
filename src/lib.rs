//! meshlint: a linter for Kubernetes service-mesh and ingress manifests.

pub mod baseline;
pub mod config;
pub mod finding;
pub mod index;
pub mod lint;
pub mod load;
pub mod model;
pub mod report;
pub mod rules;
pub mod source;
pub mod suppress;
pub mod yaml;
