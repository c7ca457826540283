//! The C ABI: the only `extern "C"` code. Every function runs inside a panic boundary,
//! checks every pointer, writes outputs only on success, and returns a status code; the
//! detailed message of the last failure on the calling thread is [`dfuflash_last_error`].
//! `include/dfuflash.h` is generated from this module by cbindgen.
#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]

mod codes;

pub use codes::*;

use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use crate::device::{self, AnyTransport, Selector};
use crate::error::Error;
use crate::image::{self, Image, LoadOptions};
use crate::job::{self, FlashOptions, Report};
use crate::layout::Layout;
use crate::progress::{CancelToken, Event, Flow, Level, Phase};
use crate::protocol::{Dfu, EngineOptions};
use crate::sim::{Faults, SimDevice};
use crate::transport::Mode;

/// ABI major version: bumped only when an existing function or struct changes.
pub const DFUFLASH_ABI_MAJOR: u32 = 1;
/// ABI minor version: bumped when functions are appended.
pub const DFUFLASH_ABI_MINOR: u32 = 0;
/// Library version, major part.
pub const DFUFLASH_VERSION_MAJOR: u32 = 0;
/// Library version, minor part.
pub const DFUFLASH_VERSION_MINOR: u32 = 1;
/// Library version, patch part.
pub const DFUFLASH_VERSION_PATCH: u32 = 0;

/// A progress callback returns this to go on.
pub const DFUFLASH_CONTINUE: i32 = 0;
/// A progress callback returns this to cancel; the call then fails with DFUFLASH_ERR_CANCELLED.
pub const DFUFLASH_CANCEL: i32 = 1;

/// Phase: erasing (done/total count sectors; a mass erase counts 1).
pub const DFUFLASH_PHASE_ERASE: i32 = 1;
/// Phase: writing (bytes).
pub const DFUFLASH_PHASE_WRITE: i32 = 2;
/// Phase: reading back and comparing (bytes).
pub const DFUFLASH_PHASE_VERIFY: i32 = 3;
/// Phase: reading into the caller's buffer (bytes).
pub const DFUFLASH_PHASE_READ: i32 = 4;
/// Phase: leaving DFU mode.
pub const DFUFLASH_PHASE_LEAVE: i32 = 5;

/// Log level: request-level detail.
pub const DFUFLASH_LOG_DEBUG: i32 = 0;
/// Log level: what happened.
pub const DFUFLASH_LOG_INFO: i32 = 1;
/// Log level: something the user should know (a device workaround fired).
pub const DFUFLASH_LOG_WARN: i32 = 2;
/// Log level: a failure.
pub const DFUFLASH_LOG_ERROR: i32 = 3;

/// `dfuflash_device_list_new` flag: include the simulated models.
pub const DFUFLASH_LIST_SIMULATED: u32 = 1;

/// Device mode: the application runs (runtime DFU interface).
pub const DFUFLASH_MODE_RUNTIME: i32 = 1;
/// Device mode: the bootloader runs (DFU mode).
pub const DFUFLASH_MODE_DFU: i32 = 2;

/// `dfuflash_options_set_timeout_ms`: USB timeout of every control transfer but GETSTATUS.
pub const DFUFLASH_TIMEOUT_CONTROL: i32 = 1;
/// USB timeout of GETSTATUS (longer than one sector erase).
pub const DFUFLASH_TIMEOUT_STATUS: i32 = 2;
/// Deadline of a page erase.
pub const DFUFLASH_TIMEOUT_ERASE: i32 = 3;
/// Deadline of a mass erase.
pub const DFUFLASH_TIMEOUT_MASS_ERASE: i32 = 4;
/// Deadline of a Set Address or a data block.
pub const DFUFLASH_TIMEOUT_COMMAND: i32 = 5;
/// Deadline of DFU 1.1 manifestation.
pub const DFUFLASH_TIMEOUT_MANIFEST: i32 = 6;

/// What a progress callback is told.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dfuflash_progress {
    /// One of the DFUFLASH_PHASE_ constants.
    pub phase: i32,
    /// Units done in the phase (0 when the phase starts).
    pub done: u64,
    /// Units in the phase.
    pub total: u64,
    /// Address of the sector or block just finished.
    pub address: u32,
    /// Erase: index of the sector in the device's layout; -1 otherwise.
    pub sector_index: i32,
    /// Erase: this is sector k of n, counting from 1; 0 otherwise.
    pub sector_k: i32,
    /// Erase: sectors the job erases; 0 otherwise.
    pub sector_n: i32,
}

/// Progress callback: return DFUFLASH_CONTINUE or DFUFLASH_CANCEL.
pub type dfuflash_progress_cb =
    Option<extern "C" fn(user_data: *mut c_void, progress: *const dfuflash_progress) -> i32>;
/// Log callback: a DFUFLASH_LOG_ level and a NUL-terminated message valid during the call.
pub type dfuflash_log_cb =
    Option<extern "C" fn(user_data: *mut c_void, level: i32, message: *const c_char)>;

/// What the last erase, download, upload or leave on a device did. Pointers stay valid until
/// the next operation on the device or its close.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dfuflash_report {
    /// Bytes sent to the device (padding included).
    pub bytes_written: u64,
    /// Bytes read back and found equal.
    pub bytes_verified: u64,
    /// Control requests sent.
    pub requests: u64,
    /// Addresses of the sectors erased.
    pub sectors_erased: *const u32,
    /// Entries in `sectors_erased`.
    pub sectors_erased_count: usize,
    /// Sectors whose erase needed the STM32H7 Rev V recovery (each was checked by read-back).
    pub workaround_sectors: *const u32,
    /// Entries in `workaround_sectors`.
    pub workaround_sectors_count: usize,
    /// A mass erase was done.
    pub mass_erased: bool,
    /// The device left DFU mode.
    pub left: bool,
    /// Seconds on the device's clock (simulated time on a simulated device).
    pub elapsed_seconds: f64,
    /// Wall-clock seconds.
    pub wall_seconds: f64,
    /// Seconds the simulated device itself was busy since it was opened; -1 for real devices.
    pub device_busy_seconds: f64,
}

/// One device of a list (strings owned by the list; NULL when absent).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dfuflash_device_desc {
    /// idVendor.
    pub vendor_id: u16,
    /// idProduct.
    pub product_id: u16,
    /// bcdDevice.
    pub bcd_device: u16,
    /// bcdDFUVersion (0x0110 DFU 1.1, 0x011A DfuSe).
    pub dfu_version: u16,
    /// wTransferSize.
    pub transfer_size: u16,
    /// bmAttributes of the functional descriptor.
    pub attributes: u8,
    /// DFUFLASH_MODE_RUNTIME or DFUFLASH_MODE_DFU.
    pub mode: i32,
    /// Manufacturer string.
    pub manufacturer: *const c_char,
    /// Product string.
    pub product: *const c_char,
    /// Serial number string.
    pub serial: *const c_char,
    /// USB port path (`1-4.2`), or `sim:MODEL` for a simulated device.
    pub path: *const c_char,
    /// Alt settings (see dfuflash_device_list_alt).
    pub alt_count: usize,
    /// A simulated device.
    pub simulated: bool,
}

/// One alt setting of a listed device.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dfuflash_alt_desc {
    /// bAlternateSetting.
    pub alt: u8,
    /// Its name (on DfuSe devices, the memory layout string).
    pub name: *const c_char,
    /// The name parsed as a DfuSe memory layout.
    pub has_layout: bool,
    /// Sectors in the layout (see dfuflash_device_list_sector); 0 without a layout.
    pub sector_count: usize,
}

/// The function table of `dfuflash_get_api`. Entries are only ever appended; `size` tells a
/// host built against an older header how much of the table it may read.
#[repr(C)]
pub struct dfuflash_api {
    /// sizeof(dfuflash_api) of the library.
    pub size: u32,
    /// dfuflash_abi_version() of the library.
    pub abi_version: u32,
    /// See dfuflash_version.
    pub version: extern "C" fn() -> *const c_char,
    /// See dfuflash_abi_version.
    pub abi_version_fn: extern "C" fn() -> u32,
    /// See dfuflash_status_str.
    pub status_str: extern "C" fn(i32) -> *const c_char,
    /// See dfuflash_last_error.
    pub last_error: extern "C" fn() -> *const c_char,
    /// See dfuflash_device_list_new.
    pub device_list_new: extern "C" fn(u32, *mut *mut dfuflash_device_list) -> i32,
    /// See dfuflash_device_list_count.
    pub device_list_count: extern "C" fn(*const dfuflash_device_list) -> usize,
    /// See dfuflash_device_list_get.
    pub device_list_get:
        extern "C" fn(*const dfuflash_device_list, usize, *mut dfuflash_device_desc) -> i32,
    /// See dfuflash_device_list_alt.
    pub device_list_alt:
        extern "C" fn(*const dfuflash_device_list, usize, usize, *mut dfuflash_alt_desc) -> i32,
    /// See dfuflash_device_list_sector.
    pub device_list_sector: extern "C" fn(
        *const dfuflash_device_list,
        usize,
        usize,
        usize,
        *mut u32,
        *mut u32,
        *mut u8,
    ) -> i32,
    /// See dfuflash_device_list_free.
    pub device_list_free: extern "C" fn(*mut dfuflash_device_list),
    /// See dfuflash_open.
    pub open: extern "C" fn(
        u16,
        u16,
        *const c_char,
        *const c_char,
        i32,
        *const c_char,
        u32,
        *mut *mut dfuflash_device,
    ) -> i32,
    /// See dfuflash_open_simulated.
    pub open_simulated:
        extern "C" fn(*const c_char, *const c_char, i32, *mut *mut dfuflash_device) -> i32,
    /// See dfuflash_device_close.
    pub device_close: extern "C" fn(*mut dfuflash_device),
    /// See dfuflash_device_set_sim_faults.
    pub device_set_sim_faults: extern "C" fn(*mut dfuflash_device, *const c_char) -> i32,
    /// See dfuflash_image_load.
    pub image_load: extern "C" fn(*const c_char, u32, bool, u8, *mut *mut dfuflash_image) -> i32,
    /// See dfuflash_image_from_memory.
    pub image_from_memory:
        extern "C" fn(*const u8, usize, u32, u8, *mut *mut dfuflash_image) -> i32,
    /// See dfuflash_image_target_count.
    pub image_target_count: extern "C" fn(*const dfuflash_image) -> usize,
    /// See dfuflash_image_target.
    pub image_target: extern "C" fn(*const dfuflash_image, usize, *mut u8, *mut usize) -> i32,
    /// See dfuflash_image_segment.
    pub image_segment: extern "C" fn(
        *const dfuflash_image,
        usize,
        usize,
        *mut u32,
        *mut *const u8,
        *mut usize,
    ) -> i32,
    /// See dfuflash_image_free.
    pub image_free: extern "C" fn(*mut dfuflash_image),
    /// See dfuflash_options_new.
    pub options_new: extern "C" fn(*mut *mut dfuflash_options) -> i32,
    /// See dfuflash_options_free.
    pub options_free: extern "C" fn(*mut dfuflash_options),
    /// See dfuflash_options_set_flag.
    pub options_set_flag: extern "C" fn(*mut dfuflash_options, i32, bool) -> i32,
    /// See dfuflash_options_set_leave_address.
    pub options_set_leave_address: extern "C" fn(*mut dfuflash_options, u32) -> i32,
    /// See dfuflash_options_set_timeout_ms.
    pub options_set_timeout_ms: extern "C" fn(*mut dfuflash_options, i32, u32) -> i32,
    /// See dfuflash_options_set_progress_callback.
    pub options_set_progress_callback:
        extern "C" fn(*mut dfuflash_options, dfuflash_progress_cb) -> i32,
    /// See dfuflash_options_set_log_callback.
    pub options_set_log_callback: extern "C" fn(*mut dfuflash_options, dfuflash_log_cb) -> i32,
    /// See dfuflash_options_set_user_data.
    pub options_set_user_data: extern "C" fn(*mut dfuflash_options, *mut c_void) -> i32,
    /// See dfuflash_erase.
    pub erase: extern "C" fn(*mut dfuflash_device, *const dfuflash_options, u32, u32, bool) -> i32,
    /// See dfuflash_download.
    pub download:
        extern "C" fn(*mut dfuflash_device, *const dfuflash_image, *const dfuflash_options) -> i32,
    /// See dfuflash_upload.
    pub upload:
        extern "C" fn(*mut dfuflash_device, *const dfuflash_options, u32, *mut u8, usize) -> i32,
    /// See dfuflash_leave.
    pub leave: extern "C" fn(*mut dfuflash_device, u32, bool) -> i32,
    /// See dfuflash_cancel.
    pub cancel: extern "C" fn(*const dfuflash_device) -> i32,
    /// See dfuflash_device_report.
    pub device_report: extern "C" fn(*const dfuflash_device, *mut dfuflash_report) -> i32,
}

/// A list of devices.
pub struct dfuflash_device_list {
    entries: Vec<device::Entry>,
    strings: Vec<Vec<CString>>, // per entry: manufacturer, product, serial, path, alt names...
    layouts: Vec<Vec<Option<Layout>>>,
}

/// An open device. Used by one thread at a time; dfuflash_cancel may be called from any thread.
pub struct dfuflash_device {
    cancel: CancelToken,
    inner: Mutex<DeviceInner>,
}

struct DeviceInner {
    dfu: Dfu<AnyTransport>,
    state_file: Option<PathBuf>,
    report: Report,
    sectors: Vec<u32>,
    workaround: Vec<u32>,
}

/// A firmware image.
pub struct dfuflash_image {
    image: Image,
}

/// Options for an operation; defaults: verify on, leave off, workarounds on, option bytes and
/// OTP refused, suffix ids checked, no callbacks.
pub struct dfuflash_options {
    flash: FlashOptions,
    engine: EngineOptions,
    progress: dfuflash_progress_cb,
    log: dfuflash_log_cb,
    user_data: *mut c_void,
}

impl Default for dfuflash_options {
    fn default() -> Self {
        Self {
            flash: FlashOptions::default(),
            engine: EngineOptions::default(),
            progress: None,
            log: None,
            user_data: std::ptr::null_mut(),
        }
    }
}

/// `dfuflash_options_set_flag`: read back and compare after writing.
pub const DFUFLASH_OPT_VERIFY: i32 = 1;
/// Leave DFU mode after a fully successful download.
pub const DFUFLASH_OPT_LEAVE: i32 = 2;
/// One mass erase instead of sector erases.
pub const DFUFLASH_OPT_MASS_ERASE: i32 = 3;
/// Device workarounds (the STM32H7 Rev V erase recovery).
pub const DFUFLASH_OPT_WORKAROUNDS: i32 = 4;
/// Allow writing option bytes.
pub const DFUFLASH_OPT_ALLOW_OPTION_BYTES: i32 = 5;
/// Allow writing OTP memory.
pub const DFUFLASH_OPT_ALLOW_OTP: i32 = 6;
/// Refuse an image whose DFU suffix names another device.
pub const DFUFLASH_OPT_CHECK_SUFFIX: i32 = 7;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    let c = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// Runs `f` inside the panic boundary: its code, or DFUFLASH_ERR_PANIC.
fn guard(f: impl FnOnce() -> Result<(), i32>) -> i32 {
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
fn free_boxed<T>(p: *mut T) {
    if !p.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { Box::from_raw(p) })));
    }
}

fn fail(code: i32, message: impl Into<String>) -> i32 {
    set_last_error(&message.into());
    code
}

fn err(e: Error) -> i32 {
    fail(code_of(&e), e.to_string())
}

fn null(name: &str) -> i32 {
    fail(DFUFLASH_ERR_NULL_ARGUMENT, format!("{name} is NULL"))
}

unsafe fn str_arg<'a>(p: *const c_char, name: &str) -> Result<Option<&'a str>, i32> {
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

/// The library version, such as "0.1.0".
#[no_mangle]
pub extern "C" fn dfuflash_version() -> *const c_char {
    static V: &CStr = c"0.1.0";
    V.as_ptr()
}

/// (DFUFLASH_ABI_MAJOR << 16) | DFUFLASH_ABI_MINOR of the library.
#[no_mangle]
pub extern "C" fn dfuflash_abi_version() -> u32 {
    (DFUFLASH_ABI_MAJOR << 16) | DFUFLASH_ABI_MINOR
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

/// Lists devices (DFUFLASH_LIST_SIMULATED adds the simulated models). Free with
/// dfuflash_device_list_free.
#[no_mangle]
pub extern "C" fn dfuflash_device_list_new(flags: u32, out: *mut *mut dfuflash_device_list) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(null("out"));
        }
        let entries = device::list(flags & DFUFLASH_LIST_SIMULATED != 0).map_err(err)?;
        let cs = |s: &Option<String>| {
            CString::new(s.clone().unwrap_or_default().replace('\0', " ")).unwrap_or_default()
        };
        let strings = entries
            .iter()
            .map(|e| {
                let i = &e.info;
                let mut v = vec![
                    cs(&i.manufacturer),
                    cs(&i.product),
                    cs(&i.serial),
                    cs(&i.port_path),
                ];
                v.extend(i.alt_settings.iter().map(|a| cs(&Some(a.name.clone()))));
                v
            })
            .collect();
        let layouts = entries
            .iter()
            .map(|e| {
                e.info
                    .alt_settings
                    .iter()
                    .map(|a| Layout::parse(&a.name).ok())
                    .collect()
            })
            .collect();
        let list = Box::new(dfuflash_device_list {
            entries,
            strings,
            layouts,
        });
        unsafe { *out = Box::into_raw(list) };
        Ok(())
    })
}

/// Devices in a list (0 for NULL).
#[no_mangle]
pub extern "C" fn dfuflash_device_list_count(list: *const dfuflash_device_list) -> usize {
    if list.is_null() {
        return 0;
    }
    catch_unwind(AssertUnwindSafe(|| unsafe { (*list).entries.len() })).unwrap_or(0)
}

fn list_entry<'a>(
    list: *const dfuflash_device_list,
    index: usize,
) -> Result<&'a dfuflash_device_list, i32> {
    if list.is_null() {
        return Err(null("list"));
    }
    let l = unsafe { &*list };
    if index >= l.entries.len() {
        return Err(fail(
            DFUFLASH_ERR_INVALID_ARGUMENT,
            format!(
                "device index {index} out of range (the list holds {})",
                l.entries.len()
            ),
        ));
    }
    Ok(l)
}

/// Describes device `index` of a list.
#[no_mangle]
pub extern "C" fn dfuflash_device_list_get(
    list: *const dfuflash_device_list,
    index: usize,
    out: *mut dfuflash_device_desc,
) -> i32 {
    guard(|| {
        let l = list_entry(list, index)?;
        if out.is_null() {
            return Err(null("out"));
        }
        let e = &l.entries[index];
        let s = &l.strings[index];
        let opt = |c: &CString, present: bool| {
            if present {
                c.as_ptr()
            } else {
                std::ptr::null()
            }
        };
        let i = &e.info;
        let desc = dfuflash_device_desc {
            vendor_id: i.vendor_id,
            product_id: i.product_id,
            bcd_device: i.bcd_device,
            dfu_version: i.functional.dfu_version,
            transfer_size: i.functional.transfer_size,
            attributes: i.functional.attributes,
            mode: if i.mode == Mode::Runtime {
                DFUFLASH_MODE_RUNTIME
            } else {
                DFUFLASH_MODE_DFU
            },
            manufacturer: opt(&s[0], i.manufacturer.is_some()),
            product: opt(&s[1], i.product.is_some()),
            serial: opt(&s[2], i.serial.is_some()),
            path: opt(&s[3], i.port_path.is_some()),
            alt_count: i.alt_settings.len(),
            simulated: e.simulated.is_some(),
        };
        unsafe { *out = desc };
        Ok(())
    })
}

/// Describes alt setting `alt_index` of device `index`.
#[no_mangle]
pub extern "C" fn dfuflash_device_list_alt(
    list: *const dfuflash_device_list,
    index: usize,
    alt_index: usize,
    out: *mut dfuflash_alt_desc,
) -> i32 {
    guard(|| {
        let l = list_entry(list, index)?;
        if out.is_null() {
            return Err(null("out"));
        }
        let alts = &l.entries[index].info.alt_settings;
        let a = alts.get(alt_index).ok_or_else(|| {
            fail(
                DFUFLASH_ERR_INVALID_ARGUMENT,
                format!(
                    "alt index {alt_index} out of range (the device has {})",
                    alts.len()
                ),
            )
        })?;
        let layout = &l.layouts[index][alt_index];
        let desc = dfuflash_alt_desc {
            alt: a.alt,
            name: l.strings[index][4 + alt_index].as_ptr(),
            has_layout: layout.is_some(),
            sector_count: layout.as_ref().map(|x| x.sectors().count()).unwrap_or(0),
        };
        unsafe { *out = desc };
        Ok(())
    })
}

/// Sector `sector` of the layout of alt setting `alt_index` of device `index`: its address,
/// size and permissions (bit 0 readable, bit 1 erasable, bit 2 writable).
#[no_mangle]
pub extern "C" fn dfuflash_device_list_sector(
    list: *const dfuflash_device_list,
    index: usize,
    alt_index: usize,
    sector: usize,
    out_address: *mut u32,
    out_size: *mut u32,
    out_perms: *mut u8,
) -> i32 {
    guard(|| {
        let l = list_entry(list, index)?;
        if out_address.is_null() || out_size.is_null() || out_perms.is_null() {
            return Err(null("an output pointer"));
        }
        let layout = l.layouts[index]
            .get(alt_index)
            .and_then(|x| x.as_ref())
            .ok_or_else(|| {
                fail(
                    DFUFLASH_ERR_INVALID_ARGUMENT,
                    format!("alt index {alt_index} has no DfuSe layout"),
                )
            })?;
        let s = layout.sectors().nth(sector).ok_or_else(|| {
            fail(
                DFUFLASH_ERR_INVALID_ARGUMENT,
                format!("sector {sector} out of range"),
            )
        })?;
        unsafe {
            *out_address = s.address;
            *out_size = s.size;
            *out_perms = s.perms.0;
        }
        Ok(())
    })
}

/// Frees a list; NULL is a no-op.
#[no_mangle]
pub extern "C" fn dfuflash_device_list_free(list: *mut dfuflash_device_list) {
    free_boxed(list);
}

fn new_device(dfu: Dfu<AnyTransport>, state_file: Option<PathBuf>) -> *mut dfuflash_device {
    Box::into_raw(Box::new(dfuflash_device {
        cancel: CancelToken::new(),
        inner: Mutex::new(DeviceInner {
            dfu,
            state_file,
            report: Report::default(),
            sectors: Vec::new(),
            workaround: Vec::new(),
        }),
    }))
}

/// Opens the one device that matches: `vendor_id`/`product_id` 0 match any, `serial`,
/// `path` and `alt_name` may be NULL; `alt` -1 means alt setting 0 unless `alt_name` names
/// one. Flags: DFUFLASH_LIST_SIMULATED also matches simulated models (path `sim:MODEL`).
/// Several matches fail with DFUFLASH_ERR_AMBIGUOUS_DEVICE and a message listing them.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn dfuflash_open(
    vendor_id: u16,
    product_id: u16,
    serial: *const c_char,
    path: *const c_char,
    alt: i32,
    alt_name: *const c_char,
    flags: u32,
    out: *mut *mut dfuflash_device,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(null("out"));
        }
        let mut sel = Selector::default();
        sel.vendor_id = (vendor_id != 0).then_some(vendor_id);
        sel.product_id = (product_id != 0).then_some(product_id);
        sel.serial = unsafe { str_arg(serial, "serial")? }.map(String::from);
        sel.path = unsafe { str_arg(path, "path")? }.map(String::from);
        sel.alt_name = unsafe { str_arg(alt_name, "alt_name")? }.map(String::from);
        sel.alt = u8::try_from(alt).ok();
        let entries = device::list(flags & DFUFLASH_LIST_SIMULATED != 0).map_err(err)?;
        let entry = device::select(&entries, &sel).map_err(err)?;
        let alt = device::resolve_alt(&entry.info, &sel).map_err(err)?;
        let t = device::open(entry, Duration::from_secs(10)).map_err(err)?;
        let dfu = Dfu::open(t, alt, EngineOptions::default()).map_err(|e| err(e.into()))?;
        unsafe { *out = new_device(dfu, None) };
        Ok(())
    })
}

/// Opens a simulated device of `model` (see the simulator's models), keeping its memory in
/// `state_file` when not NULL (read now, written after every operation and at close), on alt
/// setting `alt` (-1: 0).
#[no_mangle]
pub extern "C" fn dfuflash_open_simulated(
    model: *const c_char,
    state_file: *const c_char,
    alt: i32,
    out: *mut *mut dfuflash_device,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(null("out"));
        }
        let model = unsafe { str_arg(model, "model")? }.ok_or_else(|| null("model"))?;
        let state = unsafe { str_arg(state_file, "state_file")? }.map(PathBuf::from);
        let sim = match &state {
            Some(p) => SimDevice::with_state(model, p),
            None => SimDevice::new(model),
        }
        .map_err(|e| err(e.into()))?;
        let alt = u8::try_from(alt).unwrap_or(0);
        let dfu = Dfu::open(AnyTransport::Sim(sim), alt, EngineOptions::default())
            .map_err(|e| err(e.into()))?;
        unsafe { *out = new_device(dfu, state) };
        Ok(())
    })
}

/// Closes a device (saving a simulated device's state file); NULL is a no-op.
#[no_mangle]
pub extern "C" fn dfuflash_device_close(dev: *mut dfuflash_device) {
    if dev.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let d = unsafe { Box::from_raw(dev) };
        let inner = d
            .inner
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        save_state(&inner);
    }));
}

/// Arms simulator faults on a simulated device: `KIND@REQUEST[,...]` with KIND disconnect,
/// stall, timeout, power-loss, status=NAME, wedge-no-erase or panic (request numbers count from
/// the device's first request). DFUFLASH_ERR_INVALID_ARGUMENT on a real device.
#[no_mangle]
pub extern "C" fn dfuflash_device_set_sim_faults(
    dev: *mut dfuflash_device,
    spec: *const c_char,
) -> i32 {
    guard(|| {
        if dev.is_null() {
            return Err(null("dev"));
        }
        let spec = unsafe { str_arg(spec, "spec")? }.ok_or_else(|| null("spec"))?;
        let faults = Faults::parse(spec).map_err(|m| fail(DFUFLASH_ERR_INVALID_ARGUMENT, m))?;
        let d = unsafe { &*dev };
        let mut inner = d
            .inner
            .try_lock()
            .map_err(|_| fail(DFUFLASH_ERR_BUSY, "the device is in use by another call"))?;
        let sim = inner
            .dfu
            .transport_mut()
            .sim_mut()
            .ok_or_else(|| fail(DFUFLASH_ERR_INVALID_ARGUMENT, "not a simulated device"))?;
        sim.set_faults(faults);
        Ok(())
    })
}

/// Loads a firmware file of any supported format (detected by content). For a raw binary pass
/// `has_address` and its `address`; for other formats `has_address` must be false. `alt` is the
/// alt setting for formats without targets.
#[no_mangle]
pub extern "C" fn dfuflash_image_load(
    path: *const c_char,
    address: u32,
    has_address: bool,
    alt: u8,
    out: *mut *mut dfuflash_image,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(null("out"));
        }
        let path = unsafe { str_arg(path, "path")? }.ok_or_else(|| null("path"))?;
        let mut o = LoadOptions::default();
        o.address = has_address.then_some(address);
        o.alt = alt;
        let (_, image) = image::load(std::path::Path::new(path), &o).map_err(|e| err(e.into()))?;
        unsafe { *out = Box::into_raw(Box::new(dfuflash_image { image })) };
        Ok(())
    })
}

/// An image of `len` bytes of caller memory (copied) at `address`, for alt setting `alt`.
#[no_mangle]
pub extern "C" fn dfuflash_image_from_memory(
    data: *const u8,
    len: usize,
    address: u32,
    alt: u8,
    out: *mut *mut dfuflash_image,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(null("out"));
        }
        if data.is_null() {
            return Err(null("data"));
        }
        let bytes = unsafe { std::slice::from_raw_parts(data, len) }.to_vec();
        let image = Image::single(alt, vec![crate::image::Segment::new(address, bytes)])
            .map_err(|e| err(e.into()))?;
        unsafe { *out = Box::into_raw(Box::new(dfuflash_image { image })) };
        Ok(())
    })
}

/// Targets in an image (0 for NULL).
#[no_mangle]
pub extern "C" fn dfuflash_image_target_count(img: *const dfuflash_image) -> usize {
    if img.is_null() {
        return 0;
    }
    catch_unwind(AssertUnwindSafe(|| unsafe { (*img).image.targets.len() })).unwrap_or(0)
}

/// Target `t` of an image: its alt setting and number of segments.
#[no_mangle]
pub extern "C" fn dfuflash_image_target(
    img: *const dfuflash_image,
    t: usize,
    out_alt: *mut u8,
    out_segments: *mut usize,
) -> i32 {
    guard(|| {
        if img.is_null() {
            return Err(null("img"));
        }
        if out_alt.is_null() || out_segments.is_null() {
            return Err(null("an output pointer"));
        }
        let target = unsafe { &*img }.image.targets.get(t).ok_or_else(|| {
            fail(
                DFUFLASH_ERR_INVALID_ARGUMENT,
                format!("target {t} out of range"),
            )
        })?;
        unsafe {
            *out_alt = target.alt;
            *out_segments = target.segments.len();
        }
        Ok(())
    })
}

/// Segment `s` of target `t`: its address and bytes (owned by the image).
#[no_mangle]
pub extern "C" fn dfuflash_image_segment(
    img: *const dfuflash_image,
    t: usize,
    s: usize,
    out_address: *mut u32,
    out_data: *mut *const u8,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        if img.is_null() {
            return Err(null("img"));
        }
        if out_address.is_null() || out_data.is_null() || out_len.is_null() {
            return Err(null("an output pointer"));
        }
        let seg = unsafe { &*img }
            .image
            .targets
            .get(t)
            .and_then(|x| x.segments.get(s))
            .ok_or_else(|| {
                fail(
                    DFUFLASH_ERR_INVALID_ARGUMENT,
                    format!("segment {s} of target {t} out of range"),
                )
            })?;
        unsafe {
            *out_address = seg.address;
            *out_data = seg.data.as_ptr();
            *out_len = seg.data.len();
        }
        Ok(())
    })
}

/// Frees an image; NULL is a no-op.
#[no_mangle]
pub extern "C" fn dfuflash_image_free(img: *mut dfuflash_image) {
    free_boxed(img);
}

/// New options with the defaults. Free with dfuflash_options_free.
#[no_mangle]
pub extern "C" fn dfuflash_options_new(out: *mut *mut dfuflash_options) -> i32 {
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
pub extern "C" fn dfuflash_options_free(opts: *mut dfuflash_options) {
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
pub extern "C" fn dfuflash_options_set_flag(
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
pub extern "C" fn dfuflash_options_set_leave_address(
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
pub extern "C" fn dfuflash_options_set_timeout_ms(
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
pub extern "C" fn dfuflash_options_set_progress_callback(
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
pub extern "C" fn dfuflash_options_set_log_callback(
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
pub extern "C" fn dfuflash_options_set_user_data(
    opts: *mut dfuflash_options,
    user_data: *mut c_void,
) -> i32 {
    with_opts(opts, |o| {
        o.user_data = user_data;
        Ok(())
    })
}

fn save_state(inner: &DeviceInner) {
    if let (Some(path), Some(sim)) = (&inner.state_file, inner.dfu.transport().sim()) {
        let _ = sim.save_state(path);
    }
}

/// Runs an operation on a device with the options' callbacks as observer.
fn operate(
    dev: *const dfuflash_device,
    opts: *const dfuflash_options,
    op: impl FnOnce(
        &mut Dfu<AnyTransport>,
        &mut dyn crate::progress::Observer,
        &CancelToken,
    ) -> Result<Report, Error>,
) -> i32 {
    guard(|| {
        if dev.is_null() {
            return Err(null("dev"));
        }
        let d = unsafe { &*dev };
        let defaults;
        let o = if opts.is_null() {
            defaults = dfuflash_options::default();
            &defaults
        } else {
            unsafe { &*opts }
        };
        let mut inner = d
            .inner
            .try_lock()
            .map_err(|_| fail(DFUFLASH_ERR_BUSY, "the device is in use by another call"))?;
        d.cancel.reset();
        inner.dfu.set_options(o.engine.clone());
        let (progress, log, user) = (o.progress, o.log, o.user_data);
        let mut observer = |ev: &Event<'_>| -> Flow {
            match *ev {
                Event::PhaseStart { phase, total } => {
                    call_progress(progress, user, phase, 0, total, 0, None)
                }
                Event::Progress {
                    phase,
                    done,
                    total,
                    address,
                    sector,
                } => call_progress(progress, user, phase, done, total, address, sector),
                Event::Log { level, message } => {
                    if let Some(cb) = log {
                        let c = CString::new(message.replace('\0', " ")).unwrap_or_default();
                        cb(user, level_code(level), c.as_ptr());
                    }
                    Flow::Continue
                }
                Event::Workaround { address } => {
                    if let Some(cb) = log {
                        let c = CString::new(format!(
                            "STM32H7 Rev V erase recovery fired for sector {address:#010x}"
                        ))
                        .unwrap_or_default();
                        cb(user, DFUFLASH_LOG_WARN, c.as_ptr());
                    }
                    Flow::Continue
                }
            }
        };
        let result = op(&mut inner.dfu, &mut observer, &d.cancel);
        save_state(&inner);
        let report = result.map_err(err)?;
        inner.sectors = report.sectors_erased.clone();
        inner.workaround = report.workaround_sectors.clone();
        inner.report = report;
        Ok(())
    })
}

fn level_code(l: Level) -> i32 {
    match l {
        Level::Debug => DFUFLASH_LOG_DEBUG,
        Level::Info => DFUFLASH_LOG_INFO,
        Level::Warn => DFUFLASH_LOG_WARN,
        Level::Error => DFUFLASH_LOG_ERROR,
    }
}

fn call_progress(
    cb: dfuflash_progress_cb,
    user: *mut c_void,
    phase: Phase,
    done: u64,
    total: u64,
    address: u32,
    sector: Option<crate::progress::SectorProgress>,
) -> Flow {
    let Some(cb) = cb else { return Flow::Continue };
    let p = dfuflash_progress {
        phase: match phase {
            Phase::Erase => DFUFLASH_PHASE_ERASE,
            Phase::Write => DFUFLASH_PHASE_WRITE,
            Phase::Verify => DFUFLASH_PHASE_VERIFY,
            Phase::Read => DFUFLASH_PHASE_READ,
            _ => DFUFLASH_PHASE_LEAVE,
        },
        done,
        total,
        address,
        sector_index: sector.map(|s| s.index as i32).unwrap_or(-1),
        sector_k: sector.map(|s| s.k as i32).unwrap_or(0),
        sector_n: sector.map(|s| s.n as i32).unwrap_or(0),
    };
    if cb(user, &p) == DFUFLASH_CANCEL {
        Flow::Cancel
    } else {
        Flow::Continue
    }
}

/// Erases the sectors of [address, address + length) on the current alt setting, or the whole
/// flash when `mass` (then address and length are ignored). `opts` may be NULL.
#[no_mangle]
pub extern "C" fn dfuflash_erase(
    dev: *mut dfuflash_device,
    opts: *const dfuflash_options,
    address: u32,
    length: u32,
    mass: bool,
) -> i32 {
    operate(dev, opts, |dfu, obs, cancel| {
        if mass {
            job::mass_erase(dfu, obs, cancel)
        } else {
            job::erase_range(dfu, address, length, obs, cancel)
        }
    })
}

/// The whole flash job: plan (refusals before any request), erase, write, verify, optional
/// leave. `opts` may be NULL (defaults).
#[no_mangle]
pub extern "C" fn dfuflash_download(
    dev: *mut dfuflash_device,
    img: *const dfuflash_image,
    opts: *const dfuflash_options,
) -> i32 {
    if img.is_null() {
        return guard(|| Err(null("img")));
    }
    let flash_opts = if opts.is_null() {
        FlashOptions::default()
    } else {
        unsafe { (*opts).flash.clone() }
    };
    operate(dev, opts, |dfu, obs, cancel| {
        job::flash(dfu, &unsafe { &*img }.image, &flash_opts, obs, cancel)
    })
}

/// Reads `len` bytes at `address` of the current alt setting into `buf`.
#[no_mangle]
pub extern "C" fn dfuflash_upload(
    dev: *mut dfuflash_device,
    opts: *const dfuflash_options,
    address: u32,
    buf: *mut u8,
    len: usize,
) -> i32 {
    if buf.is_null() {
        return guard(|| Err(null("buf")));
    }
    operate(dev, opts, |dfu, obs, cancel| {
        let length = u32::try_from(len)
            .map_err(|_| Error::InvalidArgument(format!("length {len} exceeds 4 GiB")))?;
        let start = dfu.requests_sent();
        let data = job::read(dfu, address, length, obs, cancel)?;
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), buf, data.len()) };
        Ok(Report {
            requests: dfu.requests_sent() - start,
            ..Report::default()
        })
    })
}

/// Leaves DFU mode (DfuSe: jump to `address` when `has_address`). The disconnect that follows
/// is success.
#[no_mangle]
pub extern "C" fn dfuflash_leave(
    dev: *mut dfuflash_device,
    address: u32,
    has_address: bool,
) -> i32 {
    operate(dev, std::ptr::null(), |dfu, _, _| {
        job::leave(dfu, has_address.then_some(address))
    })
}

/// Cancels the operation in progress on `dev`, from any thread. The operation stops at its
/// next point between transfers, leaves the device in dfuIDLE and fails with
/// DFUFLASH_ERR_CANCELLED.
#[no_mangle]
pub extern "C" fn dfuflash_cancel(dev: *const dfuflash_device) -> i32 {
    guard(|| {
        if dev.is_null() {
            return Err(null("dev"));
        }
        unsafe { &*dev }.cancel.cancel();
        Ok(())
    })
}

/// The report of the last successful operation on `dev`.
#[no_mangle]
pub extern "C" fn dfuflash_device_report(
    dev: *const dfuflash_device,
    out: *mut dfuflash_report,
) -> i32 {
    guard(|| {
        if dev.is_null() {
            return Err(null("dev"));
        }
        if out.is_null() {
            return Err(null("out"));
        }
        let d = unsafe { &*dev };
        let inner = d
            .inner
            .try_lock()
            .map_err(|_| fail(DFUFLASH_ERR_BUSY, "the device is in use by another call"))?;
        let r = &inner.report;
        let report = dfuflash_report {
            bytes_written: r.bytes_written,
            bytes_verified: r.bytes_verified,
            requests: r.requests,
            sectors_erased: inner.sectors.as_ptr(),
            sectors_erased_count: inner.sectors.len(),
            workaround_sectors: inner.workaround.as_ptr(),
            workaround_sectors_count: inner.workaround.len(),
            mass_erased: r.mass_erased,
            left: r.left.is_some(),
            elapsed_seconds: r.elapsed.as_secs_f64(),
            wall_seconds: r.wall.as_secs_f64(),
            device_busy_seconds: inner
                .dfu
                .transport()
                .sim()
                .map(|s| s.stats().device_busy.as_secs_f64())
                .unwrap_or(-1.0),
        };
        unsafe { *out = report };
        Ok(())
    })
}

static API: dfuflash_api = dfuflash_api {
    size: std::mem::size_of::<dfuflash_api>() as u32,
    abi_version: (DFUFLASH_ABI_MAJOR << 16) | DFUFLASH_ABI_MINOR,
    version: dfuflash_version,
    abi_version_fn: dfuflash_abi_version,
    status_str: dfuflash_status_str,
    last_error: dfuflash_last_error,
    device_list_new: dfuflash_device_list_new,
    device_list_count: dfuflash_device_list_count,
    device_list_get: dfuflash_device_list_get,
    device_list_alt: dfuflash_device_list_alt,
    device_list_sector: dfuflash_device_list_sector,
    device_list_free: dfuflash_device_list_free,
    open: dfuflash_open,
    open_simulated: dfuflash_open_simulated,
    device_close: dfuflash_device_close,
    device_set_sim_faults: dfuflash_device_set_sim_faults,
    image_load: dfuflash_image_load,
    image_from_memory: dfuflash_image_from_memory,
    image_target_count: dfuflash_image_target_count,
    image_target: dfuflash_image_target,
    image_segment: dfuflash_image_segment,
    image_free: dfuflash_image_free,
    options_new: dfuflash_options_new,
    options_free: dfuflash_options_free,
    options_set_flag: dfuflash_options_set_flag,
    options_set_leave_address: dfuflash_options_set_leave_address,
    options_set_timeout_ms: dfuflash_options_set_timeout_ms,
    options_set_progress_callback: dfuflash_options_set_progress_callback,
    options_set_log_callback: dfuflash_options_set_log_callback,
    options_set_user_data: dfuflash_options_set_user_data,
    erase: dfuflash_erase,
    download: dfuflash_download,
    upload: dfuflash_upload,
    leave: dfuflash_leave,
    cancel: dfuflash_cancel,
    device_report: dfuflash_device_report,
};

/// The function table for hosts that load the library at run time (dlopen, LoadLibrary,
/// QLibrary, ctypes): one exported entry point. NULL when this library does not implement
/// `abi_major`.
#[no_mangle]
pub extern "C" fn dfuflash_get_api(abi_major: u32) -> *const dfuflash_api {
    if abi_major == DFUFLASH_ABI_MAJOR {
        &API
    } else {
        std::ptr::null()
    }
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
