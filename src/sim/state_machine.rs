//! The DFU 1.1 / DfuSe state machine: how the device answers DNLOAD, GETSTATUS, CLRSTATUS,
//! ABORT and UPLOAD in each state, ST ROM quirks included.

use std::time::Duration;

use super::models::{Dialect, RomLeave};
use super::work::{Background, Work};
use super::{SimDevice, ST_DEFAULT_POINTER};
use crate::protocol::{dfuse_cmd, State, Status, StatusReply};
use crate::transport::TransportError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Pending {
    None,
    SetAddress(u32),
    Erase(u32),
    MassErase,
    Unprotect,
    Write { address: u32, data: Vec<u8> },
    Leave,
    Block(Vec<u8>),
    // A block of a partitioned bootloader, placed by its number.
    Part { block: u16, data: Vec<u8> },
    Manifest,
    Fail(Status),
}

impl SimDevice {
    pub(super) fn fail(&mut self, status: Status) {
        self.end_wedge();
        self.state = State::Error;
        self.status = status;
        self.pending = Pending::None;
    }

    /// Leaving the Rev V wedge (the recovery's CLRSTATUS, or a request the ROM stalls) ends
    /// the erase: it keeps only the part already done.
    fn end_wedge(&mut self) {
        let Some(bg) = self.bg.filter(|b| b.wedged) else {
            return;
        };
        if let Some(work) = bg.work {
            let total = bg.done_at - bg.started;
            let fraction = (self.now - bg.started).as_secs_f64() / total.as_secs_f64();
            self.apply(work, fraction.clamp(0.0, 1.0));
        }
        self.bg = None;
    }

    /// The bwPollTimeout a DFU 1.1 device reports for work that needs `left` more.
    fn dfu11_poll(&self, left: Duration) -> u32 {
        match self.model.quirks.reported_poll_ms {
            Some(by_alt) => by_alt
                .get(self.alt as usize)
                .or(by_alt.last())
                .copied()
                .unwrap_or(0),
            None => left.as_millis().max(1) as u32,
        }
    }

    /// Leaves DFU mode for the firmware at the address pointer: gone from the bus, so a request
    /// in flight ends as the disconnect that is returned.
    fn jump(&mut self) -> TransportError {
        self.left_to = Some(self.pointer);
        self.disconnected = true;
        TransportError::Disconnected
    }

    fn stall(&mut self) -> TransportError {
        // DFU 1.1: an unexpected request stalls and the device enters dfuERROR.
        self.fail(Status::ErrStalledPkt);
        TransportError::Stall
    }

    pub(super) fn dnload(&mut self, value: u16, data: &[u8]) -> Result<(), TransportError> {
        if !matches!(self.state, State::DfuIdle | State::DnloadIdle)
            || data.len() > self.info.functional.transfer_size as usize
        {
            return Err(self.stall());
        }
        self.pending = match self.model.dialect {
            Dialect::StRom => {
                if data.is_empty() {
                    match self.model.quirks.leave {
                        RomLeave::DnloadUnanswered => return Err(self.jump()),
                        RomLeave::DnloadAnswered => {
                            let _ = self.jump();
                            return Ok(());
                        }
                        _ => Pending::Leave,
                    }
                } else if value == 0 {
                    match data {
                        [dfuse_cmd::SET_ADDRESS, a @ ..] if a.len() == 4 => {
                            Pending::SetAddress(u32::from_le_bytes([a[0], a[1], a[2], a[3]]))
                        }
                        [dfuse_cmd::ERASE, a @ ..] if a.len() == 4 => {
                            Pending::Erase(u32::from_le_bytes([a[0], a[1], a[2], a[3]]))
                        }
                        [dfuse_cmd::ERASE] => Pending::MassErase,
                        [dfuse_cmd::READ_UNPROTECT] => Pending::Unprotect,
                        _ => Pending::Fail(Status::ErrStalledPkt),
                    }
                } else if value == 1 {
                    return Err(self.stall());
                } else {
                    let xfer = self.info.functional.transfer_size as u32;
                    Pending::Write {
                        address: self.pointer.wrapping_add((value as u32 - 2) * xfer),
                        data: data.to_vec(),
                    }
                }
            }
            Dialect::Partitioned(_) if data.is_empty() => Pending::Manifest,
            Dialect::Partitioned(_) => Pending::Part {
                block: value,
                data: data.to_vec(),
            },
            Dialect::Dfu11 { .. } => {
                if self.model.quirks.first_slot_locked && self.alt == 0 && self.regions.len() > 1 {
                    // Accepted; the next GETSTATUS says no.
                    self.fail(Status::ErrWrite);
                    return Ok(());
                }
                if data.is_empty() {
                    Pending::Manifest
                } else {
                    if self.state == State::DfuIdle {
                        self.staging.clear();
                    }
                    Pending::Block(data.to_vec())
                }
            }
        };
        self.state = if self.pending == Pending::Manifest {
            State::ManifestSync
        } else {
            State::DnloadSync
        };
        Ok(())
    }

    pub(super) fn reply(&self, poll_ms: u32) -> [u8; 6] {
        // A device sped up by the time scale also asks for proportionally shorter waits.
        let poll_ms = if self.realtime {
            (poll_ms as f64 / self.time_scale).ceil() as u32
        } else {
            poll_ms
        };
        StatusReply {
            status: self.status,
            poll_timeout_ms: poll_ms,
            state: self.state,
            istring: 0,
        }
        .to_bytes()
    }

    pub(super) fn get_status(&mut self, timeout: Duration) -> Result<Vec<u8>, TransportError> {
        let t = self.model.timing;
        match self.state {
            State::DnloadSync | State::ManifestSync => {
                let pending = std::mem::replace(&mut self.pending, Pending::None);
                if self.read_protected
                    && !matches!(pending, Pending::Unprotect | Pending::Leave | Pending::None)
                {
                    self.fail(Status::ErrVendor);
                    return Ok(self.reply(0).to_vec());
                }
                match pending {
                    Pending::None => {
                        self.state = State::DnloadIdle;
                        Ok(self.reply(0).to_vec())
                    }
                    Pending::Fail(s) => {
                        self.fail(s);
                        Ok(self.reply(0).to_vec())
                    }
                    Pending::SetAddress(a) => {
                        if self.check(a, 1, |_| true).is_err() {
                            self.fail(Status::ErrTarget);
                            return Ok(self.reply(0).to_vec());
                        }
                        self.pointer = a;
                        self.state = State::DnBusy;
                        Ok(self.reply(t.write_poll_ms).to_vec())
                    }
                    Pending::Erase(a) => {
                        let sector = self
                            .regions
                            .iter()
                            .filter(|r| r.alt == self.alt)
                            .find_map(|r| r.layout.sector_at(a));
                        let Some(s) = sector.filter(|s| s.perms.erasable()) else {
                            self.fail(Status::ErrTarget);
                            return Ok(self.reply(0).to_vec());
                        };
                        let work = Work::Erase {
                            alt: self.alt,
                            address: s.address,
                            size: s.size,
                        };
                        let d = t.erase_time(s.size);
                        if self.model.quirks.wedge_from.is_some_and(|w| s.address >= w) {
                            // Rev V: answers after ~16 ms, erases in the background, never leaves dfuDNBUSY.
                            self.advance(Duration::from_millis(16));
                            self.busy(d);
                            self.state = State::DnBusy;
                            let work = (!self.faults.wedge_no_erase).then_some(work);
                            self.bg = Some(Background {
                                started: self.now,
                                done_at: self.now + d,
                                work,
                                wedged: true,
                                poll_ms: 1000,
                            });
                            return Ok(self.reply(1000).to_vec());
                        }
                        self.start(work, d, t.erase_poll_ms, t.erase_blocking, timeout)
                    }
                    Pending::MassErase => {
                        let d = Duration::from_micros(t.mass_erase_us);
                        self.start(Work::MassErase, d, t.mass_erase_poll_ms, false, timeout)
                    }
                    Pending::Unprotect => {
                        let d = Duration::from_micros(t.mass_erase_us);
                        self.start(Work::Unprotect, d, t.mass_erase_poll_ms, false, timeout)
                    }
                    Pending::Write { address, data } => {
                        if let Err(s) = self.check(address, data.len(), |p| p.writable()) {
                            self.fail(s);
                            return Ok(self.reply(0).to_vec());
                        }
                        if let Err(s) = self.program(address, &data, data.len()) {
                            self.fail(s);
                            return Ok(self.reply(0).to_vec());
                        }
                        let d = t.program_time(data.len());
                        self.start(Work::Program, d, t.write_poll_ms, true, timeout)
                    }
                    Pending::Leave => match self.model.quirks.leave {
                        RomLeave::StatusUnanswered => Err(self.jump()),
                        RomLeave::Stays => {
                            self.state = State::DfuIdle;
                            Ok(self.reply(0).to_vec())
                        }
                        _ => {
                            self.state = State::Manifest;
                            let r = self.reply(0).to_vec();
                            let _ = self.jump();
                            Ok(r)
                        }
                    },
                    Pending::Block(data) => {
                        let Dialect::Dfu11 { capacity } = self.model.dialect else {
                            unreachable!()
                        };
                        if self.staging.len() + data.len() > capacity as usize {
                            self.fail(Status::ErrAddress);
                            return Ok(self.reply(0).to_vec());
                        }
                        // Zephyr erases the whole slot before its first block.
                        let erase =
                            if self.staging.is_empty() && self.model.quirks.erases_slot_first {
                                let slot = self.alt as usize;
                                self.regions[slot].data.fill(0xff);
                                self.firmware_len[slot] = 0;
                                let (page, _) = t.erase[0];
                                t.erase_time(page) * capacity.div_ceil(page)
                            } else {
                                Duration::ZERO
                            };
                        self.staging.extend_from_slice(&data);
                        let d = t.program_time(data.len()) + erase;
                        let poll = self.dfu11_poll(d);
                        self.start(Work::Program, d, poll, false, timeout)
                    }
                    Pending::Part { block, data } => Ok(self.part_block(block, &data)),
                    // Nothing to do: every block was written as it came.
                    Pending::Manifest if self.board().is_some() => {
                        self.state = State::Manifest;
                        Ok(self.reply(0).to_vec())
                    }
                    Pending::Manifest => {
                        let fw = std::mem::take(&mut self.staging);
                        let slot = self.alt as usize;
                        self.regions[slot].data[..fw.len()].copy_from_slice(&fw);
                        self.regions[slot].data[fw.len()..].fill(0xff);
                        self.firmware_len[slot] = fw.len();
                        let d = Duration::from_micros(t.manifest_us);
                        let r = self.start(
                            Work::Manifest,
                            d,
                            t.manifest_us.div_ceil(1000) as u32,
                            false,
                            timeout,
                        );
                        self.state = State::Manifest;
                        r.map(|_| self.reply(t.manifest_us.div_ceil(1000) as u32).to_vec())
                    }
                }
            }
            State::DnBusy | State::Manifest => match self.bg {
                Some(bg) if bg.wedged => Ok(self.reply(bg.poll_ms).to_vec()),
                Some(bg) if bg.work.is_some() => {
                    if self.model.quirks.stall_status_while_busy {
                        return Err(TransportError::Stall);
                    }
                    let left = bg.done_at.saturating_sub(self.now);
                    let poll = if self.st() && !self.model.quirks.reports_time_left {
                        bg.poll_ms
                    } else {
                        self.dfu11_poll(left)
                    };
                    Ok(self.reply(poll).to_vec())
                }
                _ => {
                    self.bg = None;
                    self.state = if self.state == State::Manifest {
                        State::DfuIdle
                    } else {
                        State::DnloadIdle
                    };
                    Ok(self.reply(0).to_vec())
                }
            },
            _ => Ok(self.reply(0).to_vec()),
        }
    }

    pub(super) fn clr_status(&mut self) -> Result<(), TransportError> {
        if self.model.quirks.strict_clrstatus && self.state != State::Error {
            return Err(TransportError::Stall);
        }
        if let (State::DnBusy, Some(bg)) = (self.state, self.bg) {
            if bg.wedged {
                // The first CLRSTATUS of ST's recovery: errUNKNOWN/dfuERROR.
                self.fail(Status::ErrUnknown);
                self.pointer = ST_DEFAULT_POINTER;
                return Ok(());
            }
        }
        self.state = State::DfuIdle;
        self.status = Status::Ok;
        self.pending = Pending::None;
        Ok(())
    }

    pub(super) fn abort(&mut self) -> Result<(), TransportError> {
        match self.state {
            State::DfuIdle
            | State::DnloadIdle
            | State::UploadIdle
            | State::DnloadSync
            | State::ManifestSync => {
                self.state = State::DfuIdle;
                self.pending = Pending::None;
                self.upload_done = false;
                Ok(())
            }
            _ => Err(self.stall()),
        }
    }

    pub(super) fn upload(&mut self, value: u16, len: usize) -> Result<Vec<u8>, TransportError> {
        if !matches!(self.state, State::DfuIdle | State::UploadIdle)
            || len > self.info.functional.transfer_size as usize
        {
            return Err(self.stall());
        }
        match self.model.dialect {
            Dialect::StRom => {
                if value == 0 {
                    self.state = State::UploadIdle;
                    return Ok(vec![
                        dfuse_cmd::GET_COMMANDS,
                        dfuse_cmd::SET_ADDRESS,
                        dfuse_cmd::ERASE,
                        dfuse_cmd::READ_UNPROTECT,
                    ][..len.min(4)]
                        .to_vec());
                }
                if value == 1 {
                    return Err(self.stall());
                }
                if self.read_protected {
                    self.fail(Status::ErrVendor);
                    return Err(TransportError::Stall);
                }
                let xfer = self.info.functional.transfer_size as u32;
                let address = self.pointer.wrapping_add((value as u32 - 2) * xfer);
                if self.check(address, len, |p| p.readable()).is_err() {
                    self.fail(Status::ErrTarget);
                    return Err(TransportError::Stall);
                }
                self.state = State::UploadIdle;
                Ok(self
                    .memory(self.alt, address, len)
                    .expect("checked")
                    .to_vec())
            }
            Dialect::Partitioned(_) => Ok(self.part_upload(value, len)),
            Dialect::Dfu11 { .. } => {
                let xfer = self.info.functional.transfer_size as usize;
                let off = if self.state == State::DfuIdle {
                    0
                } else {
                    value as usize * xfer
                };
                let fw = self.firmware_of(self.alt);
                let start = off.min(fw.len());
                let end = (off + len).min(fw.len());
                let out = fw[start..end].to_vec();
                self.state = if out.len() < len {
                    State::DfuIdle
                } else {
                    State::UploadIdle
                };
                Ok(out)
            }
        }
    }
}
