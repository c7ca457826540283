//! The transcript: every request as the device understood it, how it ended and the state it
//! left behind.

use std::fmt;
use std::time::Duration;

use super::SimDevice;
use crate::protocol::{dfuse_cmd, request, State, Status};

/// A request as the device understood it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// DFU_DETACH.
    Detach,
    /// DfuSe Set Address Pointer.
    SetAddress(u32),
    /// DfuSe page erase.
    Erase(u32),
    /// DfuSe mass erase.
    MassErase,
    /// DfuSe read unprotect.
    ReadUnprotect,
    /// DNLOAD wValue 0 with a command the ROM does not know.
    UnknownCommand(Vec<u8>),
    /// Zero-length DNLOAD (DfuSe: leave; DFU 1.1: end of download).
    DnloadEnd,
    /// A data block.
    Dnload {
        /// wValue.
        block: u16,
        /// Bytes.
        len: usize,
    },
    /// UPLOAD.
    Upload {
        /// wValue.
        block: u16,
        /// wLength.
        len: usize,
    },
    /// GETSTATUS.
    GetStatus,
    /// CLRSTATUS.
    ClrStatus,
    /// GETSTATE.
    GetState,
    /// ABORT.
    Abort,
    /// SET_INTERFACE (a standard request: recorded, but not numbered for faults).
    SetInterface(u8),
    /// Anything else.
    Other(u8),
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Completed; for GETSTATUS, the reply's status and state.
    Ok(Option<(Status, State)>),
    /// STALL.
    Stall,
    /// Timed out.
    Timeout,
    /// The device was gone.
    Disconnected,
    /// The host cut the transfer short while the device held it (a cancel).
    Cancelled,
}

/// One transcript line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based request number.
    pub index: u64,
    /// Simulated time when the request started.
    pub at: Duration,
    /// The request.
    pub op: Op,
    /// Its outcome.
    pub outcome: Outcome,
    /// The device state afterwards.
    pub state_after: State,
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{:<6} {:>10.3} ms  {:?} -> {:?} [{}]",
            self.index,
            self.at.as_secs_f64() * 1e3,
            self.op,
            self.outcome,
            self.state_after
        )
    }
}

impl SimDevice {
    /// The transcript as text, a line per request, and last where the board is: `# board:
    /// left DFU mode for 0x08000000`, `# board: gone` (unplugged, power lost) or `# board: in
    /// DFU mode, dfuIDLE`.
    pub fn transcript_text(&self) -> String {
        let mut text: String = self.transcript.iter().map(|r| format!("{r}\n")).collect();
        text += &match (self.left_to, self.disconnected) {
            (Some(a), _) => format!("# board: left DFU mode for {a:#010x}\n"),
            (None, true) => "# board: gone\n".to_string(),
            (None, false) => format!("# board: in DFU mode, {}\n", self.state),
        };
        text
    }

    pub(super) fn decode(&self, req: u8, value: u16, data: &[u8], in_len: usize) -> Op {
        match req {
            request::DETACH => Op::Detach,
            request::DNLOAD if data.is_empty() => Op::DnloadEnd,
            request::DNLOAD if value == 0 && self.st() => match data {
                [dfuse_cmd::SET_ADDRESS, a @ ..] if a.len() == 4 => {
                    Op::SetAddress(u32::from_le_bytes([a[0], a[1], a[2], a[3]]))
                }
                [dfuse_cmd::ERASE, a @ ..] if a.len() == 4 => {
                    Op::Erase(u32::from_le_bytes([a[0], a[1], a[2], a[3]]))
                }
                [dfuse_cmd::ERASE] => Op::MassErase,
                [dfuse_cmd::READ_UNPROTECT] => Op::ReadUnprotect,
                d => Op::UnknownCommand(d.to_vec()),
            },
            request::DNLOAD => Op::Dnload {
                block: value,
                len: data.len(),
            },
            request::UPLOAD => Op::Upload {
                block: value,
                len: in_len,
            },
            request::GETSTATUS => Op::GetStatus,
            request::CLRSTATUS => Op::ClrStatus,
            request::GETSTATE => Op::GetState,
            request::ABORT => Op::Abort,
            r => Op::Other(r),
        }
    }
}
