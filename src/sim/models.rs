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
//! | H743 sector erase, 128 KB (inside the first GETSTATUS) | 903 ms | the same CubeProgrammer log: `41 00 00 00 08` sent at 04:122, dfuDNBUSY at 05:025 |
//! | H743 erase poll timeout reported | 1000 ms | PROTOCOL.md section 4 (the Rev V ROM reports 1000 ms); assumed the same on Rev Y |
//! | H743 Rev V: first GETSTATUS after an erase at or above 0x08100000 | 16 ms, OK/dfuDNBUSY, then dfuDNBUSY forever | the CubeProgrammer log (11:397 -> 11:413) and PROTOCOL.md section 4 |
//! | H743 Rev V: a request the wedged ROM does not expect (a DNLOAD, an UPLOAD) | stalled, dfuERROR/errSTALLEDPKT; the erase keeps the part done, as the recovery's first CLRSTATUS does | assumption (DFU 1.1 section 6.1.2 for the stall; nothing public on the wedged ROM) |
//! | H743 256-bit flash word program | 16 us | assumption (order of the datasheet's typical word programming time) |
//! | ST ROMs: a DNLOAD to the option bytes | the bytes replaced whatever they held (no page erase needed) | AN3155, Write Memory command: the bootloader erases the option bytes before writing the new ones |
//! | H743 write / Set Address poll timeout reported | 25 ms | assumption |
//! | H743 mass erase (two banks in parallel) | 7.2 s, reports 1000 ms | assumption (8 sectors of 903 ms per bank) |
//! | F405 sector erase 16 / 64 / 128 KB | 250 / 550 / 1000 ms | STM32F405 datasheet, flash characteristics, typical at x32 parallelism |
//! | F405 32-bit word program | 16 us | STM32F405 datasheet, typical at x32 |
//! | F405 mass erase | 30 s, reports 100 ms, answers GETSTATUS while busy | PROTOCOL.md section 2 |
//! | F405 erase poll timeout reported | 100 ms | assumption (the mass-erase value of PROTOCOL.md) |
//! | L4 page erase, 2 KB | 22.02 ms, not blocking, stalls GETSTATUS until done | STM32L476 datasheet (typical); the stall: PROTOCOL.md section 5 |
//! | L4 64-bit double word program | 81.69 us | STM32L476 datasheet (typical) |
//! | L4 poll timeout reported | 21 ms | ST community thread on the L432 ROM (`Poll timeout 21 ms`) |
//! | L4 mass erase | 22.13 ms | STM32L476 datasheet (typical) |
//! | C5-class page erase 2 KB / double word program | 22 ms / 85 us | assumption (values of other 2 KB-page STM32 families) |
//! | generic DFU 1.1: 1 KB block program / manifestation | 4 ms / 200 ms, reported honestly | assumption |
//! | portenta-h7: descriptors, alt strings, wTransferSize 4096, attributes 0x0B | bootloader v25 | github.com/arduino/mcuboot-arduino-stm32h7 (app/dfu/usbd_desc.c, usbd_dfu.cpp, usbd_dfu_flash.cpp, board.h); a `dfu-util -l` of a v25 board in NuttX's Portenta H7 documentation |
//! | portenta-h7: bwPollTimeout after an erase or write | 0 ms | the same usbd_dfu_flash.cpp (FLASH_ERASE_TIME = FLASH_PROGRAM_TIME = 0) |
//! | portenta-h7: when the work runs | after the GETSTATUS data stage, before its status stage is armed (EP0 TxReady): the host sees that GETSTATUS end with the work, as on the ROM | ST's stm32_mw_usb_device usbd_core.c (USBD_LL_DataInStage) and usbd_dfu.c |
//! | portenta-h7: 128 KB sector erase / 256-bit word program | 1.1 s / 130 us (x32 parallelism, typical) | STM32H743 datasheet DS12110 flash table, quoted by ST staff; the H747 assumed the same flash |
//! | portenta-h7: QSPI 4 KB erase | 45 ms | assumption (MX25L12833F-class NOR) |
//! | portenta-h7: not modelled | the CDC-ACM function; mass erase and read unprotect (the bootloader stalls them); CLRSTATUS outside dfuERROR (it enters dfuERROR/errUNKNOWN); DETACH (it re-enumerates); write errors it never reports | the same sources |
//! | gd32vf103: ids 28e9:0189, bcdDevice 0x1000, strings, alt strings `@Internal Flash  /0x08000000/512*002Kg` and `@Option Bytes  /0x1FFFF800/01*016 g`, serial `3CBJ`, wTransferSize 2048, starts in dfuERROR/errFIRMWARE | a Longan Nano's dmesg in sipeed/platform-gd32v issue 10; its `dfu-util -l` in aw/fiveforths issue 20 and riscv-mcu/gd32-dfu-utils issue 5; dfu-util 0.9's verbose log in sipeed/Longan_GD32VF_examples issue 5 |
//! | gd32vf103: the real flash, 128 pages of 1 KB (GD32VF103CB); the serial is UTF-8 in the descriptor | dfu-util src/quirks.c (fixup_dfuse_layout, from the GD32VF103 datasheet's tables 2-1 and 2-2 and Nucleisys's gd32-dfu-utils) |
//! | gd32vf103: 1 KB page erase 40 ms (reports 50 ms), 32-bit word program 70 us (reports 5 ms), mass erase 4 s | assumption (the STM32F103 datasheet's maxima, whose flash controller the GD32VF103's follows) |
//! | gd32vf103: how it leaves DFU mode | unknown: a model per way, each an assumption (the table in [`gd32vf103`]) | dfu-util 0.11 src/dfuse.c, `dfuse_do_leave` |
//! | gd32vf103: not modelled | the bare-chip variant that reports `128*001Kg` | |
//! | stm32f7 (F745): alt 0 `@Internal Flash  /0x08000000/04*032Kg,01*128Kg,03*256Kg` | betaflight-configurator's DFU protocol (the F74x entry of its layout table, whose F72x entry matches a real F722's `dfu-util -l`) |
//! | stm32f7: bcdDevice 0x2200, serial `STM32FxSTM32`, the option bytes' alt string | that F722 `dfu-util -l` (assumed the same on the F745) |
//! | stm32f7: erase 32 / 128 / 256 KB 800 / 2400 / 4000 ms, mass erase 32 s | a third-party flasher's timeout table (likely maxima); fwupd PR 6249 measured 2.2 s for a 128 KB sector |
//! | stm32f7: wTransferSize 2048, poll timeouts 100 / 25 ms, 32-bit word program 16 us | assumption (the F405 ROM's values) |
//! | stm32g4 (G474): ver 0200; alts `@Internal Flash   /0x08000000/256*02Kg`, `@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e` (two groups), `@OTP Memory   /0x1FFF7000/01*1024 e` | a WeAct G474 `dfu-util -l` in Zephyr's board documentation |
//! | stm32g4: 2 KB page erase 22.02 ms, 64-bit double word 81.69 us with ECC, poll 21 ms, wTransferSize 1024, serial | assumption (the L4's figures: the same flash design) |
//! | stm32h7a3: ver 0200; alts `@Internal Flash   /0x08000000/256*08Kg`, `@Option Bytes   /0x5200201C/01*297 e`, `@OTP Memory   /0x08FFF000/01*1024 e` | a `dfu-util -l` in micropython-spiram's README; 128-bit flash words: OpenOCD's H7A/B support ("page size 8k, write block size 128 bits") |
//! | stm32h7a3: 8 KB sector erase 20 ms, word program 16 us, poll timeouts 25 ms, mass erase 4 s, wTransferSize 1024 | assumption |
//! | at32f4 (AT32F415): 2e3c:df11 ver 0200, serial `AT32`, alts `@Internal Flash  /0x08000000/ 128*1Kg` (a space before the count) and `@Option Byte   /0x1FFFF800/02*016 e` | a `dfu-util -l` in a QMK keyboard's README (CIDOO V65); "Artery-Tech", "DFU in FS Mode": lsusb and fwupd listings |
//! | at32f4: timings, wTransferSize 2048, starts in dfuERROR like ST's ROM | assumption (the GD32VF103 row's F103-class figures) |
//! | apm32f4 (APM32F407): 314b:0106 | QMK's bootloader makefile (`-d 314B:0106`), betaflight PR 3556 |
//! | apm32f4: ver 0010, serial `0448`, the address written `0x8000000`, `@Option Bytes  /0x1FFFF800/01*016 e` | a `dfu-util -l` of an APM32 ROM (an F103-class part) |
//! | apm32f4: the F407's layout (STM32F407's 4 x 16, 1 x 64, 7 x 128 KB), its option bytes' address, timings | assumption (the F405 ROM's; no public dump of an APM32F407) |
//! | esp32s2: 303a:0002, DFU 1.1, `dfu-util -d 303a:2 -D build/dfu.bin` | esp-idf docs/en/api-guides/dfu.rst, tools/cmake/run_dfu_util.cmake and dfu.cmake |
//! | esp32s2: no upload (attributes 0x05), wTransferSize 64, strings, 4 MB, a 64-byte block in 0.878 ms (a 4 KB SPI NOR erase of 45 ms and 0.7 ms per 256-byte page, spread over the blocks), manifestation 100 ms | assumption; the ROM unpacking mkdfu's archive into flash is not modelled: the slot holds the file as sent |
//! | zephyr-dfu: 2fe3:0100 in runtime and in DFU mode, wTransferSize 128, `dfu-util --alt 1 -d 2fe3:0100 --download zephyr.signed.bin` | dfu-util 0.9 and 0.10 logs of Zephyr boards (a helium_mapper README, the Degu and onecard-fido docs) |
//! | zephyr-dfu: manufacturer `ZEPHYR`, alts `image_0` and `image_1`, attributes 0x0f, detach 100 ms, bwPollTimeout 8 ms whatever the work, the runtime interface without a name (iInterface 0), a DNLOAD to image_0 while image_1 exists accepted and the next GETSTATUS dfuERROR/errWRITE, the whole slot erased before the first block | Zephyr subsys/usb/device/class/dfu/usb_dfu.c and its Kconfig (the legacy stack; its USB_DEVICE_DFU_PID may give DFU mode another product id, 0xffff in newer trees); upload: the USB DFU sample turns CONFIG_USB_DFU_ENABLE_UPLOAD on (its README) |
//! | zephyr-dfu: slots of 0x76000 bytes, a 4 KB page erased in 85 ms and a word written in 41 us, product `USB-DEV`, serial, bcdDevice | assumption (nrf52840dk's partitions; the nRF52840 product specification's maxima) |
//! | zephyr-dfu: not modelled | the first GETSTATUS after the last block answers dfuIDLE at once (the model passes through dfuMANIFEST); an upload reads the whole partition (the model ends at the firmware) |
//! | tinyusb-dfu: cafe:400b ver 0100, `TinyUSB`, `TinyUSB Device`, alts `FLASH` and `EEPROM`, attributes 0x07, detach 1000 ms, wTransferSize 64 (full speed), DFU 1.1, bwPollTimeout 1 ms on FLASH and 100 ms on EEPROM, starts in dfuIDLE | TinyUSB examples/device/dfu (usb_descriptors.c, main.c) and src/class/dfu/dfu_device.c |
//! | tinyusb-dfu: the slots hold what is sent (128 KB each), 0.5 ms per block | assumption (the example discards the data and uploads a greeting; a product built on the class stores it). TinyUSB #3625 (a GETSTATUS timing out at 0 %) is a device-side EP0 buffer bug, fixed in the class driver, that no host can work around: not modelled |
//! | bogus-poll: Openmoko FreeRunner 1d50:5119, whose bwPollTimeout dfu-util ignores | dfu-util src/quirks.c and quirks.h (0.11) |
//! | bogus-poll: the 0xFFFFFF ms (4.66 h) it reports, its strings, alts `u-boot`, `kernel`, `rootfs`, wTransferSize 4096, 1 MB slots, 1 ms per 2 KB | assumption (no public dump gives the bogus value) |
//! | dfuse-strict: erase 16 / 128 KB, word program, poll timeouts | 250 / 1000 ms, 16 us, the time left (reported honestly) | assumption (F4-class flash figures); the stall of an early request and errSTALLEDPKT: DFU 1.1 section 6.1.2 and PROTOCOL.md section 6 |
//! | openmv-h7, openmv-h7p, openmv-n6, openmv-ae3 | their own table | [`openmv`] |

use crate::transport::FunctionalDescriptor;
use std::time::Duration;

pub mod gd32vf103;
pub mod openmv;
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

const H7_REVY: Model = Model {
    name: "stm32h743-revy",
    description: "STM32H743 Rev Y ROM bootloader: 2 MB in 16 x 128 KB sectors, two banks",
    vendor_id: ST_VID,
    product_id: ST_DFU_PID,
    bcd_device: 0x0200,
    manufacturer: "STMicroelectronics",
    product: "DFU in FS Mode",
    serial: "200364500000",
    functional: st_functional(1024),
    alts: H7_ALTS,
    memory: None,
    dialect: Dialect::StRom,
    runtime: None,
    timing: H7_TIMING,
    quirks: Quirks {
        ecc_word: Some(32),
        ..NO_QUIRKS
    },
};

/// Every model, by name.
pub const MODELS: &[Model] = &[
    H7_REVY,
    Model {
        name: "stm32h743-revv",
        description: "STM32H743 Rev V ROM bootloader: erases of sectors 8..15 wedge in dfuDNBUSY",
        quirks: Quirks {
            wedge_from: Some(0x0810_0000),
            ecc_word: Some(32),
            ..NO_QUIRKS
        },
        ..H7_REVY
    },
    Model {
        name: "stm32f405",
        description: "STM32F405 ROM bootloader: 1 MB in 16/64/128 KB sectors, slow mass erase",
        vendor_id: ST_VID,
        product_id: ST_DFU_PID,
        bcd_device: 0x2100,
        manufacturer: "STMicroelectronics",
        product: "STM32  BOOTLOADER",
        serial: "385C34733435",
        functional: st_functional(2048),
        alts: &[
            "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg",
            "@Option Bytes  /0x1FFFC000/01*016 g",
            "@OTP Memory /0x1FFF7800/01*512 g,01*016 g",
            "@Device Feature/0xFFFF0000/01*004 g",
        ],
        memory: None,
        dialect: Dialect::StRom,
        runtime: None,
        timing: F405_TIMING,
        quirks: NO_QUIRKS,
    },
    Model {
        name: "stm32l4",
        description:
            "STM32L476 ROM bootloader: 512 KB of 2 KB pages, stalls GETSTATUS during an erase",
        vendor_id: ST_VID,
        product_id: ST_DFU_PID,
        bcd_device: 0x2200,
        manufacturer: "STMicroelectronics",
        product: "STM32  BOOTLOADER",
        serial: "2059376B5748",
        functional: st_functional(1024),
        alts: &[
            "@Internal Flash   /0x08000000/256*02Kg",
            "@Option Bytes   /0x1FFF7800/01*040 e",
        ],
        memory: None,
        dialect: Dialect::StRom,
        runtime: None,
        timing: L4_TIMING,
        quirks: Quirks {
            stall_status_while_busy: true,
            ..NO_QUIRKS
        },
    },
    Model {
        name: "stm32c5-strict",
        description: "STM32C5-class ROM: 256 KB of 2 KB pages; stalls CLRSTATUS outside dfuERROR",
        vendor_id: ST_VID,
        product_id: ST_DFU_PID,
        bcd_device: 0x0100,
        manufacturer: "STMicroelectronics",
        product: "DFU in FS Mode",
        serial: "3A7F12345678",
        functional: st_functional(1024),
        alts: &[
            "@Internal Flash   /0x08000000/128*02Kg",
            "@Option Bytes   /0x40022040/01*048 e",
        ],
        memory: None,
        dialect: Dialect::StRom,
        runtime: None,
        timing: Timing {
            erase: &[(2048, 22_000)],
            erase_blocking: true,
            erase_poll_ms: 25,
            word: 8,
            word_ns: 85_000,
            write_poll_ms: 25,
            mass_erase_us: 22_000,
            mass_erase_poll_ms: 25,
            manifest_us: 0,
        },
        quirks: Quirks {
            strict_clrstatus: true,
            answers_functional_descriptor_request: false,
            ..NO_QUIRKS
        },
    },
    Model {
        name: "dfu11-generic",
        description: "plain DFU 1.1 device: one 256 KB firmware slot, manifestation tolerant",
        vendor_id: 0x1209,
        product_id: 0xdf11,
        bcd_device: 0x0100,
        manufacturer: "dfuflash",
        product: "Generic DFU 1.1 device",
        serial: "DFU11-0001",
        functional: FunctionalDescriptor {
            attributes: 0x07,
            detach_timeout_ms: 1000,
            transfer_size: 1024,
            dfu_version: 0x0110,
        },
        alts: &["Firmware"],
        memory: None,
        dialect: Dialect::Dfu11 {
            capacity: 256 * 1024,
        },
        runtime: None,
        timing: Timing {
            erase: &[(1024, 0)],
            erase_blocking: false,
            erase_poll_ms: 0,
            word: 1024,
            word_ns: 4_000_000,
            write_poll_ms: 4,
            mass_erase_us: 0,
            mass_erase_poll_ms: 0,
            manifest_us: 200_000,
        },
        quirks: NO_QUIRKS,
    },
    Model {
        name: "portenta-h7",
        description:
            "Arduino Portenta H7 bootloader v25 (ST's USB device library, DfuSe): 2 MB, 16 MB QSPI",
        vendor_id: 0x2341,
        product_id: 0x035b,
        bcd_device: 0x0200,
        manufacturer: "Arduino SA",
        product: "Portenta H7",
        serial: "003D00473133511137323532",
        functional: FunctionalDescriptor {
            attributes: 0x0b,
            detach_timeout_ms: 255,
            transfer_size: 4096,
            dfu_version: 0x011a,
        },
        alts: &[
            "@Internal Flash  2MB   /0x08000000/01*128Ka,15*128Kg",
            "@Ext RAW  Flash 16MB   /0x90000000/4096*4Kg",
            "@Ext File Flash  0MB   /0x00000000/0*4Kg",
            "@Arduino  boot  v.25   /0x00000000/0*4Kg",
        ],
        memory: None,
        dialect: Dialect::StRom,
        runtime: None,
        timing: Timing {
            erase: &[(128 * 1024, 1_100_000), (4 * 1024, 45_000)],
            // Blocking: the library holds the GETSTATUS status stage until the work ends.
            erase_blocking: true,
            erase_poll_ms: 0,
            word: 32,
            word_ns: 130_000,
            write_poll_ms: 0,
            mass_erase_us: 0,
            mass_erase_poll_ms: 0,
            manifest_us: 0,
        },
        quirks: Quirks {
            ecc_word: Some(32),
            starts_idle: true,
            ..NO_QUIRKS
        },
    },
    Model {
        name: "dfuse-strict",
        description:
            "spec-strict DfuSe bootloader (not ST's): stalls requests sent before bwPollTimeout",
        vendor_id: 0x1209,
        product_id: 0xdf12,
        bcd_device: 0x0100,
        manufacturer: "dfuflash",
        product: "Strict DfuSe bootloader",
        serial: "STRICT-0001",
        functional: st_functional(1024),
        alts: &["@Internal Flash   /0x08000000/8*016Kg,8*128Kg"],
        memory: None,
        dialect: Dialect::StRom,
        runtime: None,
        timing: Timing {
            erase: &[(16 * 1024, 250_000), (128 * 1024, 1_000_000)],
            erase_blocking: false,
            erase_poll_ms: 0,
            word: 4,
            word_ns: 16_000,
            write_poll_ms: 0,
            mass_erase_us: 8_000_000,
            mass_erase_poll_ms: 0,
            manifest_us: 0,
        },
        quirks: Quirks {
            starts_idle: true,
            stall_early_requests: true,
            reports_time_left: true,
            ..NO_QUIRKS
        },
    },
    gd32vf103::GD32VF103,
    Model {
        name: "stm32f7",
        description: "STM32F745 ROM bootloader (flight controllers): 1 MB in 32/128/256 KB sectors",
        vendor_id: ST_VID,
        product_id: ST_DFU_PID,
        bcd_device: 0x2200,
        manufacturer: "STMicroelectronics",
        product: "STM32  BOOTLOADER",
        serial: "STM32FxSTM32",
        functional: st_functional(2048),
        alts: &[
            "@Internal Flash  /0x08000000/04*032Kg,01*128Kg,03*256Kg",
            "@Option Bytes  /0x1FFF0000/01*048 e",
            "@Device Feature/0xFFFF0000/01*004 e",
        ],
        memory: None,
        dialect: Dialect::StRom,
        runtime: None,
        timing: Timing {
            erase: &[
                (32 * 1024, 800_000),
                (128 * 1024, 2_400_000),
                (256 * 1024, 4_000_000),
            ],
            mass_erase_us: 32_000_000,
            // The rest as the F405 ROM's.
            ..F405_TIMING
        },
        quirks: NO_QUIRKS,
    },
    Model {
        name: "stm32g4",
        description: "STM32G474 ROM bootloader: 512 KB of 2 KB pages, 64-bit double words with ECC",
        vendor_id: ST_VID,
        product_id: ST_DFU_PID,
        bcd_device: 0x0200,
        manufacturer: "STMicroelectronics",
        product: "DFU in FS Mode",
        serial: "206A33835431",
        functional: st_functional(1024),
        alts: &[
            "@Internal Flash   /0x08000000/256*02Kg",
            "@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e",
            "@OTP Memory   /0x1FFF7000/01*1024 e",
        ],
        memory: None,
        dialect: Dialect::StRom,
        runtime: None,
        // The L4's figures; the erase answered inside the GETSTATUS, as the classic ROMs do.
        timing: Timing {
            erase_blocking: true,
            ..L4_TIMING
        },
        quirks: Quirks {
            ecc_word: Some(8),
            ..NO_QUIRKS
        },
    },
    Model {
        name: "stm32h7a3",
        description: "STM32H7A3 ROM bootloader: 2 MB in 256 sectors of 8 KB, 128-bit flash words",
        vendor_id: ST_VID,
        product_id: ST_DFU_PID,
        bcd_device: 0x0200,
        manufacturer: "STMicroelectronics",
        product: "DFU in FS Mode",
        serial: "2071386C3131",
        functional: st_functional(1024),
        alts: &[
            "@Internal Flash   /0x08000000/256*08Kg",
            "@Option Bytes   /0x5200201C/01*297 e",
            "@OTP Memory   /0x08FFF000/01*1024 e",
        ],
        memory: None,
        dialect: Dialect::StRom,
        runtime: None,
        timing: Timing {
            erase: &[(8 * 1024, 20_000)],
            erase_blocking: true,
            erase_poll_ms: 25,
            word: 16,
            word_ns: 16_000,
            write_poll_ms: 25,
            mass_erase_us: 4_000_000,
            mass_erase_poll_ms: 1000,
            manifest_us: 0,
        },
        quirks: Quirks {
            ecc_word: Some(16),
            ..NO_QUIRKS
        },
    },
    Model {
        name: "at32f4",
        description: "Artery AT32F415 ROM (a DfuSe clone, 2e3c:df11): 128 KB of 1 KB sectors",
        vendor_id: 0x2e3c,
        product_id: 0xdf11,
        bcd_device: 0x0200,
        manufacturer: "Artery-Tech",
        product: "DFU in FS Mode",
        serial: "AT32",
        functional: st_functional(2048),
        alts: &[
            "@Internal Flash  /0x08000000/ 128*1Kg",
            "@Option Byte   /0x1FFFF800/02*016 e",
        ],
        memory: None,
        dialect: Dialect::StRom,
        runtime: None,
        timing: GD32_CLASS_TIMING,
        quirks: NO_QUIRKS,
    },
    Model {
        name: "apm32f4",
        description: "Geehy APM32F407 ROM (a DfuSe clone, 314b:0106): 1 MB in 16/64/128 KB sectors",
        vendor_id: 0x314b,
        product_id: 0x0106,
        bcd_device: 0x0010,
        manufacturer: "Geehy",
        product: "APM32 DFU in FS Mode",
        serial: "0448",
        functional: st_functional(2048),
        alts: &[
            "@Internal Flash  /0x8000000/04*016Kg,01*064Kg,07*128Kg",
            "@Option Bytes  /0x1FFFC000/01*016 e",
        ],
        memory: None,
        dialect: Dialect::StRom,
        runtime: None,
        timing: F405_TIMING,
        quirks: NO_QUIRKS,
    },
    Model {
        name: "esp32s2",
        description: "Espressif ESP32-S2 ROM USB DFU (303a:0002, DFU 1.1): 4 MB flash, no upload",
        vendor_id: 0x303a,
        product_id: 0x0002,
        bcd_device: 0x0100,
        manufacturer: "Espressif Systems",
        product: "ESP32-S2",
        serial: "7CDFA1000000",
        functional: FunctionalDescriptor {
            attributes: 0x05,
            detach_timeout_ms: 0,
            transfer_size: 64,
            dfu_version: 0x0110,
        },
        alts: &["ESP32-S2 flash"],
        memory: None,
        dialect: Dialect::Dfu11 {
            capacity: 4 << 20,
        },
        runtime: None,
        timing: Timing {
            erase: &[(64, 0)],
            erase_blocking: false,
            erase_poll_ms: 0,
            word: 64,
            word_ns: 878_000,
            write_poll_ms: 0,
            mass_erase_us: 0,
            mass_erase_poll_ms: 0,
            manifest_us: 100_000,
        },
        quirks: NO_QUIRKS,
    },
    Model {
        name: "zephyr-dfu",
        description: "Zephyr's USB DFU class on an nRF52840 (2fe3:0100): a runtime interface that detaches, slots image_0 and image_1",
        vendor_id: 0x2fe3,
        product_id: 0x0100,
        bcd_device: 0x0300,
        manufacturer: "ZEPHYR",
        product: "USB-DEV",
        serial: "E3A5C4F5D0B1D7A2",
        functional: ZEPHYR_FUNCTIONAL,
        alts: &["image_0", "image_1"],
        memory: None,
        dialect: Dialect::Dfu11 { capacity: 0x76000 },
        runtime: Some(Runtime {
            product_id: 0x0100,
            functional: ZEPHYR_FUNCTIONAL,
            name: "",
        }),
        timing: Timing {
            erase: &[(4096, 85_000)],
            erase_blocking: false,
            erase_poll_ms: 0,
            word: 4,
            word_ns: 41_000,
            write_poll_ms: 8,
            mass_erase_us: 0,
            mass_erase_poll_ms: 0,
            manifest_us: 1_000,
        },
        quirks: Quirks {
            reported_poll_ms: Some(&[8]),
            first_slot_locked: true,
            erases_slot_first: true,
            ..NO_QUIRKS
        },
    },
    Model {
        name: "tinyusb-dfu",
        description: "TinyUSB's DFU class example (cafe:400b, DFU 1.1): alt FLASH and EEPROM, 64-byte blocks",
        vendor_id: 0xcafe,
        product_id: 0x400b,
        bcd_device: 0x0100,
        manufacturer: "TinyUSB",
        product: "TinyUSB Device",
        serial: "123456789012",
        functional: FunctionalDescriptor {
            attributes: 0x07,
            detach_timeout_ms: 1000,
            transfer_size: 64,
            dfu_version: 0x0110,
        },
        alts: &["FLASH", "EEPROM"],
        memory: None,
        dialect: Dialect::Dfu11 {
            capacity: 128 * 1024,
        },
        runtime: None,
        timing: Timing {
            erase: &[(64, 0)],
            erase_blocking: false,
            erase_poll_ms: 0,
            word: 64,
            word_ns: 500_000,
            write_poll_ms: 1,
            mass_erase_us: 0,
            mass_erase_poll_ms: 0,
            manifest_us: 0,
        },
        quirks: Quirks {
            reported_poll_ms: Some(&[1, 100]),
            ..NO_QUIRKS
        },
    },
    Model {
        name: "bogus-poll",
        description: "Openmoko FreeRunner u-boot (1d50:5119, DFU 1.1): reports a bwPollTimeout of 4.66 hours",
        vendor_id: 0x1d50,
        product_id: 0x5119,
        bcd_device: 0x0000,
        manufacturer: "OpenMoko, Inc",
        product: "Neo1973 Bootloader U-Boot 1.3.2-moko12",
        serial: "0000000",
        functional: FunctionalDescriptor {
            attributes: 0x07,
            detach_timeout_ms: 5000,
            transfer_size: 4096,
            dfu_version: 0x0100,
        },
        alts: &["u-boot", "kernel", "rootfs"],
        memory: None,
        dialect: Dialect::Dfu11 {
            capacity: 1 << 20,
        },
        runtime: None,
        timing: Timing {
            erase: &[(4096, 0)],
            erase_blocking: false,
            erase_poll_ms: 0,
            word: 2048,
            word_ns: 1_000_000,
            write_poll_ms: 0,
            mass_erase_us: 0,
            mass_erase_poll_ms: 0,
            manifest_us: 0,
        },
        quirks: Quirks {
            reported_poll_ms: Some(&[0xff_ffff]),
            ..NO_QUIRKS
        },
    },
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
