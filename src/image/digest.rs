//! What a production record names an image by: per target the SHA-256 of its bytes in address
//! order, per segment a CRC-32 with its address and length. Computed from the image alone, so
//! `inspect` on a release file and the report of a flash give the same values.
//!
//! ```
//! use dfuflash::image::{digest, Image, Segment};
//!
//! let img = Image::single(0, vec![Segment::new(0x0800_0000, b"abc".to_vec())]).unwrap();
//! let t = digest::targets(&img);
//! assert_eq!(t[0].bytes, 3);
//! assert_eq!(
//!     digest::hex(&t[0].sha256),
//!     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
//! );
//! assert_eq!(digest::segments(&img)[0].crc32, 0x3524_41c2);
//! ```

use sha2::{Digest, Sha256};

use super::Image;

/// One target's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetDigest {
    /// The alt setting the target goes to.
    pub alt: u8,
    /// Bytes of the image for it (no padding, no gaps).
    pub bytes: u64,
    /// SHA-256 of its segments' bytes, concatenated in address order.
    pub sha256: [u8; 32],
}

/// One segment's digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentDigest {
    /// The alt setting of its target.
    pub alt: u8,
    /// First address.
    pub address: u32,
    /// Length in bytes.
    pub length: u64,
    /// CRC-32 (IEEE 802.3, as zlib's crc32) of its bytes.
    pub crc32: u32,
}

/// Every target's digest, in the image's order.
pub fn targets(image: &Image) -> Vec<TargetDigest> {
    image
        .targets
        .iter()
        .map(|t| {
            let mut h = Sha256::new();
            for s in &t.segments {
                h.update(&s.data);
            }
            TargetDigest {
                alt: t.alt,
                bytes: t.len(),
                sha256: h.finalize().into(),
            }
        })
        .collect()
}

/// Every segment's digest, target by target, in address order.
pub fn segments(image: &Image) -> Vec<SegmentDigest> {
    image
        .targets
        .iter()
        .flat_map(|t| {
            t.segments.iter().map(|s| SegmentDigest {
                alt: t.alt,
                address: s.address,
                length: s.data.len() as u64,
                crc32: crc32fast::hash(&s.data),
            })
        })
        .collect()
}

/// The SHA-256 of some bytes (what `read` got, for its record).
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Lower-case hex, as sha256sum prints.
pub fn hex(bytes: &[u8]) -> String {
    faster_hex::hex_string(bytes)
}
