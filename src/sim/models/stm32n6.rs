//! The STM32N6 in USB serial boot: its boot ROM, then ST's OpenBootloader loaded through it.
//!
//! The ROM takes an FSBL on its `@FSBL` alt, checks its v2.3 header, and on DETACH hands over
//! to it. An FSBL whose header is valid is taken as ST's OpenBootloader (OBL): the board comes
//! back with the OBL's alt settings and serves a FlashLayout.tsv row by row, writing to an
//! external NOR flash that tests read with [`N6::nor`]. ST-SERIAL-BOOT.md sections A and D are
//! the source of every value below; the keys are that file's.
//!
//! | What | Value | Source |
//! |---|---|---|
//! | ROM ids, bcdDevice | 0483:df11, 0x0200 | A1 (TF-A reuses the ROM's); N6: assumption |
//! | ROM alts | `@FSBL /0x34180400/01*512Kg`, `@virtual /0xF1/1*512Ba` | BF (FSBL string); the command alt's string: assumption (MP15 ROM's, A1) |
//! | ROM's RSSE alts | not modelled (`@RSSE_FW`, `@RSSE_BLOB`, `@RSSE_PLUGIN`) | BF |
//! | wTransferSize, detach timeout | 1024, 255 ms | TFA, OBL (the ROM: assumption) |
//! | ROM attributes / OBL attributes | 0x0B / 0x0F | ROM: assumption (ST ROMs); OBL: A3 [OBL] |
//! | ROM GetPhase before a download | 0x01, address 0x34180400 (FSBL entry), offset 0, byte 9 = 0 | A6 [BF, KR] for the address; the reply's shape: A2 |
//! | FSBL size | at most 511 KB | A6 [BF, KR] |
//! | FSBL check | STM2 magic, v2.x, length = bytes after a 0x240 header, byte-sum checksum | A6 [OTA, N6RM]; done at manifestation: assumption |
//! | bad FSBL | the manifest ends in dfuIDLE; GetPhase then reports 0xFF with the reason | assumption: the phase protocol's own error channel (A2, TFA/UB) rather than errFILE, so the host shows the ROM's reason as text |
//! | good FSBL | GetPhase reports phase 0, address undefined, byte 9 = 1 (detach request) | assumption, modelled on TF-A, which keeps the ROM's protocol (A3) |
//! | DETACH | the ROM jumps to the FSBL; the board re-enumerates as the OBL, same ids and serial | A3 (same VID:PID and serial inferred); that the OBL keeps 0483:df11: ST's OpenBootloader projects' USB descriptors (recalled, not checked on the stm32n6 branch) |
//! | OBL alts | 0 `@Flashlayout /0x00/1*1Ke`, 1 `@FSBL-EXT /0x03/1*32Ke`, 2 `@FSBL-APP /0x04/1*128Me`, 3 `@virtual /0xF1/1*512Ba`, 4 `@OTP /0xF2/1*752Be`, 5 `@FSBL-APP /0x05/1*128Me` | D [OBL]; alts 3 and 5: assumption (their strings were not found) |
//! | OBL GetPhase | phase op and start op alternate; the row index moves after the start op; index 0 is the layout, then TSV rows from row 1 (row 0 is the OBL); 0xFE after the last | A2, D [OBL] |
//! | OBL reply bytes 9..511 | left as the buffer held them (modelled as 0x01, so a host that trusts byte 9 detaches wrongly) | D [OBL] |
//! | OBL DNLOAD | ignores the alt: data goes to the phase the latest UPLOAD reported; refused (stall, errSTALLEDPKT) in dfuUPLOAD-IDLE | D [OBL]; the stall: assumption (DFU 1.1, 6.1.2) |
//! | OBL UPLOAD on other alts | stalled here; the OBL answers with its buffer unread (no read-back of the layout, the loader or the NOR) | D [OBL] `OPENBL_USB_ReadMemory` reads only the command alt and OTP |
//! | OBL layout | skips a 256-byte header; six columns; a seventh column or a `#` line hangs it; a last row without a line feed is dropped | D [OBL] |
//! | OBL addresses | layout 0x34100000, loader 0x38000000, NOR 0x70000000 + offset | loader: A6 [OTA, N6RM]; layout and NOR base: assumption |
//! | NOR | 128 MB (MX66UW1G45G), 4 KB sectors erased on first touch, written, verified | A6, A2 [OBL]; the sector size: assumption |
//! | NOR timing | 4 KB erase 25 ms, 1 KB write 0.6 ms | assumption (MX66UW1G45G-class typical figures) |
//! | NOR without a loader | the write never ends (the OBL stays busy) | D [OBL]: no 0xFF phase, a failed NOR write leaves it busy |
//! | manifestation | dfuMANIFEST with bwPollTimeout 1 ms, then dfuIDLE | A3 [TFA] |
//! | not modelled | OTP (0xF2), the start op running the loaded code, a 0x02 row (BF's claim; the OBL has no path for it: data dropped) | |

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::{Dialect, Model, Quirks, Timing};
use crate::flashlayout::{header, phase};
use crate::protocol::{request, State, Status, StatusReply};
use crate::transport::{FunctionalDescriptor, TransportError};

/// The ROM's alt settings.
pub const ROM_ALTS: &[&str] = &["@FSBL /0x34180400/01*512Kg", "@virtual /0xF1/1*512Ba"];
/// The OpenBootloader's alt settings.
pub const OBL_ALTS: &[&str] = &[
    "@Flashlayout /0x00/1*1Ke",
    "@FSBL-EXT /0x03/1*32Ke",
    "@FSBL-APP /0x04/1*128Me",
    "@virtual /0xF1/1*512Ba",
    "@OTP /0xF2/1*752Be",
    "@FSBL-APP /0x05/1*128Me",
];
/// Where the ROM runs the FSBL.
pub const FSBL_ENTRY: u32 = 0x3418_0400;
/// The OBL's RAM for the layout.
pub const LAYOUT_RAM: u32 = 0x3410_0000;
/// Where the external loader runs.
pub const LOADER_RAM: u32 = 0x3800_0000;
/// The NOR's memory-mapped base.
pub const NOR_BASE: u32 = 0x7000_0000;
/// The NOR's size.
pub const NOR_SIZE: u32 = 128 << 20;
/// Its erase unit.
pub const NOR_SECTOR: u32 = 4096;
const NOR_ERASE: Duration = Duration::from_millis(25);
const NOR_WRITE_PER_KB: Duration = Duration::from_micros(600);
const XFER: u16 = 1024;

const ROM_FUNCTIONAL: FunctionalDescriptor = FunctionalDescriptor {
    attributes: 0x0b,
    detach_timeout_ms: 255,
    transfer_size: XFER,
    dfu_version: 0x011a,
};
const OBL_FUNCTIONAL: FunctionalDescriptor = FunctionalDescriptor {
    attributes: 0x0f,
    ..ROM_FUNCTIONAL
};

/// The model as the table lists it (its ROM); [`N6`] is its behaviour.
pub const MODEL: Model = Model {
    name: "stm32n6",
    description:
        "STM32N6 boot ROM in USB serial boot, handing over to ST's OpenBootloader (FlashLayout.tsv)",
    vendor_id: 0x0483,
    product_id: 0xdf11,
    bcd_device: 0x0200,
    manufacturer: "STMicroelectronics",
    product: "DFU in FS Mode",
    serial: "003A00213133510937363739",
    functional: ROM_FUNCTIONAL,
    alts: ROM_ALTS,
    // Its memory is the N6's own (RAM and the NOR), not regions the alt names describe.
    memory: Some(&[]),
    dialect: Dialect::StRom,
    runtime: None,
    timing: Timing {
        erase: &[(NOR_SECTOR, 25_000)],
        erase_blocking: true,
        erase_poll_ms: 0,
        word: 256,
        word_ns: 150_000,
        write_poll_ms: 0,
        mass_erase_us: 0,
        mass_erase_poll_ms: 0,
        manifest_us: 1_000,
    },
    // Not a ROM that starts in dfuERROR: its serial boot starts idle (assumption).
    quirks: Quirks {
        starts_idle: true,
        ..super::NO_QUIRKS
    },
};

/// The N6 models.
pub const MODELS: &[Model] = &[MODEL];

/// Which program serves USB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The boot ROM.
    Rom,
    /// ST's OpenBootloader, loaded by the ROM.
    OpenBootloader,
}

/// What the ROM made of the FSBL.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fsbl {
    None,
    Valid,
    Refused(String),
}

/// The N6's behaviour behind a [`crate::sim::SimDevice`] of model `stm32n6`.
#[derive(Debug, Clone)]
pub struct N6 {
    stage: Stage,
    state: State,
    status: Status,
    fsbl: Vec<u8>,
    fsbl_result: Fsbl,
    /// The phase the latest UPLOAD reported (the OBL sends data there).
    current: phase::PhaseReply,
    /// OBL: the row index and whether the next UPLOAD is the start op.
    index: usize,
    start_next: bool,
    rows: Vec<(u8, u32)>,
    layout: Vec<u8>,
    loader: Vec<u8>,
    nor: BTreeMap<u32, Vec<u8>>,
    touched: BTreeSet<u32>,
    /// Data of the download in progress, by offset in its target.
    pending: Option<(u32, Vec<u8>)>,
    hung: bool,
    /// After DETACH: the board comes back as this stage.
    leaving_to: Option<Stage>,
}

impl Default for N6 {
    fn default() -> Self {
        Self::new()
    }
}

impl N6 {
    /// A board powered on in USB serial boot; the NOR blank.
    pub fn new() -> Self {
        Self::blank()
    }

    /// Power-on: the ROM again; the NOR keeps its bytes.
    pub fn power_on(&mut self) {
        let nor = std::mem::take(&mut self.nor);
        *self = Self {
            nor,
            ..Self::blank()
        };
    }

    fn blank() -> Self {
        Self {
            stage: Stage::Rom,
            state: State::DfuIdle,
            status: Status::Ok,
            fsbl: Vec::new(),
            fsbl_result: Fsbl::None,
            current: rom_phase(),
            index: 0,
            start_next: false,
            rows: Vec::new(),
            layout: Vec::new(),
            loader: Vec::new(),
            nor: BTreeMap::new(),
            touched: BTreeSet::new(),
            pending: None,
            hung: false,
            leaving_to: None,
        }
    }

    /// Which program serves USB.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// The device state.
    pub fn state(&self) -> (State, Status) {
        (self.state, self.status)
    }

    /// `len` bytes of the NOR at `offset` (0xFF where never written).
    pub fn nor(&self, offset: u32, len: usize) -> Vec<u8> {
        (0..len as u32)
            .map(|i| {
                let a = offset.wrapping_add(i);
                self.nor
                    .get(&(a / NOR_SECTOR))
                    .map_or(0xff, |s| s[(a % NOR_SECTOR) as usize])
            })
            .collect()
    }

    /// The NOR's written sectors (index, bytes), for the state file.
    pub(crate) fn nor_sectors(&self) -> impl Iterator<Item = (u32, &[u8])> {
        self.nor.iter().map(|(&i, s)| (i, s.as_slice()))
    }

    /// Puts back a sector the state file kept; None for one outside the NOR or of another size.
    pub(crate) fn restore_nor_sector(&mut self, index: u32, bytes: Vec<u8>) -> Option<()> {
        if index >= NOR_SIZE / NOR_SECTOR || bytes.len() != NOR_SECTOR as usize {
            return None;
        }
        self.nor.insert(index, bytes);
        Some(())
    }

    /// The external loader as loaded to RAM.
    pub fn loader(&self) -> &[u8] {
        &self.loader
    }

    /// The layout as the OBL received it (header included).
    pub fn layout(&self) -> &[u8] {
        &self.layout
    }

    /// After a DETACH: the alt settings and functional descriptor the board comes back with.
    pub(crate) fn take_reenumeration(
        &mut self,
    ) -> Option<(&'static [&'static str], FunctionalDescriptor)> {
        let to = self.leaving_to.take()?;
        let nor = std::mem::take(&mut self.nor);
        let keep_obl = self.stage == Stage::OpenBootloader;
        if to == Stage::Rom || !keep_obl {
            // The ROM starts over, or hands over to a fresh OBL.
            let fsbl_ok = self.fsbl_result == Fsbl::Valid;
            *self = Self {
                nor,
                ..Self::blank()
            };
            if to == Stage::OpenBootloader && fsbl_ok {
                self.stage = Stage::OpenBootloader;
            }
        } else {
            // The OBL reconnects with its state kept (D).
            self.nor = nor;
            self.state = State::DfuIdle;
        }
        Some(match self.stage {
            Stage::Rom => (ROM_ALTS, ROM_FUNCTIONAL),
            Stage::OpenBootloader => (OBL_ALTS, OBL_FUNCTIONAL),
        })
    }

    fn fail(&mut self, status: Status) -> TransportError {
        self.state = State::Error;
        self.status = status;
        TransportError::Stall
    }

    fn status_reply(&self, poll_ms: u32) -> Vec<u8> {
        StatusReply {
            status: self.status,
            poll_timeout_ms: poll_ms,
            state: self.state,
            istring: 0,
        }
        .to_bytes()
        .to_vec()
    }

    /// One class request on alt `alt`; `work` receives the time the device spends on it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn request(
        &mut self,
        alt: u8,
        req: u8,
        value: u16,
        data: &[u8],
        in_len: usize,
        timeout: Duration,
        work: &mut Duration,
    ) -> Result<Vec<u8>, TransportError> {
        if self.hung {
            *work = timeout;
            return Err(TransportError::Timeout(timeout));
        }
        match req {
            request::UPLOAD => self.upload(alt, in_len),
            request::DNLOAD => self.dnload(value, data).map(|()| Vec::new()),
            request::GETSTATUS => self.get_status(timeout, work),
            request::GETSTATE => Ok(vec![self.state.as_u8()]),
            request::ABORT => {
                self.state = State::DfuIdle;
                self.pending = None;
                Ok(Vec::new())
            }
            request::CLRSTATUS => {
                self.state = State::DfuIdle;
                self.status = Status::Ok;
                Ok(Vec::new())
            }
            request::DETACH => {
                self.leaving_to = Some(match (self.stage, &self.fsbl_result) {
                    (Stage::Rom, Fsbl::Valid) | (Stage::OpenBootloader, _) => Stage::OpenBootloader,
                    (Stage::Rom, _) => Stage::Rom,
                });
                Err(TransportError::Disconnected)
            }
            _ => Err(TransportError::Stall),
        }
    }

    fn upload(&mut self, alt: u8, len: usize) -> Result<Vec<u8>, TransportError> {
        let alts = match self.stage {
            Stage::Rom => ROM_ALTS,
            Stage::OpenBootloader => OBL_ALTS,
        };
        let is_cmd = alts
            .get(alt as usize)
            .is_some_and(|n| phase::alt_phase(n) == Some(phase::CMD));
        if !is_cmd || !matches!(self.state, State::DfuIdle | State::UploadIdle) {
            return Err(self.fail(Status::ErrStalledPkt));
        }
        let (reply, garbage) = match self.stage {
            Stage::Rom => (self.rom_reply(), 0u8),
            Stage::OpenBootloader => (self.obl_reply(), 0x01),
        };
        self.current = reply.clone();
        let detach = match self.stage {
            Stage::Rom => u8::from(self.fsbl_result == Fsbl::Valid),
            Stage::OpenBootloader => garbage,
        };
        let mut bytes = reply.to_bytes(detach);
        if reply.phase == phase::RESET {
            bytes.push(0);
        }
        bytes.resize(len.max(bytes.len()), garbage);
        bytes.truncate(len);
        self.state = State::UploadIdle;
        Ok(bytes)
    }

    fn rom_reply(&self) -> phase::PhaseReply {
        match &self.fsbl_result {
            Fsbl::None => rom_phase(),
            Fsbl::Valid => phase::PhaseReply {
                phase: phase::LAYOUT,
                address: None,
                offset: 0,
                detach_byte: Some(1),
                text: String::new(),
            },
            Fsbl::Refused(why) => phase::PhaseReply {
                phase: phase::RESET,
                address: None,
                offset: 0,
                detach_byte: None,
                text: format!("FSBL refused: {why}"),
            },
        }
    }

    fn obl_reply(&mut self) -> phase::PhaseReply {
        let reply = if self.start_next {
            self.index += 1;
            self.current.clone()
        } else {
            let (phase, address) = match self.index {
                0 => (phase::LAYOUT, Some(LAYOUT_RAM)),
                i => match self.rows.get(i) {
                    None => (phase::END, None),
                    Some(&(0x03, _)) => (0x03, Some(LOADER_RAM)),
                    Some(&(id @ (0x04 | 0x05), off)) => (id, Some(NOR_BASE.wrapping_add(off))),
                    Some(&(id, _)) => (id, None),
                },
            };
            phase::PhaseReply {
                phase,
                address,
                offset: 0,
                detach_byte: None,
                text: String::new(),
            }
        };
        self.start_next = !self.start_next;
        reply
    }

    fn dnload(&mut self, value: u16, data: &[u8]) -> Result<(), TransportError> {
        if !matches!(self.state, State::DfuIdle | State::DnloadIdle) {
            return Err(self.fail(Status::ErrStalledPkt));
        }
        if data.is_empty() {
            if self.state != State::DnloadIdle {
                return Err(self.fail(Status::ErrStalledPkt));
            }
            self.state = State::ManifestSync;
            return Ok(());
        }
        // wValue 0 and 1 are DfuSe commands; the serial boot sends none.
        if value < 2 {
            return Err(self.fail(Status::ErrStalledPkt));
        }
        let offset = (value as u32 - 2) * XFER as u32;
        self.pending = Some((offset, data.to_vec()));
        self.state = State::DnloadSync;
        Ok(())
    }

    fn get_status(
        &mut self,
        timeout: Duration,
        work: &mut Duration,
    ) -> Result<Vec<u8>, TransportError> {
        match self.state {
            State::DnloadSync => {
                let (offset, data) = self.pending.take().unwrap_or_default();
                if let Err(s) = self.store(offset, &data, timeout, work) {
                    self.state = State::Error;
                    self.status = s;
                    return Ok(self.status_reply(0));
                }
                if self.hung {
                    return Err(TransportError::Timeout(timeout));
                }
                self.state = State::DnloadIdle;
                Ok(self.status_reply(0))
            }
            State::ManifestSync => {
                self.manifest();
                self.state = State::Manifest;
                *work = Duration::from_millis(1);
                Ok(self.status_reply(1))
            }
            State::Manifest => {
                self.state = State::DfuIdle;
                Ok(self.status_reply(0))
            }
            _ => Ok(self.status_reply(0)),
        }
    }

    /// Places a block where the current phase sends data.
    fn store(
        &mut self,
        offset: u32,
        data: &[u8],
        timeout: Duration,
        work: &mut Duration,
    ) -> Result<(), Status> {
        let put = |buf: &mut Vec<u8>, max: usize| -> Result<(), Status> {
            let end = offset as usize + data.len();
            if end > max {
                return Err(Status::ErrAddress);
            }
            if buf.len() < end {
                buf.resize(end, 0);
            }
            buf[offset as usize..end].copy_from_slice(data);
            Ok(())
        };
        match (self.stage, self.current.phase) {
            (Stage::Rom, 0x01) => put(&mut self.fsbl, 512 * 1024),
            (Stage::Rom, _) => Err(Status::ErrTarget),
            (Stage::OpenBootloader, phase::LAYOUT) => put(&mut self.layout, 1024 + 256),
            (Stage::OpenBootloader, 0x03) => put(&mut self.loader, 32 * 1024),
            (Stage::OpenBootloader, 0x04 | 0x05) => {
                if self.loader.is_empty() {
                    self.hung = true;
                    *work = timeout;
                    return Ok(());
                }
                let base = self
                    .current
                    .address
                    .unwrap_or(NOR_BASE)
                    .wrapping_sub(NOR_BASE);
                self.nor_write(base.wrapping_add(offset), data, work)
            }
            // No path for it in the OBL (BF's Id 0x2): the data goes nowhere.
            (Stage::OpenBootloader, _) => Ok(()),
        }
    }

    fn nor_write(&mut self, at: u32, data: &[u8], work: &mut Duration) -> Result<(), Status> {
        if at as u64 + data.len() as u64 > NOR_SIZE as u64 {
            return Err(Status::ErrAddress);
        }
        for (i, &b) in data.iter().enumerate() {
            let a = at + i as u32;
            let sector = a / NOR_SECTOR;
            if self.touched.insert(sector) {
                self.nor.insert(sector, vec![0xff; NOR_SECTOR as usize]);
                *work += NOR_ERASE;
            }
            let s = self.nor.get_mut(&sector).expect("erased above");
            // NOR programming only clears bits; the verify catches a byte that needed a set.
            s[(a % NOR_SECTOR) as usize] &= b;
            if s[(a % NOR_SECTOR) as usize] != b {
                return Err(Status::ErrVerify);
            }
        }
        *work += NOR_WRITE_PER_KB * data.len().div_ceil(1024) as u32;
        Ok(())
    }

    fn manifest(&mut self) {
        match (self.stage, self.current.phase) {
            (Stage::Rom, 0x01) => {
                self.fsbl_result = match header::check_fsbl(&self.fsbl) {
                    Ok(()) => Fsbl::Valid,
                    Err(why) => Fsbl::Refused(why),
                };
            }
            (Stage::OpenBootloader, phase::LAYOUT) => match parse_obl_layout(&self.layout) {
                Some(rows) => self.rows = rows,
                None => self.hung = true,
            },
            _ => {}
        }
        self.touched.clear();
    }
}

fn rom_phase() -> phase::PhaseReply {
    phase::PhaseReply {
        phase: 0x01,
        address: Some(FSBL_ENTRY),
        offset: 0,
        detach_byte: None,
        text: String::new(),
    }
}

/// The OBL's reading of a layout: None where it would loop forever (a seventh column, a `#`
/// line); a last row without a line feed is dropped, as it drops it.
fn parse_obl_layout(bytes: &[u8]) -> Option<Vec<(u8, u32)>> {
    let text = String::from_utf8_lossy(bytes.get(header::V1_LEN..)?);
    let text = text.trim_end_matches('\0');
    let complete = match text.rfind('\n') {
        Some(i) => &text[..i],
        None => "",
    };
    let mut rows = Vec::new();
    for line in complete.split('\n') {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').filter(|c| !c.is_empty()).collect();
        if line.starts_with('#') || cols.len() != 6 {
            return None;
        }
        let id = crate::flashlayout::strtoul0(cols[1])? as u8;
        let off = crate::flashlayout::strtoul0(cols[5]).unwrap_or(0) as u32;
        rows.push((id, off));
    }
    Some(rows)
}

#[cfg(test)]
mod tests;
