//! Simulated ST ROM bootloaders and a plain DFU 1.1 device, behind the same
//! [`Transport`](crate::transport::Transport) seam as real USB.
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
mod partitioned;
mod state_file;
mod state_machine;
mod transcript;
mod transport;
mod work;

pub use faults::Faults;
pub use transcript::{Op, Outcome, Record};

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::layout::Layout;
use crate::progress::CancelToken;
use crate::protocol::{State, Status};
use crate::transport::{AltSetting, DeviceInfo, Mode};
use memory::Region;
use models::{Dialect, Model};
use state_machine::Pending;
use work::Background;

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
    /// A board the environment attaches (`DFUFLASH_SIM`, the plug file) cannot be simulated.
    #[error("{place}: {source}")]
    Attached {
        /// Where it was named.
        place: String,
        /// Why.
        #[source]
        source: Box<SimError>,
    },
    /// A custom device cannot be built as asked.
    #[error("simulated device: {detail}")]
    Custom {
        /// What is wrong.
        detail: String,
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

/// A simulated DFU device.
pub struct SimDevice {
    model: &'static Model,
    info: DeviceInfo,
    now: Duration,
    realtime: bool,
    time_scale: f64,
    // A real bus carries the transfers (the USB bench): its own time is not slept again.
    real_bus: bool,
    // Real-time sleeps shorter than this are owed and taken together with later ones.
    min_sleep: Duration,
    owed: Duration,
    regions: Vec<Region>,
    state: State,
    status: Status,
    alt: u8,
    pointer: u32,
    pending: Pending,
    bg: Option<Background>,
    cpu_busy_until: Duration,
    // The host's cancel while a job runs: it cuts a held request short.
    cut: Option<CancelToken>,
    // The state file it was opened from (the host-exit fault saves to it).
    state_path: Option<PathBuf>,
    read_protected: bool,
    disconnected: bool,
    left_to: Option<u32>,
    faults: Faults,
    requests: u64,
    transcript: Vec<Record>,
    stats: SimStats,
    staging: Vec<u8>,
    // DFU 1.1: bytes of firmware in each alt setting's slot.
    firmware_len: Vec<usize>,
    upload_done: bool,
    // When the wait the last GETSTATUS asked for ends (for spec-strict devices).
    poll_until: Duration,
    // The STM32N6's serial boot, which answers every class request itself.
    n6: Option<Box<models::stm32n6::N6>>,
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
    /// What a device of this model tells the host (descriptors, strings, alt settings), without
    /// building its memory.
    pub fn describe(model: &str) -> Result<DeviceInfo, SimError> {
        Ok(Self::info_of(Self::model_named(model)?))
    }

    /// The model of this name.
    pub fn model_named(model: &str) -> Result<&'static Model, SimError> {
        models::find(model).ok_or_else(|| SimError::UnknownModel {
            name: model.to_string(),
            known: models::all()
                .chain(models::VARIANTS)
                .chain(models::stm32n6::MODELS)
                .map(|m| m.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    fn info_of(m: &Model) -> DeviceInfo {
        DeviceInfo {
            vendor_id: m.vendor_id,
            product_id: m.product_id,
            bcd_device: m.bcd_device,
            manufacturer: Some(m.manufacturer.into()),
            product: Some(m.product.into()),
            serial: Some(m.serial.into()),
            port_path: Some(format!("sim:{}", m.name)),
            interface: 0,
            mode: Mode::Dfu,
            alt_settings: AltSetting::numbered(m.alts),
            functional: m.functional,
            incomplete: None,
            driver: None,
            driver_problem: None,
            quirks: Vec::new(),
        }
    }

    /// A freshly powered device of this model: flash erased, ST ROMs in dfuERROR/errFIRMWARE.
    pub fn new(model: &str) -> Result<Self, SimError> {
        let m = Self::model_named(model)?;
        Self::build(m, Self::info_of(m))
    }

    /// An honest DfuSe device that behaves as `model` (an ST ROM model: its timings and quirks)
    /// but reports `transfer_size` and these alt settings, and places data blocks by that
    /// transfer size as AN3156 says. For testing the host against any transfer size and any
    /// layout; the memory of the layouts is built, so they may hold at most 64 MiB in all.
    pub fn custom(model: &str, transfer_size: u16, alts: &[&str]) -> Result<Self, SimError> {
        let m = Self::model_named(model)?;
        let bad = |detail: String| SimError::Custom { detail };
        if m.dialect != Dialect::StRom || m.memory.is_some() {
            return Err(bad(format!(
                "{model} is not a DfuSe model whose memory its alt names describe"
            )));
        }
        let mut total = 0u64;
        for text in alts {
            let layout = Layout::parse(text).map_err(|e| bad(e.to_string()))?;
            total += layout.total_size();
        }
        if total > 64 << 20 {
            return Err(bad(format!(
                "the layouts describe {total} bytes; the most is 64 MiB"
            )));
        }
        let mut info = Self::info_of(m);
        info.functional.transfer_size = transfer_size;
        info.alt_settings = AltSetting::numbered(alts);
        Self::build(m, info)
    }

    fn build(m: &'static Model, info: DeviceInfo) -> Result<Self, SimError> {
        let mut regions = Vec::new();
        // The memory as it is, which a model may misreport in its alt names.
        let memory = m
            .memory
            .map(AltSetting::numbered)
            .unwrap_or_else(|| info.alt_settings.clone());
        match m.dialect {
            Dialect::StRom => {
                for a in &memory {
                    let layout = Layout::parse(&a.name).map_err(|e| SimError::Custom {
                        detail: e.to_string(),
                    })?;
                    let fill = if layout.name.contains("Feature") {
                        0x00
                    } else {
                        0xff
                    };
                    for g in &layout.groups {
                        regions.push(Region {
                            alt: a.alt,
                            layout: layout.clone(),
                            start: g.start,
                            data: vec![fill; (g.end() - g.start as u64) as usize],
                        });
                    }
                }
            }
            // A slot of `capacity` bytes per alt setting.
            Dialect::Dfu11 { capacity } => {
                for a in &memory {
                    regions.push(Region {
                        alt: a.alt,
                        layout: Layout::parse(&format!("@Firmware/0x00000000/01*{capacity}Bg"))
                            .expect("valid"),
                        start: 0,
                        data: vec![0xff; capacity as usize],
                    })
                }
            }
            // A region per flash, numbered as the board numbers them; partitions are windows.
            Dialect::Partitioned(board) => {
                for (i, f) in board.flashes.iter().enumerate() {
                    let text = format!("@{}/{:#010x}/01*{}Bg", f.name, f.base, f.size);
                    regions.push(Region {
                        alt: i as u8,
                        layout: Layout::parse(&text).expect("valid"),
                        start: f.base,
                        data: vec![0xff; f.size as usize],
                    })
                }
            }
        }
        // DFU 1.1: a firmware slot per alt setting; an ST ROM keeps no firmware length.
        let slots = match m.dialect {
            Dialect::Dfu11 { .. } => regions.len(),
            Dialect::StRom | Dialect::Partitioned(_) => 1,
        };
        let mut dev = Self {
            model: m,
            info,
            now: Duration::ZERO,
            realtime: false,
            time_scale: 1.0,
            real_bus: false,
            min_sleep: Duration::ZERO,
            owed: Duration::ZERO,
            regions,
            state: State::DfuIdle,
            status: Status::Ok,
            alt: 0,
            pointer: ST_DEFAULT_POINTER,
            pending: Pending::None,
            bg: None,
            cpu_busy_until: Duration::ZERO,
            cut: None,
            state_path: None,
            read_protected: false,
            disconnected: false,
            left_to: None,
            faults: Faults::default(),
            requests: 0,
            transcript: Vec::new(),
            stats: SimStats::default(),
            staging: Vec::new(),
            firmware_len: vec![0; slots],
            upload_done: false,
            poll_until: Duration::ZERO,
            n6: (m.name == models::stm32n6::MODEL.name).then(Box::default),
        };
        dev.power_on();
        Ok(dev)
    }

    /// Every model.
    pub fn models() -> Vec<&'static Model> {
        models::all().collect()
    }

    /// This device's model.
    pub fn model(&self) -> &'static Model {
        self.model
    }

    fn st(&self) -> bool {
        self.model.dialect == Dialect::StRom
    }

    fn power_on(&mut self) {
        // ST ROMs start in dfuERROR/errFIRMWARE; other bootloaders in dfuIDLE.
        let rom = self.st() && !self.model.quirks.starts_idle;
        self.state = if rom { State::Error } else { State::DfuIdle };
        self.status = if rom { Status::ErrFirmware } else { Status::Ok };
        self.pointer = ST_DEFAULT_POINTER;
        self.pending = Pending::None;
        self.bg = None;
        self.disconnected = false;
        self.alt = 0;
        self.staging.clear();
        self.upload_done = false;
        if let Some(n6) = &mut self.n6 {
            n6.power_on();
            self.info.alt_settings = AltSetting::numbered(self.model.alts);
            self.info.functional = self.model.functional;
        }
    }

    /// Where the board appears to be plugged in (`sim:MODEL` unless set): several boards of one
    /// model are told apart by it, as real ones are by USB port path.
    pub fn set_port_path(&mut self, path: &str) {
        self.info.port_path = Some(path.to_string());
        // A board whose serial is its chip's UID has its own.
        self.info.serial = Some(models::openmv::serial_at(self.model, path));
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

    /// The transfers cross a real bus, which takes its own time (the USB bench's gadget): in
    /// real time, the modelled bus time still counts on the virtual clock and in the stats but
    /// is not slept. Only the device's own work (erase, program, manifest) is.
    pub fn set_real_bus(&mut self, on: bool) {
        self.real_bus = on;
    }

    /// Real time passed outside any request (the host waited between two): the virtual clock
    /// moves to at least `elapsed` since the device started, so work running in the background
    /// (a wedged Rev V erase, a non-blocking L4 erase) progresses as on a real chip. For a
    /// device served over a real bus; `elapsed` is in the model's time (real time x scale).
    pub fn catch_up(&mut self, elapsed: Duration) {
        self.now = self.now.max(elapsed);
    }

    /// In real time, sleeps shorter than `min` are owed and taken together once they add up to
    /// `min`: the total is the same, but a host whose timers cost far more than the sleep (the
    /// USB bench's guest under QEMU's TCG) is not woken for every 50 us block program.
    pub fn set_min_sleep(&mut self, min: Duration) {
        self.min_sleep = min;
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

    /// The STM32N6 behind a `stm32n6` device (its stage, its NOR).
    pub fn n6(&self) -> Option<&models::stm32n6::N6> {
        self.n6.as_deref()
    }

    /// Whether the device is gone (disconnected, power loss, or left DFU mode).
    pub fn is_disconnected(&self) -> bool {
        self.disconnected
    }
}
