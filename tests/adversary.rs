//! The project's own adversary: seeded runs of flash jobs against devices that lie in every
//! field a device fills (GETSTATUS bytes, reply lengths, states, poll timeouts, upload data,
//! descriptors, alt strings, failures of every kind). tests/adversary_honest.rs runs honest
//! devices of any transfer size and any layout, where a failure is the engine's fault.
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

use std::time::Duration;

use common::adversary::*;
use common::liar::{Exchange, Liar};
use common::pattern;

use dfuflash::image::Image;
use dfuflash::job::{self, FlashOptions};
use dfuflash::layout::Layout;
use dfuflash::protocol::{request, Dfu};
use dfuflash::sim::SimDevice;
use dfuflash::transport::{DeviceInfo, Transport, TransportError};

fn opts(rng: &mut fastrand::Rng) -> FlashOptions {
    let mut o = FlashOptions::default();
    o.full = rng.bool();
    o
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
fn lying_devices_never_misplace_data_crash_the_host_or_hold_it() {
    check_all(2, lying_run);
}
