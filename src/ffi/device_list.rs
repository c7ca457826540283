//! Device discovery: a list of the attached (and optionally simulated) devices, their alt
//! settings and the sectors of each alt setting's memory layout.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::boundary::{free_boxed, guard, null};
use super::codes::DFUFLASH_ERR_INVALID_ARGUMENT;
use super::describe::{dfuflash_alt_desc, dfuflash_device_desc, Described};
use super::last_error::{err, fail};
use super::sized::fill;
use crate::device;

/// `dfuflash_device_list_new` and `dfuflash_open` flag: include the simulated models.
pub const DFUFLASH_LIST_SIMULATED: u32 = 1;

/// The flags of a list or open call; an unknown bit is refused, not ignored.
pub(super) fn include_simulated(flags: u32) -> Result<bool, i32> {
    if flags & !DFUFLASH_LIST_SIMULATED != 0 {
        return Err(fail(
            DFUFLASH_ERR_INVALID_ARGUMENT,
            format!("unknown flags {flags:#x} (the only flag is DFUFLASH_LIST_SIMULATED)"),
        ));
    }
    Ok(flags & DFUFLASH_LIST_SIMULATED != 0)
}

/// A list of devices.
pub struct dfuflash_device_list {
    devices: Vec<Described>,
}

/// Lists devices (DFUFLASH_LIST_SIMULATED adds the simulated models). Free with
/// dfuflash_device_list_free.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_device_list_new(
    flags: u32,
    out: *mut *mut dfuflash_device_list,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(null("out"));
        }
        let entries = device::list(include_simulated(flags)?).map_err(err)?;
        let devices = entries
            .into_iter()
            .map(|e| Described::new(e.info, e.simulated.is_some()))
            .collect();
        let list = Box::new(dfuflash_device_list { devices });
        unsafe { *out = Box::into_raw(list) };
        Ok(())
    })
}

/// Devices in a list (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn dfuflash_device_list_count(list: *const dfuflash_device_list) -> usize {
    if list.is_null() {
        return 0;
    }
    catch_unwind(AssertUnwindSafe(|| unsafe { (*list).devices.len() })).unwrap_or(0)
}

unsafe fn list_entry<'a>(
    list: *const dfuflash_device_list,
    index: usize,
) -> Result<&'a Described, i32> {
    if list.is_null() {
        return Err(null("list"));
    }
    let l = unsafe { &*list };
    l.devices.get(index).ok_or_else(|| {
        fail(
            DFUFLASH_ERR_INVALID_ARGUMENT,
            format!(
                "device index {index} out of range (the list holds {})",
                l.devices.len()
            ),
        )
    })
}

/// Describes device `index` of a list.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_device_list_get(
    list: *const dfuflash_device_list,
    index: usize,
    out: *mut dfuflash_device_desc,
) -> i32 {
    guard(|| {
        let d = unsafe { list_entry(list, index)? };
        if out.is_null() {
            return Err(null("out"));
        }
        unsafe { fill(out, d.desc(), "out") }?;
        Ok(())
    })
}

/// Describes alt setting `alt_index` of device `index`.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_device_list_alt(
    list: *const dfuflash_device_list,
    index: usize,
    alt_index: usize,
    out: *mut dfuflash_alt_desc,
) -> i32 {
    guard(|| {
        let d = unsafe { list_entry(list, index)? };
        if out.is_null() {
            return Err(null("out"));
        }
        let desc = d.alt(alt_index)?;
        unsafe { fill(out, desc, "out") }?;
        Ok(())
    })
}

/// Sector `sector` of the layout of alt setting `alt_index` of device `index`: its address,
/// size and permissions (bit 0 readable, bit 1 erasable, bit 2 writable).
#[no_mangle]
pub unsafe extern "C" fn dfuflash_device_list_sector(
    list: *const dfuflash_device_list,
    index: usize,
    alt_index: usize,
    sector: usize,
    out_address: *mut u32,
    out_size: *mut u32,
    out_perms: *mut u8,
) -> i32 {
    guard(|| {
        let d = unsafe { list_entry(list, index)? };
        unsafe { d.write_sector(alt_index, sector, out_address, out_size, out_perms) }
    })
}

/// Frees a list; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_device_list_free(list: *mut dfuflash_device_list) {
    free_boxed(list);
}
