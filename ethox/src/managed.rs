//! Containers over storage the caller provides.
//!
//! The stack never allocates. Tables (neighbors, routes, connections) live
//! in storage handed in at set-up: a borrowed slice on any target, or an
//! owned `Vec` when the `alloc` feature is on. [`Slice`] is either; the
//! code using it sees `[T]`.
//!
//! ```
//! use ethox::managed::Slice;
//!
//! let mut storage = [0u32; 4];
//! let mut table: Slice<'_, u32> = Slice::from(&mut storage[..]);
//! table[1] = 7;
//! assert_eq!(table.len(), 4);
//! assert_eq!(storage[1], 7);
//! ```

use core::ops::{Deref, DerefMut};

#[cfg(feature = "alloc")]
use alloc::vec::Vec;

/// A slice that is borrowed, or owned when `alloc` is available.
#[derive(Debug)]
pub enum Slice<'a, T> {
    /// Storage borrowed from the caller.
    Borrowed(&'a mut [T]),
    /// Storage owned by the container (allocated once, by the caller).
    #[cfg(feature = "alloc")]
    Owned(Vec<T>),
}

impl<'a, T> From<&'a mut [T]> for Slice<'a, T> {
    fn from(slice: &'a mut [T]) -> Self {
        Slice::Borrowed(slice)
    }
}

impl<'a, T, const N: usize> From<&'a mut [T; N]> for Slice<'a, T> {
    fn from(array: &'a mut [T; N]) -> Self {
        Slice::Borrowed(&mut array[..])
    }
}

#[cfg(feature = "alloc")]
impl<T> From<Vec<T>> for Slice<'_, T> {
    fn from(vec: Vec<T>) -> Self {
        Slice::Owned(vec)
    }
}

impl<T> Deref for Slice<'_, T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match self {
            Slice::Borrowed(slice) => slice,
            #[cfg(feature = "alloc")]
            Slice::Owned(vec) => vec,
        }
    }
}

impl<T> DerefMut for Slice<'_, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        match self {
            Slice::Borrowed(slice) => slice,
            #[cfg(feature = "alloc")]
            Slice::Owned(vec) => vec,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_and_array() {
        let mut array = [1u8, 2, 3];
        let mut s = Slice::from(&mut array);
        s[0] = 9;
        assert_eq!(&*s, &[9, 2, 3]);
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn owned() {
        let mut s: Slice<'_, u8> = Slice::from(alloc::vec![0u8; 3]);
        s[2] = 1;
        assert_eq!(&*s, &[0, 0, 1]);
    }
}
