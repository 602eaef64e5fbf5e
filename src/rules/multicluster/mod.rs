//! Family `multicluster`: MultiClusterIngress / MultiClusterService (GKE fleet, ASM).
pub mod mc003;
