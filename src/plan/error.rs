//! Why an image cannot go to a device: every refusal of the plan, each naming the first address
//! it is about and the layout it was checked against.

/// Why an image cannot go to this device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The image names an alt setting the device lacks.
    #[error(
        "the image targets alt setting {alt}, which the device does not have (it has {available})"
    )]
    NoSuchAlt {
        /// Requested.
        alt: u8,
        /// The device's alt settings.
        available: String,
    },
    /// The alt setting's name is not a DfuSe memory layout.
    #[error("alt setting {alt} ({name:?}) has no DfuSe memory layout: {reason}")]
    NoLayout {
        /// The alt setting.
        alt: u8,
        /// Its name.
        name: String,
        /// Why it did not parse.
        reason: String,
    },
    /// Bytes outside every address group.
    #[error("image touches {address:#010x}, outside the memory of alt setting {alt} ({layout}); check the address or the alt setting")]
    Absent {
        /// The alt setting.
        alt: u8,
        /// First offending address.
        address: u32,
        /// Its layout.
        layout: String,
    },
    /// Bytes in memory that is not writable.
    #[error(
        "image touches {address:#010x}, which is not writable on alt setting {alt} ({layout})"
    )]
    NotWritable {
        /// The alt setting.
        alt: u8,
        /// First offending address.
        address: u32,
        /// Its layout.
        layout: String,
    },
    /// Bytes in flash that cannot be erased first.
    #[error(
        "image touches {address:#010x}, which is not erasable on alt setting {alt} ({layout})"
    )]
    NotErasable {
        /// The alt setting.
        alt: u8,
        /// First offending address.
        address: u32,
        /// Its layout.
        layout: String,
    },
    /// Memory the plan writes without an erase (OTP, non-flash memory the layout marks not
    /// erasable) already holds bytes that writing cannot turn into the image's: programming
    /// only clears bits. Found by reading first, before anything is written.
    #[error("sector {sector:#010x} of alt setting {alt} ({layout}) cannot be erased and already holds {held:#04x} at {address:#010x}, where the image needs {wanted:#04x}: writing only clears bits, so it cannot hold the image; leave that address out of the image")]
    Occupied {
        /// The alt setting.
        alt: u8,
        /// The sector.
        sector: u32,
        /// First offending address.
        address: u32,
        /// What the memory holds there.
        held: u8,
        /// What the image needs there.
        wanted: u8,
        /// Its layout.
        layout: String,
    },
    /// Verify is on but the memory cannot be read back.
    #[error("image touches {address:#010x}, which is not readable on alt setting {alt} ({layout}), so it cannot be verified; turn verify off to write it anyway")]
    NotReadable {
        /// The alt setting.
        alt: u8,
        /// First offending address.
        address: u32,
        /// Its layout.
        layout: String,
    },
    /// Option bytes, OTP or the device feature area without the caller's explicit permission.
    #[error("image writes the {kind} of alt setting {alt} ({layout}) at {address:#010x}; refused: {how}")]
    Protected {
        /// The alt setting.
        alt: u8,
        /// What memory it is.
        kind: &'static str,
        /// First address.
        address: u32,
        /// Its layout.
        layout: String,
        /// What allows it, in the library's terms.
        how: &'static str,
        /// The option that allows it, if one does (a caller names it in its own terms).
        allowed_by: Option<Permission>,
    },
}

/// An option that allows writing protected memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Permission {
    /// Writing option bytes (`allow_option_bytes`).
    OptionBytes,
    /// Writing OTP memory (`allow_otp`).
    Otp,
}
