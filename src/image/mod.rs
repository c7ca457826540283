//! The firmware image model: targets (one per alt setting) holding ordered, non-overlapping
//! address/bytes segments.
//!
//! ```
//! use dfuflash::image::{Image, Segment};
//!
//! let img = Image::from_binary(0x0804_0000, vec![1, 2, 3]).unwrap();
//! assert_eq!(img.targets[0].alt, 0);
//! assert_eq!(img.targets[0].segments[0].end(), 0x0804_0003);
//! assert!(Image::single(0, vec![Segment::new(0x10, vec![0; 8]), Segment::new(0x14, vec![0; 4])]).is_err());
//! ```

use std::fmt;

/// Bytes at an address.
#[derive(Clone, PartialEq, Eq)]
pub struct Segment {
    /// First address.
    pub address: u32,
    /// The bytes.
    pub data: Vec<u8>,
}

impl fmt::Debug for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Segment({:#010x}, {} bytes)",
            self.address,
            self.data.len()
        )
    }
}

impl Segment {
    /// A segment.
    pub fn new(address: u32, data: Vec<u8>) -> Self {
        Self { address, data }
    }
    /// One past the last address.
    pub fn end(&self) -> u64 {
        self.address as u64 + self.data.len() as u64
    }
}

/// What goes to one alt setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The alt setting.
    pub alt: u8,
    /// A name, when the file had one.
    pub name: Option<String>,
    /// Ordered, non-overlapping, non-empty segments.
    pub segments: Vec<Segment>,
}

impl Target {
    /// Bytes in all segments.
    pub fn len(&self) -> u64 {
        self.segments.iter().map(|s| s.data.len() as u64).sum()
    }
    /// No bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A firmware image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Targets, each for its own alt setting.
    pub targets: Vec<Target>,
}

/// An image that cannot be built as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// Nothing to write.
    #[error("the image holds no bytes")]
    Empty,
    /// Two segments share addresses.
    #[error("overlapping segments at {address:#010x} in target for alt setting {alt}")]
    Overlap {
        /// Alt setting of the target.
        alt: u8,
        /// First shared address.
        address: u32,
    },
    /// A segment runs past 4 GiB.
    #[error("segment at {address:#010x} of {len} bytes runs past the 32-bit address space")]
    AddressOverflow {
        /// First address.
        address: u32,
        /// Length.
        len: usize,
    },
    /// Two targets name the same alt setting.
    #[error("two targets for alt setting {alt}")]
    DuplicateAlt {
        /// The alt setting.
        alt: u8,
    },
}

impl Image {
    /// A raw binary at an address, for alt setting 0.
    pub fn from_binary(address: u32, data: Vec<u8>) -> Result<Self, ImageError> {
        Self::single(0, vec![Segment::new(address, data)])
    }

    /// One target for `alt`; segments are sorted by address and checked.
    pub fn single(alt: u8, segments: Vec<Segment>) -> Result<Self, ImageError> {
        Self::new(vec![Target {
            alt,
            name: None,
            segments,
        }])
    }

    /// Checks and normalises: segments sorted, empty segments dropped, no overlap, no overflow,
    /// at least one byte, one target per alt setting.
    pub fn new(mut targets: Vec<Target>) -> Result<Self, ImageError> {
        let mut alts = std::collections::BTreeSet::new();
        for t in &mut targets {
            if !alts.insert(t.alt) {
                return Err(ImageError::DuplicateAlt { alt: t.alt });
            }
            t.segments.retain(|s| !s.data.is_empty());
            t.segments.sort_by_key(|s| s.address);
            for s in &t.segments {
                if s.end() > 1 << 32 {
                    return Err(ImageError::AddressOverflow {
                        address: s.address,
                        len: s.data.len(),
                    });
                }
            }
            for w in t.segments.windows(2) {
                if (w[1].address as u64) < w[0].end() {
                    return Err(ImageError::Overlap {
                        alt: t.alt,
                        address: w[1].address,
                    });
                }
            }
        }
        targets.retain(|t| !t.segments.is_empty());
        if targets.is_empty() {
            return Err(ImageError::Empty);
        }
        Ok(Self { targets })
    }

    /// Bytes in all targets.
    pub fn len(&self) -> u64 {
        self.targets.iter().map(Target::len).sum()
    }

    /// No bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first address of the first target: the usual jump address.
    pub fn start_address(&self) -> Option<u32> {
        self.targets.first()?.segments.first().map(|s| s.address)
    }
}
