//! Simulated ST ROM bootloaders and a plain DFU 1.1 device, behind the same
//! [`Transport`] seam as real USB.
//!
//! A virtual clock advances by the modelled cost of every transfer and of the device's own
//! work (see the timing table in [`models`]), so a 2 MB flash job runs in milliseconds of wall
//! time while its simulated duration is still measured. Every request is recorded in a
//! transcript; faults can be injected at any request; the flash contents can persist in a
//! state file so several runs see the same device.
//!
//! ```
//! use dfuflash::sim::{Op, SimDevice};
//! use dfuflash::transport::Transport;
//! use std::time::Duration;
//!
//! let mut dev = SimDevice::new("stm32c5-strict").unwrap();
//! // Strict ROMs stall CLRSTATUS outside dfuERROR; they start in dfuERROR, so this one is fine.
//! dev.control_out(4, 0, &[], Duration::from_secs(1)).unwrap();
//! assert!(dev.control_out(4, 0, &[], Duration::from_secs(1)).is_err());
//! assert_eq!(dev.transcript().iter().filter(|r| r.op == Op::ClrStatus).count(), 2);
//! ```

pub mod models;

mod faults;
mod memory;
mod transcript;
mod work;

pub use faults::Faults;
pub use transcript::{Op, Outcome, Record};

use std::fmt;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::layout::Layout;
use crate::protocol::{dfuse_cmd, request, State, Status, StatusReply};
use crate::transport::{AltSetting, DeviceInfo, Mode, Transport, TransportError};
use memory::Region;
use models::{usb_cost, Dialect, Model};
use work::{Background, Work};

/// What the simulator cannot do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// No model of that name.
    #[error("unknown simulator model {name:?}; the models are: {known}")]
    UnknownModel {
        /// Asked for.
        name: String,
        /// The models.
        known: String,
    },
    /// The state file is unreadable or belongs to another model.
    #[error("simulator state file {path}: {detail}")]
    StateFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

/// Measured totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Time the modelled device spent erasing, programming and manifesting.
    pub device_busy: Duration,
    /// Modelled bus time of every transfer.
    pub usb: Duration,
    /// Modelled bus time of the transfers that carry firmware data (DNLOAD and UPLOAD blocks).
    pub usb_data: Duration,
    /// Time the host slept.
    pub host_sleep: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    None,
    SetAddress(u32),
    Erase(u32),
    MassErase,
    Unprotect,
    Write { address: u32, data: Vec<u8> },
    Leave,
    Block(Vec<u8>),
    Manifest,
    Fail(Status),
}

/// A simulated DFU device.
pub struct SimDevice {
    model: &'static Model,
    info: DeviceInfo,
    now: Duration,
    realtime: bool,
    time_scale: f64,
    regions: Vec<Region>,
    state: State,
    status: Status,
    alt: u8,
    pointer: u32,
    pending: Pending,
    bg: Option<Background>,
    cpu_busy_until: Duration,
    read_protected: bool,
    disconnected: bool,
    left_to: Option<u32>,
    faults: Faults,
    requests: u64,
    transcript: Vec<Record>,
    stats: SimStats,
    staging: Vec<u8>,
    firmware_len: usize,
    upload_done: bool,
}

impl fmt::Debug for SimDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimDevice")
            .field("model", &self.model.name)
            .field("state", &self.state)
            .field("now", &self.now)
            .finish()
    }
}

const ST_DEFAULT_POINTER: u32 = 0x0800_0000;

impl SimDevice {
    /// A freshly powered device of this model: flash erased, ST ROMs in dfuERROR/errFIRMWARE.
    pub fn new(model: &str) -> Result<Self, SimError> {
        let m = models::find(model).ok_or_else(|| SimError::UnknownModel {
            name: model.to_string(),
            known: models::MODELS
                .iter()
                .map(|m| m.name)
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        let info = DeviceInfo {
            vendor_id: m.vendor_id,
            product_id: m.product_id,
            bcd_device: m.bcd_device,
            manufacturer: Some(m.manufacturer.into()),
            product: Some(m.product.into()),
            serial: Some(m.serial.into()),
            port_path: Some(format!("sim:{}", m.name)),
            interface: 0,
            mode: Mode::Dfu,
            alt_settings: m
                .alts
                .iter()
                .enumerate()
                .map(|(i, n)| AltSetting {
                    alt: i as u8,
                    name: n.to_string(),
                })
                .collect(),
            functional: m.functional,
        };
        let mut regions = Vec::new();
        match m.dialect {
            Dialect::StRom => {
                for (i, text) in m.alts.iter().enumerate() {
                    let layout = Layout::parse(text).expect("model layouts parse (unit-tested)");
                    let fill = if layout.name.contains("Feature") {
                        0x00
                    } else {
                        0xff
                    };
                    for g in &layout.groups {
                        regions.push(Region {
                            alt: i as u8,
                            layout: layout.clone(),
                            start: g.start,
                            data: vec![fill; (g.end() - g.start as u64) as usize],
                        });
                    }
                }
            }
            Dialect::Dfu11 { capacity } => regions.push(Region {
                alt: 0,
                layout: Layout::parse(&format!("@Firmware/0x00000000/01*{capacity}Bg"))
                    .expect("valid"),
                start: 0,
                data: vec![0xff; capacity as usize],
            }),
        }
        let mut dev = Self {
            model: m,
            info,
            now: Duration::ZERO,
            realtime: false,
            time_scale: 1.0,
            regions,
            state: State::DfuIdle,
            status: Status::Ok,
            alt: 0,
            pointer: ST_DEFAULT_POINTER,
            pending: Pending::None,
            bg: None,
            cpu_busy_until: Duration::ZERO,
            read_protected: false,
            disconnected: false,
            left_to: None,
            faults: Faults::default(),
            requests: 0,
            transcript: Vec::new(),
            stats: SimStats::default(),
            staging: Vec::new(),
            firmware_len: 0,
            upload_done: false,
        };
        dev.power_on();
        Ok(dev)
    }

    /// Every model.
    pub fn models() -> &'static [Model] {
        models::MODELS
    }

    /// This device's model.
    pub fn model(&self) -> &'static Model {
        self.model
    }

    fn st(&self) -> bool {
        self.model.dialect == Dialect::StRom
    }

    fn power_on(&mut self) {
        let st = self.st();
        self.state = if st { State::Error } else { State::DfuIdle };
        self.status = if st { Status::ErrFirmware } else { Status::Ok };
        self.pointer = ST_DEFAULT_POINTER;
        self.pending = Pending::None;
        self.bg = None;
        self.disconnected = false;
        self.alt = 0;
        self.staging.clear();
        self.upload_done = false;
    }

    /// Unplug and plug back in (or power-cycle): the flash keeps its contents, the ROM starts
    /// over. Faults already injected stay armed only for request numbers not yet reached.
    pub fn replug(&mut self) {
        self.power_on();
        self.left_to = None;
    }

    /// Runs modelled delays in real time too (for demos and the USB bench).
    pub fn set_realtime(&mut self, on: bool) {
        self.realtime = on;
    }

    /// In real time, sleeps every modelled delay divided by `scale` (1.0: real speed; the USB
    /// bench uses a larger scale to keep runs short, the same for every client it compares).
    pub fn set_time_scale(&mut self, scale: f64) {
        self.time_scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
    }

    /// Arms faults (request numbers count from this device's first request).
    pub fn set_faults(&mut self, faults: Faults) {
        self.faults = faults;
    }

    /// Sets or clears read protection (RDP level 1).
    pub fn set_read_protected(&mut self, on: bool) {
        self.read_protected = on;
    }

    /// Whether read protection is active.
    pub fn read_protected(&self) -> bool {
        self.read_protected
    }

    /// Every request so far.
    pub fn transcript(&self) -> &[Record] {
        &self.transcript
    }

    /// Requests received so far.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Measured totals.
    pub fn stats(&self) -> SimStats {
        self.stats
    }

    /// The device state as it stands (no request is sent).
    pub fn state(&self) -> (State, Status) {
        (self.state, self.status)
    }

    /// Where the device jumped when it left DFU mode.
    pub fn left_to(&self) -> Option<u32> {
        self.left_to
    }

    /// Whether the device is gone (disconnected, power loss, or left DFU mode).
    pub fn is_disconnected(&self) -> bool {
        self.disconnected
    }

    fn fail(&mut self, status: Status) {
        self.state = State::Error;
        self.status = status;
        self.pending = Pending::None;
    }

    /// One request through the fault and timing model; `Ok(reply bytes)` or the failure.
    fn transfer(
        &mut self,
        req: u8,
        value: u16,
        data: &[u8],
        in_len: usize,
        timeout: Duration,
    ) -> Result<Vec<u8>, TransportError> {
        self.requests += 1;
        let index = self.requests;
        let at = self.now;
        let op = self.decode(req, value, data, in_len);
        let result = self.transfer_inner(index, &op, req, value, data, in_len, timeout);
        let outcome = match &result {
            Ok(bytes) if req == request::GETSTATUS && bytes.len() == 6 => {
                let r = StatusReply::parse(bytes).expect("6 bytes");
                Outcome::Ok(Some((r.status, r.state)))
            }
            Ok(_) => Outcome::Ok(None),
            Err(TransportError::Stall) => Outcome::Stall,
            Err(TransportError::Timeout(_)) => Outcome::Timeout,
            Err(_) => Outcome::Disconnected,
        };
        self.transcript.push(Record {
            index,
            at,
            op,
            outcome,
            state_after: self.state,
        });
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn transfer_inner(
        &mut self,
        index: u64,
        op: &Op,
        req: u8,
        value: u16,
        data: &[u8],
        in_len: usize,
        timeout: Duration,
    ) -> Result<Vec<u8>, TransportError> {
        if self.disconnected || self.faults.disconnect_at.is_some_and(|n| index >= n) {
            self.disconnected = true;
            return Err(TransportError::Disconnected);
        }
        if self.faults.panic_at == Some(index) {
            panic!("simulator panic injected at request {index}");
        }
        if self.faults.timeout_at == Some(index) {
            self.advance(timeout);
            return Err(TransportError::Timeout(timeout));
        }
        if self.faults.stall_at == Some(index) {
            self.advance(models::USB_TRANSFER_OVERHEAD);
            return Err(TransportError::Stall);
        }
        // The ROM does not serve USB while it erases or programs inside a status stage.
        if self.now < self.cpu_busy_until {
            let wait = self.cpu_busy_until - self.now;
            if wait > timeout {
                self.advance(timeout);
                return Err(TransportError::Timeout(timeout));
            }
            self.advance(wait);
        }
        let len = if in_len > 0 { in_len } else { data.len() };
        let cost = usb_cost(len);
        if cost > timeout {
            self.advance(timeout);
            return Err(TransportError::Timeout(timeout));
        }
        self.advance(cost);
        self.stats.usb += cost;
        if matches!(op, Op::Dnload { .. } | Op::Upload { .. })
            && (!self.st() || value >= 2)
            && len > 0
        {
            self.stats.usb_data += cost;
        }
        self.settle();
        if self.faults.power_loss_at == Some(index) {
            if let (Op::GetStatus, Pending::Write { address, data }) = (op, self.pending.clone()) {
                let _ = self.program(address, &data, data.len() / 2);
            }
            self.disconnected = true;
            return Err(TransportError::Disconnected);
        }
        let status_fault = self
            .faults
            .status_at
            .filter(|(n, _)| *n == index)
            .map(|(_, s)| s);
        if let (Some(s), Op::GetStatus) = (status_fault, op) {
            self.fail(s);
            return Ok(self.reply(0).to_vec());
        }
        let r = match req {
            request::DNLOAD => self.dnload(value, data).map(|()| Vec::new()),
            request::UPLOAD => self.upload(value, in_len),
            request::GETSTATUS => self.get_status(timeout),
            request::CLRSTATUS => self.clr_status().map(|()| Vec::new()),
            request::GETSTATE => Ok(vec![self.state.as_u8()]),
            request::ABORT => self.abort().map(|()| Vec::new()),
            _ => Err(TransportError::Stall),
        };
        if let Some(s) = status_fault {
            self.fail(s);
        }
        r
    }

    fn stall(&mut self) -> TransportError {
        // DFU 1.1: an unexpected request stalls and the device enters dfuERROR.
        self.fail(Status::ErrStalledPkt);
        TransportError::Stall
    }

    fn dnload(&mut self, value: u16, data: &[u8]) -> Result<(), TransportError> {
        if !matches!(self.state, State::DfuIdle | State::DnloadIdle)
            || data.len() > self.model.functional.transfer_size as usize
        {
            return Err(self.stall());
        }
        self.pending = match self.model.dialect {
            Dialect::StRom => {
                if data.is_empty() {
                    Pending::Leave
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
                    let xfer = self.model.functional.transfer_size as u32;
                    Pending::Write {
                        address: self.pointer.wrapping_add((value as u32 - 2) * xfer),
                        data: data.to_vec(),
                    }
                }
            }
            Dialect::Dfu11 { .. } => {
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

    fn reply(&self, poll_ms: u32) -> [u8; 6] {
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

    fn get_status(&mut self, timeout: Duration) -> Result<Vec<u8>, TransportError> {
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
                    Pending::Leave => {
                        self.state = State::Manifest;
                        let r = self.reply(0).to_vec();
                        self.left_to = Some(self.pointer);
                        self.disconnected = true;
                        Ok(r)
                    }
                    Pending::Block(data) => {
                        let Dialect::Dfu11 { capacity } = self.model.dialect else {
                            unreachable!()
                        };
                        if self.staging.len() + data.len() > capacity as usize {
                            self.fail(Status::ErrAddress);
                            return Ok(self.reply(0).to_vec());
                        }
                        self.staging.extend_from_slice(&data);
                        let d = t.program_time(data.len());
                        self.start(
                            Work::Program,
                            d,
                            d.as_millis().max(1) as u32,
                            false,
                            timeout,
                        )
                    }
                    Pending::Manifest => {
                        let fw = std::mem::take(&mut self.staging);
                        self.regions[0].data[..fw.len()].copy_from_slice(&fw);
                        self.regions[0].data[fw.len()..].fill(0xff);
                        self.firmware_len = fw.len();
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
                    let poll = if self.st() {
                        bg.poll_ms
                    } else {
                        left.as_millis().max(1) as u32
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

    fn clr_status(&mut self) -> Result<(), TransportError> {
        if self.model.quirks.strict_clrstatus && self.state != State::Error {
            return Err(TransportError::Stall);
        }
        if let (State::DnBusy, Some(bg)) = (self.state, self.bg) {
            if bg.wedged {
                // The first CLRSTATUS of ST's recovery: errUNKNOWN/dfuERROR. An erase cut short
                // keeps only the part already done.
                if let Some(work) = bg.work {
                    let total = bg.done_at - bg.started;
                    let fraction = (self.now - bg.started).as_secs_f64() / total.as_secs_f64();
                    self.apply(work, fraction.clamp(0.0, 1.0));
                }
                self.bg = None;
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

    fn abort(&mut self) -> Result<(), TransportError> {
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

    fn upload(&mut self, value: u16, len: usize) -> Result<Vec<u8>, TransportError> {
        if !matches!(self.state, State::DfuIdle | State::UploadIdle)
            || len > self.model.functional.transfer_size as usize
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
                let xfer = self.model.functional.transfer_size as u32;
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
            Dialect::Dfu11 { .. } => {
                let xfer = self.model.functional.transfer_size as usize;
                let off = if self.state == State::DfuIdle {
                    0
                } else {
                    value as usize * xfer
                };
                let fw = self.firmware();
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

    /// Saves the device's memory and protection to a state file.
    pub fn save_state(&self, path: &Path) -> Result<(), SimError> {
        let err = |e: std::io::Error| SimError::StateFile {
            path: path.to_path_buf(),
            detail: e.to_string(),
        };
        let tmp = path.with_extension("tmp");
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(err)?);
        writeln!(f, "DFUFLASH-SIM 1").map_err(err)?;
        writeln!(f, "model {}", self.model.name).map_err(err)?;
        writeln!(f, "protected {}", self.read_protected as u8).map_err(err)?;
        writeln!(f, "firmware {}", self.firmware_len).map_err(err)?;
        for r in &self.regions {
            writeln!(f, "region {} {:#010x} {}", r.alt, r.start, r.data.len()).map_err(err)?;
            f.write_all(&r.data).map_err(err)?;
            writeln!(f).map_err(err)?;
        }
        writeln!(f, "end").map_err(err)?;
        f.into_inner()
            .map_err(|e| err(e.into_error()))?
            .sync_all()
            .map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)
    }

    /// Opens the device whose state `path` holds, or a fresh one if the file does not exist.
    /// The device powers on as the ROM does, with the saved memory.
    pub fn with_state(model: &str, path: &Path) -> Result<Self, SimError> {
        let mut dev = Self::new(model)?;
        if !path.exists() {
            return Ok(dev);
        }
        let bad = |detail: String| SimError::StateFile {
            path: path.to_path_buf(),
            detail,
        };
        let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
        let mut r = std::io::BufReader::new(file);
        let mut line = String::new();
        let mut next = |r: &mut std::io::BufReader<std::fs::File>| -> Result<String, SimError> {
            line.clear();
            r.read_line(&mut line).map_err(|e| bad(e.to_string()))?;
            Ok(line.trim_end().to_string())
        };
        if next(&mut r)? != "DFUFLASH-SIM 1" {
            return Err(bad("not a dfuflash simulator state file".into()));
        }
        let m = next(&mut r)?;
        if m != format!("model {model}") {
            return Err(bad(format!(
                "holds {:?}, not model {model}; use another file or delete it",
                m.trim_start_matches("model ")
            )));
        }
        dev.read_protected = next(&mut r)? == "protected 1";
        dev.firmware_len = next(&mut r)?
            .trim_start_matches("firmware ")
            .parse()
            .map_err(|_| bad("bad firmware line".into()))?;
        for i in 0..dev.regions.len() {
            let l = next(&mut r)?;
            let expect = format!(
                "region {} {:#010x} {}",
                dev.regions[i].alt,
                dev.regions[i].start,
                dev.regions[i].data.len()
            );
            if l != expect {
                return Err(bad(format!("expected {expect:?}, found {l:?}")));
            }
            r.read_exact(&mut dev.regions[i].data)
                .map_err(|e| bad(format!("region {i}: {e}")))?;
            next(&mut r)?;
        }
        if next(&mut r)? != "end" {
            return Err(bad("missing end marker (file truncated?)".into()));
        }
        Ok(dev)
    }
}

impl Transport for SimDevice {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn control_out(
        &mut self,
        request: u8,
        value: u16,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, TransportError> {
        self.transfer(request, value, data, 0, timeout)
            .map(|_| data.len())
    }

    fn control_in(
        &mut self,
        request: u8,
        value: u16,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, TransportError> {
        let bytes = self.transfer(request, value, &[], buf.len(), timeout)?;
        if bytes.len() > buf.len() {
            return Err(TransportError::Overflow);
        }
        buf[..bytes.len()].copy_from_slice(&bytes);
        Ok(bytes.len())
    }

    fn select_alt(&mut self, alt: u8) -> Result<(), TransportError> {
        if self.disconnected {
            return Err(TransportError::Disconnected);
        }
        if self.info.alt(alt).is_none() {
            return Err(TransportError::Stall);
        }
        self.alt = alt;
        Ok(())
    }

    fn reset(&mut self) -> Result<(), TransportError> {
        if self.disconnected {
            return Err(TransportError::Disconnected);
        }
        // A DFU-mode device that is reset runs its (new) firmware: it is gone from the bus.
        self.disconnected = true;
        self.left_to = Some(0);
        Ok(())
    }

    fn now(&self) -> Duration {
        self.now
    }

    fn sleep(&mut self, duration: Duration) {
        self.stats.host_sleep += duration;
        self.advance(duration);
    }
}
