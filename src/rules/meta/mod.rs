//! Family `meshlint`: findings about meshlint's own suppressions.
pub mod mln001;
pub mod mln002;
pub mod mln003;
