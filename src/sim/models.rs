//! The simulated devices and every number that drives them.
//!
//! # Timing table
//!
//! All simulated time comes from this table. "Assumption" marks a value no public source
//! gives; it is chosen to be of the documented order and is the first thing to replace with a
//! measurement from a real board.
//!
//! | what | value | source |
//! |---|---|---|
//! | USB: fixed cost of one control transfer (setup + status stage + host turnaround) | 0.5 ms | STM32CubeProgrammer log of an H743 (ST community thread on the Rev V wedge): two to three GETSTATUS round trips land in the same 1 ms log tick |
//! | USB: one 64-byte ep0 data packet at full speed | 1/13 ms | USB 2.0 spec, table 5-5 (at most 13 full-speed 64-byte control transactions per 1 ms frame) |
//! | stm32h743-revy, stm32h743-revv, stm32f405, stm32l4, stm32c5-strict, stm32f7, stm32g4, stm32h7a3 | their own table | [`st_rom`] |
//! | dfu11-generic, esp32s2, zephyr-dfu, tinyusb-dfu, bogus-poll | their own table | [`dfu11`] |
//! | portenta-h7, dfuse-strict | their own table | [`stacks`] |
//! | at32f4, apm32f4 | their own table | [`clones`] |
//! | gd32vf103 and its leave variants | their own table | [`gd32vf103`] |
//! | openmv-h7, openmv-h7p, openmv-n6, openmv-ae3 | their own table | [`openmv`] |
//! | stm32n6 (the ROM, then the OpenBootloader) | its own table | [`stm32n6`] |

use crate::transport::FunctionalDescriptor;
use std::time::Duration;

pub mod clones;
pub mod dfu11;
pub mod gd32vf103;
pub mod openmv;
pub mod st_rom;
pub mod stacks;
pub mod stm32n6;
pub use gd32vf103::{RomLeave, VARIANTS};

/// Fixed cost of one control transfer.
pub const USB_TRANSFER_OVERHEAD: Duration = Duration::from_micros(500);
/// Full-speed ep0 max packet size.
pub const EP0_PACKET: usize = 64;
/// 64-byte control data packets per 1 ms frame at full speed.
pub const PACKETS_PER_FRAME: u32 = 13;

/// Modelled bus time of a control transfer with `len` data bytes.
pub fn usb_cost(len: usize) -> Duration {
    let packets = len.div_ceil(EP0_PACKET) as u32;
    USB_TRANSFER_OVERHEAD + Duration::from_micros(1000) * packets / PACKETS_PER_FRAME
}

/// How a device speaks DFU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// ST ROM bootloader (DfuSe 1.1a): commands with wValue 0, data at wValue >= 2, starts in
    /// dfuERROR/errFIRMWARE, does the work inside the first GETSTATUS after a command.
    StRom,
    /// Plain DFU 1.1 with manifestation, one firmware slot of `capacity` bytes.
    Dfu11 {
        /// Slot size.
        capacity: u32,
    },
    /// Plain DFU 1.1, an alt setting per partition of the board's flashes (OpenMV's bootloader).
    Partitioned(&'static openmv::Board),
}

/// Device timings (see the module table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// (sector size, erase time in microseconds), looked up by sector size.
    pub erase: &'static [(u32, u64)],
    /// The erase runs inside the first GETSTATUS (classic ST ROM), or in the background.
    pub erase_blocking: bool,
    /// bwPollTimeout reported for an erase.
    pub erase_poll_ms: u32,
    /// Bytes programmed at once.
    pub word: u32,
    /// Time to program one word, in nanoseconds.
    pub word_ns: u64,
    /// bwPollTimeout reported for a write or a Set Address.
    pub write_poll_ms: u32,
    /// Mass erase time in microseconds.
    pub mass_erase_us: u64,
    /// bwPollTimeout reported for a mass erase.
    pub mass_erase_poll_ms: u32,
    /// DFU 1.1 manifestation time in microseconds.
    pub manifest_us: u64,
}

impl Timing {
    /// Erase time of a sector of `size` bytes (scaled from the nearest entry when absent).
    pub fn erase_time(&self, size: u32) -> Duration {
        let us = match self.erase.iter().find(|(s, _)| *s == size) {
            Some((_, us)) => *us,
            None => {
                let (s, us) = self.erase[0];
                us * size as u64 / s as u64
            }
        };
        Duration::from_micros(us)
    }

    /// Time to program `len` bytes.
    pub fn program_time(&self, len: usize) -> Duration {
        Duration::from_nanos(len.div_ceil(self.word as usize) as u64 * self.word_ns)
    }
}

/// Behaviour that departs from the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quirks {
    /// STM32H7 Rev V: an erase at or above this address answers OK/dfuDNBUSY and never leaves it.
    pub wedge_from: Option<u32>,
    /// STM32C5 class: CLRSTATUS outside dfuERROR is stalled.
    pub strict_clrstatus: bool,
    /// STM32L4: GETSTATUS is stalled while a background erase runs.
    pub stall_status_while_busy: bool,
    /// STM32H7: programming a flash word (this many bytes) that is not blank fails (ECC).
    pub ecc_word: Option<u32>,
    /// The ROM answers a standalone GET_DESCRIPTOR for the functional descriptor.
    pub answers_functional_descriptor_request: bool,
    /// A DfuSe device that is not a ROM: it starts in dfuIDLE, not dfuERROR/errFIRMWARE.
    pub starts_idle: bool,
    /// Spec-strict DFU 1.1 (section 6.1.2): a request that arrives in dfuDNBUSY before the
    /// reported bwPollTimeout has elapsed is stalled, and the device enters
    /// dfuERROR/errSTALLEDPKT.
    pub stall_early_requests: bool,
    /// A DfuSe device whose bwPollTimeout is the time its background work still needs, as DFU
    /// 1.1 devices report it (ST ROMs report a fixed value per command).
    pub reports_time_left: bool,
    /// What the ROM does on the leave request (DfuSe).
    pub leave: RomLeave,
    /// The serial string descriptor holds UTF-8 bytes, not UTF-16LE (the GD32VF103 ROM; the USB
    /// bench's gadget sends it so).
    pub utf8_serial: bool,
    /// DFU 1.1: the bwPollTimeout reported while a block is written, by alt setting (the last
    /// entry for the rest), whatever the work takes; None: the time the work still needs.
    pub reported_poll_ms: Option<&'static [u32]>,
    /// DFU 1.1, Zephyr: with a second slot, the first (the running image) cannot be written: a
    /// DNLOAD to it is accepted, and the next GETSTATUS reports dfuERROR/errWRITE.
    pub first_slot_locked: bool,
    /// DFU 1.1, Zephyr: the first block of a download erases the whole slot first (pages of
    /// the first `erase` entry), whatever poll timeout it reports.
    pub erases_slot_first: bool,
}

/// The interface a device presents while its application runs, before a DETACH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Runtime {
    /// idProduct in runtime mode.
    pub product_id: u16,
    /// The runtime interface's functional descriptor.
    pub functional: FunctionalDescriptor,
    /// The runtime interface's name ("": none, iInterface 0).
    pub name: &'static str,
}

/// A simulated device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Model {
    /// Name used by `--sim`.
    pub name: &'static str,
    /// One line about it.
    pub description: &'static str,
    /// idVendor.
    pub vendor_id: u16,
    /// idProduct.
    pub product_id: u16,
    /// bcdDevice.
    pub bcd_device: u16,
    /// Manufacturer string.
    pub manufacturer: &'static str,
    /// Product string.
    pub product: &'static str,
    /// Serial string.
    pub serial: &'static str,
    /// Functional descriptor.
    pub functional: FunctionalDescriptor,
    /// Alt setting names (DfuSe: memory layouts).
    pub alts: &'static [&'static str],
    /// The memory as it is, by alt setting, where the names misreport it (the GD32VF103's
    /// flash); None: as the names say.
    pub memory: Option<&'static [&'static str]>,
    /// DFU dialect.
    pub dialect: Dialect,
    /// The runtime interface the device starts with, if it has one (the USB bench serves it
    /// first; in process, the model starts in DFU mode).
    pub runtime: Option<Runtime>,
    /// Timings.
    pub timing: Timing,
    /// Quirks.
    pub quirks: Quirks,
}

const ST_VID: u16 = 0x0483;
const ST_DFU_PID: u16 = 0xdf11;

const H7_ALTS: &[&str] = &[
    "@Internal Flash   /0x08000000/16*128Kg",
    "@Option Bytes   /0x5200201C/01*128 e",
    "@OTP Memory   /0x08FFF000/01*1024 e",
    "@Device Feature/0xFFFF0000/01*004 e",
];

const H7_TIMING: Timing = Timing {
    erase: &[(128 * 1024, 903_000)],
    erase_blocking: true,
    erase_poll_ms: 1000,
    word: 32,
    word_ns: 16_000,
    write_poll_ms: 25,
    mass_erase_us: 7_200_000,
    mass_erase_poll_ms: 1000,
    manifest_us: 0,
};

const F405_TIMING: Timing = Timing {
    erase: &[
        (16 * 1024, 250_000),
        (64 * 1024, 550_000),
        (128 * 1024, 1_000_000),
    ],
    erase_blocking: true,
    erase_poll_ms: 100,
    word: 4,
    word_ns: 16_000,
    write_poll_ms: 25,
    mass_erase_us: 30_000_000,
    mass_erase_poll_ms: 100,
    manifest_us: 0,
};

const L4_TIMING: Timing = Timing {
    erase: &[(2048, 22_020)],
    erase_blocking: false,
    erase_poll_ms: 21,
    word: 8,
    word_ns: 81_690,
    write_poll_ms: 21,
    mass_erase_us: 22_130,
    mass_erase_poll_ms: 21,
    manifest_us: 0,
};

// STM32F103-class flash (1 KB pages), which the GD32VF103's and AT32's controllers follow.
const GD32_CLASS_TIMING: Timing = Timing {
    erase: &[(1024, 40_000)],
    erase_blocking: true,
    erase_poll_ms: 50,
    word: 4,
    word_ns: 70_000,
    write_poll_ms: 5,
    mass_erase_us: 4_000_000,
    mass_erase_poll_ms: 50,
    manifest_us: 0,
};

// Zephyr's legacy USB DFU class: upload on (its USB DFU sample turns it on), manifestation
// tolerant, bitWillDetach; 100 ms detach timeout; wTransferSize CONFIG_USB_REQUEST_BUFFER_SIZE
// (128).
const ZEPHYR_FUNCTIONAL: FunctionalDescriptor = FunctionalDescriptor {
    attributes: 0x0f,
    detach_timeout_ms: 100,
    transfer_size: 128,
    dfu_version: 0x0110,
};

pub(crate) const NO_QUIRKS: Quirks = Quirks {
    wedge_from: None,
    strict_clrstatus: false,
    stall_status_while_busy: false,
    ecc_word: None,
    answers_functional_descriptor_request: true,
    starts_idle: false,
    stall_early_requests: false,
    reports_time_left: false,
    leave: RomLeave::Manifest,
    utf8_serial: false,
    reported_poll_ms: None,
    first_slot_locked: false,
    erases_slot_first: false,
};

const fn st_functional(transfer_size: u16) -> FunctionalDescriptor {
    FunctionalDescriptor {
        attributes: 0x0b,
        detach_timeout_ms: 255,
        transfer_size,
        dfu_version: 0x011a,
    }
}

/// Every model, by name, in the order listings give them.
pub const MODELS: &[Model] = &[
    st_rom::H743_REVY,
    st_rom::H743_REVV,
    st_rom::F405,
    st_rom::L4,
    st_rom::C5_STRICT,
    dfu11::GENERIC,
    stacks::PORTENTA_H7,
    stacks::DFUSE_STRICT,
    gd32vf103::GD32VF103,
    st_rom::F7,
    st_rom::G4,
    st_rom::H7A3,
    clones::AT32F4,
    clones::APM32F4,
    dfu11::ESP32S2,
    dfu11::ZEPHYR,
    dfu11::TINYUSB,
    dfu11::BOGUS_POLL,
];

/// Every model: this table's, then those of their own files.
pub fn all() -> impl Iterator<Item = &'static Model> {
    MODELS.iter().chain(openmv::MODELS)
}

/// The model or variant with this name.
pub fn find(name: &str) -> Option<&'static Model> {
    all()
        .chain(VARIANTS)
        .chain(stm32n6::MODELS)
        .find(|m| m.name == name)
}

#[cfg(test)]
mod tests;
