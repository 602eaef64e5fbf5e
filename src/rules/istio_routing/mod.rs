//! Family `istio-routing`: VirtualService and DestinationRule wiring.
pub mod irt001;
pub mod irt002;
pub mod irt003;
pub mod irt004;
pub mod irt005;
pub mod irt006;
pub mod irt007;
pub mod irt008;
pub mod irt009;
pub mod irt010;
pub mod irt011;
pub mod irt012;
pub mod irt013;
pub mod irt015;
pub mod irt016;
pub mod irt017;
pub mod irt018;
