//! The read-back digest of each segment: a CRC-32 of the bytes the device returned, not of the
//! file, so a production record shows what the board holds. Pieces come from every read that
//! found the bytes as expected (the comparison of unchanged sectors, the verify, the boot
//! block's read-back, a DFU 1.1 upload); a segment not read back whole has none.

use std::collections::BTreeMap;

use crc32fast::Hasher;

use crate::image::digest::{self, SegmentDigest};
use crate::image::Image;

/// One segment of the image as recorded: its digest, and the CRC-32 of what was read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentRecord {
    /// The alt setting, address, length and CRC-32 of the image's segment.
    pub image: SegmentDigest,
    /// CRC-32 of the bytes read back from the device at the segment's addresses; None when the
    /// job did not read all of them (verify off and the sectors rewritten).
    pub readback_crc32: Option<u32>,
}

/// Bytes read back at one address range inside one segment.
#[derive(Clone)]
pub(super) struct Piece {
    alt: u8,
    address: u32,
    crc: Hasher,
    len: u64,
}

/// Cuts bytes read back to the image's segments.
#[derive(Clone, Default)]
pub(super) struct Cutter {
    /// The image's segments as (alt, start, end), sorted.
    segments: Vec<(u8, u64, u64)>,
}

impl Cutter {
    /// The parts of `bytes` (read at `at` from `alt`) inside the image's segments, as pieces.
    pub(super) fn pieces(&self, alt: u8, at: u32, bytes: &[u8]) -> Vec<Piece> {
        let (a, b) = (at as u64, at as u64 + bytes.len() as u64);
        if a == b {
            return Vec::new();
        }
        self.segments
            .iter()
            .filter(|&&(sa, s, e)| sa == alt && s < b && e > a)
            .map(|&(_, s, e)| {
                let (from, to) = (s.max(a), e.min(b));
                piece(alt, from, &bytes[(from - a) as usize..(to - a) as usize])
            })
            .collect()
    }
}

/// The pieces read back so far, disjoint, keyed by (alt, address).
#[derive(Default)]
pub(super) struct ReadBack {
    cutter: Cutter,
    pieces: BTreeMap<(u8, u32), Piece>,
}

impl ReadBack {
    pub(super) fn for_image(image: &Image) -> Self {
        let mut segments: Vec<_> = image
            .targets
            .iter()
            .flat_map(|t| {
                t.segments
                    .iter()
                    .map(|s| (t.alt, s.address as u64, s.end()))
            })
            .collect();
        segments.sort_unstable();
        Self {
            cutter: Cutter { segments },
            pieces: BTreeMap::new(),
        }
    }

    /// What cuts a read into pieces, for a reader that commits them once its bytes prove final
    /// (found as expected, in a sector the job leaves as it is).
    pub(super) fn cutter(&self) -> Cutter {
        self.cutter.clone()
    }

    /// Keeps pieces of bytes read back and found final. The paths that read (the comparison,
    /// the verify, the re-read of unchanged sectors, the boot block) cover the same sectors or
    /// disjoint ranges, so a piece overlapping one already held adds nothing and is dropped.
    pub(super) fn commit(&mut self, pieces: impl IntoIterator<Item = Piece>) {
        for p in pieces {
            if !self.overlaps(p.alt, p.address as u64, p.address as u64 + p.len) {
                self.pieces.insert((p.alt, p.address), p);
            }
        }
    }

    /// Drops what was read of [start, end) of `alt`: bytes an erase may have reached since,
    /// that are not read again.
    pub(super) fn forget(&mut self, alt: u8, start: u64, end: u64) {
        self.pieces
            .retain(|&(a, at), _| a != alt || (at as u64) < start || at as u64 >= end);
    }

    fn overlaps(&self, alt: u8, a: u64, b: u64) -> bool {
        let below = self
            .pieces
            .range((alt, 0)..=(alt, (b - 1) as u32))
            .next_back();
        below.is_some_and(|(_, q)| q.address as u64 + q.len > a)
    }

    /// Each segment of `image` with its read-back CRC-32, when every byte of it was read.
    pub(super) fn records(&self, image: &Image) -> Vec<SegmentRecord> {
        digest::segments(image)
            .into_iter()
            .map(|d| SegmentRecord {
                image: d,
                readback_crc32: self.crc_of(d.alt, d.address as u64, d.address as u64 + d.length),
            })
            .collect()
    }

    /// The CRC-32 of [start, end) of `alt` from contiguous pieces, or None on a gap.
    fn crc_of(&self, alt: u8, start: u64, end: u64) -> Option<u32> {
        let mut h = Hasher::new();
        if start == end {
            return Some(h.finalize());
        }
        let mut cursor = start;
        for (_, q) in self
            .pieces
            .range((alt, start as u32)..=(alt, (end - 1) as u32))
        {
            if q.address as u64 != cursor {
                return None;
            }
            h.combine(&q.crc);
            cursor += q.len;
        }
        (cursor == end).then(|| h.finalize())
    }
}

fn piece(alt: u8, address: u64, bytes: &[u8]) -> Piece {
    let mut crc = Hasher::new();
    crc.update(bytes);
    Piece {
        alt,
        address: address as u32,
        crc,
        len: bytes.len() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Segment;

    /// The records carry the CRC-32 of the bytes read back, not the image's: the board here
    /// holds other bytes than the image, so the two differ, and a record that gave the image's
    /// CRC (or the CRC of bytes outside the segment) fails.
    #[test]
    fn records_give_the_crc_of_the_bytes_read_not_of_the_image() {
        // Three segments of alt 0: two read whole (over reads that also cover bytes outside
        // them, and in pieces committed out of order), one read only in part.
        let image = Image::single(
            0,
            vec![
                Segment::new(0x1000, vec![0x11; 3000]),
                Segment::new(0x2000, vec![0x22; 1000]),
                Segment::new(0x3000, vec![0x33; 500]),
            ],
        )
        .unwrap();
        // What the board holds from 0x0800 on: none of it the image's bytes.
        let base = 0x0800u32;
        let board: Vec<u8> = (0..0x3000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        let at = |a: u32, n: usize| &board[(a - base) as usize..(a - base) as usize + n];

        let mut rb = ReadBack::for_image(&image);
        let cut = rb.cutter();
        // 0x1800..0x2800: the tail of the first segment, the gap, the whole second one.
        rb.commit(cut.pieces(0, 0x1800, at(0x1800, 0x1000)));
        // 0x0800..0x1800: bytes before the first segment, then its head.
        rb.commit(cut.pieces(0, 0x0800, at(0x0800, 0x1000)));
        // Only the first 100 bytes of the third segment; and the same addresses of alt 1.
        rb.commit(cut.pieces(0, 0x3000, at(0x3000, 100)));
        rb.commit(cut.pieces(1, 0x3000, at(0x3000, 500)));

        let records = rb.records(&image);
        let read: Vec<Option<u32>> = records.iter().map(|r| r.readback_crc32).collect();
        let first = crc32fast::hash(at(0x1000, 3000));
        let second = crc32fast::hash(at(0x2000, 1000));
        assert_eq!(read, [Some(first), Some(second), None]);
        // The image's CRCs are another thing: a record that gave them would fail above.
        assert_eq!(records[0].image.crc32, crc32fast::hash(&[0x11; 3000]));
        assert_ne!(first, records[0].image.crc32);
        assert_ne!(second, records[1].image.crc32);
    }
}
