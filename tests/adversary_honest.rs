//! The adversary's honest devices: seeded runs of flash jobs against DfuSe devices that do only
//! what they report, of any transfer size (1 to 65535 bytes, at and above the sector size) and
//! any layout, where a failure is the engine's fault. Each board holds what boards hold: blank
//! memory, other bytes, or an older build of the image (partly equal to it). Images have up to
//! five segments, short ones among them, starting anywhere in a sector. A second alt setting
//! may be external flash, OTP or option bytes, with sectors that cannot be erased holding old
//! data; a mass erase may come with images on every alt setting; Rev V boards wedge on sectors
//! of any size under the default deadline.
//!
//! After every run:
//! - no panic, and the job ended within its deadline (and a second of cleanup);
//! - a success means every alt setting holds the image, and no byte outside the plan changed;
//! - a refusal of the plan came before any request, and one found by reading first (memory
//!   that cannot be erased and cannot hold the image) before any write or erase, and was right.
//!
//! `DFUFLASH_ADVERSARY_RUNS` and `DFUFLASH_ADVERSARY_SEED` work as in tests/adversary.rs.

mod common;

use std::time::Duration;

use common::adversary::*;
use common::pattern;

use dfuflash::image::{Image, Segment, Target};
use dfuflash::job::{self, FlashOptions};
use dfuflash::layout::Layout;
use dfuflash::plan::{FlashPlan, MemoryKind, TargetPlan, MASS_ERASED_ALT};
use dfuflash::protocol::{Dfu, EngineOptions};
use dfuflash::sim::{Op, SimDevice};

/// The most a default deadline is priced at, grown or not.
const MOST: Duration = Duration::from_secs(3600);

/// A second alt setting: its name and where its memory starts (external flash first).
const SECOND: &[(&str, u32)] = &[
    ("@External Flash ", 0x9000_0000),
    ("@Option Bytes  ", 0x1fff_c000),
    ("@OTP Memory  ", 0x1fff_0000),
];

/// Fills each group of `alt`: blank, other bytes, or other bytes with an older build of `old`.
fn fill(rng: &mut fastrand::Rng, dev: &mut SimDevice, alt: u8, layout: &Layout, old: &[Segment]) {
    let how = rng.u8(0..3);
    for g in &layout.groups {
        let len = (g.end() - g.start as u64) as usize;
        match how {
            0 => {}
            _ => assert!(dev.poke(alt, g.start, &pattern(len, rng.u32(..)))),
        }
    }
    if how == 2 {
        for s in old {
            // The older build: the same bytes but for a few.
            let mut data = s.data.clone();
            for _ in 0..rng.usize(0..4) {
                let i = rng.usize(..data.len());
                data[i] ^= 1 << rng.u8(0..8);
            }
            assert!(dev.poke(alt, s.address, &data));
        }
    }
}

/// The segments grown to whole `word`-byte flash words, those that then overlap the one
/// before left out. The H7 programs 32-byte words with ECC, once each, and a host cannot learn
/// the word of a layout that is not the H7's: it pads to 8 bytes there.
fn whole_words(segments: Vec<Segment>, word: u32) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for s in segments {
        let start = s.address / word * word;
        let end = (s.end() as u32).div_ceil(word) * word;
        if out.last().is_some_and(|p| p.end() > start as u64) {
            continue;
        }
        let mut data = pattern((end - start) as usize, s.address);
        data[(s.address - start) as usize..][..s.data.len()].copy_from_slice(&s.data);
        out.push(Segment::new(start, data));
    }
    out
}

/// Each alt's memory, group by group.
fn snapshot_all(dev: &SimDevice, layouts: &[Layout]) -> Vec<Vec<Vec<u8>>> {
    layouts
        .iter()
        .enumerate()
        .map(|(alt, l)| {
            l.groups
                .iter()
                .map(|g| {
                    let len = (g.end() - g.start as u64) as usize;
                    dev.memory(alt as u8, g.start, len).unwrap().to_vec()
                })
                .collect()
        })
        .collect()
}

/// The first byte of alt `alt` that changed where the plan could not change it or, after a
/// success, differs from what the plan leaves where it could.
fn misplaced_on(
    alt: u8,
    layout: &Layout,
    before: &[Vec<u8>],
    after: &[Vec<u8>],
    plan: &FlashPlan,
    success: bool,
) -> Option<u32> {
    let t: Option<&TargetPlan> = plan.targets.iter().find(|t| t.alt == alt);
    let mass = plan.mass_erase && alt == MASS_ERASED_ALT;
    let reached = |a: u32| {
        let a = a as u64;
        mass || t.is_some_and(|t| {
            t.erase
                .iter()
                .any(|s| (s.address as u64..s.end()).contains(&a))
                || (t.erase.is_empty()
                    && t.writes
                        .iter()
                        .any(|w| (w.address as u64..w.end()).contains(&a)))
        })
    };
    for (g, (b, n)) in layout.groups.iter().zip(before.iter().zip(after)) {
        for (i, (old, new)) in b.iter().zip(n).enumerate() {
            let a = g.start + i as u32;
            let expected = if !reached(a) {
                *old
            } else if !success {
                continue;
            } else if let Some(t) = t.filter(|t| !t.erase.is_empty() || mass) {
                let mut one = [0u8];
                t.leaves(a, &mut one);
                one[0]
            } else if let Some(t) = t {
                // Written in place: the image's bytes where it writes, else what was there.
                let w = t
                    .writes
                    .iter()
                    .find(|w| (w.address as u64..w.end()).contains(&(a as u64)));
                w.map_or(*old, |w| w.data[(a - w.address) as usize])
            } else {
                0xff
            };
            if *new != expected {
                return Some(a);
            }
        }
    }
    None
}

/// Whether some byte the plan writes in place holds a bit the image needs set clear: the
/// refusal found by reading first is right.
fn cannot_hold(dev_before: &[Vec<Vec<u8>>], layouts: &[Layout], plan: &FlashPlan) -> bool {
    plan.targets
        .iter()
        .filter(|t| t.erase.is_empty() && MemoryKind::of(&t.layout.name) == MemoryKind::Otp)
        .any(|t| {
            let layout = &layouts[t.alt as usize];
            t.writes.iter().any(|w| {
                w.data.iter().enumerate().any(|(i, n)| {
                    let a = w.address + i as u32;
                    let (k, g) = layout
                        .groups
                        .iter()
                        .enumerate()
                        .find(|(_, g)| (g.start as u64..g.end()).contains(&(a as u64)))
                        .unwrap();
                    let held = dev_before[t.alt as usize][k][(a - g.start) as usize];
                    held & n != *n
                })
            })
        })
}

fn honest_run(seed: u64) -> Result<(), String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let base = *rng
        .choice(&[
            "stm32f405",
            "stm32l4",
            "stm32c5-strict",
            "dfuse-strict",
            "stm32h743-revv",
        ])
        .unwrap();
    let mut size = match rng.u8(0..4) {
        0 => rng.u16(1..=65535),
        _ => *rng
            .choice(&[
                1u16, 4, 5, 8, 64, 100, 512, 1000, 1024, 2048, 3000, 4096, 4097, 8192, 65535,
            ])
            .unwrap(),
    };
    if base == "stm32h743-revv" {
        // Whole 32-byte flash words per block (see `whole_words`).
        size = (size / 32).max(1) * 32;
    }
    let mut texts = vec![random_layout(&mut rng)];
    // ECC memory written in place (the H7's OTP) takes each word once, which no layout says:
    // the device's own error names it. The Rev V boards get no OTP.
    let second = if base == "stm32h743-revv" {
        &SECOND[..1]
    } else {
        SECOND
    };
    if rng.bool() {
        let (name, at) = *rng.choice(second).unwrap();
        texts.push(random_layout_of(&mut rng, name, at));
    }
    let layouts: Vec<Layout> = texts
        .iter()
        .map(|t| Layout::parse(t).map_err(|e| format!("{t}: {e}")))
        .collect::<Result<_, _>>()?;
    let alts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut dev = SimDevice::custom(base, size, &alts).map_err(|e| e.to_string())?;
    // An image on one alt setting or on every one.
    let mut targets = Vec::new();
    for (alt, layout) in layouts.iter().enumerate() {
        let mut segments = random_segments(&mut rng, layout);
        if base == "stm32h743-revv" {
            segments = whole_words(segments, 32);
        }
        fill(&mut rng, &mut dev, alt as u8, layout, &segments);
        if alt == 0 || rng.bool() {
            targets.push(Target {
                alt: alt as u8,
                name: None,
                segments,
            });
        }
    }
    if targets.len() > 1 && rng.bool() {
        targets.remove(0);
    }
    let image = Image::new(targets).map_err(|e| e.to_string())?;
    let mut o = FlashOptions::default();
    o.full = rng.bool();
    o.mass_erase = rng.u8(0..6) == 0;
    o.element_order = rng.u8(0..4) == 0;
    o.allow_otp = true;
    o.allow_option_bytes = true;
    let mut engine = EngineOptions::default();
    // The default deadline on Rev V boards: it must price their recoveries.
    let deadline = if base == "stm32h743-revv" {
        None
    } else {
        Some(DEADLINE)
    };
    engine.timeouts.job = deadline;
    let before = snapshot_all(&dev, &layouts);
    let mut dfu = Dfu::open(dev, 0, engine).map_err(|e| e.to_string())?;
    let plan = job::plan_for(&dfu, &image, &o);
    let requests = dfu.transport().requests();
    let (r, took) = timed(&mut dfu, &image, &o);
    let ctx = || {
        format!(
            "{base}, wTransferSize {size}, {texts:?}, alts {:?}, full {}, mass erase {}, element order {}",
            image.targets.iter().map(|t| t.alt).collect::<Vec<_>>(),
            o.full,
            o.mass_erase,
            o.element_order
        )
    };
    if took > deadline.unwrap_or(MOST) + CLEANUP {
        return Err(format!("{}: took {took:?}", ctx()));
    }
    let after = snapshot_all(dfu.transport(), &layouts);
    let dev = dfu.transport();
    match (r, plan) {
        (Ok(r), Ok(plan)) => {
            for t in &image.targets {
                for s in &t.segments {
                    if dev.memory(t.alt, s.address, s.data.len()) != Some(&s.data[..]) {
                        return Err(format!(
                            "{}: alt {} {:#010x} does not hold the image",
                            ctx(),
                            t.alt,
                            s.address
                        ));
                    }
                }
            }
            records_hold(&r, o.verify).map_err(|e| format!("{}: {e}", ctx()))?;
            for (alt, layout) in layouts.iter().enumerate() {
                if let Some(a) =
                    misplaced_on(alt as u8, layout, &before[alt], &after[alt], &plan, true)
                {
                    return Err(format!(
                        "{}: alt {alt} {a:#010x} changed outside what the plan leaves",
                        ctx()
                    ));
                }
            }
        }
        (Err(_), Err(_)) if dev.requests() == requests => {}
        // DfuSe commands are 5 bytes: a device whose blocks are shorter cannot take them.
        (Err(e), _) if size < 5 && e.kind() == "malformed_reply" && dev.requests() == requests => {}
        (Err(e), Ok(plan)) if e.kind() == "not_erasable" => {
            let wrote = dev
                .transcript()
                .iter()
                .any(|r| matches!(r.op, Op::Dnload { .. } | Op::Erase(_) | Op::MassErase));
            if wrote || before != after {
                return Err(format!("{}: refused ({e}) after writing", ctx()));
            }
            if !cannot_hold(&before, &layouts, &plan) {
                return Err(format!(
                    "{}: refused ({e}), but the memory could hold the image",
                    ctx()
                ));
            }
        }
        (Err(e), _) => return Err(format!("{}: an honest device failed: {e}", ctx())),
        (Ok(_), Err(e)) => return Err(format!("{}: planned a refusal ({e}) but succeeded", ctx())),
    }
    Ok(())
}

#[test]
fn honest_devices_of_any_transfer_size_and_layout_are_flashed_exactly() {
    check_all(1, honest_run);
}
