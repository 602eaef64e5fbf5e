//! Family `serviceentry`: Istio `ServiceEntry` resources.
pub mod se001;
pub mod se002;
