//! The panic boundary every exported function runs inside, and the checks of its pointer
//! arguments.

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::codes::{
    DFUFLASH_ERR_INVALID_ARGUMENT, DFUFLASH_ERR_NULL_ARGUMENT, DFUFLASH_ERR_PANIC, DFUFLASH_OK,
};
use super::last_error::{fail, set_last_error};

/// Runs `f` inside the panic boundary: its code, or DFUFLASH_ERR_PANIC.
pub(super) fn guard(f: impl FnOnce() -> Result<(), i32>) -> i32 {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => {
            set_last_error("");
            DFUFLASH_OK
        }
        Ok(Err(code)) => code,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!("internal error (panic): {what}"));
            DFUFLASH_ERR_PANIC
        }
    }
}

/// Drops what a `*_new`/`*_load`/`*_list` call handed out with Box::into_raw, inside the panic
/// boundary; NULL is a no-op.
pub(super) fn free_boxed<T>(p: *mut T) {
    if !p.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { Box::from_raw(p) })));
    }
}

pub(super) fn null(name: &str) -> i32 {
    fail(DFUFLASH_ERR_NULL_ARGUMENT, format!("{name} is NULL"))
}

pub(super) unsafe fn str_arg<'a>(p: *const c_char, name: &str) -> Result<Option<&'a str>, i32> {
    if p.is_null() {
        return Ok(None);
    }
    CStr::from_ptr(p).to_str().map(Some).map_err(|_| {
        fail(
            DFUFLASH_ERR_INVALID_ARGUMENT,
            format!("{name} is not UTF-8"),
        )
    })
}
