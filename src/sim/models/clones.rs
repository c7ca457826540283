//! The DfuSe ROMs of STM32 clones: Artery's AT32F415 and Geehy's APM32F407.
//!
//! | what | value | source |
//! |---|---|---|
//! | at32f4 (AT32F415): 2e3c:df11 ver 0200, serial `AT32`, alts `@Internal Flash  /0x08000000/ 128*1Kg` (a space before the count) and `@Option Byte   /0x1FFFF800/02*016 e` | a `dfu-util -l` in a QMK keyboard's README (CIDOO V65); "Artery-Tech", "DFU in FS Mode": lsusb and fwupd listings |
//! | at32f4: timings, wTransferSize 2048, starts in dfuERROR like ST's ROM | assumption (the GD32VF103 row's F103-class figures) |
//! | apm32f4 (APM32F407): 314b:0106 | QMK's bootloader makefile (`-d 314B:0106`), betaflight PR 3556 |
//! | apm32f4: ver 0010, serial `0448`, the address written `0x8000000`, `@Option Bytes  /0x1FFFF800/01*016 e` | a `dfu-util -l` of an APM32 ROM (an F103-class part) |
//! | apm32f4: the F407's layout (STM32F407's 4 x 16, 1 x 64, 7 x 128 KB), its option bytes' address, timings | assumption (the F405 ROM's; no public dump of an APM32F407) |

use super::*;

/// `at32f4`.
pub const AT32F4: Model = Model {
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
};

/// `apm32f4`.
pub const APM32F4: Model = Model {
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
};
