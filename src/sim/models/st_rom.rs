//! ST's ROM bootloaders: the STM32H743 (Rev Y and Rev V), F405, L4, the strict C5 class, F7, G4
//! and H7A3, each with the sources of its values.
//!
//! | what | value | source |
//! |---|---|---|
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
//! | stm32f7 (F745): alt 0 `@Internal Flash  /0x08000000/04*032Kg,01*128Kg,03*256Kg` | betaflight-configurator's DFU protocol (the F74x entry of its layout table, whose F72x entry matches a real F722's `dfu-util -l`) |
//! | stm32f7: bcdDevice 0x2200, serial `STM32FxSTM32`, the option bytes' alt string | that F722 `dfu-util -l` (assumed the same on the F745) |
//! | stm32f7: erase 32 / 128 / 256 KB 800 / 2400 / 4000 ms, mass erase 32 s | a third-party flasher's timeout table (likely maxima); fwupd PR 6249 measured 2.2 s for a 128 KB sector |
//! | stm32f7: wTransferSize 2048, poll timeouts 100 / 25 ms, 32-bit word program 16 us | assumption (the F405 ROM's values) |
//! | stm32g4 (G474): ver 0200; alts `@Internal Flash   /0x08000000/256*02Kg`, `@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e` (two groups), `@OTP Memory   /0x1FFF7000/01*1024 e` | a WeAct G474 `dfu-util -l` in Zephyr's board documentation |
//! | stm32g4: 2 KB page erase 22.02 ms, 64-bit double word 81.69 us with ECC, poll 21 ms, wTransferSize 1024, serial | assumption (the L4's figures: the same flash design) |
//! | stm32h7a3: ver 0200; alts `@Internal Flash   /0x08000000/256*08Kg`, `@Option Bytes   /0x5200201C/01*297 e`, `@OTP Memory   /0x08FFF000/01*1024 e` | a `dfu-util -l` in micropython-spiram's README; 128-bit flash words: OpenOCD's H7A/B support ("page size 8k, write block size 128 bits") |
//! | stm32h7a3: 8 KB sector erase 20 ms, word program 16 us, poll timeouts 25 ms, mass erase 4 s, wTransferSize 1024 | assumption |

use super::*;

/// The H743 Rev Y ROM: every sector erases normally.
pub const H743_REVY: Model = Model {
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

/// `stm32h743-revv`.
pub const H743_REVV: Model = Model {
    name: "stm32h743-revv",
    description: "STM32H743 Rev V ROM bootloader: erases of sectors 8..15 wedge in dfuDNBUSY",
    quirks: Quirks {
        wedge_from: Some(0x0810_0000),
        ecc_word: Some(32),
        ..NO_QUIRKS
    },
    ..H743_REVY
};

/// `stm32f405`.
pub const F405: Model = Model {
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
};

/// `stm32l4`.
pub const L4: Model = Model {
    name: "stm32l4",
    description: "STM32L476 ROM bootloader: 512 KB of 2 KB pages, stalls GETSTATUS during an erase",
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
};

/// `stm32c5-strict`.
pub const C5_STRICT: Model = Model {
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
};

/// `stm32f7`.
pub const F7: Model = Model {
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
};

/// `stm32g4`.
pub const G4: Model = Model {
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
};

/// `stm32h7a3`.
pub const H7A3: Model = Model {
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
};
