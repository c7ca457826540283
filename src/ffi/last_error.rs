//! The detailed message of the last failure, one per thread, and the text of every code.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

use super::codes::{self, code_of};
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
