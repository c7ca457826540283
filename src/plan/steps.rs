//! A plan cut into one step per element of the image, in the image's order (targets as the
//! file gives them, each one's elements by address): what a host that erases and writes element
//! by element (dfu-util) does, and what its output shows. Each sector is erased once, in the
//! step of the first element written into it; the boot block's sector in the first step.

use super::{BootBlock, FlashPlan, TargetPlan};
use crate::image::Image;

impl FlashPlan {
    /// One plan per segment of `image`; each keeps every target (so target indices stay
    /// valid), holding only that element's runs and the sectors erased for them. A run belongs
    /// to the element its (padded) start lies in; a sector to the first element written into
    /// it, so no step erases what an earlier one wrote. The sector of `boot` is erased in the
    /// first step: no element is written while an older boot block could still start the
    /// chip. The mass erase, if any, is the first step's.
    pub fn by_element(&self, image: &Image, boot: Option<&BootBlock>) -> Vec<FlashPlan> {
        let elements: Vec<(u8, u32, u64)> = image
            .targets
            .iter()
            .flat_map(|t| t.segments.iter().map(|s| (t.alt, s.address, s.end())))
            .collect();
        let empty = || FlashPlan {
            targets: self
                .targets
                .iter()
                .map(|t| TargetPlan {
                    alt: t.alt,
                    layout: t.layout.clone(),
                    erase: Vec::new(),
                    unchanged: Vec::new(),
                    writes: Vec::new(),
                    image_bytes: 0,
                })
                .collect(),
            mass_erase: false,
            write_granularity: self.write_granularity,
        };
        let mut steps: Vec<FlashPlan> = elements.iter().map(|_| empty()).collect();
        if steps.is_empty() {
            return vec![self.clone()];
        }
        steps[0].mass_erase = self.mass_erase;
        // The element of `alt` holding `address` or, past them all, the last; the first if none.
        let element_of = |alt: u8, address: u64| {
            elements
                .iter()
                .enumerate()
                .filter(|(_, e)| e.0 == alt && e.2 > address)
                .min_by_key(|(_, e)| e.1)
                .or_else(|| {
                    elements
                        .iter()
                        .enumerate()
                        .filter(|(_, e)| e.0 == alt)
                        .max_by_key(|(_, e)| e.1)
                })
                .map_or(0, |(k, _)| k)
        };
        let mut erases = Vec::new();
        for (n, t) in self.targets.iter().enumerate() {
            for w in &t.writes {
                let k = element_of(t.alt, w.address as u64);
                steps[k].targets[n].writes.push(w.clone());
            }
            for s in &t.erase {
                // The first element written into it (it must be erased before that one is
                // written); else the element of the next run, else of the last.
                let k = t
                    .writes
                    .iter()
                    .filter(|w| w.end() > s.address as u64 && (w.address as u64) < s.end())
                    .map(|w| element_of(t.alt, w.address as u64))
                    .min()
                    .unwrap_or_else(|| {
                        let next = t.writes.iter().find(|w| w.end() > s.address as u64);
                        let run = next.or(t.writes.last());
                        element_of(t.alt, run.map_or(s.address as u64, |w| w.address as u64))
                    });
                erases.push((k, n, *s));
            }
        }
        // The boot block's sector goes first, whichever element it belongs to.
        let is_boot = |n: usize, a: u32| boot.is_some_and(|b| b.target == n && b.sector == a);
        for e in &mut erases {
            if is_boot(e.1, e.2.address) {
                e.0 = 0;
            }
        }
        // Two images for one alt setting may both plan a sector: erase it once, first.
        erases.sort_by_key(|e| (e.0, !is_boot(e.1, e.2.address)));
        let mut seen = std::collections::BTreeSet::new();
        for (k, n, s) in erases {
            if seen.insert((self.targets[n].alt, s.address)) {
                steps[k].targets[n].erase.push(s);
            }
        }
        steps
    }
}

#[cfg(test)]
mod tests {
    use crate::image::{Image, Segment, Target};
    use crate::plan::{plan, FlashPlan, PlanOptions};
    use crate::transport::AltSetting;

    const F4: &str = "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg";

    fn target(segments: Vec<Segment>) -> Target {
        Target {
            alt: 0,
            name: None,
            segments,
        }
    }

    fn steps_of(targets: Vec<Target>) -> (FlashPlan, Vec<FlashPlan>) {
        let img = Image {
            targets,
            suffix: None,
        };
        let alts = [AltSetting {
            alt: 0,
            name: F4.into(),
        }];
        let o = PlanOptions {
            write_granularity: 8,
            ..Default::default()
        };
        let p = plan(&img, &alts, &o).unwrap();
        let steps = p.by_element(&img, None);
        (p, steps)
    }

    fn erases(steps: &[FlashPlan]) -> Vec<Vec<u32>> {
        steps
            .iter()
            .map(|s| {
                s.targets
                    .iter()
                    .flat_map(|t| &t.erase)
                    .map(|s| s.address)
                    .collect()
            })
            .collect()
    }

    fn writes(steps: &[FlashPlan]) -> Vec<Vec<u32>> {
        steps
            .iter()
            .map(|s| {
                s.targets
                    .iter()
                    .flat_map(|t| &t.writes)
                    .map(|w| w.address)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn each_element_erases_its_own_sectors_and_a_shared_one_once() {
        // Element 1 straddles sectors 0 and 1; element 2 lies in sector 1; element 3 in 5.
        let (p, steps) = steps_of(vec![target(vec![
            Segment::new(0x0800_3ff8, vec![1; 16]),
            Segment::new(0x0800_5000, vec![2; 8]),
            Segment::new(0x0802_0000, vec![3; 8]),
        ])]);
        assert_eq!(
            erases(&steps),
            [vec![0x0800_0000, 0x0800_4000], vec![], vec![0x0802_0000]]
        );
        assert_eq!(
            writes(&steps),
            [vec![0x0800_3ff8], vec![0x0800_5000], vec![0x0802_0000]]
        );
        assert_eq!(
            steps.iter().map(|s| s.sectors()).sum::<usize>(),
            p.sectors()
        );
        assert_eq!(
            steps.iter().map(|s| s.write_bytes()).sum::<u64>(),
            p.write_bytes()
        );
    }

    #[test]
    fn a_sector_is_erased_before_the_first_element_written_into_it() {
        // Two images for one alt setting (no file parser makes one: only a struct literal): the
        // first writes high in sector 1, the second low in it. Erasing sector 1 with the second
        // (its lowest run) would wipe the first.
        let (_, steps) = steps_of(vec![
            target(vec![Segment::new(0x0800_5000, vec![1; 8])]),
            target(vec![Segment::new(0x0800_4000, vec![2; 8])]),
        ]);
        assert_eq!(erases(&steps), [vec![0x0800_4000], vec![]]);
        assert_eq!(writes(&steps), [vec![0x0800_5000], vec![0x0800_4000]]);
    }
}
