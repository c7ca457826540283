//! The report of the last successful operation on a device, and its record: each target's
//! SHA-256 and each segment's CRC-32, with what was read back.

use std::ffi::c_char;

use super::boundary::{guard, null};
use super::codes::DFUFLASH_ERR_INVALID_ARGUMENT;
use super::device::dfuflash_device;
use super::handles;
use super::last_error::fail;
use super::session::DeviceInner;
use super::sized::{end_of, fill, no_tail_padding, own_size, SizePrefixed};

/// What the last erase, download, upload or leave on a device did. Pointers stay valid until
/// the next operation on the device or its close. Size-prefixed: set `size` first (see
/// "Structs that grow").
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dfuflash_report {
    /// In: sizeof(dfuflash_report) of the caller. Out: the bytes the library filled.
    pub size: u32,
    /// Bytes sent to the device (padding included).
    pub bytes_written: u64,
    /// Bytes of the image read back and found equal: by the verify after writing, or by the
    /// comparison of a sector that already held them (left alone, in `sectors_skipped`; they
    /// count with verify off too, since they were read). Bytes read back besides the image's
    /// own count in `bytes_checked`.
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
    /// the download would leave there.
    pub sectors_skipped: *const u32,
    /// Entries in `sectors_skipped`.
    pub sectors_skipped_count: usize,
    /// Bytes read back and found as expected besides the image's own: the rest of sectors the
    /// Rev V recovery erased, and unchanged sectors an erase could have reached (ABI 3.0).
    pub bytes_checked: u64,
    /// Sectors the download planned (erased, or skipped as unchanged): a re-run after an
    /// interrupted download resumed when `sectors_skipped_count` of them already held the
    /// image (ABI 3.0).
    pub sectors_planned: usize,
    /// The boot block was written last (DFUFLASH_OPT_BOOT_LAST), at `boot_block` (ABI 3.0).
    pub has_boot_block: bool,
    /// Its address; 0 when `has_boot_block` is false (ABI 3.0).
    pub boot_block: u32,
    /// Targets of the downloaded image in the record (see dfuflash_device_report_target);
    /// 0 after other operations (ABI 3.0).
    pub target_count: usize,
    /// Segments of the downloaded image in the record (see dfuflash_device_report_segment);
    /// 0 after other operations (ABI 3.0).
    pub segment_count: usize,
    /// Why the verify asked for did not run (a plain DFU 1.1 device that cannot upload after
    /// manifestation): a NUL-terminated UTF-8 string owned by `dev`, valid until the next
    /// operation on `dev` or its close. NULL when the verify ran or was not asked for
    /// (ABI 3.1).
    pub unverified: *const c_char,
}

unsafe impl SizePrefixed for dfuflash_report {
    const NAME: &'static str = "dfuflash_report";
    const MIN: usize = end_of!(Self, sectors_skipped_count: usize);
}
no_tail_padding!(dfuflash_report, unverified: *const c_char);

/// One target of the last download's record. Size-prefixed: set `size` first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dfuflash_target_record {
    /// In: sizeof(dfuflash_target_record) of the caller. Out: the bytes the library filled.
    pub size: u32,
    /// The alt setting it went to.
    pub alt: u8,
    /// Bytes of the image for it (no padding, no gaps).
    pub bytes: u64,
    /// SHA-256 of its segments' bytes concatenated in address order (for a raw binary, what
    /// sha256sum prints for the file).
    pub sha256: [u8; 32],
}

unsafe impl SizePrefixed for dfuflash_target_record {
    const NAME: &'static str = "dfuflash_target_record";
    const MIN: usize = end_of!(Self, sha256: [u8; 32]);
}
no_tail_padding!(dfuflash_target_record, sha256: [u8; 32]);

/// One segment of the last download's record. Size-prefixed: set `size` first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dfuflash_segment_record {
    /// In: sizeof(dfuflash_segment_record) of the caller. Out: the bytes the library filled.
    pub size: u32,
    /// The alt setting of its target.
    pub alt: u8,
    /// First address.
    pub address: u32,
    /// Length in bytes.
    pub length: u64,
    /// CRC-32 (zlib's) of the image's bytes.
    pub crc32: u32,
    /// Every byte of the segment was read back from the device (by the verify, or by the
    /// comparison of unchanged sectors): `readback_crc32` holds their CRC-32.
    pub read_back: bool,
    /// CRC-32 of the bytes the device returned at the segment's addresses; 0 when `read_back`
    /// is false.
    pub readback_crc32: u32,
    /// Zero. Takes the place of the struct's tail padding, so that a field added later starts
    /// at its sizeof.
    pub reserved: u32,
}

unsafe impl SizePrefixed for dfuflash_segment_record {
    const NAME: &'static str = "dfuflash_segment_record";
    const MIN: usize = end_of!(Self, reserved: u32);
}
no_tail_padding!(dfuflash_segment_record, reserved: u32);

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
            size: own_size::<dfuflash_report>(),
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
            bytes_checked: r.bytes_checked,
            sectors_planned: r.sectors_planned,
            has_boot_block: r.boot_block.is_some(),
            boot_block: r.boot_block.unwrap_or(0),
            target_count: r.targets.len(),
            segment_count: r.segments.len(),
            unverified: inner
                .unverified
                .as_ref()
                .map_or(std::ptr::null(), |c| c.as_ptr()),
        };
        unsafe { fill(out, report, "out") }
    })
}

/// Target `index` (below the report's `target_count`) of the last download's record.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_device_report_target(
    dev: *const dfuflash_device,
    index: usize,
    out: *mut dfuflash_target_record,
) -> i32 {
    unsafe {
        record_entry(
            dev,
            index,
            out,
            "target",
            |s| &s.report.targets,
            |t| dfuflash_target_record {
                size: own_size::<dfuflash_target_record>(),
                alt: t.alt,
                bytes: t.bytes,
                sha256: t.sha256,
            },
        )
    }
}

/// Segment `index` (below the report's `segment_count`) of the last download's record.
#[no_mangle]
pub unsafe extern "C" fn dfuflash_device_report_segment(
    dev: *const dfuflash_device,
    index: usize,
    out: *mut dfuflash_segment_record,
) -> i32 {
    unsafe {
        record_entry(
            dev,
            index,
            out,
            "segment",
            |s| &s.report.segments,
            |s| dfuflash_segment_record {
                size: own_size::<dfuflash_segment_record>(),
                alt: s.image.alt,
                address: s.image.address,
                length: s.image.length,
                crc32: s.image.crc32,
                read_back: s.readback_crc32.is_some(),
                readback_crc32: s.readback_crc32.unwrap_or(0),
                reserved: 0,
            },
        )
    }
}

/// Entry `index` of one of the record's lists (a download's targets and segments, a layout's
/// partitions), as its C struct.
pub(super) unsafe fn record_entry<E, C: SizePrefixed>(
    dev: *const dfuflash_device,
    index: usize,
    out: *mut C,
    what: &str,
    list: impl Fn(&DeviceInner) -> &[E],
    to_c: impl Fn(&E) -> C,
) -> i32 {
    guard(|| {
        let d = handles::get(dev)?;
        if out.is_null() {
            return Err(null("out"));
        }
        let inner = d.session()?;
        let entries = list(&inner);
        let e = entries
            .get(index)
            .ok_or_else(|| out_of_range(what, index, entries.len()))?;
        unsafe { fill(out, to_c(e), "out") }
    })
}

fn out_of_range(what: &str, index: usize, count: usize) -> i32 {
    fail(
        DFUFLASH_ERR_INVALID_ARGUMENT,
        format!("{what} index {index} out of range (the last operation's record has {count})"),
    )
}
