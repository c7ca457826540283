//! The project's own adversary: seeded runs of flash jobs against devices that lie in every
//! field a device fills (GETSTATUS bytes, reply lengths, states, poll timeouts, upload data,
//! descriptors, alt strings, failures of every kind), and against honest DfuSe devices of any
//! transfer size and any layout, where a failure is the engine's fault.
//!
//! After every run:
//! - no panic;
//! - the job ended within its deadline (and a second of cleanup);
//! - a reported success means the honest memory underneath holds the image;
//! - a refusal came before any request;
//! - no memory outside the plan changed (unless the lie was about the memory's geometry, when
//!   the device itself misplaces what it is sent);
//! - once the lies stop, the same flash succeeds.
//!
//! `DFUFLASH_ADVERSARY_RUNS` sets the number of runs of each kind (default 1500);
//! `DFUFLASH_ADVERSARY_SEED` replays one seed.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use common::liar::{Exchange, Liar};
use common::pattern;

use dfuflash::image::{Image, Segment};
use dfuflash::job::{self, FlashOptions};
use dfuflash::layout::Layout;
use dfuflash::plan::FlashPlan;
use dfuflash::progress::{CancelToken, Silent};
use dfuflash::protocol::{request, Dfu, EngineOptions};
use dfuflash::sim::SimDevice;
use dfuflash::transport::{DeviceInfo, Transport, TransportError};

const DEADLINE: Duration = Duration::from_secs(60);
const CLEANUP: Duration = Duration::from_millis(1100);

/// Error kinds that are refusals: they must come before any request.
const REFUSALS: &[&str] = &[
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

fn runs() -> u64 {
    std::env::var("DFUFLASH_ADVERSARY_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500)
}

fn seeds(salt: u64) -> Vec<u64> {
    match std::env::var("DFUFLASH_ADVERSARY_SEED") {
        Ok(s) => vec![s.parse().expect("a seed number")],
        Err(_) => (0..runs()).map(|i| i * 0x9e37_79b9 + salt).collect(),
    }
}

/// Runs every seed, each inside a panic boundary; the failures name their seeds.
fn check_all(salt: u64, run: fn(u64) -> Result<(), String>) {
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
fn random_layout(rng: &mut fastrand::Rng) -> String {
    let mut text = String::from("@Internal Flash  ");
    let mut address = 0x0800_0000u32 + rng.u32(0..64) * 0x1000;
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

/// 1 to 3 segments of at most 16 KB somewhere in `layout` (they may not fit the permissions:
/// the plan then refuses).
fn random_image(rng: &mut fastrand::Rng, layout: &Layout) -> Image {
    let mut segments: Vec<Segment> = Vec::new();
    for _ in 0..rng.u32(1..=3) {
        let g = &layout.groups[rng.usize(..layout.groups.len())];
        let room = (g.end() - g.start as u64) as u32;
        let at = g.start + rng.u32(0..room);
        let len = rng.u32(1..=16 * 1024).min((g.end() - at as u64) as u32);
        let seg = Segment::new(at, pattern(len as usize, rng.u32(..)));
        if segments
            .iter()
            .all(|s| s.end() <= seg.address as u64 || seg.end() <= s.address as u64)
        {
            segments.push(seg);
        }
    }
    segments.sort_by_key(|s| s.address);
    Image::single(0, segments).expect("disjoint segments make an image")
}

/// Alt 0's memory, group by group.
fn snapshot(dev: &SimDevice, layout: &Layout) -> Vec<Vec<u8>> {
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
fn misplaced(
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

fn holds(dev: &SimDevice, image: &Image) -> Result<(), String> {
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

fn opts(rng: &mut fastrand::Rng) -> FlashOptions {
    let mut o = FlashOptions::default();
    o.full = rng.bool();
    o
}

fn engine() -> EngineOptions {
    let mut e = EngineOptions::default();
    e.timeouts.job = Some(DEADLINE);
    e
}

/// One job: its result, the time it took, and the requests it made.
fn timed<T: Transport>(
    dfu: &mut Dfu<T>,
    image: &Image,
    o: &FlashOptions,
) -> (Result<job::Report, dfuflash::Error>, Duration) {
    let start = dfu.now();
    let r = job::flash(dfu, image, o, &mut Silent, &CancelToken::new());
    (r, dfu.now() - start)
}

fn honest_run(seed: u64) -> Result<(), String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let base = *rng
        .choice(&["stm32f405", "stm32l4", "stm32c5-strict", "dfuse-strict"])
        .unwrap();
    let size = *rng
        .choice(&[
            8u16, 64, 100, 1000, 1024, 2048, 3000, 4096, 4097, 8192, 65535,
        ])
        .unwrap();
    let text = random_layout(&mut rng);
    let layout = Layout::parse(&text).map_err(|e| format!("{text}: {e}"))?;
    let mut dev = SimDevice::custom(base, size, &[&text]).map_err(|e| e.to_string())?;
    for g in &layout.groups {
        let len = (g.end() - g.start as u64) as usize;
        dev.poke(0, g.start, &pattern(len, rng.u32(..)));
    }
    let image = random_image(&mut rng, &layout);
    let o = opts(&mut rng);
    let before = snapshot(&dev, &layout);
    let mut dfu = Dfu::open(dev, 0, engine()).map_err(|e| e.to_string())?;
    let plan = job::plan_for(&dfu, &image, &o);
    let requests = dfu.transport().requests();
    let (r, took) = timed(&mut dfu, &image, &o);
    let ctx = || format!("{base}, wTransferSize {size}, {text}, full {}", o.full);
    match (r, plan) {
        (Ok(r), Ok(plan)) => {
            holds(dfu.transport(), &image).map_err(|e| format!("{}: {e}", ctx()))?;
            records_hold(&r, o.verify).map_err(|e| format!("{}: {e}", ctx()))?;
            let after = snapshot(dfu.transport(), &layout);
            if let Some(a) = misplaced(&before, &after, &layout, &plan, true) {
                return Err(format!(
                    "{}: {a:#010x} changed outside what the plan leaves",
                    ctx()
                ));
            }
        }
        (Err(e), Err(_)) if dfu.transport().requests() == requests => {
            let _ = e;
        }
        (Err(e), _) => return Err(format!("{}: an honest device failed: {e}", ctx())),
        (Ok(_), Err(e)) => return Err(format!("{}: planned a refusal ({e}) but succeeded", ctx())),
    }
    if took > DEADLINE + CLEANUP {
        return Err(format!("{}: took {took:?}", ctx()));
    }
    Ok(())
}

/// A success's record: every read-back digest it has is the image's (what was read was found
/// equal to it), and with verify on every segment has one.
fn records_hold(r: &job::Report, verify: bool) -> Result<(), String> {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lie {
    StatusBytes,
    StatusState,
    PollTimeout,
    Length,
    Failure,
    UploadData,
    Descriptor,
    AltString,
}

const LIES: &[Lie] = &[
    Lie::StatusBytes,
    Lie::StatusState,
    Lie::PollTimeout,
    Lie::Length,
    Lie::Failure,
    Lie::UploadData,
    Lie::Descriptor,
    Lie::AltString,
];

/// Changes one answer as `lie` says.
fn tell(lie: Lie, rng: &mut fastrand::Rng, x: &mut Exchange<'_>) {
    let status = x.request == request::GETSTATUS;
    match (lie, &mut x.reply) {
        (Lie::StatusBytes, Ok(r)) if status && !r.is_empty() => {
            let i = rng.usize(..r.len());
            r[i] = rng.u8(..);
        }
        (Lie::StatusState, Ok(r)) if status && r.len() == 6 => r[4] = rng.u8(0..=12),
        (Lie::PollTimeout, Ok(r)) if status && r.len() == 6 => {
            let ms = *rng
                .choice(&[0u32, 1, 100, 4900, 60_000, 0xff_ffff])
                .unwrap();
            r[1..4].copy_from_slice(&ms.to_le_bytes()[..3]);
        }
        (Lie::Length, Ok(r)) if x.asked > 0 => match rng.u8(0..3) {
            0 => r.truncate(rng.usize(..=r.len())),
            1 => r.extend((0..rng.usize(1..64)).map(|_| rng.u8(..))),
            _ => x.claimed = Some(x.asked + rng.usize(1..100)),
        },
        (Lie::Failure, _) => {
            x.reply = Err(match rng.u8(0..4) {
                0 => TransportError::Stall,
                1 => TransportError::Timeout(Duration::from_millis(500)),
                2 => TransportError::Disconnected,
                _ => TransportError::Other("lie".into()),
            })
        }
        (Lie::UploadData, Ok(r)) if x.request == request::UPLOAD && !r.is_empty() => {
            let i = rng.usize(..r.len());
            r[i] ^= 1 << rng.u8(0..8);
        }
        _ => {}
    }
}

/// What a lying device says at enumeration.
fn describe(lies: &[Lie], rng: &mut fastrand::Rng, info: &mut DeviceInfo) {
    if lies.contains(&Lie::Descriptor) {
        let f = &mut info.functional;
        match rng.u8(0..4) {
            0 => f.transfer_size = *rng.choice(&[0u16, 1, 3, 5, 7, 63, 4097, 65535]).unwrap(),
            1 => f.transfer_size = rng.u16(..),
            2 => {
                let any = rng.u16(..);
                f.dfu_version = *rng.choice(&[0x0100u16, 0x0110, 0x011a, any]).unwrap();
            }
            _ => f.attributes = rng.u8(..),
        }
    }
    if lies.contains(&Lie::AltString) {
        let name = &mut info.alt_settings[0].name;
        *name = match rng.u8(0..4) {
            0 => random_layout(rng),
            1 => (0..rng.usize(0..60)).map(|_| rng.char(' '..='~')).collect(),
            2 => {
                let (a, n, z) = (rng.u32(..), rng.u32(..), rng.u32(..));
                let mult = rng.choice(["B", "K", "M"]).unwrap();
                format!("@F/0x{a:08X}/{n}*{z}{mult}g")
            }
            _ => {
                // The real one with one character changed.
                let mut b = name.clone().into_bytes();
                if !b.is_empty() {
                    let i = rng.usize(..b.len());
                    b[i] = rng.u8(0x20..0x7f);
                }
                String::from_utf8(b).unwrap_or_default()
            }
        };
    }
}

fn lying_run(seed: u64) -> Result<(), String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let model = *rng
        .choice(&[
            "stm32h743-revv",
            "stm32h743-revy",
            "stm32f405",
            "stm32l4",
            "stm32c5-strict",
            "portenta-h7",
            "dfuse-strict",
            "dfu11-generic",
        ])
        .unwrap();
    let mut dev = SimDevice::new(model).map_err(|e| e.to_string())?;
    let truth = dev.info().clone();
    let dfuse = truth.functional.is_dfuse();
    let layout = if dfuse {
        Layout::parse(&truth.alt_settings[0].name).unwrap()
    } else {
        Layout::parse("@Firmware/0x00000000/01*65536Bg").unwrap()
    };
    let image = if dfuse {
        // Somewhere the layout lets a flash go: readable, erasable and writable sectors.
        let usable: Vec<_> = layout
            .sectors()
            .filter(|s| s.perms.readable() && s.perms.erasable() && s.perms.writable())
            .collect();
        let s = usable[rng.usize(..usable.len())];
        let at = s.address + rng.u32(0..s.size);
        let mut room = 0u64;
        while let Some(n) = layout.sector_at((at as u64 + room).min(u32::MAX as u64) as u32) {
            if room >= 16 * 1024 || !usable.contains(&n) {
                break;
            }
            room = n.end() - at as u64;
        }
        let len = rng.usize(1..=room.min(16 * 1024) as usize);
        Image::from_binary(at, pattern(len, rng.u32(..))).unwrap()
    } else {
        Image::from_binary(0, pattern(rng.usize(1..=16 * 1024), rng.u32(..))).unwrap()
    };
    if dfuse {
        for g in &layout.groups {
            let len = (g.end() - g.start as u64) as usize;
            dev.poke(0, g.start, &pattern(len, rng.u32(..)));
        }
    }
    let mut lies = vec![*rng.choice(LIES).unwrap()];
    if rng.bool() {
        lies.push(*rng.choice(LIES).unwrap());
    }
    let geometry = lies
        .iter()
        .any(|l| matches!(l, Lie::Descriptor | Lie::AltString));
    let before = snapshot(&dev, &layout);
    let chance = *rng.choice(&[0.01f64, 0.05, 0.2]).unwrap();
    let mut hook_rng = fastrand::Rng::with_seed(rng.u64(..));
    let hook_lies = lies.clone();
    let mut liar = Liar::new(
        dev,
        Box::new(move |x| {
            for &lie in &hook_lies {
                if hook_rng.f64() < chance {
                    tell(lie, &mut hook_rng, x);
                }
            }
        }),
    );
    describe(&lies, &mut rng, &mut liar.info);
    let told = liar.info.clone();
    let o = opts(&mut rng);
    let ctx = |what: String| format!("{model}, lies {lies:?} at {chance}: {what}");
    let mut dfu = match Dfu::open(liar, 0, engine()) {
        Ok(d) => d,
        Err(e) => return Err(ctx(format!("open failed: {e}"))),
    };
    let plan = job::plan_for(&dfu, &image, &o);
    let requests = dfu.transport().dev.requests();
    let (r, took) = timed(&mut dfu, &image, &o);
    if took > DEADLINE + CLEANUP {
        return Err(ctx(format!("took {took:?}")));
    }
    if let Ok(r) = &r {
        records_hold(r, false).map_err(ctx)?;
    }
    match &r {
        Ok(_) if dfuse => holds(&dfu.transport().dev, &image).map_err(ctx)?,
        Ok(_) => {
            if dfu.transport().dev.firmware() != &image.targets[0].segments[0].data[..] {
                return Err(ctx("reported success, but the firmware differs".into()));
            }
        }
        Err(e) if REFUSALS.contains(&e.kind()) && dfu.transport().dev.requests() != requests => {
            return Err(ctx(format!(
                "refused ({e}) after {} requests",
                dfu.transport().dev.requests() - requests
            )));
        }
        Err(_) => {}
    }
    if dfuse && !geometry {
        if let Ok(plan) = &plan {
            let after = snapshot(&dfu.transport().dev, &layout);
            if let Some(a) = misplaced(&before, &after, &layout, plan, r.is_ok()) {
                return Err(ctx(format!(
                    "{a:#010x} changed outside what the plan leaves ({r:?})"
                )));
            }
        }
    }
    // The lies stop: the next flash on the same open board succeeds.
    let _ = told;
    let liar = dfu.transport_mut();
    liar.hook = Box::new(|_| {});
    liar.info = truth;
    dfu.select_alt(0).map_err(|e| ctx(e.to_string()))?;
    let (again, _) = timed(&mut dfu, &image, &FlashOptions::default());
    match again {
        Ok(_) if dfuse => {
            holds(&dfu.transport().dev, &image).map_err(|e| ctx(format!("honest re-run: {e}")))
        }
        Ok(_) => Ok(()),
        Err(e) => {
            if std::env::var_os("DFUFLASH_ADVERSARY_DUMP").is_some() {
                eprintln!("{:#?}", common::ops(dfu.transport().dev.transcript()));
            }
            Err(ctx(format!("after {r:?}, the honest re-run failed: {e}")))
        }
    }
}

#[test]
fn honest_devices_of_any_transfer_size_and_layout_are_flashed_exactly() {
    check_all(1, honest_run);
}

#[test]
fn lying_devices_never_misplace_data_crash_the_host_or_hold_it() {
    check_all(2, lying_run);
}
