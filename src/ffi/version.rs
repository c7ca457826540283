//! Version numbers: the library's and the ABI's, as constants and at run time.

use std::ffi::{c_char, CStr};

/// ABI major version: bumped only when an existing function or struct changes.
pub const DFUFLASH_ABI_MAJOR: u32 = 3;
/// ABI minor version: bumped when functions or fields of the growing structs are appended.
pub const DFUFLASH_ABI_MINOR: u32 = 2;
/// Library version, major part.
pub const DFUFLASH_VERSION_MAJOR: u32 = 0;
/// Library version, minor part.
pub const DFUFLASH_VERSION_MINOR: u32 = 3;
/// Library version, patch part.
pub const DFUFLASH_VERSION_PATCH: u32 = 0;

/// The library version, such as "0.1.0".
#[no_mangle]
pub extern "C" fn dfuflash_version() -> *const c_char {
    static V: &CStr = c"0.3.0";
    V.as_ptr()
}

/// (DFUFLASH_ABI_MAJOR << 16) | DFUFLASH_ABI_MINOR of the library.
#[no_mangle]
pub extern "C" fn dfuflash_abi_version() -> u32 {
    (DFUFLASH_ABI_MAJOR << 16) | DFUFLASH_ABI_MINOR
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_constants_match_the_crate_version() {
        let v =
            format!("{DFUFLASH_VERSION_MAJOR}.{DFUFLASH_VERSION_MINOR}.{DFUFLASH_VERSION_PATCH}");
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
        let c = unsafe { CStr::from_ptr(dfuflash_version()) };
        assert_eq!(c.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
