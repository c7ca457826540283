//! Size-prefixed structs (ABI 3): every struct the library writes for the caller starts with
//! `uint32_t size`. The caller sets it to the sizeof it was compiled with; the library writes
//! that many bytes at most, and sets `size` to how many it filled. Fields are only ever
//! appended, each after the end of the struct as it was before (its previous sizeof), so a
//! field the caller knows lies inside the returned `size` exactly when the library filled it.

use std::mem::{size_of, MaybeUninit};

use super::codes::DFUFLASH_ERR_INVALID_ARGUMENT;
use super::last_error::fail;

/// Where a field ends: a struct's MIN is the end of its last base field, which stays put when
/// fields are appended.
macro_rules! end_of {
    ($t:ty, $field:ident: $ft:ty) => {
        std::mem::offset_of!($t, $field) + std::mem::size_of::<$ft>()
    };
}
pub(super) use end_of;

/// Fails the build when a struct's last field does not end at its sizeof: tail padding would
/// let a field appended later start inside the old sizeof, where an older library leaves
/// garbage that `size` says is filled. Fill such padding with a `reserved` field instead.
macro_rules! no_tail_padding {
    ($t:ty, $last:ident: $ft:ty) => {
const _: () = assert!(std::mem::size_of::<$t>() == end_of!($t, $last: $ft));
    };
}
pub(super) use no_tail_padding;

/// A struct with `size: u32` as its first field.
///
/// # Safety
/// The implementor is `#[repr(C)]`, starts with `size: u32`, and `MIN` is the end of its base
/// fields ([`end_of`]), at most its sizeof.
pub(super) unsafe trait SizePrefixed: Copy {
    /// Its name in the header, for the error message.
    const NAME: &'static str;
    /// The end of its base fields (those the header marks with no ABI version): the least a
    /// caller's struct may hold.
    const MIN: usize;
}

/// Writes `value` into the caller's `out`, as much of it as the caller's `size` says it holds,
/// and sets `size` to the bytes written. `out` is not NULL (checked by the caller).
///
/// # Safety
/// `out` points to at least `(*out).size` writable bytes, as the header requires.
pub(super) unsafe fn fill<T: SizePrefixed>(out: *mut T, value: T, what: &str) -> Result<(), i32> {
    let size = unsafe { check_size(out, what) }?;
    let n = size.min(size_of::<T>());
    // Copied as MaybeUninit bytes: the struct's padding is uninitialised.
    let from = &value as *const T as *const MaybeUninit<u8>;
    unsafe {
        std::ptr::copy_nonoverlapping(from, out as *mut MaybeUninit<u8>, n);
        (out as *mut u32).write_unaligned(n as u32);
    }
    Ok(())
}

/// The caller's `size`, refused when it does not hold the base fields: an operation checks it
/// before it sends a request, so a wrong size never costs a flash.
///
/// # Safety
/// As for [`fill`].
pub(super) unsafe fn check_size<T: SizePrefixed>(out: *const T, what: &str) -> Result<usize, i32> {
    let size = unsafe { (out as *const u32).read_unaligned() } as usize;
    if size < T::MIN {
        return Err(fail(
            DFUFLASH_ERR_INVALID_ARGUMENT,
            format!(
                "{what}->size is {size}: set it to sizeof({}) before the call (at least {} bytes)",
                T::NAME,
                T::MIN
            ),
        ));
    }
    Ok(size)
}

/// The `size` a struct the library hands to a callback carries: all of it.
pub(super) fn own_size<T>() -> u32 {
    size_of::<T>() as u32
}
