//! Loading: files, directories and stdin → parsed documents → objects.
pub mod files;
