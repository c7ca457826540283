//! The GD32VF103 ROM, and the ways it may leave DFU mode.
//!
//! # Leave variants
//!
//! No public source says what the ROM does on the leave request, so each way a ROM may leave
//! is a model of its own, and the host must end right with every one. The reason is dfu-util's
//! own code: under QUIRK_DFUSE_LEAVE, 0.11's `dfuse_do_leave` (src/dfuse.c) sends the
//! zero-length DNLOAD, then one GETSTATUS, and ignores how each ends: "The device might leave
//! after this request, with or without a response" / "Or it might leave after this request,
//! with or without a response". (Its quirks.c says the GD32 leaves "without a DFU_GETSTATUS
//! request"; the code that uses the quirk sends one.)
//!
//! | model | on the zero-length DNLOAD and the GETSTATUS after it | source |
//! |---|---|---|
//! | `gd32vf103`, `gd32vf103-leave-dnload` | answers the DNLOAD, then leaves (the GETSTATUS finds it gone) | assumption (dfu-util src/dfuse.c, `dfuse_do_leave`, first comment) |
//! | `gd32vf103-leave-dnload-unanswered` | leaves on the DNLOAD without answering it | assumption (the same comment) |
//! | `gd32vf103-leave-status-unanswered` | answers the DNLOAD, leaves on the GETSTATUS without answering it | assumption (its second comment) |
//! | `gd32vf103-leave-manifest` | as DFU 1.1 and AN3156: GETSTATUS answers dfuMANIFEST, then it leaves | assumption (ST's ROM, whose protocol the GD32's follows; PROTOCOL.md section 2) |
//! | `gd32vf103-stays` | answers both (OK/dfuIDLE) and stays in DFU mode | not a ROM: the board that did not leave, for the host's failure |
//!
//! # The ROM
//!
//! | what | value | source |
//! |---|---|---|
//! | gd32vf103: ids 28e9:0189, bcdDevice 0x1000, strings, alt strings `@Internal Flash  /0x08000000/512*002Kg` and `@Option Bytes  /0x1FFFF800/01*016 g`, serial `3CBJ`, wTransferSize 2048, starts in dfuERROR/errFIRMWARE | a Longan Nano's dmesg in sipeed/platform-gd32v issue 10; its `dfu-util -l` in aw/fiveforths issue 20 and riscv-mcu/gd32-dfu-utils issue 5; dfu-util 0.9's verbose log in sipeed/Longan_GD32VF_examples issue 5 |
//! | gd32vf103: the real flash, 128 pages of 1 KB (GD32VF103CB); the serial is UTF-8 in the descriptor | dfu-util src/quirks.c (fixup_dfuse_layout, from the GD32VF103 datasheet's tables 2-1 and 2-2 and Nucleisys's gd32-dfu-utils) |
//! | gd32vf103: 1 KB page erase 40 ms (reports 50 ms), 32-bit word program 70 us (reports 5 ms), mass erase 4 s | assumption (the STM32F103 datasheet's maxima, whose flash controller the GD32VF103's follows) |
//! | gd32vf103: how it leaves DFU mode | unknown: a model per way, each an assumption (the table above) | dfu-util 0.11 src/dfuse.c, `dfuse_do_leave` |
//! | gd32vf103: not modelled | the bare-chip variant that reports `128*001Kg` | |

use super::{Dialect, Model, Quirks, GD32_CLASS_TIMING, NO_QUIRKS};

/// What a DfuSe ROM does on the leave request: the zero-length DNLOAD and the GETSTATUS after
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RomLeave {
    /// GETSTATUS answers dfuMANIFEST, then the ROM jumps (ST's ROMs, AN3156).
    Manifest,
    /// Leaves on the DNLOAD without answering it.
    DnloadUnanswered,
    /// Answers the DNLOAD, then leaves.
    DnloadAnswered,
    /// Answers the DNLOAD; leaves on the GETSTATUS without answering it.
    StatusUnanswered,
    /// Answers both and stays in DFU mode, in dfuIDLE.
    Stays,
}

/// GigaDevice GD32VF103CB ROM (Sipeed Longan Nano); the sources are in the models' table.
pub(super) const GD32VF103: Model = Model {
    name: "gd32vf103",
    description:
        "GigaDevice GD32VF103CB ROM (Sipeed Longan Nano): reports 512 x 2 KB pages, has 128 x 1 KB",
    vendor_id: 0x28e9,
    product_id: 0x0189,
    bcd_device: 0x1000,
    manufacturer: "GDMicroelectronics",
    product: "GD32 0x418 DFU Bootloade",
    serial: "3CBJ",
    functional: super::st_functional(2048),
    alts: &[
        "@Internal Flash  /0x08000000/512*002Kg",
        "@Option Bytes  /0x1FFFF800/01*016 g",
    ],
    memory: Some(&[
        "@Internal Flash  /0x08000000/128*001Kg",
        "@Option Bytes  /0x1FFFF800/01*016 g",
    ]),
    dialect: Dialect::StRom,
    runtime: None,
    timing: GD32_CLASS_TIMING,
    quirks: Quirks {
        leave: RomLeave::DnloadAnswered,
        utf8_serial: true,
        ..NO_QUIRKS
    },
};

const fn variant(name: &'static str, description: &'static str, leave: RomLeave) -> Model {
    Model {
        name,
        description,
        quirks: Quirks {
            leave,
            ..GD32VF103.quirks
        },
        ..GD32VF103
    }
}

/// The GD32VF103 as each leave variant: found by name (`--sim`, `DFUFLASH_SIM`, the USB bench's
/// gadget), not listed among the models.
pub const VARIANTS: &[Model] = &[
    variant(
        "gd32vf103-leave-dnload",
        "GD32VF103 ROM variant: answers the leave DNLOAD, then leaves",
        RomLeave::DnloadAnswered,
    ),
    variant(
        "gd32vf103-leave-dnload-unanswered",
        "GD32VF103 ROM variant: leaves on the leave DNLOAD without answering it",
        RomLeave::DnloadUnanswered,
    ),
    variant(
        "gd32vf103-leave-status-unanswered",
        "GD32VF103 ROM variant: leaves on the GETSTATUS after the leave DNLOAD, unanswered",
        RomLeave::StatusUnanswered,
    ),
    variant(
        "gd32vf103-leave-manifest",
        "GD32VF103 ROM variant: answers GETSTATUS with dfuMANIFEST, then leaves (DFU 1.1)",
        RomLeave::Manifest,
    ),
    variant(
        "gd32vf103-stays",
        "GD32VF103 that stays in DFU mode after the leave request (OK/dfuIDLE)",
        RomLeave::Stays,
    ),
];
