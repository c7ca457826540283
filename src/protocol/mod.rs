//! DFU 1.1 and ST DfuSe over any [`Transport`](crate::transport::Transport).
//!
//! [`Dfu`] is an open DFU interface: it sends the class requests, polls GETSTATUS with
//! deadlines, returns the device to dfuIDLE the way the specification asks, and applies the
//! one narrow recovery the STM32H7 Rev V ROM needs. It knows nothing of files or callbacks.
//!
//! ```
//! use dfuflash::protocol::{Dfu, EngineOptions, State};
//! use dfuflash::sim::SimDevice;
//!
//! let mut dfu = Dfu::open(SimDevice::new("stm32h743-revy").unwrap(), 0, EngineOptions::default()).unwrap();
//! dfu.ensure_idle().unwrap(); // ST ROMs start in dfuERROR/errFIRMWARE
//! assert_eq!(dfu.get_state().unwrap(), State::DfuIdle);
//! dfu.erase_page(0x0802_0000).unwrap();
//! let mut buf = [0u8; 16];
//! dfu.read_memory(0x0802_0000, &mut buf, &mut |_, _| true).unwrap();
//! assert_eq!(buf, [0xff; 16]);
//! ```
//!
//! # Trust
//!
//! Everything a device says is untrusted input: an IDE runs this engine in its own process.
//! No allocation and no loop is sized by a number the device reports, unless the image or a
//! fixed cap bounds it:
//! - wTransferSize is the stride the device applies to block numbers, so every DfuSe block
//!   carries exactly that many bytes; above [`MAX_CONTROL_TRANSFER`](crate::transport::MAX_CONTROL_TRANSFER)
//!   each block gets its own Set Address, and 0 is refused ([`ProtocolError::TransferSize`]);
//! - read-backs never use the writer's (base, block number) pairs, so a stride the device
//!   applies differently from what it reports cannot read back as correct;
//! - buffers are one transfer (at most 4 KB) or the caller's; sector read-backs stream;
//! - a GETSTATUS reply is exactly 6 bytes, and a count beyond the buffer fails the request;
//! - every wait has its limit in [`Timeouts`], ends on a cancel within [`CANCEL_SLICE`], and
//!   stops at the job's deadline ([`Dfu::watch`]);
//! - memory layouts are checked when parsed (see [`crate::layout`]).

mod dfu11;
mod dfuse;
mod engine;
mod error;
mod leave;
mod options;
mod polling;
pub mod quirks;
mod watch;

pub use dfuse::EraseOutcome;
pub use engine::Dfu;
pub use error::ProtocolError;
pub use leave::LeaveOutcome;
pub use options::{EngineOptions, Timeouts};
pub use watch::CANCEL_SLICE;

use std::fmt;

/// Class request codes (DFU 1.1 table 3.2).
pub mod request {
    /// DFU_DETACH.
    pub const DETACH: u8 = 0;
    /// DFU_DNLOAD.
    pub const DNLOAD: u8 = 1;
    /// DFU_UPLOAD.
    pub const UPLOAD: u8 = 2;
    /// DFU_GETSTATUS.
    pub const GETSTATUS: u8 = 3;
    /// DFU_CLRSTATUS.
    pub const CLRSTATUS: u8 = 4;
    /// DFU_GETSTATE.
    pub const GETSTATE: u8 = 5;
    /// DFU_ABORT.
    pub const ABORT: u8 = 6;

    /// The request's name, for messages.
    pub fn name(request: u8) -> &'static str {
        match request {
            DETACH => "DFU_DETACH",
            DNLOAD => "DFU_DNLOAD",
            UPLOAD => "DFU_UPLOAD",
            GETSTATUS => "DFU_GETSTATUS",
            CLRSTATUS => "DFU_CLRSTATUS",
            GETSTATE => "DFU_GETSTATE",
            ABORT => "DFU_ABORT",
            _ => "unknown request",
        }
    }
}

/// DfuSe command bytes sent with DNLOAD wValue 0 (AN3156).
pub mod dfuse_cmd {
    /// Get the command list (UPLOAD wValue 0 returns it).
    pub const GET_COMMANDS: u8 = 0x00;
    /// Set Address Pointer.
    pub const SET_ADDRESS: u8 = 0x21;
    /// Erase the page that holds an address, or mass erase without an address.
    pub const ERASE: u8 = 0x41;
    /// Read unprotect: mass-erases, clears read protection and resets the chip.
    pub const READ_UNPROTECT: u8 = 0x92;
}

/// bState (DFU 1.1 section 6.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum State {
    AppIdle,
    AppDetach,
    DfuIdle,
    DnloadSync,
    DnBusy,
    DnloadIdle,
    ManifestSync,
    Manifest,
    ManifestWaitReset,
    UploadIdle,
    Error,
    /// A value the specification does not define.
    Unknown(u8),
}

impl State {
    /// From the wire value.
    pub fn from_u8(v: u8) -> Self {
        use State::*;
        match v {
            0 => AppIdle,
            1 => AppDetach,
            2 => DfuIdle,
            3 => DnloadSync,
            4 => DnBusy,
            5 => DnloadIdle,
            6 => ManifestSync,
            7 => Manifest,
            8 => ManifestWaitReset,
            9 => UploadIdle,
            10 => Error,
            v => Unknown(v),
        }
    }

    /// The wire value.
    pub fn as_u8(self) -> u8 {
        use State::*;
        match self {
            AppIdle => 0,
            AppDetach => 1,
            DfuIdle => 2,
            DnloadSync => 3,
            DnBusy => 4,
            DnloadIdle => 5,
            ManifestSync => 6,
            Manifest => 7,
            ManifestWaitReset => 8,
            UploadIdle => 9,
            Error => 10,
            Unknown(v) => v,
        }
    }

    /// The specification's name.
    pub fn name(self) -> &'static str {
        use State::*;
        match self {
            AppIdle => "appIDLE",
            AppDetach => "appDETACH",
            DfuIdle => "dfuIDLE",
            DnloadSync => "dfuDNLOAD-SYNC",
            DnBusy => "dfuDNBUSY",
            DnloadIdle => "dfuDNLOAD-IDLE",
            ManifestSync => "dfuMANIFEST-SYNC",
            Manifest => "dfuMANIFEST",
            ManifestWaitReset => "dfuMANIFEST-WAIT-RESET",
            UploadIdle => "dfuUPLOAD-IDLE",
            Error => "dfuERROR",
            Unknown(_) => "unknown state",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            State::Unknown(v) => write!(f, "unknown state {v}"),
            s => f.write_str(s.name()),
        }
    }
}

/// bStatus (DFU 1.1 section 6.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Status {
    Ok,
    ErrTarget,
    ErrFile,
    ErrWrite,
    ErrErase,
    ErrCheckErased,
    ErrProg,
    ErrVerify,
    ErrAddress,
    ErrNotDone,
    ErrFirmware,
    ErrVendor,
    ErrUsbr,
    ErrPor,
    ErrUnknown,
    ErrStalledPkt,
    /// A value the specification does not define.
    Other(u8),
}

impl Status {
    /// From the wire value.
    pub fn from_u8(v: u8) -> Self {
        use Status::*;
        match v {
            0 => Ok,
            1 => ErrTarget,
            2 => ErrFile,
            3 => ErrWrite,
            4 => ErrErase,
            5 => ErrCheckErased,
            6 => ErrProg,
            7 => ErrVerify,
            8 => ErrAddress,
            9 => ErrNotDone,
            10 => ErrFirmware,
            11 => ErrVendor,
            12 => ErrUsbr,
            13 => ErrPor,
            14 => ErrUnknown,
            15 => ErrStalledPkt,
            v => Other(v),
        }
    }

    /// The wire value.
    pub fn as_u8(self) -> u8 {
        use Status::*;
        match self {
            Ok => 0,
            ErrTarget => 1,
            ErrFile => 2,
            ErrWrite => 3,
            ErrErase => 4,
            ErrCheckErased => 5,
            ErrProg => 6,
            ErrVerify => 7,
            ErrAddress => 8,
            ErrNotDone => 9,
            ErrFirmware => 10,
            ErrVendor => 11,
            ErrUsbr => 12,
            ErrPor => 13,
            ErrUnknown => 14,
            ErrStalledPkt => 15,
            Other(v) => v,
        }
    }

    /// The specification's name and meaning; for ST ROMs, what it usually means there.
    pub fn describe(self) -> &'static str {
        use Status::*;
        match self {
            Ok => "OK",
            ErrTarget => "errTARGET (address not allowed by the device)",
            ErrFile => "errFILE (file rejected by the device)",
            ErrWrite => "errWRITE (device could not write memory)",
            ErrErase => "errERASE (memory erase failed)",
            ErrCheckErased => "errCHECK_ERASED (memory erase check failed)",
            ErrProg => "errPROG (program memory function failed; is the memory erased?)",
            ErrVerify => "errVERIFY (programmed memory failed verification)",
            ErrAddress => "errADDRESS (address out of range)",
            ErrNotDone => "errNOTDONE (download ended before the device expected)",
            ErrFirmware => "errFIRMWARE (firmware is corrupt; the device stays in DFU mode)",
            ErrVendor => "errVENDOR (vendor error; on ST ROMs: read protection is active)",
            ErrUsbr => "errUSBR (unexpected USB reset)",
            ErrPor => "errPOR (unexpected power on reset)",
            ErrUnknown => "errUNKNOWN (unknown error)",
            ErrStalledPkt => "errSTALLEDPKT (device stalled an unexpected request)",
            Other(_) => "status value outside the DFU specification",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Other(v) => write!(f, "status {v} (outside the DFU specification)"),
            s => f.write_str(s.describe()),
        }
    }
}

/// The 6-byte DFU_GETSTATUS reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusReply {
    /// bStatus.
    pub status: Status,
    /// bwPollTimeout in milliseconds.
    pub poll_timeout_ms: u32,
    /// bState.
    pub state: State,
    /// iString.
    pub istring: u8,
}

impl StatusReply {
    /// Parses the reply; `None` unless exactly 6 bytes arrived.
    pub fn parse(b: &[u8]) -> Option<Self> {
        if b.len() != 6 {
            return None;
        }
        Some(Self {
            status: Status::from_u8(b[0]),
            poll_timeout_ms: u32::from_le_bytes([b[1], b[2], b[3], 0]),
            state: State::from_u8(b[4]),
            istring: b[5],
        })
    }

    /// The wire bytes.
    pub fn to_bytes(&self) -> [u8; 6] {
        let p = self.poll_timeout_ms.min(0xff_ffff).to_le_bytes();
        [
            self.status.as_u8(),
            p[0],
            p[1],
            p[2],
            self.state.as_u8(),
            self.istring,
        ]
    }
}

/// Bytes a device programs at once; writes are padded with 0xFF and aligned to it.
///
/// STM32H72x..H75x program 256-bit flash words with ECC (their internal flash is 128 KB
/// sectors from 0x08000000, whoever's bootloader describes it: ST's ROM, or Arduino's on the
/// Portenta H7's H747); the parts with 8 KB sectors (H7A3/B3, H5, U5) program 128-bit
/// quad-words with ECC; other ST parts program at most 64 bits at once (L4, G4, C0: double
/// words; F2/F4/F7 accept less). Padding more than needed costs nothing on erased flash.
/// Plain DFU 1.1 devices get the bytes as they are.
pub fn write_granularity(
    info: &crate::transport::DeviceInfo,
    layout: &crate::layout::Layout,
) -> u32 {
    if !info.functional.is_dfuse() {
        return 1;
    }
    let flash_of = |size: u32| {
        layout
            .groups
            .first()
            .is_some_and(|g| g.start == 0x0800_0000 && g.runs.iter().all(|r| r.size == size))
            && layout.name.contains("Internal Flash")
    };
    if flash_of(128 * 1024) {
        32
    } else if flash_of(8 * 1024) {
        16
    } else {
        8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_reply_round_trips_and_poll_timeout_is_24_bit() {
        let r = StatusReply {
            status: Status::ErrUnknown,
            poll_timeout_ms: 0x01_02_03,
            state: State::Error,
            istring: 0,
        };
        assert_eq!(r.to_bytes(), [14, 0x03, 0x02, 0x01, 10, 0]);
        assert_eq!(StatusReply::parse(&r.to_bytes()), Some(r));
        assert_eq!(StatusReply::parse(&[0; 5]), None);
    }

    #[test]
    fn every_state_and_status_value_round_trips() {
        for v in 0..=255u8 {
            assert_eq!(State::from_u8(v).as_u8(), v);
            assert_eq!(Status::from_u8(v).as_u8(), v);
        }
        assert_eq!(State::from_u8(4).to_string(), "dfuDNBUSY");
        assert_eq!(State::from_u8(77).to_string(), "unknown state 77");
    }
}
