//! Family `yaml`: problems found while reading the files.
pub mod yaml001;
pub mod yaml002;
pub mod yaml003;
