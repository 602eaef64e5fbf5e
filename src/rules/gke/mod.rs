//! Family `gke`: GKE Ingress, container-native load balancing (NEG), BackendConfig.
pub mod gke001;
pub mod gke002;
pub mod gke003;
