//! A power cut never leaves a bootable half image, and a re-run resumes. The power is cut (the
//! simulator's `power-loss` fault: a block being programmed keeps half its bytes) at every
//! request of a flash of a two-segment DfuSe image, on an STM32H743 Rev V and an STM32F405, on
//! a blank board and on one that holds an older firmware. After each cut the board is read:
//! - the first block of each segment is erased, or equal to the image, unless the cut came
//!   while that very block was being programmed;
//! - when the lowest segment's first block (the boot block: the vector table) equals the image,
//!   the whole image is there; on a board that held the older firmware, its boot block in place
//!   means the older firmware is whole;
//! - the same flash run again after a power cycle ends verified, and erases only the sectors
//!   that differ from what it leaves (and the boot block's, when any other does).

mod common;

use common::*;

use dfuflash::image::{Image, Segment};
use dfuflash::job::FlashOptions;
use dfuflash::layout::Layout;
use dfuflash::plan::{FlashPlan, TargetPlan};
use dfuflash::sim::{Faults, Op, SimDevice};
use dfuflash::transport::Transport;

struct Case {
    model: &'static str,
    /// The two segments: (address, length).
    segments: [(u32, usize); 2],
}

const CASES: [Case; 2] = [
    // Rev V: the second segment is past 1 MB, where every erase wedges and is recovered.
    Case {
        model: "stm32h743-revv",
        segments: [(0x0804_0000, 6 * 1024 + 100), (0x0810_0000, 5 * 1024)],
    },
    Case {
        model: "stm32f405",
        segments: [(0x0800_4000, 6 * 1024 + 100), (0x0802_0000, 5 * 1024)],
    },
];

fn image(c: &Case, seed: u32) -> Image {
    Image::single(
        0,
        c.segments
            .iter()
            .enumerate()
            .map(|(i, &(a, n))| Segment::new(a, pattern(n, seed + i as u32)))
            .collect(),
    )
    .unwrap()
}

/// The board: blank, or holding `old` (another build of the same layout).
fn board(c: &Case, old: Option<&Image>) -> SimDevice {
    let mut dev = SimDevice::new(c.model).unwrap();
    if let Some(old) = old {
        for s in &old.targets[0].segments {
            assert!(dev.poke(0, s.address, &s.data));
        }
    }
    dev
}

/// Requests of an uninterrupted flash of `img` onto this board.
fn requests(c: &Case, old: Option<&Image>, img: &Image) -> u64 {
    let mut dfu = open_dev(board(c, old), true);
    flash(&mut dfu, img, &FlashOptions::default()).unwrap();
    dfu.transport().requests()
}

fn holds(dev: &SimDevice, img: &Image) -> bool {
    img.targets[0]
        .segments
        .iter()
        .all(|s| dev.memory(0, s.address, s.data.len()).unwrap() == &s.data[..])
}

/// What the first block of a segment holds.
#[derive(Debug, PartialEq)]
enum Head {
    Erased,
    Image,
    Old,
    Other,
}

fn head(dev: &SimDevice, img: &Image, old: Option<&Image>, k: usize, block: usize) -> Head {
    let s = &img.targets[0].segments[k];
    let n = block.min(s.data.len());
    let m = dev.memory(0, s.address, n).unwrap();
    if m.iter().all(|b| *b == 0xff) {
        Head::Erased
    } else if m == &s.data[..n] {
        Head::Image
    } else if old.is_some_and(|o| m == &o.targets[0].segments[k].data[..n]) {
        Head::Old
    } else {
        Head::Other
    }
}

/// The address of the data block being programmed when the power was cut at request `cut`:
/// the DNLOAD just before it, when the cut request is its GETSTATUS.
fn programming_at(dev: &SimDevice, cut: u64) -> Option<u32> {
    let t = dev.transcript();
    let i = t.iter().position(|r| r.index == cut)?;
    if t[i].op != Op::GetStatus {
        return None;
    }
    let mut pointer = None;
    let mut block = None;
    for r in &t[..i] {
        match r.op {
            Op::SetAddress(a) => pointer = Some(a),
            Op::Dnload { block: b, .. } => block = Some(b),
            _ => {}
        }
    }
    let xfer = dev.info().functional.transfer_size as u32;
    Some(pointer? + (block? as u32 - 2) * xfer)
}

/// The sectors of the plan whose memory differs from what the flash leaves there.
fn differing(dev: &SimDevice, plan: &FlashPlan) -> Vec<u32> {
    let t: &TargetPlan = &plan.targets[0];
    t.erase
        .iter()
        .filter(|s| {
            let mut want = vec![0u8; s.size as usize];
            t.leaves(s.address, &mut want);
            dev.memory(0, s.address, s.size as usize).unwrap() != &want[..]
        })
        .map(|s| s.address)
        .collect()
}

/// What the boards held after the cuts: by what their boot block was.
#[derive(Default)]
struct Held {
    erased: usize,
    new_whole: usize,
    old_whole: usize,
    being_programmed: usize,
}

fn sweep(c: &Case, old: Option<&Image>, held: &mut Held) -> usize {
    let img = image(c, 7);
    let n = requests(c, old, &img);
    let block = SimDevice::describe(c.model)
        .unwrap()
        .functional
        .transfer_size as usize;
    let layout =
        Layout::parse(&SimDevice::describe(c.model).unwrap().alt_settings[0].name).unwrap();
    let boot_sector = layout.sector_at(c.segments[0].0).unwrap().address;
    let mut cuts = 0;
    for cut in 1..=n {
        let mut dev = board(c, old);
        dev.set_faults(Faults {
            power_loss_at: Some(cut),
            ..Faults::default()
        });
        let mut dfu = open_dev(dev, true);
        let r = flash(&mut dfu, &img, &FlashOptions::default());
        let ctx = format!(
            "{} {}, cut at request {cut} of {n}",
            c.model,
            if old.is_some() {
                "over an older firmware"
            } else {
                "blank"
            }
        );
        assert!(r.is_err(), "{ctx}: the flash ended before the cut");
        // A cut that took: the board lost power at that request.
        if dfu.transport().is_disconnected() {
            cuts += 1;
        }
        let dev = dfu.transport();
        let half = programming_at(dev, cut);
        for k in 0..2 {
            let h = head(dev, &img, old, k, block);
            let address = c.segments[k].0;
            match h {
                Head::Erased | Head::Image => {}
                Head::Old if old.is_some() => {}
                _ => assert_eq!(
                    half,
                    Some(address),
                    "{ctx}: segment {k}'s first block is {h:?}, and was not being programmed"
                ),
            }
        }
        match head(dev, &img, old, 0, block) {
            Head::Image => {
                assert!(
                    holds(dev, &img),
                    "{ctx}: the boot block is in place before the image is whole"
                );
                held.new_whole += 1;
            }
            Head::Old => {
                assert!(
                    holds(dev, old.unwrap()),
                    "{ctx}: the older boot block is in place, the older firmware is not whole"
                );
                held.old_whole += 1;
            }
            Head::Erased => held.erased += 1,
            Head::Other => held.being_programmed += 1,
        }

        // Power cycle, then the same flash again.
        let mut dev = dfu.into_transport();
        dev.set_faults(Faults::default());
        dev.replug();
        let mut dfu = open_dev(dev, true);
        let plan = dfuflash::job::plan_for(&dfu, &img, &FlashOptions::default()).unwrap();
        let mut wrong = differing(dfu.transport(), &plan);
        if !wrong.is_empty() && !wrong.contains(&boot_sector) {
            wrong.insert(0, boot_sector);
        }
        let r = flash(&mut dfu, &img, &FlashOptions::default())
            .unwrap_or_else(|e| panic!("{ctx}: the re-run failed: {e}"));
        assert!(
            holds(dfu.transport(), &img),
            "{ctx}: the re-run left another image"
        );
        assert_eq!(r.bytes_verified, img.len(), "{ctx}");
        assert_eq!(
            r.sectors_erased, wrong,
            "{ctx}: the re-run erases only what differs"
        );
        assert_eq!(
            r.sectors_skipped.len() + r.sectors_erased.len(),
            r.sectors_planned,
            "{ctx}"
        );
    }
    cuts
}

#[test]
fn no_power_cut_leaves_a_bootable_half_image_and_every_re_run_resumes() {
    let mut cuts = 0;
    let mut held = Held::default();
    for c in &CASES {
        cuts += sweep(c, None, &mut held);
        let older = image(c, 99);
        cuts += sweep(c, Some(&older), &mut held);
    }
    eprintln!(
        "boot_last: {cuts} cut points; boot block afterwards: erased {}, the new image's (image whole) {}, the older image's (older image whole) {}, cut while being programmed {}",
        held.erased, held.new_whole, held.old_whole, held.being_programmed
    );
    // Every request of the four flashes is a cut point, and each kind of boot block is seen:
    // a sweep that cut fewer requests, or never reached a whole image, proves less.
    assert_eq!(cuts, 662);
    assert!(held.erased > 0, "no cut left the boot block erased");
    assert!(
        held.new_whole > 0,
        "no cut came after the new image was whole"
    );
    assert!(held.old_whole > 0, "no cut left the older firmware whole");
    assert!(
        held.being_programmed > 0,
        "no cut came while the boot block was being programmed"
    );
}

/// The data blocks of a flash as written: each run of DNLOADs after a Set Address, with its
/// address and block numbers.
fn writes(dev: &SimDevice) -> Vec<(u32, Vec<u16>)> {
    let mut runs: Vec<(u32, Vec<u16>)> = Vec::new();
    let mut pointer = None;
    for r in dev.transcript() {
        match r.op {
            Op::SetAddress(a) => pointer = Some(a),
            Op::Dnload { block, .. } => match (pointer.take(), runs.last_mut()) {
                (None, Some(run)) => run.1.push(block),
                (p, _) => runs.push((p.expect("a block before any address"), vec![block])),
            },
            _ => {}
        }
    }
    runs
}

fn phases(events: &[String]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| e.strip_prefix("PhaseStart { phase: "))
        .map(|e| e.split(',').next().unwrap())
        .collect()
}

#[test]
fn without_boot_last_the_first_block_goes_first() {
    let c = &CASES[1];
    let img = image(c, 7);
    let mut o = FlashOptions::default();
    o.boot_last = false;
    let mut dfu = open_dev(board(c, None), true);
    let (r, events) = flash_events(&mut dfu, &img, &o);
    let r = r.unwrap();
    assert_eq!(r.boot_block, None);
    assert_eq!(phases(&events), ["Compare", "Erase", "Write", "Verify"]);
    // Each segment is one run from its first block: blocks 2..=N in order, and no block 2
    // written again at the end.
    let xfer = dfu.info().functional.transfer_size as usize;
    let in_order: Vec<(u32, Vec<u16>)> = c
        .segments
        .iter()
        .map(|&(a, n)| (a, (2..=1 + n.div_ceil(xfer) as u16).collect()))
        .collect();
    assert_eq!(writes(dfu.transport()), in_order);
    let first_write = dfu
        .transport()
        .transcript()
        .iter()
        .find_map(|r| match r.op {
            Op::SetAddress(a) if a != 0x0800_0000 => Some(a),
            _ => None,
        });
    assert_eq!(
        first_write,
        Some(c.segments[0].0),
        "the compare reads it, then writing starts there"
    );
    // With it (the default), the boot block is the last block written, in a phase of its own.
    let mut dfu = open_dev(board(c, None), true);
    let (r, events) = flash_events(&mut dfu, &img, &FlashOptions::default());
    let r = r.unwrap();
    assert_eq!(r.boot_block, Some(c.segments[0].0));
    assert_eq!(phases(&events).last(), Some(&"Boot"));
    assert_eq!(
        writes(dfu.transport()).last(),
        Some(&(c.segments[0].0, vec![2]))
    );
}
