//! The differential flash (the default): planned sectors that already hold what the flash
//! would leave are read, found equal and left alone; the reading of a sector stops at its
//! first difference; a device that refuses to be read gets the full flash.

mod common;

use common::{flash, flash_events, open, ops, pattern};
use dfuflash::image::{Image, Segment, Target};
use dfuflash::job::{self, FlashOptions};
use dfuflash::progress::{CancelToken, Event, Flow, Level, Phase, Silent};
use dfuflash::protocol::State;
use dfuflash::sim::{Faults, Op, SimDevice};
use dfuflash::Error;

const BASE: u32 = 0x0804_0000;
const SECTOR: usize = 0x2_0000;
/// The 1.8 MB image of the benchmarks: 14 sectors of 128 KB from 0x08040000, less 4 KB.
const LEN: usize = 0x1c_0000 - 4096;

fn differential() -> FlashOptions {
    FlashOptions::default()
}

fn full() -> FlashOptions {
    common::opts()
}

/// The differential flash with the boot block in place: the tests of how sectors are compared
/// leave out the boot sector's own rule (a change elsewhere erases it too; tests/boot_last.rs).
fn compare_only() -> FlashOptions {
    let mut o = FlashOptions::default();
    o.boot_last = false;
    o
}

fn sectors(first: usize, n: usize) -> Vec<u32> {
    (first..first + n)
        .map(|i| BASE + (i * SECTOR) as u32)
        .collect()
}

/// The requests of the compare phase: everything before the first erase or data block.
fn compare_ops(dev: &SimDevice, from: usize) -> Vec<String> {
    let t = &dev.transcript()[from..];
    let end = t
        .iter()
        .position(|r| matches!(r.op, Op::Erase(_) | Op::Dnload { .. }))
        .unwrap_or(t.len());
    ops(&t[..end])
}

fn uploads(ops: &[String]) -> usize {
    ops.iter().filter(|o| o.starts_with("Upload")).count()
}

#[test]
fn an_unchanged_image_on_rev_v_is_read_once_and_nothing_is_erased_or_written() {
    let mut dfu = open("stm32h743-revv");
    let data = pattern(LEN, 3);
    let image = Image::from_binary(BASE, data.clone()).unwrap();
    let first = flash(&mut dfu, &image, &differential()).unwrap();
    assert_eq!(first.sectors_skipped, Vec::<u32>::new());
    assert_eq!(first.sectors_erased, sectors(0, 14));
    assert_eq!(first.workaround_sectors, sectors(6, 8));

    let from = dfu.transport().transcript().len();
    let (r, events) = flash_events(&mut dfu, &image, &differential());
    let r = r.unwrap();
    assert_eq!(r.sectors_skipped, sectors(0, 14));
    assert_eq!(r.sectors_erased, Vec::<u32>::new());
    assert_eq!(
        r.workaround_sectors,
        Vec::<u32>::new(),
        "no erase, no wedge"
    );
    assert_eq!(r.bytes_written, 0);
    assert_eq!(
        r.bytes_verified, LEN as u64,
        "the comparison read every byte"
    );
    let dev = dfu.transport();
    let t = &dev.transcript()[from..];
    assert!(!t
        .iter()
        .any(|r| matches!(r.op, Op::Erase(_) | Op::Dnload { .. })));
    // One stream over the 14 contiguous sectors, every block once: its first block read
    // alone, the rest from a second Set Address one block on.
    let xfer = dfu.transfer_size();
    let got = ops(t);
    let addresses: Vec<&String> = got.iter().filter(|o| o.starts_with("SetAddress")).collect();
    assert_eq!(
        addresses,
        ["SetAddress(0x08040000)", "SetAddress(0x08040400)"]
    );
    assert_eq!(uploads(&got), 14 * SECTOR / xfer);
    assert_eq!(dev.memory(0, BASE, LEN).unwrap(), &data[..]);
    let phases: Vec<&String> = events
        .iter()
        .filter(|e| e.starts_with("PhaseStart"))
        .collect();
    assert_eq!(
        phases,
        [
            &format!("PhaseStart {{ phase: Compare, total: {} }}", 14 * SECTOR),
            "PhaseStart { phase: Erase, total: 0 }",
            "PhaseStart { phase: Write, total: 0 }",
        ]
    );
    assert!(events
        .iter()
        .any(|e| e.contains("14 of 14 planned sectors already hold the image: left alone")));
}

#[test]
fn a_small_unchanged_image_sends_exactly_this_request_sequence() {
    let mut dfu = open("stm32h743-revy");
    let image = Image::from_binary(0x0802_0000, pattern(40, 5)).unwrap();
    flash(&mut dfu, &image, &differential()).unwrap();
    let from = dfu.transport().transcript().len();
    let r = flash(&mut dfu, &image, &differential()).unwrap();
    assert_eq!(r.sectors_skipped, [0x0802_0000]);
    assert_eq!((r.bytes_written, r.bytes_verified), (0, 40));
    let blocks = SECTOR / dfu.transfer_size();
    let xfer = dfu.transfer_size();
    let mut expected = vec![
        "GetStatus=dfuIDLE".to_string(),
        "SetAddress(0x08020000)".into(),
        "GetStatus=dfuDNBUSY".into(),
        "GetStatus=dfuDNLOAD-IDLE".into(),
        "Abort".into(),
        format!("Upload {{ block: 2, len: {xfer} }}"),
        "Abort".into(),
        "SetAddress(0x08020400)".into(),
        "GetStatus=dfuDNBUSY".into(),
        "GetStatus=dfuDNLOAD-IDLE".into(),
        "Abort".into(),
    ];
    for b in 2..1 + blocks {
        expected.push(format!(
            "Upload {{ block: {b}, len: {} }}",
            dfu.transfer_size()
        ));
    }
    expected.push("Abort".into());
    expected.push("GetStatus=dfuIDLE".into());
    assert_eq!(ops(&dfu.transport().transcript()[from..]), expected);
}

#[test]
fn one_changed_sector_is_the_only_one_erased_and_written_and_its_reading_stops_at_the_difference() {
    let mut dfu = open("stm32h743-revv");
    let old = pattern(LEN, 3);
    flash(
        &mut dfu,
        &Image::from_binary(BASE, old.clone()).unwrap(),
        &full(),
    )
    .unwrap();
    let mut new = old.clone();
    // A change 0x3000 into sector 8 (past 1 MB: a Rev V wedge sector).
    new[8 * SECTOR + 0x3000] ^= 0x5a;
    let from = dfu.transport().transcript().len();
    let r = flash(
        &mut dfu,
        &Image::from_binary(BASE, new.clone()).unwrap(),
        &compare_only(),
    )
    .unwrap();
    assert_eq!(r.sectors_erased, sectors(8, 1));
    assert_eq!(r.workaround_sectors, sectors(8, 1));
    let mut skipped = sectors(0, 8);
    skipped.extend(sectors(9, 5));
    assert_eq!(r.sectors_skipped, skipped);
    assert_eq!(r.bytes_written, SECTOR as u64);
    assert_eq!(r.bytes_verified, LEN as u64);
    assert_eq!(dfu.transport().memory(0, BASE, LEN).unwrap(), &new[..]);

    let xfer = dfu.transfer_size();
    let compare = compare_ops(dfu.transport(), from);
    let addresses: Vec<&String> = compare
        .iter()
        .filter(|o| o.starts_with("SetAddress"))
        .collect();
    assert_eq!(
        addresses,
        [
            "SetAddress(0x08040000)",
            "SetAddress(0x08040400)",
            "SetAddress(0x08160000)",
            "SetAddress(0x08160400)"
        ],
        "one stream, then the next sector after the difference (each with its first block alone)"
    );
    assert_eq!(
        uploads(&compare),
        13 * SECTOR / xfer + 0x3000 / xfer + 1,
        "sector 8 is read up to its first difference only"
    );
    // The verify reads back the written sector, then its two unchanged neighbours whole: the
    // erase must not have reached them.
    let verify = ops(&dfu.transport().transcript()[from..]);
    let after_write = verify
        .iter()
        .rposition(|o| o.starts_with("Dnload"))
        .unwrap();
    let streams: Vec<&String> = verify[after_write..]
        .iter()
        .filter(|o| o.starts_with("SetAddress"))
        .collect();
    assert_eq!(
        streams,
        [
            "SetAddress(0x08140000)",
            "SetAddress(0x08140400)",
            "SetAddress(0x08120000)",
            "SetAddress(0x08120400)",
            "SetAddress(0x08160000)",
            "SetAddress(0x08160400)"
        ]
    );
    assert_eq!(uploads(&verify[after_write..]), 3 * SECTOR / xfer);
    assert_eq!(r.bytes_checked, 2 * SECTOR as u64);
}

#[test]
fn an_image_changed_everywhere_costs_one_block_per_sector() {
    let mut dfu = open("stm32h743-revy");
    let image = Image::from_binary(BASE, pattern(LEN, 3)).unwrap();
    let r = flash(&mut dfu, &image, &differential()).unwrap();
    assert_eq!(r.sectors_erased, sectors(0, 14));
    assert_eq!(r.sectors_skipped, Vec::<u32>::new());
    let compare = compare_ops(dfu.transport(), 0);
    assert_eq!(uploads(&compare), 14);
    assert_eq!(
        compare
            .iter()
            .filter(|o| o.starts_with("SetAddress"))
            .count(),
        14
    );
}

#[test]
fn a_sector_is_skipped_only_when_the_bytes_outside_the_image_are_erased() {
    let mut dfu = open("stm32f405");
    // 100 bytes in the middle of the 16 KB sector at 0x08004000.
    let data = pattern(100, 7);
    let image = Image::from_binary(0x0800_4100, data.clone()).unwrap();
    let dev = dfu.transport_mut();
    dev.poke(0, 0x0800_4100, &data);
    dev.poke(0, 0x0800_7ff0, &[0]);
    let r = flash(&mut dfu, &image, &differential()).unwrap();
    assert_eq!(
        r.sectors_erased,
        [0x0800_4000],
        "a stray byte the erase would clear"
    );
    assert_eq!(dfu.transport().memory(0, 0x0800_7ff0, 1).unwrap(), [0xff]);
    let r = flash(&mut dfu, &image, &differential()).unwrap();
    assert_eq!(r.sectors_skipped, [0x0800_4000]);
    assert_eq!(r.bytes_verified, 100);
}

#[test]
fn full_compares_nothing() {
    let mut dfu = open("stm32h743-revy");
    let image = Image::from_binary(0x0802_0000, pattern(4096, 5)).unwrap();
    flash(&mut dfu, &image, &full()).unwrap();
    let from = dfu.transport().transcript().len();
    let (r, events) = flash_events(&mut dfu, &image, &full());
    let r = r.unwrap();
    assert_eq!((r.sectors_erased.len(), r.sectors_skipped.len()), (1, 0));
    assert!(!events.iter().any(|e| e.contains("Compare")));
    let t = &dfu.transport().transcript()[from..];
    let first_upload = t
        .iter()
        .position(|r| matches!(r.op, Op::Upload { .. }))
        .unwrap();
    let first_erase = t.iter().position(|r| matches!(r.op, Op::Erase(_))).unwrap();
    assert!(first_erase < first_upload, "no upload before the erase");
}

#[test]
fn a_device_that_refuses_the_reading_gets_the_full_flash_and_says_so() {
    let mut dfu = open("stm32h743-revy");
    let image = Image::from_binary(0x0802_0000, pattern(4096, 5)).unwrap();
    flash(&mut dfu, &image, &full()).unwrap();
    // Where the first UPLOAD falls in a differential flash of this image, from a dry run.
    let before = dfu.transport().requests();
    flash(&mut dfu, &image, &differential()).unwrap();
    let t = dfu.transport().transcript();
    let offset = t
        .iter()
        .find(|r| r.index > before && matches!(r.op, Op::Upload { .. }))
        .unwrap()
        .index
        - before;
    let first_upload = dfu.transport().requests() + offset;
    let faults = Faults {
        status_at: Some((first_upload, dfuflash::protocol::Status::ErrVendor)),
        ..Faults::default()
    };
    dfu.transport_mut().set_faults(faults);
    let mut logs = Vec::new();
    let r = job::flash(
        &mut dfu,
        &image,
        &differential(),
        &mut |ev: &Event<'_>| {
            if let Event::Log { level, message } = ev {
                logs.push((*level, message.to_string()));
            }
            Flow::Continue
        },
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!((r.sectors_erased.len(), r.sectors_skipped.len()), (1, 0));
    assert_eq!(r.bytes_verified, 4096);
    let warn = logs
        .iter()
        .find(|(l, _)| *l == Level::Warn)
        .expect("a warning");
    assert!(
        warn.1.contains("errVENDOR")
            && warn.1.ends_with(
                "the device could not be read, so the sectors not yet compared are erased and written"
            ),
        "{}",
        warn.1
    );
}

#[test]
fn a_refusal_on_the_second_alt_setting_keeps_what_the_first_one_skipped() {
    let mut dfu = open("portenta-h7");
    let image = Image::new(vec![
        Target {
            alt: 0,
            name: None,
            segments: vec![Segment::new(BASE, pattern(2 * SECTOR, 3))],
        },
        Target {
            alt: 1,
            name: None,
            segments: vec![Segment::new(0x9000_0000, pattern(16 * 1024, 4))],
        },
    ])
    .unwrap();
    flash(&mut dfu, &image, &full()).unwrap();
    // The first UPLOAD on alt 1 in a differential flash of this image, from a dry run.
    let before = dfu.transport().requests();
    flash(&mut dfu, &image, &compare_only()).unwrap();
    let t = dfu.transport().transcript();
    let at = t
        .iter()
        .position(|r| r.index > before && r.op == Op::SetAddress(0x9000_0000))
        .unwrap();
    let upload = t[at..]
        .iter()
        .find(|r| matches!(r.op, Op::Upload { .. }))
        .unwrap()
        .index;
    let stall_at = dfu.transport().requests() + upload - before;
    dfu.transport_mut().set_faults(Faults {
        stall_at: Some(stall_at),
        ..Faults::default()
    });
    let (r, events) = flash_events(&mut dfu, &image, &compare_only());
    let r = r.unwrap();
    assert_eq!(r.sectors_skipped, sectors(0, 2), "alt 0 was compared first");
    assert_eq!(
        r.sectors_erased,
        [0x9000_0000, 0x9000_1000, 0x9000_2000, 0x9000_3000]
    );
    assert_eq!(r.bytes_verified, (2 * SECTOR + 16 * 1024) as u64);
    assert!(events
        .iter()
        .any(|e| e.contains("the sectors not yet compared are erased and written")));
    let total = 2 * SECTOR + 16 * 1024;
    assert!(
        events.iter().any(|e| e.starts_with(&format!(
            "Progress {{ phase: Compare, done: {total}, total: {total}"
        ))),
        "the compare phase ends at its total"
    );
}

#[test]
fn with_verify_off_the_bytes_the_comparison_read_and_found_equal_still_count_as_verified() {
    let mut dfu = open("stm32h743-revy");
    let image = Image::from_binary(0x0802_0000, pattern(4096, 5)).unwrap();
    flash(&mut dfu, &image, &full()).unwrap();
    let mut o = differential();
    o.verify = false;
    let r = flash(&mut dfu, &image, &o).unwrap();
    // As the C header says of bytes_verified: the comparison read them back and found them equal.
    assert_eq!((r.sectors_skipped.len(), r.bytes_verified), (1, 4096));
}

#[test]
fn a_cancel_before_the_job_sends_no_upload() {
    let mut dfu = open("stm32h743-revy");
    let image = Image::from_binary(0x0802_0000, pattern(4096, 5)).unwrap();
    let token = CancelToken::new();
    token.cancel();
    let from = dfu.transport().transcript().len();
    let e = job::flash(&mut dfu, &image, &differential(), &mut Silent, &token).unwrap_err();
    assert!(matches!(e, Error::Cancelled { .. }), "{e}");
    assert!(!dfu.transport().transcript()[from..]
        .iter()
        .any(|r| matches!(r.op, Op::Upload { .. } | Op::SetAddress(_))));
}

#[test]
fn a_disconnect_while_comparing_fails_the_job() {
    let mut dfu = open("stm32h743-revy");
    let image = Image::from_binary(0x0802_0000, pattern(4096, 5)).unwrap();
    let faults = Faults {
        disconnect_at: Some(dfu.transport().requests() + 8),
        ..Faults::default()
    };
    dfu.transport_mut().set_faults(faults);
    let e = flash(&mut dfu, &image, &differential()).unwrap_err();
    assert!(e.to_string().contains("device disconnected"), "{e}");
    assert!(!dfu
        .transport()
        .transcript()
        .iter()
        .any(|r| matches!(r.op, Op::Erase(_))));
}

#[test]
fn cancelling_while_comparing_leaves_the_device_idle_and_untouched() {
    let mut dfu = open("stm32h743-revv");
    let image = Image::from_binary(BASE, pattern(LEN, 3)).unwrap();
    flash(&mut dfu, &image, &full()).unwrap();
    let from = dfu.transport().transcript().len();
    let token = CancelToken::new();
    let t2 = token.clone();
    let e = job::flash(
        &mut dfu,
        &image,
        &differential(),
        &mut |ev: &Event<'_>| {
            if let Event::Progress {
                phase: Phase::Compare,
                done,
                ..
            } = ev
            {
                if *done >= 3 * SECTOR as u64 {
                    t2.cancel();
                }
            }
            Flow::Continue
        },
        &token,
    )
    .unwrap_err();
    assert!(matches!(
        e,
        Error::Cancelled {
            phase: Phase::Compare
        }
    ));
    assert_eq!(dfu.transport().state().0, State::DfuIdle);
    assert!(!dfu.transport().transcript()[from..]
        .iter()
        .any(|r| matches!(r.op, Op::Erase(_) | Op::Dnload { .. })));
}

#[test]
fn compare_progress_is_monotonic_and_ends_at_its_total() {
    let mut dfu = open("stm32h743-revv");
    let old = pattern(LEN, 3);
    flash(
        &mut dfu,
        &Image::from_binary(BASE, old.clone()).unwrap(),
        &full(),
    )
    .unwrap();
    let mut new = old;
    new[SECTOR + 5] ^= 1; // sector 1 differs in its first block
    let (r, events) = flash_events(
        &mut dfu,
        &Image::from_binary(BASE, new).unwrap(),
        &compare_only(),
    );
    assert_eq!(r.unwrap().sectors_erased, sectors(1, 1));
    let done: Vec<u64> = events
        .iter()
        .filter(|e| e.starts_with("Progress { phase: Compare"))
        .map(|e| {
            let d = e.split("done: ").nth(1).unwrap();
            d[..d.find(',').unwrap()].parse().unwrap()
        })
        .collect();
    assert!(done.windows(2).all(|w| w[0] < w[1]), "monotonic");
    assert_eq!(*done.last().unwrap(), 14 * SECTOR as u64);
}
