//! Family `istio-gateway`: Istio `Gateway` resources and the gateway workloads they select.
pub mod igw001;
pub mod igw002;
pub mod igw003;
pub mod igw004;
pub mod igw005;
pub mod igw006;
