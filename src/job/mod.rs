//! Jobs: flash (plan, erase, write, verify, leave), erase, read.
//!
//! A job checks for cancellation between transfers; when cancelled it returns the device to
//! dfuIDLE and fails with [`Error::Cancelled`](crate::Error::Cancelled). If anything fails the device is never told to
//! leave DFU mode, so the user can retry.
//!
//! ```
//! use dfuflash::job::{read, erase_range};
//! use dfuflash::progress::{CancelToken, Silent};
//! use dfuflash::protocol::{Dfu, EngineOptions};
//! use dfuflash::sim::SimDevice;
//!
//! let mut dev = SimDevice::new("stm32f405").unwrap();
//! dev.poke(0, 0x0800_4000, &[1, 2, 3]);
//! let mut dfu = Dfu::open(dev, 0, EngineOptions::default()).unwrap();
//! let c = CancelToken::new();
//! assert_eq!(read(&mut dfu, 0x0800_4000, 3, &mut Silent, &c).unwrap(), [1, 2, 3]);
//! let r = erase_range(&mut dfu, 0x0800_4001, 1, &mut Silent, &c).unwrap();
//! assert_eq!(r.sectors_erased, [0x0800_4000]);
//! assert_eq!(read(&mut dfu, 0x0800_4000, 3, &mut Silent, &c).unwrap(), [0xff; 3]);
//! ```

mod boot_last;
mod check;
mod compare;
mod ctx;
mod deadline;
mod erase;
mod flash;
mod flash_dfu11;
mod flash_dfuse;
mod in_place;
mod layout;
mod leave;
mod read;
mod readback;
mod write_error;

pub use erase::{erase_range, mass_erase, read_unprotect};
pub use flash::{flash, plan_for};
pub use layout::{flash_layout, LayoutOptions, LayoutReport, PartitionRecord};
pub use leave::leave;
pub use read::read;
pub use readback::SegmentRecord;

use std::time::Duration;

use crate::image::digest::TargetDigest;
use crate::protocol::LeaveOutcome;

/// What a flash job does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlashOptions {
    /// Read back and compare after writing (on by default).
    pub verify: bool,
    /// Leave DFU mode and run the firmware after a fully successful job.
    pub leave: bool,
    /// Jump address when leaving; default: the image's first address.
    pub leave_address: Option<u32>,
    /// One mass erase instead of the sector erases of the memory it reaches (alt setting 0's,
    /// [`crate::plan::MASS_ERASED_ALT`]); a target on another alt setting is erased sector by
    /// sector after it.
    pub mass_erase: bool,
    /// Allow writing option bytes.
    pub allow_option_bytes: bool,
    /// Allow writing OTP memory.
    pub allow_otp: bool,
    /// Refuse a file whose DFU suffix names another device (on by default).
    pub check_suffix_ids: bool,
    /// The alt setting the caller chose explicitly: an image for another one is refused before
    /// any request. None: each target goes to its own alt setting.
    pub selected_alt: Option<u8>,
    /// Erase and write every planned sector. Off (the default): each planned sector is read
    /// first and left alone when it already holds exactly what the flash would leave there.
    pub full: bool,
    /// Write the boot block (the first block of the image's lowest segment in flash) last of
    /// all, after the rest is written and verified, and the first block of every other segment
    /// after that segment's other blocks, so a power cut never leaves a bootable half image (on
    /// by default; off for images whose first block is not a vector table).
    pub boot_last: bool,
    /// Erase and write element by element in the image's order, as dfu-util does: each
    /// element's sectors are erased just before it is written (each sector once, before the
    /// first element written into it), and each step starts its own Erase and Write phases.
    /// Off (the default): every erase first, so a device that refuses one does so before
    /// anything is written.
    pub element_order: bool,
}

impl Default for FlashOptions {
    fn default() -> Self {
        Self {
            verify: true,
            leave: false,
            leave_address: None,
            mass_erase: false,
            allow_option_bytes: false,
            allow_otp: false,
            check_suffix_ids: true,
            selected_alt: None,
            full: false,
            boot_last: true,
            element_order: false,
        }
    }
}

/// What a job did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Addresses of the sectors erased, in order.
    pub sectors_erased: Vec<u32>,
    /// Addresses of the planned sectors left alone because they already held what the flash
    /// would leave there, in order.
    pub sectors_skipped: Vec<u32>,
    /// Sectors the plan covers (erased, or skipped as unchanged). A re-run after an
    /// interrupted flash resumes: `sectors_skipped` of them already held the image.
    pub sectors_planned: usize,
    /// A mass erase was done.
    pub mass_erased: bool,
    /// Bytes sent to the device (padding included).
    pub bytes_written: u64,
    /// Bytes of the image read back and found equal: by the verify after writing, or by the
    /// comparison of a sector left alone because it already held them.
    pub bytes_verified: u64,
    /// Bytes read back and found as expected besides the image's own: the parts of recovered
    /// sectors outside the image (erased, or holding the padding written there), and the
    /// unchanged sectors an erase could have reached, read again after it.
    pub bytes_checked: u64,
    /// The address of the boot block, when it was written last (see
    /// [`FlashOptions::boot_last`]).
    pub boot_block: Option<u32>,
    /// Sectors whose erase needed the STM32H7 Rev V recovery (each was checked).
    pub workaround_sectors: Vec<u32>,
    /// Control requests sent.
    pub requests: u64,
    /// Time on the transport's clock (simulated time on the simulator).
    pub elapsed: Duration,
    /// Wall-clock time.
    pub wall: Duration,
    /// How the device left DFU mode, if it was asked to.
    pub left: Option<LeaveOutcome>,
    /// Why the verify asked for did not run (a plain DFU 1.1 device that cannot upload after
    /// manifestation); None when it ran or was not asked for.
    pub unverified: Option<String>,
    /// A flash's record: each target of the image with the SHA-256 of its bytes.
    pub targets: Vec<TargetDigest>,
    /// A flash's record: each segment of the image with its CRC-32, and the CRC-32 of the
    /// bytes read back from the device there.
    pub segments: Vec<SegmentRecord>,
}
