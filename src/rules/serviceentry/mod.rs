//! Family `serviceentry`: Istio `ServiceEntry` resources.
pub mod se001;
