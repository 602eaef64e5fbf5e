//! The cross-resource index.
pub struct Index<'a, 's> {
    _p: std::marker::PhantomData<(&'a (), &'s ())>,
}
