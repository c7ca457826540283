//! The boot block: the first block of the image's lowest segment in flash, where a Cortex-M
//! image starts with its vector table (stack pointer, reset vector). A flash that a power cut
//! interrupts must never leave it in place before the rest of the image is there: with it
//! erased, the chip (or a second-stage bootloader that checks the stack pointer) does not jump
//! into half an image. So it is written last, and the first block of every other segment after
//! that segment's other blocks.

use super::{FlashPlan, MemoryKind};

/// The boot block of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootBlock {
    /// Index of its target in the plan.
    pub target: usize,
    /// Its first address: the start of the lowest write run in flash.
    pub address: u32,
    /// Its length: one data block (cut to a whole number of flash words), or the run if shorter.
    pub len: usize,
    /// The sector that holds it.
    pub sector: u32,
}

impl FlashPlan {
    /// The boot block, for data blocks of `block` bytes: the first block of the lowest write
    /// run in flash (option bytes and OTP are not code). None when nothing is written to flash.
    pub fn boot_block(&self, block: usize) -> Option<BootBlock> {
        let (target, run) = self
            .targets
            .iter()
            .enumerate()
            .filter(|(_, t)| MemoryKind::of(&t.layout.name) == MemoryKind::Flash)
            .flat_map(|(i, t)| t.writes.iter().map(move |w| (i, w)))
            .min_by_key(|(_, w)| w.address)?;
        let sector = self.targets[target].layout.sector_at(run.address)?.address;
        // Whole flash words, so the block and the rest of its run never share one (an ECC word
        // is programmed once).
        let g = self.write_granularity.max(1) as usize;
        let len = (block / g * g).max(g);
        Some(BootBlock {
            target,
            address: run.address,
            len: run.data.len().min(len),
            sector,
        })
    }
}

impl BootBlock {
    /// The block as `plan` writes it: cut to the run that starts at its address, which a
    /// narrower plan (the differential flash's, or one element's step) may have shortened at
    /// the next sector it leaves alone. Unchanged when `plan` has no run there.
    pub fn cut_to(self, plan: &FlashPlan) -> BootBlock {
        let run = plan
            .targets
            .get(self.target)
            .and_then(|t| t.writes.iter().find(|w| w.address == self.address));
        match run {
            Some(w) => BootBlock {
                len: self.len.min(w.data.len()),
                ..self
            },
            None => self,
        }
    }

    /// The block's address range.
    pub fn range(&self) -> (u64, u64) {
        (self.address as u64, self.address as u64 + self.len as u64)
    }
}

#[cfg(test)]
mod tests {
    use crate::image::{Image, Segment, Target};
    use crate::plan::{plan, PlanOptions};
    use crate::transport::AltSetting;

    #[test]
    fn the_boot_block_is_the_first_block_of_the_lowest_flash_segment() {
        let alts = AltSetting::numbered(&[
            "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg",
            "@Option Bytes  /0x1FFFC000/01*016 g",
        ]);
        let image = Image::new(vec![
            Target {
                alt: 1,
                name: None,
                segments: vec![Segment::new(0x1fff_c000, vec![0; 16])],
            },
            Target {
                alt: 0,
                name: None,
                segments: vec![
                    Segment::new(0x0802_0000, vec![1; 5000]),
                    Segment::new(0x0800_4010, vec![2; 100]),
                ],
            },
        ])
        .unwrap();
        let o = PlanOptions {
            allow_option_bytes: true,
            ..PlanOptions::default()
        };
        let p = plan(&image, &alts, &o).unwrap();
        let b = p.boot_block(2048).unwrap();
        assert_eq!(
            (b.target, b.address, b.len, b.sector),
            (1, 0x0800_4010, 100, 0x0800_4000),
            "the option bytes are not code; the lowest flash segment is shorter than a block"
        );
        let only_ob = Image::single(1, vec![Segment::new(0x1fff_c000, vec![0; 16])]).unwrap();
        assert_eq!(plan(&only_ob, &alts, &o).unwrap().boot_block(2048), None);
    }
}
