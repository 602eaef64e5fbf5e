//! Family `istio-routing`: VirtualService and DestinationRule wiring.
pub mod irt001;
