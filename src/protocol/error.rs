use std::time::Duration;

use super::{request, State, Status};
use crate::transport::TransportError;

/// What the protocol engine reports when a request or a wait fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A control transfer failed.
    #[error("{} failed during {during}: {source}", request::name(*.request))]
    Transport {
        /// The request code.
        request: u8,
        /// What the engine was doing.
        during: String,
        /// What the USB stack said.
        #[source]
        source: TransportError,
    },
    /// The device reported an error status.
    #[error("device reported {status} in {state} during {during}")]
    DeviceStatus {
        /// What the engine was doing.
        during: String,
        /// The address of the command or block, when there is one.
        address: Option<u32>,
        /// bStatus.
        status: Status,
        /// bState.
        state: State,
    },
    /// The device is in a state the operation does not allow.
    #[error("device is in {got} during {during}, expected {expected}")]
    UnexpectedState {
        /// What the engine was doing.
        during: String,
        /// What the engine expected.
        expected: &'static str,
        /// What the device reported.
        got: State,
    },
    /// After the leave request the device answered that it is still in DFU mode.
    #[error(
        "the device did not leave DFU mode: it answered the leave request with {status} in \
         {state}, so its firmware is not running; reset or power-cycle the board to start it"
    )]
    DidNotLeave {
        /// bStatus.
        status: Status,
        /// bState.
        state: State,
    },
    /// The device stayed busy past the operation's deadline.
    #[error(
        "device stuck busy ({state}) for {:.1} s during {during}; the deadline is {:.1} s. \
         Power-cycle the board and retry{hint}",
        waited.as_secs_f64(), deadline.as_secs_f64()
    )]
    StuckBusy {
        /// What the engine was doing, naming the sector for an erase.
        during: String,
        /// Address of the sector or block, when there is one.
        address: Option<u32>,
        /// The last state reported.
        state: State,
        /// How long the engine waited.
        waited: Duration,
        /// The deadline.
        deadline: Duration,
        /// Advice when a known device quirk fits.
        hint: String,
    },
    /// The device stalled GETSTATUS more often than the retry budget allows.
    #[error("device stalled DFU_GETSTATUS {count} times in a row during {during}")]
    StatusStalled {
        /// What the engine was doing.
        during: String,
        /// How many stalls.
        count: u32,
    },
    /// The H7 Rev V recovery was tried but the device did not answer as that ROM does.
    #[error(
        "{} stuck in dfuDNBUSY and the Rev V recovery did not apply: {detail}",
        match .address {
            Some(a) => format!("erase of sector {a:#010x}"),
            None => "an erase another host left".to_string(),
        }
    )]
    RecoveryFailed {
        /// Sector address; None for an erase another process sent (its sector is unknown).
        address: Option<u32>,
        /// What went differently.
        detail: String,
    },
    /// The device answered with a malformed reply.
    #[error("malformed reply to {} during {during}: {detail}", request::name(*.request))]
    Malformed {
        /// The request code.
        request: u8,
        /// What the engine was doing.
        during: String,
        /// What was wrong.
        detail: String,
    },
    /// The device is not a DfuSe device but the operation needs DfuSe.
    #[error(
        "{operation} needs a DfuSe (ST) device; this device reports DFU version {version:#06x}"
    )]
    NotDfuse {
        /// The operation.
        operation: &'static str,
        /// bcdDFUVersion.
        version: u16,
    },
    /// The device does not offer the capability.
    #[error("the device does not support {0}")]
    Unsupported(&'static str),
    /// The alt setting does not exist.
    #[error("alt setting {alt} does not exist; the device has {available}")]
    NoSuchAlt {
        /// Requested.
        alt: u8,
        /// The device's alt settings, listed.
        available: String,
    },
    /// A wait was cut short by a cancel; the device may still be busy with the command.
    #[error("cancelled while waiting for the device during {during}")]
    Interrupted {
        /// What the engine was doing.
        during: String,
    },
    /// The job ran past its deadline as a whole.
    #[error(
        "the job ran past its deadline of {:.0} s during {during}; the device is too slow or \
         keeps asking the host to wait: power-cycle it, or allow more time",
        deadline.as_secs_f64()
    )]
    JobDeadline {
        /// What the engine was doing.
        during: String,
        /// The deadline the job was given.
        deadline: Duration,
    },
    /// The functional descriptor's wTransferSize leaves no room for data.
    #[error(
        "the device reports a wTransferSize of {size} bytes, {}; it is broken or not a DFU device",
        if *.size == 0 { "so no data can be moved" } else { "shorter than a DfuSe command (5 bytes: Set Address, Erase)" }
    )]
    TransferSize {
        /// wTransferSize.
        size: u16,
    },
    /// A range runs past the 32-bit address space.
    #[error("{len} bytes at {address:#010x} run past 4 GiB")]
    OutOfRange {
        /// First address.
        address: u32,
        /// Bytes.
        len: usize,
    },
    /// An upload returned fewer bytes than asked for.
    #[error("device returned {got} of {wanted} bytes reading at {address:#010x}")]
    ShortRead {
        /// Address of the block.
        address: u32,
        /// Asked for.
        wanted: usize,
        /// Returned.
        got: usize,
    },
}

impl ProtocolError {
    /// The USB-level cause, when the error is a failed transfer.
    pub fn transport_error(&self) -> Option<&TransportError> {
        match self {
            ProtocolError::Transport { source, .. } => Some(source),
            _ => None,
        }
    }

    /// True when the device disappeared.
    pub fn is_disconnect(&self) -> bool {
        matches!(self.transport_error(), Some(TransportError::Disconnected))
    }
}
