//! Family `api`: deprecated APIs and install ordering.
pub mod api004;
pub mod api005;
