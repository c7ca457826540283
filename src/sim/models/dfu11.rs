//! Plain DFU 1.1 devices: a generic one, the ESP32-S2's ROM, Zephyr's and TinyUSB's DFU classes,
//! and the Openmoko bootloader whose poll timeout dfu-util ignores.
//!
//! | what | value | source |
//! |---|---|---|
//! | generic DFU 1.1: 1 KB block program / manifestation | 4 ms / 200 ms, reported honestly | assumption |
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

use super::*;

/// `dfu11-generic`.
pub const GENERIC: Model = Model {
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
};

/// `esp32s2`.
pub const ESP32S2: Model = Model {
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
    dialect: Dialect::Dfu11 { capacity: 4 << 20 },
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
};

/// `zephyr-dfu`.
pub const ZEPHYR: Model = Model {
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
};

/// `tinyusb-dfu`.
pub const TINYUSB: Model = Model {
    name: "tinyusb-dfu",
    description:
        "TinyUSB's DFU class example (cafe:400b, DFU 1.1): alt FLASH and EEPROM, 64-byte blocks",
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
};

/// `bogus-poll`.
pub const BOGUS_POLL: Model = Model {
    name: "bogus-poll",
    description:
        "Openmoko FreeRunner u-boot (1d50:5119, DFU 1.1): reports a bwPollTimeout of 4.66 hours",
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
    dialect: Dialect::Dfu11 { capacity: 1 << 20 },
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
};
