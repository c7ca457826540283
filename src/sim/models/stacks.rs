//! DfuSe stacks that are not ST's ROM: Arduino's Portenta H7 bootloader (ST's USB device
//! library) and a spec-strict DfuSe device.
//!
//! | what | value | source |
//! |---|---|---|
//! | portenta-h7: descriptors, alt strings, wTransferSize 4096, attributes 0x0B | bootloader v25 | github.com/arduino/mcuboot-arduino-stm32h7 (app/dfu/usbd_desc.c, usbd_dfu.cpp, usbd_dfu_flash.cpp, board.h); a `dfu-util -l` of a v25 board in NuttX's Portenta H7 documentation |
//! | portenta-h7: bwPollTimeout after an erase or write | 0 ms | the same usbd_dfu_flash.cpp (FLASH_ERASE_TIME = FLASH_PROGRAM_TIME = 0) |
//! | portenta-h7: when the work runs | after the GETSTATUS data stage, before its status stage is armed (EP0 TxReady): the host sees that GETSTATUS end with the work, as on the ROM | ST's stm32_mw_usb_device usbd_core.c (USBD_LL_DataInStage) and usbd_dfu.c |
//! | portenta-h7: 128 KB sector erase / 256-bit word program | 1.1 s / 130 us (x32 parallelism, typical) | STM32H743 datasheet DS12110 flash table, quoted by ST staff; the H747 assumed the same flash |
//! | portenta-h7: QSPI 4 KB erase | 45 ms | assumption (MX25L12833F-class NOR) |
//! | portenta-h7: not modelled | the CDC-ACM function; mass erase and read unprotect (the bootloader stalls them); CLRSTATUS outside dfuERROR (it enters dfuERROR/errUNKNOWN); DETACH (it re-enumerates); write errors it never reports | the same sources |
//! | dfuse-strict: erase 16 / 128 KB, word program, poll timeouts | 250 / 1000 ms, 16 us, the time left (reported honestly) | assumption (F4-class flash figures); the stall of an early request and errSTALLEDPKT: DFU 1.1 section 6.1.2 and PROTOCOL.md section 6 |

use super::*;

/// `portenta-h7`.
pub const PORTENTA_H7: Model = Model {
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
};

/// `dfuse-strict`.
pub const DFUSE_STRICT: Model = Model {
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
};
