//! Honest devices the engine once failed, as an independent adversary found them: a re-flash
//! whose boot block's run the differential flash had cut below one transfer (a panic), a device
//! that wedges like the Rev V on small sectors (past the default deadline), memory that cannot
//! be erased and already holds other bytes, a mass erase with the image on another alt setting,
//! and a back-off that slept past the limit of the wait it was part of. Each case fails without
//! its fix; tests/adversary.rs generates them at random.

mod common;

use std::time::Duration;

use common::cli::{dfuflash, stderr, tmp};
use common::liar::Liar;
use common::*;

use dfuflash::image::{Image, Segment};
use dfuflash::job::{self, FlashOptions};
use dfuflash::plan::PlanError;
use dfuflash::progress::{CancelToken, Silent};
use dfuflash::protocol::{request, Dfu, EngineOptions, ProtocolError};
use dfuflash::sim::{Op, SimDevice};
use dfuflash::transport::TransportError;
use dfuflash::Error;

/// An Intel HEX file of these segments.
fn ihex(segments: &[(u32, &[u8])]) -> String {
    let record = |address: u16, kind: u8, data: &[u8]| {
        let mut b = vec![data.len() as u8, (address >> 8) as u8, address as u8, kind];
        b.extend_from_slice(data);
        let sum = b.iter().fold(0u8, |s, x| s.wrapping_add(*x));
        let hex: String = b.iter().map(|x| format!("{x:02X}")).collect();
        format!(":{hex}{:02X}\n", sum.wrapping_neg())
    };
    let mut out = String::new();
    for (address, data) in segments {
        let mut upper = None;
        for (i, chunk) in data.chunks(16).enumerate() {
            let a = address + 16 * i as u32;
            if upper != Some(a >> 16) {
                upper = Some(a >> 16);
                out += &record(0, 4, &((a >> 16) as u16).to_be_bytes());
            }
            out += &record(a as u16, 0, chunk);
        }
    }
    out + ":00000001FF\n"
}

#[test]
fn a_re_flash_whose_boot_run_is_cut_below_one_transfer_verifies() {
    // The Portenta's QSPI: 4 KB sectors and 4096-byte transfers. The first segment starts
    // 0x1aa bytes before a sector's end, so once the next sector is found unchanged, the run at
    // the boot address is 0x1aa bytes: shorter than the boot block (one transfer).
    let dir = tmp("honest_devices", "reflash");
    let state = dir.join("board.state");
    let first = pattern(2922, 1);
    let tail = [1u8, 2, 3, 4];
    let (a, b) = (0x90ab_ee56u32, 0x90b1_ffc9u32);
    let old = dir.join("old.hex");
    std::fs::write(&old, ihex(&[(a, &first), (b, &tail)])).unwrap();
    let mut changed = first.clone();
    changed[50] ^= 0xff;
    let new = dir.join("new.hex");
    std::fs::write(&new, ihex(&[(a, &changed), (b, &tail)])).unwrap();
    let flash = |file: &std::path::Path| {
        dfuflash(&[
            "flash",
            "--sim",
            "portenta-h7",
            "-a",
            "1",
            "--sim-state",
            state.to_str().unwrap(),
            "--json",
            file.to_str().unwrap(),
        ])
    };
    let o = flash(&old);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = flash(&new);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(report.contains("\"ok\":true"), "{report}");
    assert!(report.contains("\"bytes_verified\":2926"), "{report}");
    // Only the changed sector was erased.
    let erased = format!("\"sectors_erased\":[{}]", 0x90ab_e000u32);
    assert!(report.contains(&erased), "{report}");
    let out = dir.join("back.bin");
    let o = dfuflash(&[
        "read",
        "--sim",
        "portenta-h7",
        "-a",
        "1",
        "--sim-state",
        state.to_str().unwrap(),
        "--address",
        &a.to_string(),
        "--length",
        "2922",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&out).unwrap(), changed);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn transfers_as_large_as_a_sector_and_segments_inside_sectors_re_flash_exactly() {
    // 1 KB sectors, 4 KB transfers; an older image partly equal to the new one.
    for size in [1024u16, 2048, 4096, 65535] {
        let alts = ["@Internal Flash /0x08000000/32*1Kg"];
        let mut dev = SimDevice::custom("stm32f405", size, &alts).unwrap();
        let segs = [
            (0x0800_0123u32, 3000usize),
            (0x0800_1c00, 100),
            (0x0800_2001, 7),
        ];
        let image = |seed: u32| {
            let s = segs
                .iter()
                .map(|&(a, n)| Segment::new(a, pattern(n, seed + a)))
                .collect();
            Image::single(0, s).unwrap()
        };
        let old = image(1);
        for s in &old.targets[0].segments {
            dev.poke(0, s.address, &s.data);
        }
        // The new image: the same but for the first sector's bytes and the last segment.
        let mut new = old.clone();
        new.targets[0].segments[0].data[10] ^= 0x55;
        new.targets[0].segments[2].data[0] ^= 0x55;
        let mut dfu = open_on(dev, 0);
        let r = flash(&mut dfu, &new, &FlashOptions::default())
            .unwrap_or_else(|e| panic!("wTransferSize {size}: {e}"));
        assert_eq!(r.sectors_erased, [0x0800_0000, 0x0800_2000], "{size}");
        assert_eq!(r.boot_block, Some(0x0800_0120), "{size}");
        for s in &new.targets[0].segments {
            assert_eq!(
                dfu.transport().memory(0, s.address, s.data.len()).unwrap(),
                &s.data[..],
                "{size}: {:#010x}",
                s.address
            );
        }
    }
}

/// A Rev V ROM whose flash is 256 sectors of 2 KB, every one of which wedges when erased.
fn small_wedging_sectors() -> (Dfu<SimDevice>, Image) {
    let alts = ["@Internal Flash /0x08100000/256*02Kg"];
    let dev = SimDevice::custom("stm32h743-revv", 2048, &alts).unwrap();
    let image = Image::from_binary(0x0810_0000, pattern(256 * 2048, 7)).unwrap();
    (open_on(dev, 0), image)
}

#[test]
fn the_default_deadline_grows_by_what_each_recovery_waited() {
    let (mut dfu, image) = small_wedging_sectors();
    // 256 recoveries of at least 2 s each: far past the 39 s the erases are priced at.
    let r = flash(&mut dfu, &image, &FlashOptions::default()).unwrap();
    assert_eq!(r.workaround_sectors.len(), 256);
    assert!(r.elapsed > Duration::from_secs(512), "{:?}", r.elapsed);
    assert_eq!(
        dfu.transport().memory(0, 0x0810_0000, 256 * 2048).unwrap(),
        &image.targets[0].segments[0].data[..]
    );
    // A deadline the caller set is the caller's: it does not grow.
    let (mut dfu, image) = small_wedging_sectors();
    let mut o = EngineOptions::default();
    o.timeouts.job = Some(Duration::from_secs(100));
    dfu.set_options(o);
    let e = flash(&mut dfu, &image, &FlashOptions::default()).unwrap_err();
    assert_eq!(e.kind(), "job_deadline", "{e}");
}

#[test]
fn memory_that_cannot_be_erased_and_holds_other_bytes_is_refused_before_any_write() {
    // OTP memory (`e`: readable and writable, never erased), programmed once.
    let otp = "@OTP Memory   /0x1FFF7800/01*512 e";
    let alts = ["@Internal Flash /0x08000000/04*016Kg", otp];
    let mut dev = SimDevice::custom("stm32f405", 2048, &alts).unwrap();
    assert!(dev.poke(1, 0x1fff_7810, &[0x0f; 4]));
    let mut dfu = open_on(dev, 0);
    let image = Image::single(1, vec![Segment::new(0x1fff_7800, vec![0x11; 32])]).unwrap();
    let mut o = FlashOptions::default();
    o.allow_otp = true;
    let e = flash(&mut dfu, &image, &o).unwrap_err();
    let Error::Plan(p) = &e else { panic!("{e}") };
    assert_eq!(
        p,
        &PlanError::Occupied {
            alt: 1,
            sector: 0x1fff_7800,
            address: 0x1fff_7810,
            held: 0x0f,
            wanted: 0x11,
            layout: otp.into(),
        }
    );
    assert_eq!(e.kind(), "not_erasable");
    assert!(e.to_string().starts_with("sector 0x1fff7800 of alt setting 1 (@OTP Memory   /0x1FFF7800/01*512 e) cannot be erased and already holds 0x0f at 0x1fff7810, where the image needs 0x11"), "{e}");
    let t = dfu.transport().transcript();
    assert!(
        !t.iter()
            .any(|r| matches!(r.op, Op::Dnload { .. } | Op::Erase(_))),
        "{:?}",
        ops(t)
    );
    assert_eq!(
        dfu.transport().state().0,
        dfuflash::protocol::State::DfuIdle
    );
    // Bits that writing only clears: the image goes on.
    let image = Image::single(1, vec![Segment::new(0x1fff_7810, vec![0x05; 4])]).unwrap();
    flash(&mut dfu, &image, &o).unwrap();
    assert_eq!(
        dfu.transport().memory(1, 0x1fff_7810, 4).unwrap(),
        [0x05; 4]
    );
}

#[test]
fn option_bytes_are_rewritten_whatever_they_held() {
    // ST's ROM erases the option bytes itself (AN3155): no read-first refusal for them.
    let mut dev = SimDevice::new("stm32g4").unwrap();
    assert!(dev.poke(1, 0x1fff_7800, &[0x00; 8]));
    let mut dfu = open_on(dev, 0);
    let image = Image::single(1, vec![Segment::new(0x1fff_7800, vec![0xaa; 8])]).unwrap();
    let mut o = FlashOptions::default();
    o.allow_option_bytes = true;
    flash(&mut dfu, &image, &o).unwrap();
    assert_eq!(
        dfu.transport().memory(1, 0x1fff_7800, 8).unwrap(),
        [0xaa; 8]
    );
}

#[test]
fn a_mass_erase_with_the_image_on_another_alt_erases_that_alt_s_sectors() {
    let mut dev = SimDevice::new("portenta-h7").unwrap();
    // The QSPI holds an older image; the mass erase reaches the internal flash only.
    assert!(dev.poke(1, 0x9000_0000, &pattern(8192, 3)));
    assert!(dev.poke(0, 0x0802_0000, &[0; 16]));
    let mut dfu = open_on(dev, 1);
    let image = Image::single(1, vec![Segment::new(0x9000_0100, pattern(5000, 4))]).unwrap();
    let mut o = FlashOptions::default();
    o.mass_erase = true;
    let r = flash(&mut dfu, &image, &o).unwrap();
    assert!(r.mass_erased);
    assert_eq!(r.sectors_erased, [0x9000_0000, 0x9000_1000]);
    let t = ops(dfu.transport().transcript());
    let mass = t.iter().position(|o| o.starts_with("MassErase")).unwrap();
    assert_eq!(
        t[..mass].last().map(String::as_str),
        Some("SetInterface(0)")
    );
    let first = t.iter().position(|o| o.starts_with("Erase(0x90000000)"));
    assert!(first.is_some_and(|f| f > mass), "{t:?}");
    let dev = dfu.transport();
    assert_eq!(dev.memory(0, 0x0802_0000, 16).unwrap(), [0xff; 16]);
    assert_eq!(
        dev.memory(1, 0x9000_0100, 5000).unwrap(),
        &pattern(5000, 4)[..]
    );
    assert_eq!(dev.memory(1, 0x9000_0000, 0x100).unwrap(), [0xff; 0x100]);
}

#[test]
fn no_back_off_sleeps_past_the_limit_of_its_wait() {
    // A device that stalls every GETSTATUS; every limit 1 ms, no job armed.
    let liar = Liar::new(
        SimDevice::new("stm32l4").unwrap(),
        Box::new(|x| {
            if x.request == request::GETSTATUS {
                x.reply = Err(TransportError::Stall);
            }
        }),
    );
    let mut o = EngineOptions::default();
    let ms = Duration::from_millis(1);
    let t = &mut o.timeouts;
    (t.control, t.status, t.command, t.erase, t.mass_erase) = (ms, ms, ms, ms, ms);
    (t.manifest, t.wedge_wait, t.job) = (ms, ms, Some(ms));
    let mut dfu = Dfu::open(liar, 0, o).unwrap();
    let e = dfu.ensure_idle().unwrap_err();
    assert_eq!(e.transport_error(), Some(&TransportError::Stall), "{e}");
    let slept = &dfu.transport().slept;
    assert!(!slept.is_empty());
    assert!(slept.iter().all(|d| *d <= ms), "{slept:?}");
    // And within a job: the job's own deadline is 1 ms.
    dfu.transport_mut().slept.clear();
    let image = Image::from_binary(0x0800_0000, vec![1; 16]).unwrap();
    let e = job::flash(&mut dfu, &image, &opts(), &mut Silent, &CancelToken::new()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Protocol(ProtocolError::JobDeadline { .. } | ProtocolError::Transport { .. })
        ),
        "{e}"
    );
    let slept = &dfu.transport().slept;
    assert!(slept.iter().all(|d| *d <= ms), "{slept:?}");
}
