//! Why a layout string is refused.

/// A layout string that does not follow the DfuSe grammar, or describes memory no device has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// The string does not start with `@`.
    #[error("memory layout {source_text:?} does not start with '@' (not a DfuSe alt setting)")]
    NotDfuse {
        /// The whole string.
        source_text: String,
    },
    /// A part of the string is not what the grammar allows at that place.
    #[error("memory layout {source_text:?}: {what} at byte {offset}")]
    Syntax {
        /// The whole string.
        source_text: String,
        /// Byte offset of the offending part.
        offset: usize,
        /// What was expected.
        what: &'static str,
    },
    /// The sectors of a group run past the end of the 32-bit address space.
    #[error("memory layout {source_text:?}: group at {start:#010x} ends past 4 GiB")]
    Overflow {
        /// The whole string.
        source_text: String,
        /// The group's first address.
        start: u32,
    },
    /// Two address groups claim the same addresses: a sector erased by its address would be
    /// another one on the device.
    #[error("memory layout {source_text:?}: groups {first} and {second} overlap")]
    Overlap {
        /// The whole string.
        source_text: String,
        /// The first group, as the string gives it.
        first: String,
        /// The group that overlaps it.
        second: String,
    },
    /// A sector size or the number of sectors is beyond what any device has.
    #[error("memory layout {source_text:?}: {what}")]
    Limit {
        /// The whole string.
        source_text: String,
        /// Which limit, with the numbers.
        what: String,
    },
}
