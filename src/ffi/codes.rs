//! Stable status codes of the C ABI, in groups. Numbers are never renumbered or reused.

use std::ffi::CStr;

use crate::error::Error;
use crate::flashlayout::{FlashLayoutError, TsvError};
use crate::image::{FormatError, ImageError};
use crate::plan::PlanError;
use crate::protocol::ProtocolError;
use crate::transport::TransportError;

/// Success.
pub const DFUFLASH_OK: i32 = 0;

/// Caller misuse: a required pointer argument is NULL.
pub const DFUFLASH_ERR_NULL_ARGUMENT: i32 = 100;
/// Caller misuse: an argument is out of range or malformed.
pub const DFUFLASH_ERR_INVALID_ARGUMENT: i32 = 101;
/// An internal error (a Rust panic) was contained; the library stays usable.
pub const DFUFLASH_ERR_PANIC: i32 = 102;
/// The device handle is in use by another call (a handle serves one thread at a time).
pub const DFUFLASH_ERR_BUSY: i32 = 103;
/// Caller misuse: the device handle is not open (closed already, or never opened).
pub const DFUFLASH_ERR_INVALID_HANDLE: i32 = 104;
/// The caller's buffer is too small; the needed size was written.
pub const DFUFLASH_ERR_BUFFER_TOO_SMALL: i32 = 105;

/// USB: the device disconnected.
pub const DFUFLASH_ERR_USB_DISCONNECTED: i32 = 200;
/// USB: the device stalled a request.
pub const DFUFLASH_ERR_USB_STALL: i32 = 201;
/// USB: a transfer timed out.
pub const DFUFLASH_ERR_USB_TIMEOUT: i32 = 202;
/// USB: the device sent more data than asked for.
pub const DFUFLASH_ERR_USB_OVERFLOW: i32 = 203;
/// USB: any other USB failure.
pub const DFUFLASH_ERR_USB: i32 = 204;
/// No device matches the selection.
pub const DFUFLASH_ERR_DEVICE_NOT_FOUND: i32 = 205;
/// Several devices match the selection (the message lists them).
pub const DFUFLASH_ERR_AMBIGUOUS_DEVICE: i32 = 206;
/// USB: permission denied (the message says how to add a udev rule on Linux).
pub const DFUFLASH_ERR_USB_ACCESS: i32 = 207;
/// USB: another driver or program holds the interface.
pub const DFUFLASH_ERR_USB_BUSY: i32 = 208;
/// USB (Windows): the device is bound to a driver libusb cannot open it through, such as
/// STTub30, ST's DfuSe driver. The message names the driver and how to install WinUSB with
/// Zadig; an IDE may show its own driver dialog for this code.
pub const DFUFLASH_ERR_USB_DRIVER: i32 = 209;

/// Device: it reported an error status (errTARGET, errVENDOR, ...).
pub const DFUFLASH_ERR_DEVICE_STATUS: i32 = 300;
/// Device: it is in a state the operation does not allow (or, after a leave, still in DFU
/// mode).
pub const DFUFLASH_ERR_UNEXPECTED_STATE: i32 = 301;
/// Device: it stayed busy past the deadline.
pub const DFUFLASH_ERR_STUCK_BUSY: i32 = 302;
/// Device: it stalled GETSTATUS past the retry budget.
pub const DFUFLASH_ERR_STATUS_STALLED: i32 = 303;
/// Device: the STM32H7 Rev V recovery did not apply.
pub const DFUFLASH_ERR_RECOVERY_FAILED: i32 = 304;
/// Device: a malformed reply.
pub const DFUFLASH_ERR_MALFORMED_REPLY: i32 = 305;
/// Device: an upload returned fewer bytes than asked for.
pub const DFUFLASH_ERR_SHORT_READ: i32 = 306;
/// Device: it does not support the operation.
pub const DFUFLASH_ERR_UNSUPPORTED: i32 = 307;
/// Device: no such alt setting.
pub const DFUFLASH_ERR_NO_SUCH_ALT: i32 = 308;
/// Device: the operation ran past its deadline as a whole (DFUFLASH_TIMEOUT_JOB); the device
/// kept the host waiting.
pub const DFUFLASH_ERR_JOB_TIMEOUT: i32 = 309;

/// File: the firmware file is malformed (the message names the offset or line).
pub const DFUFLASH_ERR_FILE_FORMAT: i32 = 400;
/// File: it cannot be read.
pub const DFUFLASH_ERR_FILE_IO: i32 = 401;
/// File: a raw binary needs an address.
pub const DFUFLASH_ERR_RAW_NEEDS_ADDRESS: i32 = 402;
/// File: its DFU suffix names another device.
pub const DFUFLASH_ERR_SUFFIX_MISMATCH: i32 = 403;
/// File: the image is invalid (overlapping or empty segments).
pub const DFUFLASH_ERR_IMAGE: i32 = 404;
/// Device: its memory layout string is malformed.
pub const DFUFLASH_ERR_LAYOUT: i32 = 405;
/// Simulator: unknown model or unreadable state file.
pub const DFUFLASH_ERR_SIMULATOR: i32 = 406;

/// Refused before any request: the image touches memory the device does not have.
pub const DFUFLASH_ERR_OUTSIDE_LAYOUT: i32 = 500;
/// Refused: the memory is not writable.
pub const DFUFLASH_ERR_NOT_WRITABLE: i32 = 501;
/// Refused: the memory is not erasable, or, written without an erase, already holds bytes the
/// image cannot be written over (found by reading first, before anything is written).
pub const DFUFLASH_ERR_NOT_ERASABLE: i32 = 502;
/// Refused: the memory is not readable, so it cannot be verified.
pub const DFUFLASH_ERR_NOT_READABLE: i32 = 503;
/// Refused: option bytes, OTP or the device feature area without explicit permission.
pub const DFUFLASH_ERR_PROTECTED: i32 = 504;
/// Refused: the alt setting has no DfuSe memory layout.
pub const DFUFLASH_ERR_NO_LAYOUT: i32 = 505;
/// Refused: the image is for another alt setting than the one selected (the message says both).
pub const DFUFLASH_ERR_ALT_MISMATCH: i32 = 506;

/// The caller cancelled; the device was left in dfuIDLE.
pub const DFUFLASH_ERR_CANCELLED: i32 = 600;

/// Verify: read-back differs from what was written.
pub const DFUFLASH_ERR_VERIFY: i32 = 700;
/// Verify: a sector erased through the Rev V recovery did not read back erased.
pub const DFUFLASH_ERR_WORKAROUND_CHECK: i32 = 701;

/// FlashLayout: the TSV is invalid; the message names its file, line and column (ABI 3.2). A
/// binary it names that cannot be read is DFUFLASH_ERR_FILE_IO, named the same way.
pub const DFUFLASH_ERR_TSV: i32 = 800;
/// FlashLayout: the device reported phase 0xFF; the message carries its text (ABI 3.2).
pub const DFUFLASH_ERR_PHASE_DEVICE_ERROR: i32 = 801;
/// FlashLayout: the device asked for a phase the TSV has no row for, or for a row marked E
/// (not to be downloaded): the layout is not for this board (ABI 3.2).
pub const DFUFLASH_ERR_PHASE_UNKNOWN: i32 = 802;
/// FlashLayout: the device kept asking for the partition it was just sent (ABI 3.2).
pub const DFUFLASH_ERR_PHASE_LOOP: i32 = 803;
/// FlashLayout: no alt setting serves the phase the device asked for, even after following
/// the board to its next boot stage (ABI 3.2).
pub const DFUFLASH_ERR_PHASE_NO_ALT: i32 = 804;
/// FlashLayout: the device reported the end before it asked for every row to program; the
/// message names the rows never written (ABI 3.2).
pub const DFUFLASH_ERR_PHASE_ENDED_EARLY: i32 = 805;

/// Every code, for tests and bindings.
pub const ALL: &[i32] = &[
    DFUFLASH_OK,
    DFUFLASH_ERR_NULL_ARGUMENT,
    DFUFLASH_ERR_INVALID_ARGUMENT,
    DFUFLASH_ERR_PANIC,
    DFUFLASH_ERR_BUSY,
    DFUFLASH_ERR_INVALID_HANDLE,
    DFUFLASH_ERR_BUFFER_TOO_SMALL,
    DFUFLASH_ERR_USB_DISCONNECTED,
    DFUFLASH_ERR_USB_STALL,
    DFUFLASH_ERR_USB_TIMEOUT,
    DFUFLASH_ERR_USB_OVERFLOW,
    DFUFLASH_ERR_USB,
    DFUFLASH_ERR_DEVICE_NOT_FOUND,
    DFUFLASH_ERR_AMBIGUOUS_DEVICE,
    DFUFLASH_ERR_USB_ACCESS,
    DFUFLASH_ERR_USB_BUSY,
    DFUFLASH_ERR_USB_DRIVER,
    DFUFLASH_ERR_DEVICE_STATUS,
    DFUFLASH_ERR_UNEXPECTED_STATE,
    DFUFLASH_ERR_STUCK_BUSY,
    DFUFLASH_ERR_STATUS_STALLED,
    DFUFLASH_ERR_RECOVERY_FAILED,
    DFUFLASH_ERR_MALFORMED_REPLY,
    DFUFLASH_ERR_SHORT_READ,
    DFUFLASH_ERR_UNSUPPORTED,
    DFUFLASH_ERR_NO_SUCH_ALT,
    DFUFLASH_ERR_JOB_TIMEOUT,
    DFUFLASH_ERR_FILE_FORMAT,
    DFUFLASH_ERR_FILE_IO,
    DFUFLASH_ERR_RAW_NEEDS_ADDRESS,
    DFUFLASH_ERR_SUFFIX_MISMATCH,
    DFUFLASH_ERR_IMAGE,
    DFUFLASH_ERR_LAYOUT,
    DFUFLASH_ERR_SIMULATOR,
    DFUFLASH_ERR_OUTSIDE_LAYOUT,
    DFUFLASH_ERR_NOT_WRITABLE,
    DFUFLASH_ERR_NOT_ERASABLE,
    DFUFLASH_ERR_NOT_READABLE,
    DFUFLASH_ERR_PROTECTED,
    DFUFLASH_ERR_NO_LAYOUT,
    DFUFLASH_ERR_ALT_MISMATCH,
    DFUFLASH_ERR_CANCELLED,
    DFUFLASH_ERR_VERIFY,
    DFUFLASH_ERR_WORKAROUND_CHECK,
    DFUFLASH_ERR_TSV,
    DFUFLASH_ERR_PHASE_DEVICE_ERROR,
    DFUFLASH_ERR_PHASE_UNKNOWN,
    DFUFLASH_ERR_PHASE_LOOP,
    DFUFLASH_ERR_PHASE_NO_ALT,
    DFUFLASH_ERR_PHASE_ENDED_EARLY,
];

/// A static description of any code.
pub(crate) fn describe(code: i32) -> &'static CStr {
    match code {
        DFUFLASH_OK => c"ok",
        DFUFLASH_ERR_NULL_ARGUMENT => c"a required pointer argument is NULL",
        DFUFLASH_ERR_INVALID_ARGUMENT => c"invalid argument",
        DFUFLASH_ERR_PANIC => c"internal error (contained panic)",
        DFUFLASH_ERR_BUSY => c"the device handle is in use by another call",
        DFUFLASH_ERR_INVALID_HANDLE => c"not an open device handle (closed already?)",
        DFUFLASH_ERR_BUFFER_TOO_SMALL => c"the buffer is too small",
        DFUFLASH_ERR_USB_DISCONNECTED => c"device disconnected",
        DFUFLASH_ERR_USB_STALL => c"the device stalled a request",
        DFUFLASH_ERR_USB_TIMEOUT => c"USB transfer timed out",
        DFUFLASH_ERR_USB_OVERFLOW => c"the device sent more data than asked for",
        DFUFLASH_ERR_USB => c"USB error",
        DFUFLASH_ERR_DEVICE_NOT_FOUND => c"no matching DFU device",
        DFUFLASH_ERR_AMBIGUOUS_DEVICE => c"several devices match; choose by serial or port path",
        DFUFLASH_ERR_USB_ACCESS => c"permission denied opening the USB device",
        DFUFLASH_ERR_USB_BUSY => c"the USB interface is held by another driver or program",
        DFUFLASH_ERR_USB_DRIVER => c"the device's driver cannot be used by libusb; install WinUSB",
        DFUFLASH_ERR_DEVICE_STATUS => c"the device reported an error status",
        DFUFLASH_ERR_UNEXPECTED_STATE => c"the device is in an unexpected state",
        DFUFLASH_ERR_STUCK_BUSY => c"the device stayed busy past the deadline",
        DFUFLASH_ERR_STATUS_STALLED => c"the device kept stalling GETSTATUS",
        DFUFLASH_ERR_RECOVERY_FAILED => c"the STM32H7 Rev V recovery did not apply",
        DFUFLASH_ERR_MALFORMED_REPLY => c"malformed reply from the device",
        DFUFLASH_ERR_SHORT_READ => c"the device returned fewer bytes than asked for",
        DFUFLASH_ERR_UNSUPPORTED => c"the device does not support this operation",
        DFUFLASH_ERR_NO_SUCH_ALT => c"no such alt setting",
        DFUFLASH_ERR_JOB_TIMEOUT => c"the operation ran past its deadline",
        DFUFLASH_ERR_FILE_FORMAT => c"malformed firmware file",
        DFUFLASH_ERR_FILE_IO => c"cannot read the file",
        DFUFLASH_ERR_RAW_NEEDS_ADDRESS => c"a raw binary needs an address",
        DFUFLASH_ERR_SUFFIX_MISMATCH => c"the file's DFU suffix names another device",
        DFUFLASH_ERR_IMAGE => c"invalid image",
        DFUFLASH_ERR_LAYOUT => c"malformed memory layout",
        DFUFLASH_ERR_SIMULATOR => c"simulator error",
        DFUFLASH_ERR_OUTSIDE_LAYOUT => c"refused: outside the device's memory",
        DFUFLASH_ERR_NOT_WRITABLE => c"refused: memory not writable",
        DFUFLASH_ERR_NOT_ERASABLE => c"refused: memory not erasable",
        DFUFLASH_ERR_NOT_READABLE => c"refused: memory not readable for verify",
        DFUFLASH_ERR_PROTECTED => c"refused: option bytes, OTP or feature area not allowed",
        DFUFLASH_ERR_NO_LAYOUT => c"refused: the alt setting has no memory layout",
        DFUFLASH_ERR_ALT_MISMATCH => {
            c"refused: the image is for another alt setting than the one selected"
        }
        DFUFLASH_ERR_CANCELLED => c"cancelled",
        DFUFLASH_ERR_VERIFY => c"verify failed",
        DFUFLASH_ERR_WORKAROUND_CHECK => c"a recovered sector did not read back erased",
        DFUFLASH_ERR_TSV => c"invalid FlashLayout.tsv",
        DFUFLASH_ERR_PHASE_DEVICE_ERROR => c"the device reported an error (phase 0xFF)",
        DFUFLASH_ERR_PHASE_UNKNOWN => c"the device asked for a partition the layout does not have",
        DFUFLASH_ERR_PHASE_LOOP => c"the device kept asking for the same partition",
        DFUFLASH_ERR_PHASE_NO_ALT => c"no alt setting serves the phase the device asked for",
        DFUFLASH_ERR_PHASE_ENDED_EARLY => {
            c"the device ended the layout before asking for every partition"
        }
        _ => c"unknown status code",
    }
}

/// The one place a Rust error becomes a C code.
pub(crate) fn code_of(e: &Error) -> i32 {
    match e {
        Error::Protocol(p) => match p {
            ProtocolError::Transport { source, .. } => match source {
                TransportError::Disconnected => DFUFLASH_ERR_USB_DISCONNECTED,
                TransportError::Stall => DFUFLASH_ERR_USB_STALL,
                TransportError::Timeout(_) => DFUFLASH_ERR_USB_TIMEOUT,
                TransportError::Overflow => DFUFLASH_ERR_USB_OVERFLOW,
                TransportError::Other(_) => DFUFLASH_ERR_USB,
                // The engine reports a cut transfer as Interrupted; a transport's own is a cancel.
                TransportError::Cancelled => DFUFLASH_ERR_CANCELLED,
            },
            ProtocolError::DeviceStatus { .. } => DFUFLASH_ERR_DEVICE_STATUS,
            ProtocolError::UnexpectedState { .. } | ProtocolError::DidNotLeave { .. } => {
                DFUFLASH_ERR_UNEXPECTED_STATE
            }
            ProtocolError::StuckBusy { .. } => DFUFLASH_ERR_STUCK_BUSY,
            ProtocolError::StatusStalled { .. } => DFUFLASH_ERR_STATUS_STALLED,
            ProtocolError::RecoveryFailed { .. } => DFUFLASH_ERR_RECOVERY_FAILED,
            ProtocolError::Malformed { .. } => DFUFLASH_ERR_MALFORMED_REPLY,
            ProtocolError::ShortRead { .. } => DFUFLASH_ERR_SHORT_READ,
            ProtocolError::NotDfuse { .. } | ProtocolError::Unsupported(_) => {
                DFUFLASH_ERR_UNSUPPORTED
            }
            ProtocolError::NoSuchAlt { .. } => DFUFLASH_ERR_NO_SUCH_ALT,
            ProtocolError::TransferSize { .. } => DFUFLASH_ERR_MALFORMED_REPLY,
            ProtocolError::Interrupted { .. } => DFUFLASH_ERR_CANCELLED,
            ProtocolError::JobDeadline { .. } => DFUFLASH_ERR_JOB_TIMEOUT,
            ProtocolError::OutOfRange { .. } => DFUFLASH_ERR_INVALID_ARGUMENT,
        },
        Error::Plan(p) => match p {
            PlanError::Absent { .. } => DFUFLASH_ERR_OUTSIDE_LAYOUT,
            PlanError::NotWritable { .. } => DFUFLASH_ERR_NOT_WRITABLE,
            PlanError::NotErasable { .. } | PlanError::Occupied { .. } => DFUFLASH_ERR_NOT_ERASABLE,
            PlanError::NotReadable { .. } => DFUFLASH_ERR_NOT_READABLE,
            PlanError::Protected { .. } => DFUFLASH_ERR_PROTECTED,
            PlanError::NoSuchAlt { .. } => DFUFLASH_ERR_NO_SUCH_ALT,
            PlanError::NoLayout { .. } => DFUFLASH_ERR_NO_LAYOUT,
        },
        Error::Format(f) => match f {
            FormatError::Io { .. } => DFUFLASH_ERR_FILE_IO,
            FormatError::RawNeedsAddress { .. } => DFUFLASH_ERR_RAW_NEEDS_ADDRESS,
            FormatError::AddressNotAllowed { .. } => DFUFLASH_ERR_INVALID_ARGUMENT,
            FormatError::Truncated { .. }
            | FormatError::Crc { .. }
            | FormatError::Field { .. }
            | FormatError::Line { .. }
            | FormatError::Overlap { .. }
            | FormatError::AddressRange { .. }
            | FormatError::Elf { .. }
            | FormatError::Empty { .. } => DFUFLASH_ERR_FILE_FORMAT,
        },
        Error::Image(ImageError::AltMismatch { .. }) => DFUFLASH_ERR_ALT_MISMATCH,
        Error::Image(_) => DFUFLASH_ERR_IMAGE,
        Error::Layout(_) => DFUFLASH_ERR_LAYOUT,
        Error::Sim(_) => DFUFLASH_ERR_SIMULATOR,
        Error::FlashLayout(f) => match f {
            // The TSV, or a binary it names, cannot be read.
            FlashLayoutError::Tsv(TsvError::Io { .. }) => DFUFLASH_ERR_FILE_IO,
            FlashLayoutError::Tsv(_) => DFUFLASH_ERR_TSV,
            FlashLayoutError::DeviceError { .. } => DFUFLASH_ERR_PHASE_DEVICE_ERROR,
            FlashLayoutError::PhaseNotInLayout { .. } | FlashLayoutError::PhaseEmpty { .. } => {
                DFUFLASH_ERR_PHASE_UNKNOWN
            }
            FlashLayoutError::PhaseLoop { .. } => DFUFLASH_ERR_PHASE_LOOP,
            FlashLayoutError::NoAltForPhase { .. } => DFUFLASH_ERR_PHASE_NO_ALT,
            FlashLayoutError::EndedEarly { .. } => DFUFLASH_ERR_PHASE_ENDED_EARLY,
            FlashLayoutError::MalformedPhase { .. } => DFUFLASH_ERR_MALFORMED_REPLY,
            FlashLayoutError::Reenumeration { .. } => DFUFLASH_ERR_DEVICE_NOT_FOUND,
        },
        #[cfg(feature = "usb")]
        Error::Usb(u) => match u {
            crate::usb::UsbError::Access { .. } => DFUFLASH_ERR_USB_ACCESS,
            crate::usb::UsbError::Busy { .. } => DFUFLASH_ERR_USB_BUSY,
            crate::usb::UsbError::Gone { .. } => DFUFLASH_ERR_USB_DISCONNECTED,
            crate::usb::UsbError::NoReenumeration { .. } => DFUFLASH_ERR_DEVICE_NOT_FOUND,
            crate::usb::UsbError::Driver { .. } => DFUFLASH_ERR_USB_DRIVER,
            crate::usb::UsbError::Init(_) | crate::usb::UsbError::Other { .. } => DFUFLASH_ERR_USB,
        },
        Error::SuffixMismatch { .. } => DFUFLASH_ERR_SUFFIX_MISMATCH,
        Error::Cancelled { .. } | Error::CancelledBusy { .. } => DFUFLASH_ERR_CANCELLED,
        Error::Verify { .. } => DFUFLASH_ERR_VERIFY,
        // Only a read-back that proves the recovered erase incomplete is a recovery failure.
        Error::WorkaroundCheck { .. } => DFUFLASH_ERR_WORKAROUND_CHECK,
        Error::WriteAfterRecovery { .. } => DFUFLASH_ERR_DEVICE_STATUS,
        Error::Unsupported(_) => DFUFLASH_ERR_UNSUPPORTED,
        Error::InvalidArgument(_) => DFUFLASH_ERR_INVALID_ARGUMENT,
        Error::DeviceNotFound { .. } => DFUFLASH_ERR_DEVICE_NOT_FOUND,
        Error::NoSuchAltName { .. } => DFUFLASH_ERR_NO_SUCH_ALT,
        Error::AmbiguousDevice { .. } => DFUFLASH_ERR_AMBIGUOUS_DEVICE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flashlayout::Column;

    #[test]
    fn every_code_has_a_distinct_non_empty_description() {
        let mut seen = std::collections::BTreeSet::new();
        for &c in ALL {
            let d = describe(c).to_str().unwrap();
            assert!(!d.is_empty() && d != "unknown status code", "{c}");
            assert!(seen.insert(d), "{c} shares its description");
        }
        let mut codes = ALL.to_vec();
        codes.dedup();
        assert_eq!(codes.len(), ALL.len());
        for c in [-1, 1, 99, 999, i32::MIN, i32::MAX] {
            assert_eq!(describe(c).to_str().unwrap(), "unknown status code");
        }
    }

    #[test]
    fn a_failed_write_in_a_recovered_sector_is_the_devices_status_not_a_recovery_failure() {
        use crate::protocol::{State, Status};
        let write = Error::WriteAfterRecovery {
            sector: 0x0812_0000,
            source: ProtocolError::DeviceStatus {
                during: "writing block 2".into(),
                address: Some(0x0812_0400),
                status: Status::ErrWrite,
                state: State::Error,
            },
        };
        assert_eq!(code_of(&write), DFUFLASH_ERR_DEVICE_STATUS);
        assert!(write
            .to_string()
            .contains("erased through the STM32H7 Rev V recovery"));
        let check = Error::WorkaroundCheck {
            sector: 0x0812_0000,
            address: 0x0812_0400,
            found: 0,
        };
        assert_eq!(code_of(&check), DFUFLASH_ERR_WORKAROUND_CHECK);
    }

    #[test]
    fn each_failure_of_a_layout_has_its_code() {
        let tsv = |e: TsvError| code_of(&FlashLayoutError::Tsv(e).into());
        let field = |column| TsvError::Field {
            file: "F.tsv".into(),
            line: 3,
            column,
            detail: "x".into(),
        };
        assert_eq!(tsv(field(Column::Id)), DFUFLASH_ERR_TSV);
        // An empty or oversized binary is the layout's fault, not the file system's.
        assert_eq!(tsv(field(Column::Binary)), DFUFLASH_ERR_TSV);
        let io = TsvError::Io {
            file: "F.tsv".into(),
            detail: "gone".into(),
        };
        assert_eq!(tsv(io), DFUFLASH_ERR_FILE_IO);
        let cases = [
            (
                FlashLayoutError::DeviceError { text: "t".into() },
                DFUFLASH_ERR_PHASE_DEVICE_ERROR,
            ),
            (
                FlashLayoutError::PhaseNotInLayout {
                    phase: 7,
                    file: "F.tsv".into(),
                },
                DFUFLASH_ERR_PHASE_UNKNOWN,
            ),
            (
                FlashLayoutError::PhaseEmpty {
                    phase: 7,
                    name: "n".into(),
                },
                DFUFLASH_ERR_PHASE_UNKNOWN,
            ),
            (
                FlashLayoutError::PhaseLoop {
                    phase: 7,
                    count: 3,
                    name: "n".into(),
                },
                DFUFLASH_ERR_PHASE_LOOP,
            ),
            (
                FlashLayoutError::NoAltForPhase {
                    phase: 7,
                    alts: "a".into(),
                },
                DFUFLASH_ERR_PHASE_NO_ALT,
            ),
            (
                FlashLayoutError::EndedEarly { names: "a".into() },
                DFUFLASH_ERR_PHASE_ENDED_EARLY,
            ),
            (
                FlashLayoutError::MalformedPhase { len: 3 },
                DFUFLASH_ERR_MALFORMED_REPLY,
            ),
            (
                FlashLayoutError::Reenumeration { detail: "d".into() },
                DFUFLASH_ERR_DEVICE_NOT_FOUND,
            ),
        ];
        for (e, code) in cases {
            assert_eq!(code_of(&e.clone().into()), code, "{e}");
        }
    }
}
