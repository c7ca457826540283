//! The report of the last successful operation on a device.

use super::boundary::{guard, null};
use super::device::dfuflash_device;
use super::handles;

/// What the last erase, download, upload or leave on a device did. Pointers stay valid until
/// the next operation on the device or its close.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dfuflash_report {
    /// Bytes sent to the device (padding included).
    pub bytes_written: u64,
    /// Bytes of the image read back and found equal: by the verify after writing, or by the
    /// comparison of a sector that already held them (left alone, in `sectors_skipped`; they
    /// count with verify off too, since they were read). Bytes read back besides the image's
    /// own (the rest of a sector the STM32H7 Rev V recovery erased) do not count.
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
    /// Planned sectors left alone (neither erased nor written) because they already held what
    /// the download would leave there (ABI 2.0).
    pub sectors_skipped: *const u32,
    /// Entries in `sectors_skipped`.
    pub sectors_skipped_count: usize,
}

/// The report of the last successful operation on `dev`.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_device_report(
    dev: *const dfuflash_device,
    out: *mut dfuflash_report,
) -> i32 {
    guard(|| {
        let d = handles::get(dev)?;
        if out.is_null() {
            return Err(null("out"));
        }
        let inner = d.session()?;
        let r = &inner.report;
        let report = dfuflash_report {
            bytes_written: r.bytes_written,
            bytes_verified: r.bytes_verified,
            requests: r.requests,
            sectors_erased: r.sectors_erased.as_ptr(),
            sectors_erased_count: r.sectors_erased.len(),
            workaround_sectors: r.workaround_sectors.as_ptr(),
            workaround_sectors_count: r.workaround_sectors.len(),
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
            sectors_skipped: r.sectors_skipped.as_ptr(),
            sectors_skipped_count: r.sectors_skipped.len(),
        };
        unsafe { *out = report };
        Ok(())
    })
}
