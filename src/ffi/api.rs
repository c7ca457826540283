//! The function table for hosts that load the library at run time.

use std::ffi::{c_char, c_void};

use super::*;

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
    pub device_list_new: unsafe extern "C" fn(u32, *mut *mut dfuflash_device_list) -> i32,
    /// See dfuflash_device_list_count.
    pub device_list_count: unsafe extern "C" fn(*const dfuflash_device_list) -> usize,
    /// See dfuflash_device_list_get.
    pub device_list_get:
        unsafe extern "C" fn(*const dfuflash_device_list, usize, *mut dfuflash_device_desc) -> i32,
    /// See dfuflash_device_list_alt.
    pub device_list_alt: unsafe extern "C" fn(
        *const dfuflash_device_list,
        usize,
        usize,
        *mut dfuflash_alt_desc,
    ) -> i32,
    /// See dfuflash_device_list_sector.
    pub device_list_sector: unsafe extern "C" fn(
        *const dfuflash_device_list,
        usize,
        usize,
        usize,
        *mut u32,
        *mut u32,
        *mut u8,
    ) -> i32,
    /// See dfuflash_device_list_free.
    pub device_list_free: unsafe extern "C" fn(*mut dfuflash_device_list),
    /// See dfuflash_open.
    pub open: unsafe extern "C" fn(
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
        unsafe extern "C" fn(*const c_char, *const c_char, i32, *mut *mut dfuflash_device) -> i32,
    /// See dfuflash_device_close.
    pub device_close: unsafe extern "C" fn(*mut dfuflash_device),
    /// See dfuflash_device_set_sim_faults.
    pub device_set_sim_faults: unsafe extern "C" fn(*mut dfuflash_device, *const c_char) -> i32,
    /// See dfuflash_image_load.
    pub image_load:
        unsafe extern "C" fn(*const c_char, u32, bool, u8, *mut *mut dfuflash_image) -> i32,
    /// See dfuflash_image_from_memory.
    pub image_from_memory:
        unsafe extern "C" fn(*const u8, usize, u32, u8, *mut *mut dfuflash_image) -> i32,
    /// See dfuflash_image_target_count.
    pub image_target_count: unsafe extern "C" fn(*const dfuflash_image) -> usize,
    /// See dfuflash_image_target.
    pub image_target:
        unsafe extern "C" fn(*const dfuflash_image, usize, *mut u8, *mut usize) -> i32,
    /// See dfuflash_image_segment.
    pub image_segment: unsafe extern "C" fn(
        *const dfuflash_image,
        usize,
        usize,
        *mut u32,
        *mut *const u8,
        *mut usize,
    ) -> i32,
    /// See dfuflash_image_free.
    pub image_free: unsafe extern "C" fn(*mut dfuflash_image),
    /// See dfuflash_options_new.
    pub options_new: unsafe extern "C" fn(*mut *mut dfuflash_options) -> i32,
    /// See dfuflash_options_free.
    pub options_free: unsafe extern "C" fn(*mut dfuflash_options),
    /// See dfuflash_options_set_flag.
    pub options_set_flag: unsafe extern "C" fn(*mut dfuflash_options, i32, bool) -> i32,
    /// See dfuflash_options_set_leave_address.
    pub options_set_leave_address: unsafe extern "C" fn(*mut dfuflash_options, u32) -> i32,
    /// See dfuflash_options_set_timeout_ms.
    pub options_set_timeout_ms: unsafe extern "C" fn(*mut dfuflash_options, i32, u32) -> i32,
    /// See dfuflash_options_set_progress_callback.
    pub options_set_progress_callback:
        unsafe extern "C" fn(*mut dfuflash_options, dfuflash_progress_cb) -> i32,
    /// See dfuflash_options_set_log_callback.
    pub options_set_log_callback:
        unsafe extern "C" fn(*mut dfuflash_options, dfuflash_log_cb) -> i32,
    /// See dfuflash_options_set_user_data.
    pub options_set_user_data: unsafe extern "C" fn(*mut dfuflash_options, *mut c_void) -> i32,
    /// See dfuflash_erase.
    pub erase:
        unsafe extern "C" fn(*mut dfuflash_device, *const dfuflash_options, u32, u32, bool) -> i32,
    /// See dfuflash_download.
    pub download: unsafe extern "C" fn(
        *mut dfuflash_device,
        *const dfuflash_image,
        *const dfuflash_options,
    ) -> i32,
    /// See dfuflash_upload.
    pub upload: unsafe extern "C" fn(
        *mut dfuflash_device,
        *const dfuflash_options,
        u32,
        *mut u8,
        usize,
    ) -> i32,
    /// See dfuflash_leave.
    pub leave: unsafe extern "C" fn(*mut dfuflash_device, u32, bool) -> i32,
    /// See dfuflash_cancel.
    pub cancel: unsafe extern "C" fn(*const dfuflash_device) -> i32,
    /// See dfuflash_device_report.
    pub device_report: unsafe extern "C" fn(*const dfuflash_device, *mut dfuflash_report) -> i32,
    /// See dfuflash_device_info.
    pub device_info: unsafe extern "C" fn(*const dfuflash_device, *mut dfuflash_device_desc) -> i32,
    /// See dfuflash_device_alt.
    pub device_alt:
        unsafe extern "C" fn(*const dfuflash_device, usize, *mut dfuflash_alt_desc) -> i32,
    /// See dfuflash_device_sector.
    pub device_sector: unsafe extern "C" fn(
        *const dfuflash_device,
        usize,
        usize,
        *mut u32,
        *mut u32,
        *mut u8,
    ) -> i32,
    /// See dfuflash_device_current_alt.
    pub device_current_alt: unsafe extern "C" fn(*const dfuflash_device, *mut u8) -> i32,
    /// See dfuflash_device_select_alt.
    pub device_select_alt: unsafe extern "C" fn(*mut dfuflash_device, i32, *const c_char) -> i32,
    /// See dfuflash_last_error_copy.
    pub last_error_copy: unsafe extern "C" fn(*mut c_char, usize, *mut usize) -> i32,
    /// See dfuflash_device_report_target (ABI 3.0).
    pub device_report_target:
        unsafe extern "C" fn(*const dfuflash_device, usize, *mut dfuflash_target_record) -> i32,
    /// See dfuflash_device_report_segment (ABI 3.0).
    pub device_report_segment:
        unsafe extern "C" fn(*const dfuflash_device, usize, *mut dfuflash_segment_record) -> i32,
    /// See dfuflash_flash_layout (ABI 3.2).
    pub flash_layout: unsafe extern "C" fn(
        *mut dfuflash_device,
        *const c_char,
        *const dfuflash_options,
        *mut dfuflash_layout_report,
    ) -> i32,
    /// See dfuflash_device_layout_report (ABI 3.2).
    pub device_layout_report:
        unsafe extern "C" fn(*const dfuflash_device, *mut dfuflash_layout_report) -> i32,
    /// See dfuflash_device_layout_partition (ABI 3.2).
    pub device_layout_partition:
        unsafe extern "C" fn(*const dfuflash_device, usize, *mut dfuflash_partition_record) -> i32,
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
    device_info: dfuflash_device_info,
    device_alt: dfuflash_device_alt,
    device_sector: dfuflash_device_sector,
    device_current_alt: dfuflash_device_current_alt,
    device_select_alt: dfuflash_device_select_alt,
    last_error_copy: dfuflash_last_error_copy,
    device_report_target: dfuflash_device_report_target,
    device_report_segment: dfuflash_device_report_segment,
    flash_layout: dfuflash_flash_layout,
    device_layout_report: dfuflash_device_layout_report,
    device_layout_partition: dfuflash_device_layout_partition,
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
