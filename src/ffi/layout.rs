//! Flashing an ST FlashLayout.tsv (the serial-boot phase protocol) and its report: the run as a
//! whole, and each partition through an accessor, as a download's record is read.

use std::ffi::{c_char, CString};

use super::boundary::{guard, null, str_arg};
use super::codes::{DFUFLASH_ERR_INVALID_ARGUMENT, DFUFLASH_OK};
use super::device::dfuflash_device;
use super::handles;
use super::last_error::fail;
use super::operations::{operate, Kept};
use super::options::dfuflash_options;
use super::report::record_entry;
use super::session::DeviceInner;
use super::sized::{check_size, end_of, fill, no_tail_padding, own_size, SizePrefixed};
use crate::flashlayout::FlashLayout;
use crate::job::{self, LayoutOptions, LayoutReport, PartitionRecord, Report};

/// What the last dfuflash_flash_layout on a device did (ABI 3.2). Size-prefixed: set `size`
/// first (see "Structs that grow"). `phases` is owned by the device and valid until its next
/// operation or its close; when the device was closed during the call (from a callback or
/// another thread), `phases` is NULL and `phase_count` 0, as the device is gone when it returns.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dfuflash_layout_report {
    /// In: sizeof(dfuflash_layout_report) of the caller. Out: the bytes the library filled.
    pub size: u32,
    /// Times the board was followed across a re-enumeration (to its next boot stage).
    pub reenumerations: u32,
    /// Rows of the TSV, in file order: read each with dfuflash_device_layout_partition.
    pub partition_count: usize,
    /// Every phase the device reported, in order (the protocol's transcript; 0xFE last).
    pub phases: *const u8,
    /// Entries in `phases`.
    pub phase_count: usize,
    /// Control requests sent.
    pub requests: u64,
    /// Seconds on the device's clock (simulated time on a simulated device).
    pub elapsed_seconds: f64,
    /// Wall-clock seconds.
    pub wall_seconds: f64,
}

unsafe impl SizePrefixed for dfuflash_layout_report {
    const NAME: &'static str = "dfuflash_layout_report";
    const MIN: usize = end_of!(Self, wall_seconds: f64);
}
no_tail_padding!(dfuflash_layout_report, wall_seconds: f64);

/// One row of the last layout's TSV and what was done with it (ABI 3.2). Size-prefixed: set
/// `size` first. `name` is owned by the device, valid until its next operation or its close.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct dfuflash_partition_record {
    /// In: sizeof(dfuflash_partition_record) of the caller. Out: the bytes the library filled.
    pub size: u32,
    /// The alt setting it went to last; -1 when the device never asked for it.
    pub alt: i32,
    /// Its Name column, NUL-terminated UTF-8.
    pub name: *const c_char,
    /// Bytes of its binary (0 for an `E` row, whose binary is never read).
    pub bytes: u64,
    /// CRC-32 (zlib's) of its binary; 0 when `has_crc32` is false.
    pub crc32: u32,
    /// CRC-32 of what the device returned when the partition was read back; 0 when
    /// `read_back` is false. No STM32N6 partition can be read back: its ROM and ST's
    /// OpenBootloader upload only the phase and OTP.
    pub readback_crc32: u32,
    /// Times it was downloaded (0: the device never asked for it).
    pub downloads: u32,
    /// Its Id column.
    pub id: u8,
    /// `crc32` holds a CRC: false for an `E` row.
    pub has_crc32: bool,
    /// The partition was read back: `readback_crc32` holds a CRC.
    pub read_back: bool,
    /// Zero. Takes the place of the struct's tail padding, so that a field added later starts
    /// at its sizeof.
    pub reserved: u8,
}

unsafe impl SizePrefixed for dfuflash_partition_record {
    const NAME: &'static str = "dfuflash_partition_record";
    const MIN: usize = end_of!(Self, reserved: u8);
}
no_tail_padding!(dfuflash_partition_record, reserved: u8);

/// A layout's report as C reads it: each partition with its name as a C string.
pub(super) struct LayoutRecord {
    report: LayoutReport,
    partitions: Vec<(PartitionRecord, CString)>,
}

impl LayoutRecord {
    fn to_c(&self) -> dfuflash_layout_report {
        let r = &self.report;
        dfuflash_layout_report {
            size: own_size::<dfuflash_layout_report>(),
            reenumerations: r.reenumerations,
            partition_count: r.partitions.len(),
            phases: r.phases.as_ptr(),
            phase_count: r.phases.len(),
            requests: r.requests,
            elapsed_seconds: r.elapsed.as_secs_f64(),
            wall_seconds: r.wall.as_secs_f64(),
        }
    }
}

/// A finished layout job and where the caller wants its report.
struct LayoutDone {
    report: LayoutReport,
    out: *mut dfuflash_layout_report,
}

impl Kept for LayoutDone {
    fn keep(self, inner: &mut DeviceInner, closing: bool) -> Result<(), i32> {
        let r = self.report;
        // dfuflash_device_report tells what any operation cost; a layout has no sectors.
        inner.report = Report {
            requests: r.requests,
            elapsed: r.elapsed,
            wall: r.wall,
            ..Report::default()
        };
        inner.unverified = None;
        let partitions = r
            .partitions
            .iter()
            .map(|p| {
                let name = CString::new(p.name.replace('\0', " ")).unwrap_or_default();
                (p.clone(), name)
            })
            .collect();
        let record = inner.layout.insert(LayoutRecord {
            report: r,
            partitions,
        });
        if self.out.is_null() {
            return Ok(());
        }
        let mut c = record.to_c();
        if closing {
            // The device, and the phases it holds, are freed when this call returns.
            (c.phases, c.phase_count) = (std::ptr::null(), 0);
        }
        unsafe { fill(self.out, c, "report") }
    }
}

/// Flashes the FlashLayout.tsv at `tsv_path` (UTF-8) through ST's serial-boot phase protocol:
/// every binary it names (relative to its directory) is read before any request; then the
/// device asks for each partition by its Id, and is followed across each DETACH to its next
/// boot stage (its ROM, then the loader the ROM started), until it reports the end. After the
/// end the board has left DFU mode: close the handle. Once a layout has followed the board to
/// another boot stage, whether it then succeeded or failed, dfuflash_device_info and _alt keep
/// describing the board as it was opened, and any later operation on the handle fails with
/// DFUFLASH_ERR_UNEXPECTED_STATE: close it and open the board again.
///
/// `opts` may be NULL (defaults). Its progress and log callbacks, user data and
/// DFUFLASH_TIMEOUT_ limits apply (DFUFLASH_TIMEOUT_REENUMERATE: how long each new boot stage
/// may take to appear); its DFUFLASH_OPT_ flags do not. Callbacks run on the calling thread
/// during the call; dfuflash_cancel from any thread stops it within 50 ms, in a transfer or
/// while it waits for the board to come back as its next boot stage.
///
/// `report` may be NULL; when not, set its `size` first: a size short of the base fields fails
/// with DFUFLASH_ERR_INVALID_ARGUMENT before any request, and the report is written only on
/// success. Each partition is read with dfuflash_device_layout_partition; the report is kept on
/// the device until its next operation or close (dfuflash_device_layout_report reads it again).
/// dfuflash_device_report then gives the layout's requests and times, and no sectors or bytes.
///
/// Failures: DFUFLASH_ERR_TSV (the message names file, line and column), DFUFLASH_ERR_FILE_IO
/// (the TSV, or a binary it names: its line and column), DFUFLASH_ERR_PHASE_DEVICE_ERROR (the
/// device's text in the message), DFUFLASH_ERR_PHASE_UNKNOWN, DFUFLASH_ERR_PHASE_LOOP,
/// DFUFLASH_ERR_PHASE_NO_ALT, DFUFLASH_ERR_PHASE_ENDED_EARLY (the rows never written in the
/// message), DFUFLASH_ERR_MALFORMED_REPLY (a GetPhase reply too short),
/// DFUFLASH_ERR_DEVICE_NOT_FOUND (the board did not come back), and those of any operation (USB,
/// device status, cancel, deadline).
#[no_mangle]
pub unsafe extern "C" fn dfuflash_flash_layout(
    dev: *mut dfuflash_device,
    tsv_path: *const c_char,
    opts: *const dfuflash_options,
    report: *mut dfuflash_layout_report,
) -> i32 {
    let mut path = None;
    let code = guard(|| {
        let p = unsafe { str_arg(tsv_path, "tsv_path")? }.ok_or_else(|| null("tsv_path"))?;
        path = Some(std::path::PathBuf::from(p));
        if !report.is_null() {
            unsafe { check_size(report, "report")? };
        }
        Ok(())
    });
    let Some(path) = path.filter(|_| code == DFUFLASH_OK) else {
        return code;
    };
    operate(dev, opts, |dfu, obs, cancel, _| {
        let layout_opts = if opts.is_null() {
            LayoutOptions::default()
        } else {
            unsafe { (*opts).layout.clone() }
        };
        let layout = FlashLayout::load(&path)?;
        Ok(LayoutDone {
            report: job::flash_layout(dfu, &layout, &layout_opts, obs, cancel)?,
            out: report,
        })
    })
}

/// The report of the last dfuflash_flash_layout on `dev`, when that was its last successful
/// operation; DFUFLASH_ERR_INVALID_ARGUMENT otherwise (ABI 3.2).
#[no_mangle]
pub unsafe extern "C" fn dfuflash_device_layout_report(
    dev: *const dfuflash_device,
    out: *mut dfuflash_layout_report,
) -> i32 {
    guard(|| {
        let d = handles::get(dev)?;
        if out.is_null() {
            return Err(null("out"));
        }
        let inner = d.session()?;
        let record = inner.layout.as_ref().ok_or_else(|| {
            fail(
                DFUFLASH_ERR_INVALID_ARGUMENT,
                "no layout report: the last successful operation on the device did not flash a layout",
            )
        })?;
        unsafe { fill(out, record.to_c(), "out") }
    })
}

/// Partition `index` (below the layout report's `partition_count`) of the last layout flashed
/// on `dev` (ABI 3.2).
#[no_mangle]
pub unsafe extern "C" fn dfuflash_device_layout_partition(
    dev: *const dfuflash_device,
    index: usize,
    out: *mut dfuflash_partition_record,
) -> i32 {
    unsafe {
        record_entry(
            dev,
            index,
            out,
            "partition",
            |s| s.layout.as_ref().map_or(&[][..], |l| &l.partitions[..]),
            |(p, name)| dfuflash_partition_record {
                size: own_size::<dfuflash_partition_record>(),
                alt: p.alt.map_or(-1, i32::from),
                name: name.as_ptr(),
                bytes: p.bytes,
                crc32: p.crc32.unwrap_or(0),
                readback_crc32: p.readback_crc32.unwrap_or(0),
                downloads: p.downloads,
                id: p.id,
                has_crc32: p.crc32.is_some(),
                read_back: p.readback_crc32.is_some(),
                reserved: 0,
            },
        )
    }
}
