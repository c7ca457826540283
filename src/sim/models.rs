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
//! | gd32vf103: the real flash, 128 pages of 1 KB (GD32VF103CB); the serial is UTF-8 in the descriptor; it leaves on the zero-length DNLOAD without answering GETSTATUS | dfu-util src/quirks.c (fixup_dfuse_layout, from the GD32VF103 datasheet's tables 2-1 and 2-2 and Nucleisys's gd32-dfu-utils) and src/dfuse.c |
//! | gd32vf103: 1 KB page erase 40 ms (reports 50 ms), 32-bit word program 70 us (reports 5 ms), mass erase 4 s | assumption (the STM32F103 datasheet's maxima, whose flash controller the GD32VF103's follows) |
//! | gd32vf103: not modelled | the UTF-8 serial over the USB bench (the gadget sends UTF-16LE); the bare-chip variant that reports `128*001Kg` | |
//! | dfuse-strict: erase 16 / 128 KB, word program, poll timeouts | 250 / 1000 ms, 16 us, the time left (reported honestly) | assumption (F4-class flash figures); the stall of an early request and errSTALLEDPKT: DFU 1.1 section 6.1.2 and PROTOCOL.md section 6 |

use crate::transport::FunctionalDescriptor;
use std::time::Duration;

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
    /// The GD32VF103 ROM: it leaves (resets into the firmware) on the zero-length DNLOAD, before
    /// any GETSTATUS.
    pub leaves_on_dnload: bool,
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

const NO_QUIRKS: Quirks = Quirks {
    wedge_from: None,
    strict_clrstatus: false,
    stall_status_while_busy: false,
    ecc_word: None,
    answers_functional_descriptor_request: true,
    starts_idle: false,
    stall_early_requests: false,
    reports_time_left: false,
    leaves_on_dnload: false,
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
        timing: Timing {
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
        },
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
        timing: Timing {
            erase: &[(2048, 22_020)],
            erase_blocking: false,
            erase_poll_ms: 21,
            word: 8,
            word_ns: 81_690,
            write_poll_ms: 21,
            mass_erase_us: 22_130,
            mass_erase_poll_ms: 21,
            manifest_us: 0,
        },
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
    Model {
        name: "gd32vf103",
        description: "GigaDevice GD32VF103CB ROM (Sipeed Longan Nano): reports 512 x 2 KB pages, has 128 x 1 KB",
        vendor_id: 0x28e9,
        product_id: 0x0189,
        bcd_device: 0x1000,
        manufacturer: "GDMicroelectronics",
        product: "GD32 0x418 DFU Bootloade",
        serial: "3CBJ",
        functional: st_functional(2048),
        alts: &[
            "@Internal Flash  /0x08000000/512*002Kg",
            "@Option Bytes  /0x1FFFF800/01*016 g",
        ],
        memory: Some(&[
            "@Internal Flash  /0x08000000/128*001Kg",
            "@Option Bytes  /0x1FFFF800/01*016 g",
        ]),
        dialect: Dialect::StRom,
        timing: Timing {
            erase: &[(1024, 40_000)],
            erase_blocking: true,
            erase_poll_ms: 50,
            word: 4,
            word_ns: 70_000,
            write_poll_ms: 5,
            mass_erase_us: 4_000_000,
            mass_erase_poll_ms: 50,
            manifest_us: 0,
        },
        quirks: Quirks {
            leaves_on_dnload: true,
            ..NO_QUIRKS
        },
    },
];

/// The model with this name.
pub fn find(name: &str) -> Option<&'static Model> {
    MODELS.iter().find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usb_cost_counts_packets_per_frame() {
        assert_eq!(usb_cost(0), Duration::from_micros(500));
        // 1024 bytes = 16 packets = 16/13 ms.
        assert_eq!(
            usb_cost(1024),
            Duration::from_micros(500) + Duration::from_nanos(1_230_769)
        );
    }

    #[test]
    fn every_dfuse_model_layout_parses_and_names_are_unique() {
        let mut names = std::collections::BTreeSet::new();
        for m in MODELS {
            assert!(names.insert(m.name));
            if m.dialect == Dialect::StRom {
                for a in m.alts {
                    crate::layout::Layout::parse(a).unwrap();
                }
            }
        }
        assert_eq!(
            find("stm32f405").unwrap().timing.erase_time(64 * 1024),
            Duration::from_millis(550)
        );
    }
}
