//! The detailed message of the last failure, one per thread, and the text of every code.

use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::codes::{
    self, code_of, DFUFLASH_ERR_BUFFER_TOO_SMALL, DFUFLASH_ERR_NULL_ARGUMENT, DFUFLASH_ERR_PANIC,
    DFUFLASH_OK,
};
use crate::error::Error;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

pub(super) fn set_last_error(message: &str) {
    let c = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

pub(super) fn fail(code: i32, message: impl Into<String>) -> i32 {
    set_last_error(&message.into());
    code
}

pub(super) fn err(e: Error) -> i32 {
    fail(code_of(&e), e.to_string())
}

/// A static description of a status code; any integer is accepted.
#[no_mangle]
pub extern "C" fn dfuflash_status_str(code: i32) -> *const c_char {
    codes::describe(code).as_ptr()
}

/// The detailed message of the last failure on the calling thread ("" after a success). Valid
/// until the next dfuflash call on this thread.
#[no_mangle]
pub extern "C" fn dfuflash_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// Copies the last failure's message on the calling thread into `buf` (`len` bytes), NUL
/// terminated, so it outlives later calls. `*out_needed` gets the size the whole message needs,
/// NUL included. DFUFLASH_ERR_BUFFER_TOO_SMALL when it did not fit (then `buf` holds as much as
/// fits, NUL terminated, when `len` > 0); `buf` may be NULL when `len` is 0. This call leaves
/// the last error as it was.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_last_error_copy(
    buf: *mut c_char,
    len: usize,
    out_needed: *mut usize,
) -> i32 {
    if out_needed.is_null() || (buf.is_null() && len > 0) {
        return DFUFLASH_ERR_NULL_ARGUMENT;
    }
    catch_unwind(AssertUnwindSafe(|| {
        LAST_ERROR.with(|e| {
            let message = e.borrow();
            let bytes = message.as_bytes_with_nul();
            unsafe { *out_needed = bytes.len() };
            if len == 0 {
                return DFUFLASH_ERR_BUFFER_TOO_SMALL;
            }
            let n = bytes.len().min(len);
            unsafe {
                std::ptr::copy_nonoverlapping(bytes.as_ptr().cast::<c_char>(), buf, n);
                *buf.add(n - 1) = 0;
            }
            if n == bytes.len() {
                DFUFLASH_OK
            } else {
                DFUFLASH_ERR_BUFFER_TOO_SMALL
            }
        })
    }))
    .unwrap_or(DFUFLASH_ERR_PANIC)
}
