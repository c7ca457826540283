//! ST's FlashLayout.tsv and the serial-boot phase protocol that flashes it
//! (ST-SERIAL-BOOT.md A and D): the TSV parser, the GetPhase reply, the STM32 headers.
//! The job that drives a device through the phases is [`crate::job::flash_layout`].
//!
//! ```
//! use dfuflash::flashlayout::FlashLayout;
//! use std::path::Path;
//!
//! let tsv = "#Opt\tId\tName\tType\tIP\tOffset\tBinary\nP\t0x1\tfsbl\tBinary\tnone\t0x0\tfsbl.stm32\n";
//! let layout = FlashLayout::parse(tsv, Path::new("/x/FlashLayout.tsv")).unwrap();
//! assert_eq!(layout.rows[0].id, 1);
//! assert_eq!(layout.rows[0].binary, Path::new("/x/fsbl.stm32"));
//! let err = FlashLayout::parse("P\t0x1F1\tx\tBinary\tnone\t0\tb\n", Path::new("F.tsv")).unwrap_err();
//! assert!(err.to_string().starts_with("F.tsv:1: column Id:"), "{err}");
//! ```

mod fit;
pub mod header;
pub mod phase;
mod tsv;

pub use fit::MAX_BLOCKS;
pub use tsv::{strtoul0, Column, FlashLayout, Ip, Opt, Row, TsvError, MAX_ID, MAX_NAME};

impl From<TsvError> for crate::Error {
    fn from(e: TsvError) -> Self {
        FlashLayoutError::Tsv(e).into()
    }
}

/// Why a layout job failed in the phase protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlashLayoutError {
    /// The TSV is invalid.
    #[error(transparent)]
    Tsv(#[from] TsvError),
    /// The device reported phase 0xFF.
    #[error("the device reported an error (phase 0xFF): {text}")]
    DeviceError {
        /// Its text, or "(no text)".
        text: String,
    },
    /// The device asked for a partition the TSV does not have.
    #[error("the device asks for phase {phase:#04x}, which {file} has no row for; check that the layout is for this board")]
    PhaseNotInLayout {
        /// The phase.
        phase: u8,
        /// The TSV.
        file: String,
    },
    /// The device reported the end before it asked for every row to program.
    #[error("the device reported the end (phase 0xFE) before it asked for {names}; they were not written, check that the layout is for this board and its boot stages")]
    EndedEarly {
        /// The rows never sent.
        names: String,
    },
    /// The device asked for an `E` row.
    #[error("the device asks for phase {phase:#04x} ({name}), which the layout marks not to be downloaded (E, or - on a memory)")]
    PhaseEmpty {
        /// The phase.
        phase: u8,
        /// The row's name.
        name: String,
    },
    /// The device keeps asking for one phase.
    #[error("the device asked for phase {phase:#04x} {count} times in a row after it was sent; it does not accept {name}")]
    PhaseLoop {
        /// The phase.
        phase: u8,
        /// Times asked in a row.
        count: u32,
        /// The row's name.
        name: String,
    },
    /// No alt setting serves the phase, even after a re-enumeration.
    #[error("no alt setting for phase {phase:#04x} among: {alts}")]
    NoAltForPhase {
        /// The phase.
        phase: u8,
        /// The alt names.
        alts: String,
    },
    /// A GetPhase reply shorter than 9 bytes.
    #[error("GetPhase reply of {len} bytes; at least 9 are needed")]
    MalformedPhase {
        /// Bytes received.
        len: usize,
    },
    /// The device left and did not come back as the same board.
    #[error("the board did not come back after DETACH: {detail}")]
    Reenumeration {
        /// Why.
        detail: String,
    },
}
