//! Device discovery: a list of the attached (and optionally simulated) devices, their alt
//! settings and the sectors of each alt setting's memory layout.

use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::boundary::{free_boxed, guard, null};
use super::codes::DFUFLASH_ERR_INVALID_ARGUMENT;
use super::last_error::{err, fail};
use crate::device;
use crate::layout::Layout;
use crate::transport::Mode;

/// `dfuflash_device_list_new` flag: include the simulated models.
pub const DFUFLASH_LIST_SIMULATED: u32 = 1;

/// Device mode: the application runs (runtime DFU interface).
pub const DFUFLASH_MODE_RUNTIME: i32 = 1;
/// Device mode: the bootloader runs (DFU mode).
pub const DFUFLASH_MODE_DFU: i32 = 2;

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

/// A list of devices.
pub struct dfuflash_device_list {
    entries: Vec<device::Entry>,
    strings: Vec<Vec<CString>>, // per entry: manufacturer, product, serial, path, alt names...
    layouts: Vec<Vec<Option<Layout>>>,
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
