//! Options of an operation: flags, the leave address, timeouts, callbacks and user data.

use std::ffi::c_void;
use std::time::Duration;

use super::boundary::{free_boxed, guard, null};
use super::callbacks::{dfuflash_log_cb, dfuflash_progress_cb};
use super::codes::DFUFLASH_ERR_INVALID_ARGUMENT;
use super::last_error::fail;
use crate::job::{FlashOptions, LayoutOptions};
use crate::protocol::EngineOptions;

/// `dfuflash_options_set_timeout_ms`: USB timeout of every control transfer but GETSTATUS.
pub const DFUFLASH_TIMEOUT_CONTROL: i32 = 1;
/// USB timeout of GETSTATUS (longer than one sector erase).
pub const DFUFLASH_TIMEOUT_STATUS: i32 = 2;
/// Deadline of a page erase.
pub const DFUFLASH_TIMEOUT_ERASE: i32 = 3;
/// Deadline of a mass erase, and of the first block of a DFU 1.1 download (a device may erase
/// its whole firmware area then, as Zephyr's DFU class does).
pub const DFUFLASH_TIMEOUT_MASS_ERASE: i32 = 4;
/// Deadline of a Set Address or a data block (but the first of a DFU 1.1 download).
pub const DFUFLASH_TIMEOUT_COMMAND: i32 = 5;
/// Deadline of DFU 1.1 manifestation.
pub const DFUFLASH_TIMEOUT_MANIFEST: i32 = 6;
/// Deadline of the whole operation (default: an allowance from the work it plans, priced at
/// the slowest documented device timings; about 224 s for a 1.75 MB STM32H7 image). Past it
/// the operation fails with DFUFLASH_ERR_JOB_TIMEOUT.
pub const DFUFLASH_TIMEOUT_JOB: i32 = 7;
/// dfuflash_flash_layout: how long the board may take to come back after each DETACH, as its
/// next boot stage (default 10 s) (ABI 3.2).
pub const DFUFLASH_TIMEOUT_REENUMERATE: i32 = 8;

/// Options for an operation; defaults: verify on, leave off, workarounds on, option bytes and
/// OTP refused, suffix ids checked, unchanged sectors skipped (full off), boot block last, no callbacks.
pub struct dfuflash_options {
    pub(super) flash: FlashOptions,
    pub(super) layout: LayoutOptions,
    pub(super) engine: EngineOptions,
    pub(super) progress: dfuflash_progress_cb,
    pub(super) log: dfuflash_log_cb,
    pub(super) user_data: *mut c_void,
}

impl Default for dfuflash_options {
    fn default() -> Self {
        Self {
            flash: FlashOptions::default(),
            layout: LayoutOptions::default(),
            engine: EngineOptions::default(),
            progress: None,
            log: None,
            user_data: std::ptr::null_mut(),
        }
    }
}

/// `dfuflash_options_set_flag`: read back and compare after writing.
pub const DFUFLASH_OPT_VERIFY: i32 = 1;
/// Leave DFU mode after a fully successful download; a device that answers it is still in DFU
/// mode fails the download with DFUFLASH_ERR_UNEXPECTED_STATE.
pub const DFUFLASH_OPT_LEAVE: i32 = 2;
/// One mass erase (of alt setting 0, the internal flash) instead of its sector erases; a target on
/// another alt setting is still erased sector by sector.
pub const DFUFLASH_OPT_MASS_ERASE: i32 = 3;
/// Device workarounds (the STM32H7 Rev V erase recovery).
pub const DFUFLASH_OPT_WORKAROUNDS: i32 = 4;
/// Allow writing option bytes.
pub const DFUFLASH_OPT_ALLOW_OPTION_BYTES: i32 = 5;
/// Allow writing OTP memory.
pub const DFUFLASH_OPT_ALLOW_OTP: i32 = 6;
/// Refuse an image whose DFU suffix names another device.
pub const DFUFLASH_OPT_CHECK_SUFFIX: i32 = 7;
/// Erase and write every planned sector (off: sectors that already hold what the download
/// would leave are read, found equal and skipped).
pub const DFUFLASH_OPT_FULL: i32 = 8;
/// Write the boot block (the first block of the image's lowest flash segment: a vector table)
/// last, after the rest is written and verified, and each segment's first block after its
/// other blocks, so a power cut never leaves a bootable half image (on by default; off for
/// images whose first block is not a vector table).
pub const DFUFLASH_OPT_BOOT_LAST: i32 = 9;

/// New options with the defaults. Free with dfuflash_options_free.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_options_new(out: *mut *mut dfuflash_options) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(null("out"));
        }
        let o = dfuflash_options::default();
        unsafe { *out = Box::into_raw(Box::new(o)) };
        Ok(())
    })
}

/// Frees options; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_options_free(opts: *mut dfuflash_options) {
    free_boxed(opts);
}

fn with_opts(
    opts: *mut dfuflash_options,
    f: impl FnOnce(&mut dfuflash_options) -> Result<(), i32>,
) -> i32 {
    guard(|| {
        if opts.is_null() {
            return Err(null("opts"));
        }
        f(unsafe { &mut *opts })
    })
}

/// Sets one of the DFUFLASH_OPT_ flags.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_options_set_flag(
    opts: *mut dfuflash_options,
    flag: i32,
    on: bool,
) -> i32 {
    with_opts(opts, |o| {
        match flag {
            DFUFLASH_OPT_VERIFY => o.flash.verify = on,
            DFUFLASH_OPT_LEAVE => o.flash.leave = on,
            DFUFLASH_OPT_MASS_ERASE => o.flash.mass_erase = on,
            DFUFLASH_OPT_WORKAROUNDS => o.engine.workarounds = on,
            DFUFLASH_OPT_ALLOW_OPTION_BYTES => o.flash.allow_option_bytes = on,
            DFUFLASH_OPT_ALLOW_OTP => o.flash.allow_otp = on,
            DFUFLASH_OPT_CHECK_SUFFIX => o.flash.check_suffix_ids = on,
            DFUFLASH_OPT_FULL => o.flash.full = on,
            DFUFLASH_OPT_BOOT_LAST => o.flash.boot_last = on,
            _ => {
                return Err(fail(
                    DFUFLASH_ERR_INVALID_ARGUMENT,
                    format!("unknown option flag {flag}"),
                ))
            }
        }
        Ok(())
    })
}

/// Jump address when leaving (default: the image's first address).
#[no_mangle]
pub unsafe extern "C" fn dfuflash_options_set_leave_address(
    opts: *mut dfuflash_options,
    address: u32,
) -> i32 {
    with_opts(opts, |o| {
        o.flash.leave_address = Some(address);
        Ok(())
    })
}

/// Sets one of the DFUFLASH_TIMEOUT_ limits, in milliseconds (at least 1).
#[no_mangle]
pub unsafe extern "C" fn dfuflash_options_set_timeout_ms(
    opts: *mut dfuflash_options,
    which: i32,
    ms: u32,
) -> i32 {
    with_opts(opts, |o| {
        if ms == 0 {
            return Err(fail(DFUFLASH_ERR_INVALID_ARGUMENT, "a timeout of 0 ms"));
        }
        let d = Duration::from_millis(ms as u64);
        let t = &mut o.engine.timeouts;
        match which {
            DFUFLASH_TIMEOUT_CONTROL => t.control = d,
            DFUFLASH_TIMEOUT_STATUS => t.status = d,
            DFUFLASH_TIMEOUT_ERASE => t.erase = d,
            DFUFLASH_TIMEOUT_MASS_ERASE => t.mass_erase = d,
            DFUFLASH_TIMEOUT_COMMAND => t.command = d,
            DFUFLASH_TIMEOUT_MANIFEST => t.manifest = d,
            DFUFLASH_TIMEOUT_JOB => t.job = Some(d),
            DFUFLASH_TIMEOUT_REENUMERATE => o.layout.reenumerate_within = d,
            _ => {
                return Err(fail(
                    DFUFLASH_ERR_INVALID_ARGUMENT,
                    format!("unknown timeout {which}"),
                ))
            }
        }
        Ok(())
    })
}

/// The progress callback (NULL: none). It runs on the calling thread during the call.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_options_set_progress_callback(
    opts: *mut dfuflash_options,
    cb: dfuflash_progress_cb,
) -> i32 {
    with_opts(opts, |o| {
        o.progress = cb;
        Ok(())
    })
}

/// The log callback (NULL: none). It runs on the calling thread during the call.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_options_set_log_callback(
    opts: *mut dfuflash_options,
    cb: dfuflash_log_cb,
) -> i32 {
    with_opts(opts, |o| {
        o.log = cb;
        Ok(())
    })
}

/// The user data passed to both callbacks.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_options_set_user_data(
    opts: *mut dfuflash_options,
    user_data: *mut c_void,
) -> i32 {
    with_opts(opts, |o| {
        o.user_data = user_data;
        Ok(())
    })
}
