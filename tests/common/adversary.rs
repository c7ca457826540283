//! What the adversary's runs share (tests/adversary.rs lies, tests/adversary_honest.rs does
//! not): the seeds and the panic boundary, random layouts and images, and the checks made
//! after every run.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use super::pattern;

use dfuflash::image::{Image, Segment};
use dfuflash::job::{self, FlashOptions};
use dfuflash::layout::Layout;
use dfuflash::plan::FlashPlan;
use dfuflash::progress::{CancelToken, Silent};
use dfuflash::protocol::{Dfu, EngineOptions};
use dfuflash::sim::SimDevice;
use dfuflash::transport::Transport;

pub const DEADLINE: Duration = Duration::from_secs(60);
pub const CLEANUP: Duration = Duration::from_millis(1100);
/// Error kinds that are refusals: they must come before any request.
pub const REFUSALS: &[&str] = &[
    "outside_layout",
    "not_writable",
    "not_erasable",
    "not_readable",
    "protected",
    "no_layout",
    "no_such_alt",
    "alt_mismatch",
    "image",
    "suffix_mismatch",
    "layout",
];

pub fn runs() -> u64 {
    std::env::var("DFUFLASH_ADVERSARY_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500)
}

pub fn seeds(salt: u64) -> Vec<u64> {
    match std::env::var("DFUFLASH_ADVERSARY_SEED") {
        Ok(s) => vec![s.parse().expect("a seed number")],
        Err(_) => (0..runs()).map(|i| i * 0x9e37_79b9 + salt).collect(),
    }
}

/// Runs every seed, each inside a panic boundary; the failures name their seeds.
pub fn check_all(salt: u64, run: fn(u64) -> Result<(), String>) {
    let mut failures = Vec::new();
    let seeds = seeds(salt);
    for &seed in &seeds {
        let outcome = catch_unwind(AssertUnwindSafe(|| run(seed)));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(why)) => failures.push(format!("seed {seed}: {why}")),
            Err(p) => failures.push(format!(
                "seed {seed}: panic: {}",
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
        }
    }
    eprintln!("adversary: {} runs, {} failed", seeds.len(), failures.len());
    assert!(
        failures.is_empty(),
        "{} of {} runs failed (replay one with DFUFLASH_ADVERSARY_SEED):\n{}",
        failures.len(),
        seeds.len(),
        failures[..failures.len().min(20)].join("\n")
    );
}

/// A memory layout no device had to ship: 1 to 3 groups in address order with gaps, each of
/// 1 to 3 runs of assorted sector sizes, mostly readable, erasable and writable.
pub fn random_layout(rng: &mut fastrand::Rng) -> String {
    random_layout_of(rng, "@Internal Flash  ", 0x0800_0000)
}

/// A random layout with this name, from `base` on.
pub fn random_layout_of(rng: &mut fastrand::Rng, name: &str, base: u32) -> String {
    let mut text = String::from(name);
    let mut address = base + rng.u32(0..64) * 0x1000;
    for _ in 0..rng.u32(1..=3) {
        text.push_str(&format!("/0x{address:08X}/"));
        let mut runs = Vec::new();
        for _ in 0..rng.u32(1..=3) {
            let size = *rng
                .choice(&[512u32, 1024, 2048, 4096, 16384, 65536, 131072])
                .unwrap();
            let count = rng.u32(1..=8);
            let letter = if rng.u8(0..10) == 0 {
                rng.char('a'..='f')
            } else {
                'g'
            };
            let (n, mult) = if size % 1024 == 0 {
                (size / 1024, "K")
            } else {
                (size, " ")
            };
            runs.push(format!("{count:02}*{n:03}{mult}{letter}"));
            address += count * size;
        }
        text.push_str(&runs.join(","));
        address += rng.u32(0..16) * 0x1000;
    }
    text
}

/// Random segments on alt 0 (they may not fit the permissions: the plan then refuses).
pub fn random_image(rng: &mut fastrand::Rng, layout: &Layout) -> Image {
    Image::single(0, random_segments(rng, layout)).expect("disjoint segments make an image")
}

/// 1 to 5 disjoint segments in address order somewhere in `layout`: a third of them short
/// (up to 64 bytes), the others up to 16 KB; each starts anywhere, inside a sector as often as
/// not.
pub fn random_segments(rng: &mut fastrand::Rng, layout: &Layout) -> Vec<Segment> {
    let mut segments: Vec<Segment> = Vec::new();
    for _ in 0..rng.u32(1..=5) {
        let g = &layout.groups[rng.usize(..layout.groups.len())];
        let room = (g.end() - g.start as u64) as u32;
        let at = g.start + rng.u32(0..room);
        let most = if rng.u8(0..3) == 0 { 64 } else { 16 * 1024 };
        let len = rng.u32(1..=most).min((g.end() - at as u64) as u32);
        let seg = Segment::new(at, pattern(len as usize, rng.u32(..)));
        if segments
            .iter()
            .all(|s| s.end() <= seg.address as u64 || seg.end() <= s.address as u64)
        {
            segments.push(seg);
        }
    }
    segments.sort_by_key(|s| s.address);
    segments
}

/// Alt 0's memory, group by group.
pub fn snapshot(dev: &SimDevice, layout: &Layout) -> Vec<Vec<u8>> {
    layout
        .groups
        .iter()
        .map(|g| {
            dev.memory(0, g.start, (g.end() - g.start as u64) as usize)
                .expect("the device's own layout")
                .to_vec()
        })
        .collect()
}

/// The first byte that changed outside the sectors the plan erases, or (after a success)
/// inside them differs from what the plan leaves there.
pub fn misplaced(
    before: &[Vec<u8>],
    after: &[Vec<u8>],
    layout: &Layout,
    plan: &FlashPlan,
    success: bool,
) -> Option<u32> {
    let t = &plan.targets[0];
    let planned = |a: u32| {
        t.erase
            .iter()
            .any(|s| (s.address as u64..s.end()).contains(&(a as u64)))
    };
    for (g, (b, a)) in layout.groups.iter().zip(before.iter().zip(after)) {
        for (i, (old, new)) in b.iter().zip(a).enumerate() {
            let address = g.start + i as u32;
            let expected = if !planned(address) {
                *old
            } else if success {
                let mut one = [0u8];
                t.leaves(address, &mut one);
                one[0]
            } else {
                continue;
            };
            if *new != expected {
                return Some(address);
            }
        }
    }
    None
}

pub fn holds(dev: &SimDevice, image: &Image) -> Result<(), String> {
    for s in &image.targets[0].segments {
        match dev.memory(0, s.address, s.data.len()) {
            Some(m) if m == &s.data[..] => {}
            _ => {
                return Err(format!(
                    "reported success, but {:#010x} does not hold the image",
                    s.address
                ))
            }
        }
    }
    Ok(())
}

pub fn engine() -> EngineOptions {
    let mut e = EngineOptions::default();
    e.timeouts.job = Some(DEADLINE);
    e
}

/// One job: its result, the time it took, and the requests it made.
pub fn timed<T: Transport>(
    dfu: &mut Dfu<T>,
    image: &Image,
    o: &FlashOptions,
) -> (Result<job::Report, dfuflash::Error>, Duration) {
    let start = dfu.now();
    let r = job::flash(dfu, image, o, &mut Silent, &CancelToken::new());
    (r, dfu.now() - start)
}

/// A success's record: every read-back digest it has is the image's (what was read was found
/// equal to it), and with verify on every segment has one.
pub fn records_hold(r: &job::Report, verify: bool) -> Result<(), String> {
    for s in &r.segments {
        match s.readback_crc32 {
            Some(c) if c != s.image.crc32 => {
                return Err(format!(
                    "segment {:#010x}: read-back CRC {c:#010x}, image {:#010x}",
                    s.image.address, s.image.crc32
                ))
            }
            None if verify => {
                return Err(format!(
                    "segment {:#010x}: verified but has no read-back digest",
                    s.image.address
                ))
            }
            _ => {}
        }
    }
    Ok(())
}
