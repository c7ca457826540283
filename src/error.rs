//! The crate's error: one variant per layer, plus what only a job can tell.

use crate::flashlayout::FlashLayoutError;
use crate::image::{FormatError, ImageError};
use crate::layout::LayoutError;
use crate::plan::PlanError;
use crate::progress::Phase;
use crate::protocol::ProtocolError;
use crate::sim::SimError;
use crate::transport::TransportError;

/// Everything a dfuflash operation can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The device or the USB link failed.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The image does not fit the device; nothing was sent.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The image itself is invalid.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// A firmware file cannot be read.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The file's DFU suffix names another device.
    #[error(
        "{file} is for {file_vid:04x}:{file_pid:04x} (bcdDevice {file_bcd:04x}) but the device is \
         {dev_vid:04x}:{dev_pid:04x} (bcdDevice {dev_bcd:04x}); check the file, or override the suffix check"
    )]
    SuffixMismatch {
        /// What the file is.
        file: String,
        /// Suffix idVendor.
        file_vid: u16,
        /// Suffix idProduct.
        file_pid: u16,
        /// Suffix bcdDevice.
        file_bcd: u16,
        /// Device idVendor.
        dev_vid: u16,
        /// Device idProduct.
        dev_pid: u16,
        /// Device bcdDevice.
        dev_bcd: u16,
    },
    /// A memory layout string is malformed.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// A USB device cannot be opened or used.
    #[cfg(feature = "usb")]
    #[error(transparent)]
    Usb(#[from] crate::usb::UsbError),
    /// The simulator could not be set up.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// A FlashLayout.tsv is invalid, or the device's phases do not follow it.
    #[error(transparent)]
    FlashLayout(#[from] FlashLayoutError),
    /// The caller cancelled; the device was returned to dfuIDLE.
    #[error("cancelled during {phase}; the device was left in dfuIDLE (still in DFU mode)")]
    Cancelled {
        /// The phase that was running.
        phase: Phase,
    },
    /// The caller cancelled while the device was busy with a command (an erase, a write): the
    /// host stopped waiting for it.
    #[error(
        "cancelled during {phase} while the device was busy; it stays in DFU mode and the next \
         operation waits for it to finish"
    )]
    CancelledBusy {
        /// The phase that was running.
        phase: Phase,
    },
    /// Read-back differs from what was written.
    #[error(
        "verify failed at {address:#010x} on alt setting {alt}: wrote {expected:#04x}, read back {found:#04x} \
         ({mismatches} of {len} bytes differ in the segment at {segment:#010x}); the device stays in DFU mode, flash again"
    )]
    Verify {
        /// Alt setting.
        alt: u8,
        /// First differing address.
        address: u32,
        /// Byte written.
        expected: u8,
        /// Byte read.
        found: u8,
        /// Differing bytes in the segment.
        mismatches: usize,
        /// Segment start.
        segment: u32,
        /// Segment length.
        len: usize,
    },
    /// A sector the Rev V recovery was applied to did not read back as erased.
    #[error(
        "sector {sector:#010x} is not erased after the STM32H7 Rev V recovery: {address:#010x} reads {found:#04x}; \
         the erase did not complete, flash again"
    )]
    WorkaroundCheck {
        /// Sector address.
        sector: u32,
        /// First byte that is wrong.
        address: u32,
        /// What it reads.
        found: u8,
    },
    /// No alt setting of the device has this name.
    #[error("no alt setting named {name:?}; the device has {available}")]
    NoSuchAltName {
        /// The name asked for.
        name: String,
        /// The device's alt settings, listed.
        available: String,
    },
    /// No device matches the selection.
    #[error("no DFU device matches; available: {available}")]
    DeviceNotFound {
        /// The devices there are.
        available: String,
    },
    /// Several devices match the selection.
    #[error("{count} devices match; choose one by serial or port path: {candidates}")]
    AmbiguousDevice {
        /// How many matched.
        count: usize,
        /// Each, described.
        candidates: String,
    },
    /// A write failed in a sector that was erased through the Rev V recovery.
    #[error(
        "{source}; sector {sector:#010x} was erased through the STM32H7 Rev V recovery and may not be \
         fully erased: flash again"
    )]
    WriteAfterRecovery {
        /// Sector address.
        sector: u32,
        /// What the write reported.
        source: ProtocolError,
    },
    /// The request does not fit this kind of device.
    #[error("{0}")]
    Unsupported(String),
    /// A bad argument from the caller.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl Error {
    /// A stable machine-readable name for the error's kind (the command's `error_kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Protocol(p) => match p {
                ProtocolError::Transport { source, .. } => match source {
                    TransportError::Disconnected => "disconnected",
                    TransportError::Stall => "stall",
                    TransportError::Timeout(_) => "timeout",
                    TransportError::Overflow => "overflow",
                    TransportError::Cancelled => "cancelled",
                    _ => "usb",
                },
                ProtocolError::DeviceStatus { .. } => "device_status",
                ProtocolError::UnexpectedState { .. } => "unexpected_state",
                ProtocolError::DidNotLeave { .. } => "did_not_leave",
                ProtocolError::StuckBusy { .. } => "stuck_busy",
                ProtocolError::StatusStalled { .. } => "status_stalled",
                ProtocolError::RecoveryFailed { .. } => "recovery_failed",
                ProtocolError::Malformed { .. } => "malformed_reply",
                ProtocolError::NotDfuse { .. } | ProtocolError::Unsupported(_) => "unsupported",
                ProtocolError::NoSuchAlt { .. } => "no_such_alt",
                ProtocolError::ShortRead { .. } => "short_read",
                ProtocolError::TransferSize { .. } => "malformed_reply",
                ProtocolError::Interrupted { .. } => "cancelled",
                ProtocolError::JobDeadline { .. } => "job_deadline",
                ProtocolError::OutOfRange { .. } => "invalid_argument",
            },
            Error::Plan(p) => match p {
                PlanError::Absent { .. } => "outside_layout",
                PlanError::NotWritable { .. } => "not_writable",
                PlanError::NotErasable { .. } | PlanError::Occupied { .. } => "not_erasable",
                PlanError::NotReadable { .. } => "not_readable",
                PlanError::Protected { .. } => "protected",
                PlanError::NoSuchAlt { .. } => "no_such_alt",
                PlanError::NoLayout { .. } => "no_layout",
            },
            Error::Image(ImageError::AltMismatch { .. }) => "alt_mismatch",
            Error::Image(_) => "image",
            Error::Format(_) => "file_format",
            Error::SuffixMismatch { .. } => "suffix_mismatch",
            Error::Layout(_) => "layout",
            Error::Sim(_) => "simulator",
            Error::FlashLayout(FlashLayoutError::Tsv(_)) => "file_format",
            Error::FlashLayout(FlashLayoutError::DeviceError { .. }) => "device_status",
            Error::FlashLayout(_) => "phase_protocol",
            #[cfg(feature = "usb")]
            Error::Usb(u) => match u {
                crate::usb::UsbError::Access { .. } => "usb_access",
                crate::usb::UsbError::Busy { .. } => "usb_busy",
                crate::usb::UsbError::Gone { .. } => "disconnected",
                crate::usb::UsbError::NoReenumeration { .. } => "no_reenumeration",
                crate::usb::UsbError::Driver { .. } => "usb_driver",
                _ => "usb",
            },
            Error::Cancelled { .. } | Error::CancelledBusy { .. } => "cancelled",
            Error::Verify { .. } => "verify_mismatch",
            Error::WorkaroundCheck { .. } => "workaround_check",
            // The device's own error status; the message says the sector was recovered.
            Error::WriteAfterRecovery { .. } => "device_status",
            Error::Unsupported(_) => "unsupported",
            Error::InvalidArgument(_) => "invalid_argument",
            Error::DeviceNotFound { .. } => "device_not_found",
            Error::NoSuchAltName { .. } => "no_such_alt",
            Error::AmbiguousDevice { .. } => "ambiguous_device",
        }
    }
}
