//! OpenMV's own bootloader (openmv/openmv `boot/`, v1.0.3): plain DFU 1.1 on TinyUSB's DFU
//! class, one named alt setting per partition, no erase command.
//!
//! # How it behaves
//!
//! - Block N of a download lands at the partition's start plus N × 4096 (wTransferSize), and a
//!   write that starts on an erase unit's boundary erases that unit first (boot/src/common/dfu.c,
//!   `tud_dfu_download_cb`; the ports' `*_flash_write`).
//! - The first GETSTATUS after a block answers OK/dfuDNBUSY at once with a poll timeout of 0
//!   (`tud_dfu_get_timeout_cb` returns the partition's `delay`, never set, so 0). The write runs
//!   after that status stage, in the USB task, so the device holds the next request until the
//!   write (and erase) is done; that request then finds dfuDNLOAD-IDLE, or dfuERROR and the
//!   write's status.
//! - A download past the partition's end is refused with errADDRESS, a download to a read-only
//!   partition with errWRITE (`tud_dfu_download_cb`).
//! - An UPLOAD whose block would pass the partition's end returns a 4-byte frame of zeros: short,
//!   so by DFU 1.1 it ends the upload, and its bytes are data (`tud_dfu_upload_cb`).
//! - DETACH or a USB reset ends the bootloader's loop and starts the firmware; otherwise the board
//!   stays (boot/src/common/main.c, `dfu_state`).
//!
//! # Sources
//!
//! | what | value | source |
//! |---|---|---|
//! | VID:PID, partitions (start, limit, read-only), alt names | 37c5:9204 (H7), 37c5:924a (H7 Plus), 37c5:9206 (N6), 37c5:96e3 (AE3); the tables below | boards/OPENMV4, OPENMV4P, OPENMV_N6, OPENMV_AE3 `boot_config.h` |
//! | strings | `OpenMV`, `OpenMV Camera (DFU Mode)`; the serial is the chip's 96-bit UID as 24 hex digits | boot/src/common/desc.c; the ports' `port_get_uid` |
//! | bcdDevice | 0x0103 (bootloader 1.0.3) | boot/include/header.h, boot/src/common/desc.c |
//! | functional descriptor | attributes 0x07 (upload, download, manifestation tolerant), detach 1000 ms, wTransferSize 4096, DFU 1.1 | boot/src/common/desc.c; `CFG_TUD_DFU_XFER_BUFSIZE` in boot/src/ports/{stm32,alif}/tusb_config.h |
//! | bwPollTimeout | 0 ms after every block and for manifestation | boot/src/common/dfu.c (`tud_dfu_get_timeout_cb`, partitions leave `delay` at 0) |
//! | erase units | STM32H7 internal flash: 128 KB sectors; QSPI (H7 Plus) and XSPI (N6): 64 KB blocks; Alif OSPI: 4 KB sectors; Alif MRAM: none (written in place) | boot/src/ports/stm32/stm32_flash.c (`flash_sectors`), stm32_qspi.c and stm32_xspi.c (`*_BLOCK_SIZE`), alif_ospi.c (`OSPI_SECTOR_SIZE`), alif_flash.c |
//! | flash sizes | H7 internal 2 MB; QSPI and XSPI 32 MB; AE3 OSPI 32 MB (its partitions' limits); AE3 MRAM 5.5 MB (0x80000000..0x80580000) | `OMV_BOOT_QSPI_FLASH_SIZE`, `OMV_BOOT_XSPI_FLASH_SIZE` in boot_config.h; the partitions' limits |
//! | programming unit | H7: 256-bit flash words (ECC: a word that is not blank cannot be programmed); NOR: 256-byte pages (H7 Plus, N6), 128-byte pages (AE3); MRAM: 16 bytes, overwritten in place | stm32_flash.c (`FLASH_WORD_SIZE`); stm32_qspi.c, stm32_xspi.c, alif_ospi.c (`*_PAGE_SIZE`); alif_flash.c |
//! | H7 128 KB sector erase / 256-bit word program | 1.1 s / 130 us | STM32H743 datasheet DS12110 flash table (typical, x32), as for `portenta-h7` |
//! | NOR 64 KB block erase / 256-byte page program | 150 ms / 0.4 ms | assumption (typical of 256 Mbit QSPI NOR; OpenMV's driver allows 2 s per block erase) |
//! | AE3 OSPI 4 KB sector erase / 128-byte page program, MRAM 16 bytes | 45 ms / 0.2 ms, 1 us | assumption |
//! | AE3 RECOVERY partition | a 4 KB memory of its own, written in place | assumption (the port's REC_FLASH driver is not read) |
//! | the serial of a second simulated board of a model | the model's serial with its last 8 digits from the port path | assumption (every board has its own UID) |
//! | not modelled | the 1.5 s after which a board entered without the IDE's magic word leaves by itself (main.c, `OMV_BOOT_DFU_TIMEOUT`): the IDE's path sets it, and the model stays |

use super::{Dialect, Model, Timing, NO_QUIRKS};
use crate::transport::FunctionalDescriptor;

/// One flash memory of a board: partitions are windows into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flash {
    /// Its name in the simulator's memory map.
    pub name: &'static str,
    /// The address of its first byte, as the partitions give addresses.
    pub base: u32,
    /// Bytes.
    pub size: u32,
    /// Erase unit: a write that starts on a multiple of it erases the unit first. 0: none
    /// (MRAM, written in place).
    pub erase_unit: u32,
    /// Time of one erase, in microseconds.
    pub erase_us: u64,
    /// Bytes programmed at once.
    pub word: u32,
    /// Time to program one word, in nanoseconds.
    pub word_ns: u64,
    /// A word that is not blank cannot be programmed (STM32H7 ECC).
    pub ecc: bool,
}

/// One alt setting: a window `[start, limit)` of a flash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// Its alt setting's name.
    pub name: &'static str,
    /// Index into the board's flashes.
    pub flash: u8,
    /// First address.
    pub start: u32,
    /// One past the last address.
    pub limit: u32,
    /// Writes are refused with errWRITE.
    pub read_only: bool,
}

/// A board's memories and the partitions its bootloader offers, alt setting by alt setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Board {
    /// Flashes.
    pub flashes: &'static [Flash],
    /// Partitions, in alt setting order.
    pub partitions: &'static [Partition],
}

const fn part(name: &'static str, flash: u8, start: u32, limit: u32, read_only: bool) -> Partition {
    Partition {
        name,
        flash,
        start,
        limit,
        read_only,
    }
}

const H7_FLASH: Flash = Flash {
    name: "AXI flash",
    base: 0x0800_0000,
    size: 2 << 20,
    erase_unit: 128 * 1024,
    erase_us: 1_100_000,
    word: 32,
    word_ns: 130_000,
    ecc: true,
};

// 256 Mbit QSPI/XSPI NOR: 64 KB block erases at block boundaries, 256-byte pages.
const NOR_32M: Flash = Flash {
    name: "SPI flash",
    base: 0,
    size: 32 << 20,
    erase_unit: 64 * 1024,
    erase_us: 150_000,
    word: 256,
    word_ns: 400_000,
    ecc: false,
};

const H7: Board = Board {
    flashes: &[H7_FLASH],
    partitions: &[
        part("BOOTLOADER", 0, 0x0800_0000, 0x0802_0000, true),
        part("FILESYSTEM", 0, 0x0802_0000, 0x0804_0000, false),
        part("FIRMWARE", 0, 0x0804_0000, 0x081E_0000, false),
        part("ROMFS0", 0, 0x081E_0000, 0x0820_0000, false),
    ],
};

const H7_PLUS: Board = Board {
    flashes: &[H7_FLASH, NOR_32M],
    partitions: &[
        part("BOOTLOADER", 0, 0x0800_0000, 0x0802_0000, true),
        part("FILESYSTEM", 0, 0x0802_0000, 0x0804_0000, false),
        part("FIRMWARE", 0, 0x0804_0000, 0x0820_0000, false),
        part("SPI_FLASH", 1, 0, 0x0200_0000, false),
        part("ROMFS0", 1, 0x0180_0000, 0x0200_0000, false),
    ],
};

const N6: Board = Board {
    flashes: &[NOR_32M],
    partitions: &[
        part("BOOTLOADER", 0, 0, 0x0008_0000, true),
        part("FIRMWARE", 0, 0x0008_0000, 0x0040_0000, false),
        part("FILESYSTEM", 0, 0x0040_0000, 0x0080_0000, false),
        part("ROMFS0", 0, 0x0080_0000, 0x0200_0000, false),
    ],
};

const AE3: Board = Board {
    flashes: &[
        Flash {
            name: "MRAM",
            base: 0x8000_0000,
            size: 0x0058_0000,
            erase_unit: 0,
            erase_us: 0,
            word: 16,
            word_ns: 1_000,
            ecc: false,
        },
        Flash {
            name: "OSPI flash",
            base: 0,
            size: 32 << 20,
            erase_unit: 4096,
            erase_us: 45_000,
            word: 128,
            word_ns: 200_000,
            ecc: false,
        },
        Flash {
            name: "recovery flash",
            base: 0,
            size: 4096,
            erase_unit: 0,
            erase_us: 0,
            word: 16,
            word_ns: 1_000,
            ecc: false,
        },
    ],
    partitions: &[
        part("BOOT", 0, 0x8000_0000, 0x8002_0000, true),
        part("HP", 0, 0x8002_0000, 0x8032_0000, false),
        part("HE", 0, 0x8032_0000, 0x8047_E000, false),
        part("ROMFS1", 0, 0x8047_E000, 0x8057_E000, false),
        part("TOC", 0, 0x8057_E000, 0x8058_0000, false),
        part("RWFS", 1, 0, 0x0080_0000, false),
        part("ROMFS0", 1, 0x0080_0000, 0x0200_0000, false),
        part("RECOVERY", 2, 0, 0x1000, false),
    ],
};

const FUNCTIONAL: FunctionalDescriptor = FunctionalDescriptor {
    attributes: 0x07,
    detach_timeout_ms: 1000,
    transfer_size: 4096,
    dfu_version: 0x0110,
};

// The board's flashes time the work; the generic table is unused.
const NO_TIMING: Timing = Timing {
    erase: &[(4096, 0)],
    erase_blocking: false,
    erase_poll_ms: 0,
    word: 4096,
    word_ns: 0,
    write_poll_ms: 0,
    mass_erase_us: 0,
    mass_erase_poll_ms: 0,
    manifest_us: 0,
};

const fn camera(
    name: &'static str,
    description: &'static str,
    product_id: u16,
    serial: &'static str,
    alts: &'static [&'static str],
    board: &'static Board,
) -> Model {
    Model {
        name,
        description,
        vendor_id: 0x37c5,
        product_id,
        bcd_device: 0x0103,
        manufacturer: "OpenMV",
        product: "OpenMV Camera (DFU Mode)",
        serial,
        functional: FUNCTIONAL,
        alts,
        memory: None,
        dialect: Dialect::Partitioned(board),
        runtime: None,
        timing: NO_TIMING,
        quirks: NO_QUIRKS,
    }
}

/// The OpenMV cameras' bootloaders.
pub const MODELS: &[Model] = &[
    camera(
        "openmv-h7",
        "OpenMV Cam H7 bootloader (37c5:9204, DFU 1.1): BOOTLOADER, FILESYSTEM, FIRMWARE, ROMFS0 in 2 MB of internal flash",
        0x9204,
        "3036334B3133510B00390029",
        &["BOOTLOADER", "FILESYSTEM", "FIRMWARE", "ROMFS0"],
        &H7,
    ),
    camera(
        "openmv-h7p",
        "OpenMV Cam H7 Plus bootloader (37c5:924a, DFU 1.1): internal flash and 32 MB QSPI, ROMFS0 inside SPI_FLASH",
        0x924a,
        "30363341313451180044002C",
        &["BOOTLOADER", "FILESYSTEM", "FIRMWARE", "SPI_FLASH", "ROMFS0"],
        &H7_PLUS,
    ),
    camera(
        "openmv-n6",
        "OpenMV N6 bootloader (37c5:9206, DFU 1.1): four partitions of a 32 MB XSPI flash",
        0x9206,
        "3238510B3331340A00300046",
        &["BOOTLOADER", "FIRMWARE", "FILESYSTEM", "ROMFS0"],
        &N6,
    ),
    camera(
        "openmv-ae3",
        "OpenMV AE3 bootloader (37c5:96e3, DFU 1.1): MRAM written in place, 32 MB OSPI flash, recovery",
        0x96e3,
        "A1B2C3D4E5F60718293A4B5C",
        &["BOOT", "HP", "HE", "ROMFS1", "TOC", "RWFS", "ROMFS0", "RECOVERY"],
        &AE3,
    ),
];

/// The serial a board of a model with a UID serial reports at `port_path`: the model's own for
/// the first board (`sim:MODEL`), another for every other path.
pub fn serial_at(model: &Model, port_path: &str) -> String {
    if !matches!(model.dialect, Dialect::Partitioned(_))
        || port_path == format!("sim:{}", model.name)
    {
        return model.serial.to_string();
    }
    // FNV-1a of the path: the same board keeps its serial from run to run.
    let h = port_path.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ b as u32).wrapping_mul(0x0100_0193)
    });
    let keep = model.serial.len().saturating_sub(8);
    format!("{}{h:08X}", &model.serial[..keep])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alt_names_are_the_partitions_and_partitions_fit_their_flash() {
        for m in MODELS {
            let Dialect::Partitioned(b) = m.dialect else {
                panic!("{}", m.name)
            };
            let names: Vec<_> = b.partitions.iter().map(|p| p.name).collect();
            assert_eq!(names, m.alts, "{}", m.name);
            for p in b.partitions {
                let f = &b.flashes[p.flash as usize];
                assert!(
                    p.start >= f.base && p.limit - f.base <= f.size,
                    "{}",
                    p.name
                );
            }
            assert_eq!(m.serial.len(), 24);
        }
        let h7p = &MODELS[1];
        assert_eq!(serial_at(h7p, "sim:openmv-h7p"), h7p.serial);
        let second = serial_at(h7p, "sim:openmv-h7p#2");
        assert_ne!(second, h7p.serial);
        assert_eq!(second[..16], h7p.serial[..16]);
    }
}
