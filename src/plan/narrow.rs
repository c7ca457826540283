//! A plan narrowed to the sectors that need work: what a full flash leaves in a range, and the
//! plan without the sectors that already hold it.

use super::TargetPlan;
use crate::image::Segment;
use crate::layout::Sector;

impl TargetPlan {
    /// Fills `out` with what the full flash leaves at `address`: the padded writes, and the
    /// erased value 0xFF everywhere else.
    pub fn leaves(&self, address: u32, out: &mut [u8]) {
        out.fill(0xff);
        let start = address as u64;
        let end = start + out.len() as u64;
        for w in self
            .writes
            .iter()
            .filter(|w| w.end() > start && (w.address as u64) < end)
        {
            let a = (w.address as u64).max(start);
            let e = w.end().min(end);
            out[(a - start) as usize..(e - start) as usize].copy_from_slice(
                &w.data[(a - w.address as u64) as usize..(e - w.address as u64) as usize],
            );
        }
    }

    /// Whether the full flash leaves only 0xFF (erased flash) in [start, end): no byte a write
    /// puts there is anything else. Looks at the writes only, so a range as long as a sector
    /// (a size the device reports) costs what the image costs.
    pub fn leaves_blank(&self, start: u64, end: u64) -> bool {
        self.writes
            .iter()
            .filter(|w| w.end() > start && (w.address as u64) < end)
            .all(|w| {
                let from = (start.max(w.address as u64) - w.address as u64) as usize;
                let to = (end.min(w.end()) - w.address as u64) as usize;
                w.data[from..to].iter().all(|b| *b == 0xff)
            })
    }

    /// This plan with the sectors at `same` moved from `erase` to `unchanged`: they are
    /// neither erased nor written.
    pub fn without_sectors(&self, same: &[u32]) -> TargetPlan {
        let (unchanged, erase): (Vec<Sector>, Vec<Sector>) = self
            .erase
            .iter()
            .cloned()
            .partition(|s| same.contains(&s.address));
        let mut t = TargetPlan {
            erase,
            unchanged: [self.unchanged.as_slice(), &unchanged].concat(),
            ..self.clone()
        };
        t.unchanged.sort_by_key(|s| s.address);
        let gone = t.unchanged_ranges();
        t.writes = self.writes.iter().flat_map(|w| cut(w, &gone)).collect();
        t
    }

    /// The address ranges of the unchanged sectors, in address order.
    pub fn unchanged_ranges(&self) -> Vec<(u64, u64)> {
        self.unchanged
            .iter()
            .map(|s| (s.address as u64, s.end()))
            .collect()
    }
}

/// The parts of `segment` outside `ranges` (in address order, disjoint).
pub fn cut(segment: &Segment, ranges: &[(u64, u64)]) -> Vec<Segment> {
    let mut out = Vec::new();
    let start = segment.address as u64;
    let end = segment.end();
    let mut a = start;
    let piece = |from: u64, to: u64| {
        let off = (from - segment.address as u64) as usize;
        Segment::new(
            from as u32,
            segment.data[off..off + (to - from) as usize].to_vec(),
        )
    };
    for &(s, e) in ranges.iter().filter(|(s, e)| *e > start && *s < end) {
        if s > a {
            out.push(piece(a, s));
        }
        a = a.max(e);
    }
    if a < end {
        out.push(piece(a, end));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Layout;

    fn target() -> TargetPlan {
        let layout = Layout::parse("@Flash /0x08000000/4*1Ka").unwrap();
        let erase = (0..4)
            .map(|i| layout.sector_at(0x0800_0000 + i * 1024).unwrap())
            .collect();
        TargetPlan {
            alt: 0,
            layout,
            erase,
            unchanged: Vec::new(),
            writes: vec![Segment::new(
                0x0800_0200,
                (0..3072u32).map(|i| i as u8).collect(),
            )],
            image_bytes: 3072,
        }
    }

    #[test]
    fn leaves_gives_the_writes_and_0xff_around_them() {
        let t = target();
        let mut out = [0u8; 8];
        t.leaves(0x0800_01fc, &mut out);
        assert_eq!(out, [0xff, 0xff, 0xff, 0xff, 0, 1, 2, 3]);
        t.leaves(0x0800_0dfe, &mut out);
        assert_eq!(out, [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    }

    #[test]
    fn skipped_sectors_lose_their_erase_and_their_part_of_each_write() {
        let n = target().without_sectors(&[0x0800_0400, 0x0800_0c00]);
        let erased: Vec<u32> = n.erase.iter().map(|s| s.address).collect();
        assert_eq!(erased, [0x0800_0000, 0x0800_0800]);
        let unchanged: Vec<u32> = n.unchanged.iter().map(|s| s.address).collect();
        assert_eq!(unchanged, [0x0800_0400, 0x0800_0c00]);
        let runs: Vec<(u32, usize, u8)> = n
            .writes
            .iter()
            .map(|w| (w.address, w.data.len(), w.data[0]))
            .collect();
        // 0x200..0x400 of sector 0, then all of sector 2 (offset 0x600 of the write).
        assert_eq!(runs, [(0x0800_0200, 0x200, 0), (0x0800_0800, 0x400, 0x00)]);
        assert_eq!(n.writes[1].data[1], 0x01);
    }
}
