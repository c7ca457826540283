//! ST DfuSe commands: Set Address, page erase with the STM32H7 Rev V recovery, mass erase,
//! read unprotect, and addressed memory writes and reads.

use std::time::Duration;

use super::polling::{AbandonedErase, PollEnd};
use super::{dfuse_cmd, request, Dfu, ProtocolError, State, Status};
use crate::progress::Level;
use crate::transport::{Transport, TransportError};

/// The longest DfuSe command: 0x21 or 0x41 and a 32-bit address.
const DFUSE_COMMAND_LEN: usize = 5;

/// How a page erase ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EraseOutcome {
    /// The Rev V recovery (CLRSTATUS pair) was needed: the erase is not confirmed by the device.
    pub workaround: bool,
}

impl<T: Transport> Dfu<T> {
    fn require_dfuse(&self, operation: &'static str) -> Result<(), ProtocolError> {
        if !self.is_dfuse() {
            return Err(ProtocolError::NotDfuse {
                operation,
                version: self.info().functional.dfu_version,
            });
        }
        self.check_dfuse_commands()
    }

    /// A DfuSe device must take its 5-byte commands (Set Address, Erase) in one DNLOAD: one
    /// whose wTransferSize is shorter would stall them all, so it is refused before any request.
    pub fn check_dfuse_commands(&self) -> Result<(), ProtocolError> {
        match self.info().functional.transfer_size {
            size if self.is_dfuse() && (size as usize) < DFUSE_COMMAND_LEN => {
                Err(ProtocolError::TransferSize { size })
            }
            _ => Ok(()),
        }
    }

    fn dfuse_command(
        &mut self,
        cmd: &[u8],
        during: &str,
        address: Option<u32>,
        deadline: Duration,
        wedge: bool,
    ) -> Result<PollEnd, ProtocolError> {
        self.abandoned_erase = None;
        self.out(request::DNLOAD, 0, cmd, during)?;
        self.poll_until(
            during,
            address,
            deadline,
            &[State::DnloadIdle, State::DfuIdle],
            wedge,
        )
    }

    /// DfuSe Set Address Pointer.
    pub fn set_address(&mut self, address: u32) -> Result<(), ProtocolError> {
        self.require_dfuse("Set Address")?;
        let a = address.to_le_bytes();
        let during = format!("Set Address {address:#010x}");
        let deadline = self.opts.timeouts.command;
        self.dfuse_command(
            &[dfuse_cmd::SET_ADDRESS, a[0], a[1], a[2], a[3]],
            &during,
            Some(address),
            deadline,
            false,
        )?;
        Ok(())
    }

    /// Erases the page or sector that holds `address`. On a DfuSe device that stays in
    /// OK/dfuDNBUSY (the STM32H7 Rev V ROM past 1 MB), and only with workarounds on, sends the
    /// CLRSTATUS pair ST's programmer sends and reports it in the outcome: the caller must then
    /// check the sector (read back blank, or verify what it writes).
    pub fn erase_page(&mut self, address: u32) -> Result<EraseOutcome, ProtocolError> {
        self.require_dfuse("page erase")?;
        let a = address.to_le_bytes();
        let during = format!("erase of sector {address:#010x}");
        let deadline = self.opts.timeouts.erase;
        let wedge = self.opts.workarounds;
        // Until its end is seen (from before it is sent: a failed transfer may still have
        // reached the device), a later return to dfuIDLE knows what the device is busy with.
        self.abandoned_erase = Some(AbandonedErase {
            address: Some(address),
            busy_since: None,
        });
        let command = [dfuse_cmd::ERASE, a[0], a[1], a[2], a[3]];
        let sent_before = self.requests_sent();
        let start = self.t.now();
        if let Err(e) = self.out(request::DNLOAD, 0, &command, &during) {
            if self.requests_sent() == sent_before {
                // Stopped (a cancel, the deadline) before the command was sent.
                self.abandoned_erase = None;
            }
            return Err(e);
        }
        let end = self.poll_until(
            &during,
            Some(address),
            deadline,
            &[State::DnloadIdle, State::DfuIdle],
            wedge,
        )?;
        self.abandoned_erase = None;
        match end {
            PollEnd::Done(_) => Ok(EraseOutcome { workaround: false }),
            PollEnd::Wedged => {
                self.extend_deadline_for_recovery(self.t.now().saturating_sub(start));
                self.recover_wedged_erase(Some(address))?;
                Ok(EraseOutcome { workaround: true })
            }
        }
    }

    /// The STM32H7 Rev V recovery: CLRSTATUS (the ROM answers errUNKNOWN/dfuERROR), CLRSTATUS
    /// again (OK/dfuIDLE). A stall or any other answer means this is not that quirk: fail.
    pub(super) fn recover_wedged_erase(
        &mut self,
        address: Option<u32>,
    ) -> Result<(), ProtocolError> {
        let (level, what) = match address {
            Some(a) => (Level::Debug, format!("erase of sector {a:#010x}")),
            None => (
                Level::Warn,
                "an erase that another host sent and never saw end (it died, or was killed)"
                    .to_string(),
            ),
        };
        self.note(
            level,
            format!(
                "{what} stuck in dfuDNBUSY: applying the STM32H7 Rev V recovery (CLRSTATUS pair)"
            ),
        );
        let fail = |detail: String| ProtocolError::RecoveryFailed { address, detail };
        match self.clear_status() {
            Ok(()) => {}
            Err(e) if e.transport_error() == Some(&TransportError::Stall) => {
                return Err(fail("the device stalled CLRSTATUS in dfuDNBUSY, so it is not the Rev V wedge; power-cycle the board".into()))
            }
            Err(e) => return Err(e),
        }
        let first = self.get_status_during("Rev V recovery")?;
        if first.state != State::Error && first.state != State::DfuIdle {
            return Err(fail(format!(
                "after the first CLRSTATUS the device reported {} {}",
                first.status, first.state
            )));
        }
        if first.state == State::Error {
            self.clear_status()?;
            let second = self.get_status_during("Rev V recovery")?;
            if second.state != State::DfuIdle || second.status != Status::Ok {
                return Err(fail(format!(
                    "after the second CLRSTATUS the device reported {} {}",
                    second.status, second.state
                )));
            }
        }
        Ok(())
    }

    /// DfuSe mass erase (0x41 without an address).
    pub fn mass_erase(&mut self) -> Result<(), ProtocolError> {
        self.require_dfuse("mass erase")?;
        let deadline = self.opts.timeouts.mass_erase;
        self.dfuse_command(&[dfuse_cmd::ERASE], "mass erase", None, deadline, false)?;
        Ok(())
    }

    /// DfuSe read unprotect (0x92): the chip mass-erases, clears read protection and resets.
    /// The disconnect that follows is success.
    pub fn read_unprotect(&mut self) -> Result<(), ProtocolError> {
        self.require_dfuse("read unprotect")?;
        let deadline = self.opts.timeouts.mass_erase;
        match self.dfuse_command(
            &[dfuse_cmd::READ_UNPROTECT],
            "read unprotect",
            None,
            deadline,
            false,
        ) {
            Ok(_) => Ok(()),
            Err(e)
                if e.transport_error().is_some()
                    && !matches!(
                        e,
                        ProtocolError::Transport {
                            request: request::DNLOAD,
                            ..
                        }
                    ) =>
            {
                self.note(
                    Level::Info,
                    "device reset after read unprotect, as expected".into(),
                );
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Writes `data` at `address` (DfuSe): Set Address, then blocks 2, 3, ... of
    /// wTransferSize each, which the device places at `address + (n - 2) × wTransferSize`
    /// (AN3156). A device whose wTransferSize exceeds what one control transfer carries gets a
    /// Set Address before every block instead. `on_block(block_address, bytes_done)` runs after
    /// each block; returning false stops between blocks and the call returns `Ok(false)`.
    pub fn write_memory(
        &mut self,
        address: u32,
        data: &[u8],
        on_block: &mut dyn FnMut(u32, usize) -> bool,
    ) -> Result<bool, ProtocolError> {
        self.require_dfuse("addressed download")?;
        let blocks = self.dfuse_blocks(address, data.len())?;
        let mut done = 0usize;
        let mut block: u16 = 2;
        let mut left_in_base = 0u32;
        let deadline = self.opts.timeouts.command;
        for chunk in data.chunks(blocks.chunk) {
            let at = address + done as u32;
            if left_in_base == 0 {
                self.set_address(at)?;
                block = 2;
                left_in_base = blocks.per_base;
            }
            let during = format!("write of {} bytes at {at:#010x}", chunk.len());
            self.out(request::DNLOAD, block, chunk, &during)?;
            self.poll_until(&during, Some(at), deadline, &[State::DnloadIdle], false)?;
            block = block.wrapping_add(1);
            left_in_base -= 1;
            done += chunk.len();
            if !on_block(at, done) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Reads `buf.len()` bytes at `address` (DfuSe) as [`Dfu::read_blocks`] does.
    /// `on_block(block_address, bytes_done)` as for [`Dfu::write_memory`].
    pub fn read_memory(
        &mut self,
        address: u32,
        buf: &mut [u8],
        on_block: &mut dyn FnMut(u32, usize) -> bool,
    ) -> Result<bool, ProtocolError> {
        let mut done = 0usize;
        self.read_blocks(address, buf.len(), &mut |at, block| {
            buf[done..done + block.len()].copy_from_slice(block);
            done += block.len();
            on_block(at, done)
        })
    }

    /// Reads `len` bytes at `address` (DfuSe): Set Address, ABORT to dfuIDLE, UPLOAD blocks
    /// 2, 3, ..., then ABORT; each block is handed to `on_block(address, bytes)`, and returning
    /// false stops the reading (ABORT to dfuIDLE) and the call returns `Ok(false)`.
    ///
    /// The first block is read alone, and the rest from a second Set Address one block on. The
    /// writer numbers its blocks from the start of what it writes, so no block is read with the
    /// base and block number it was written with: a device that places blocks at another stride
    /// than the wTransferSize it reports (or a mistake in the writer's arithmetic) shows up as
    /// different bytes instead of reading back what was misplaced.
    pub fn read_blocks(
        &mut self,
        address: u32,
        len: usize,
        on_block: &mut dyn FnMut(u32, &[u8]) -> bool,
    ) -> Result<bool, ProtocolError> {
        self.require_dfuse("addressed upload")?;
        let blocks = self.dfuse_blocks(address, len)?;
        let xfer = blocks.chunk;
        let mut buf = vec![0u8; xfer.min(len)];
        let mut done = 0usize;
        let mut block: u16 = 2;
        let mut left_in_base = 0u32;
        let mut first = true;
        let timeout = self.opts.timeouts.control;
        while done < len {
            if left_in_base == 0 {
                if done > 0 {
                    // Set Address is a DNLOAD: not allowed in dfuUPLOAD-IDLE (DFU 1.1, A.1).
                    self.abort()?;
                }
                self.set_address(address + done as u32)?;
                self.abort()?;
                block = 2;
                left_in_base = if first { 1 } else { blocks.per_base };
                first = false;
            }
            let at = address + done as u32;
            let want = xfer.min(len - done);
            let during = format!("read of {want} bytes at {at:#010x}");
            let got = match self.input(request::UPLOAD, block, &mut buf[..want], timeout, &during) {
                Ok(n) => n,
                Err(e) => return Err(self.explain_stall(e, &during, Some(at))),
            };
            if got < want {
                return Err(ProtocolError::ShortRead {
                    address: at,
                    wanted: want,
                    got,
                });
            }
            done += got;
            block = block.wrapping_add(1);
            left_in_base -= 1;
            if !on_block(at, &buf[..got]) {
                self.abort()?;
                return Ok(false);
            }
        }
        self.abort()?;
        Ok(true)
    }
}
