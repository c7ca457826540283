//! What the C API tells of a device, listed or open: its identity, alt settings and the
//! sectors of their memory layouts, with the C strings held by the list or the open device.

use std::ffi::{c_char, CString};

use super::boundary::null;
use super::codes::DFUFLASH_ERR_INVALID_ARGUMENT;
use super::last_error::fail;
use super::sized::{end_of, no_tail_padding, own_size, SizePrefixed};
use crate::layout::Layout;
use crate::transport::{DeviceInfo, Mode};

/// Device mode: the application runs (runtime DFU interface).
pub const DFUFLASH_MODE_RUNTIME: i32 = 1;
/// Device mode: the bootloader runs (DFU mode).
pub const DFUFLASH_MODE_DFU: i32 = 2;

/// One device of a list, or an open device (strings owned by the list or the device; NULL
/// when absent). Size-prefixed: set `size` first (see "Structs that grow").
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dfuflash_device_desc {
    /// In: sizeof(dfuflash_device_desc) of the caller. Out: the bytes the library filled.
    pub size: u32,
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
    /// Alt settings (see dfuflash_device_list_alt and dfuflash_device_alt).
    pub alt_count: usize,
    /// A simulated device.
    pub simulated: bool,
    /// What could not be read of the device's description (strings that did not come within
    /// the time allowed), or NULL when it is complete (ABI 3.0).
    pub incomplete: *const c_char,
    /// The driver the system bound to the device, when known (Windows: its service name, such
    /// as WinUSB or STTub30); NULL when unknown (ABI 3.0).
    pub driver: *const c_char,
    /// Why that driver keeps the device from being opened, and what to do; NULL when it is
    /// usable or unknown (ABI 3.0).
    pub driver_problem: *const c_char,
    /// The host-side quirks applied to the device (dfu-util's quirk table: a fixed layout, a
    /// forced DFU version...), one per line with what it does; NULL when none (ABI 3.0).
    pub quirks: *const c_char,
}

unsafe impl SizePrefixed for dfuflash_device_desc {
    const NAME: &'static str = "dfuflash_device_desc";
    const MIN: usize = end_of!(Self, simulated: bool);
}
no_tail_padding!(dfuflash_device_desc, quirks: *const c_char);

/// One alt setting of a listed or open device. Size-prefixed: set `size` first (see "Structs
/// that grow").
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dfuflash_alt_desc {
    /// In: sizeof(dfuflash_alt_desc) of the caller. Out: the bytes the library filled.
    pub size: u32,
    /// bAlternateSetting.
    pub alt: u8,
    /// Its name (on DfuSe devices, the memory layout string).
    pub name: *const c_char,
    /// The name parsed as a DfuSe memory layout.
    pub has_layout: bool,
    /// Sectors in the layout (see dfuflash_device_list_sector); 0 without a layout.
    pub sector_count: usize,
    /// On a DfuSe device, why the name is not a usable memory layout (nothing can be flashed
    /// there); NULL when it is, and on DFU 1.1 devices (ABI 3.0).
    pub layout_error: *const c_char,
}

unsafe impl SizePrefixed for dfuflash_alt_desc {
    const NAME: &'static str = "dfuflash_alt_desc";
    const MIN: usize = end_of!(Self, sector_count: usize);
}
no_tail_padding!(dfuflash_alt_desc, layout_error: *const c_char);

/// A device's description with the C strings and parsed layouts its descriptors point into.
pub(super) struct Described {
    pub(super) info: DeviceInfo,
    simulated: bool,
    // manufacturer, product, serial, path, incomplete, driver, driver problem, quirks, then one
    // per alt setting name
    strings: Vec<CString>,
    layouts: Vec<Option<Layout>>,
    /// Per alt setting, why its layout is unusable (DfuSe devices only).
    layout_errors: Vec<Option<CString>>,
}

/// Where the alt settings' names start in `Described::strings`.
const ALT_NAMES: usize = 8;

fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

impl Described {
    pub(super) fn new(info: DeviceInfo, simulated: bool) -> Self {
        let cs = |s: &Option<String>| c_string(s.as_deref().unwrap_or_default());
        let mut strings = vec![
            cs(&info.manufacturer),
            cs(&info.product),
            cs(&info.serial),
            cs(&info.port_path),
            cs(&info.incomplete),
            cs(&info.driver),
            cs(&info.driver_problem),
            c_string(&info.quirks.join("\n")),
        ];
        strings.extend(info.alt_settings.iter().map(|a| c_string(&a.name)));
        let layouts = info
            .alt_settings
            .iter()
            .map(|a| Layout::parse(&a.name).ok())
            .collect();
        let layout_errors = info
            .alt_settings
            .iter()
            .map(|a| info.layout_problem(a).map(|e| c_string(&e.to_string())))
            .collect();
        Self {
            info,
            simulated,
            strings,
            layouts,
            layout_errors,
        }
    }

    pub(super) fn desc(&self) -> dfuflash_device_desc {
        let s = &self.strings;
        let opt = |c: &CString, present: bool| {
            if present {
                c.as_ptr()
            } else {
                std::ptr::null()
            }
        };
        let i = &self.info;
        dfuflash_device_desc {
            size: own_size::<dfuflash_device_desc>(),
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
            simulated: self.simulated,
            incomplete: opt(&s[4], i.incomplete.is_some()),
            driver: opt(&s[5], i.driver.is_some()),
            driver_problem: opt(&s[6], i.driver_problem.is_some()),
            quirks: opt(&s[7], !i.quirks.is_empty()),
        }
    }

    pub(super) fn alt(&self, alt_index: usize) -> Result<dfuflash_alt_desc, i32> {
        let alts = &self.info.alt_settings;
        let a = alts.get(alt_index).ok_or_else(|| {
            fail(
                DFUFLASH_ERR_INVALID_ARGUMENT,
                format!(
                    "alt index {alt_index} out of range (the device has {})",
                    alts.len()
                ),
            )
        })?;
        let layout = &self.layouts[alt_index];
        Ok(dfuflash_alt_desc {
            size: own_size::<dfuflash_alt_desc>(),
            alt: a.alt,
            name: self.strings[ALT_NAMES + alt_index].as_ptr(),
            has_layout: layout.is_some(),
            sector_count: layout.as_ref().map_or(0, Layout::sector_count),
            layout_error: self.layout_errors[alt_index]
                .as_ref()
                .map_or(std::ptr::null(), |e| e.as_ptr()),
        })
    }

    /// Writes a sector's address, size and permission bits to the caller's outputs (each
    /// checked for NULL), for the list's and the open device's sector functions.
    pub(super) unsafe fn write_sector(
        &self,
        alt_index: usize,
        sector: usize,
        out_address: *mut u32,
        out_size: *mut u32,
        out_perms: *mut u8,
    ) -> Result<(), i32> {
        if out_address.is_null() || out_size.is_null() || out_perms.is_null() {
            return Err(null("an output pointer"));
        }
        let (address, size, perms) = self.sector(alt_index, sector)?;
        unsafe {
            *out_address = address;
            *out_size = size;
            *out_perms = perms;
        }
        Ok(())
    }

    fn sector(&self, alt_index: usize, sector: usize) -> Result<(u32, u32, u8), i32> {
        let layout = self
            .layouts
            .get(alt_index)
            .and_then(|x| x.as_ref())
            .ok_or_else(|| {
                fail(
                    DFUFLASH_ERR_INVALID_ARGUMENT,
                    format!("alt index {alt_index} has no DfuSe layout"),
                )
            })?;
        let s = layout.sector(sector).ok_or_else(|| {
            fail(
                DFUFLASH_ERR_INVALID_ARGUMENT,
                format!("sector {sector} out of range"),
            )
        })?;
        Ok((s.address, s.size, s.perms.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimDevice;
    use crate::transport::AltSetting;

    fn described(alts: &[&str]) -> Described {
        let mut info = SimDevice::describe("stm32h743-revv").unwrap();
        info.alt_settings = AltSetting::numbered(alts);
        Described::new(info, true)
    }

    #[test]
    fn a_listing_of_hostile_layouts_marks_them_unusable_and_allocates_nothing_by_their_numbers() {
        // 21 characters that once made a listing try to allocate 6 GB and abort the host.
        let d = described(&[
            "@F/0x0/4294967295*1Bg",
            "@x/0x0/4294967295*4294967295Bg,2*4294967295Bg,1*2Bg",
            "@Flash/0x08000000/2*1Kg/0x08000400/1*4Kg",
            "@Big/0x0/1048576*1Bg",
        ]);
        for i in 0..3 {
            let a = d.alt(i).unwrap();
            assert!(!a.has_layout && a.sector_count == 0, "{i}");
        }
        // The largest layout allowed: a million sectors, counted and found by arithmetic.
        let big = d.alt(3).unwrap();
        assert!(big.has_layout);
        assert_eq!(big.sector_count, 1 << 20);
        assert_eq!(d.sector(3, (1 << 20) - 1).unwrap(), (0xf_ffff, 1, 7));
        assert_eq!(d.sector(3, 1 << 20), Err(DFUFLASH_ERR_INVALID_ARGUMENT));
        assert_eq!(d.sector(0, 0), Err(DFUFLASH_ERR_INVALID_ARGUMENT));
    }
}
