//! Flash jobs on the devices that bend the protocol: the F405's long mass erase, the L4's
//! stalled polls, the strict C5, a spec-strict DfuSe device, the Portenta's 4 KB blocks.

mod common;

use common::*;
use std::time::Duration;

use dfuflash::image::{Image, Segment};
use dfuflash::protocol::State;
use dfuflash::sim::{Op, Outcome, SimDevice};
use dfuflash::transport::Transport;

#[test]
fn f405_mass_erase_waits_out_thirty_seconds_of_busy_polls() {
    let mut dev = SimDevice::new("stm32f405").unwrap();
    dev.poke(0, 0x080e_0000, &[0; 16]);
    let mut dfu = open_dev(dev, true);
    let mut o = opts();
    o.mass_erase = true;
    let data = pattern(4096, 1);
    let r = flash(
        &mut dfu,
        &Image::from_binary(0x0800_0000, data.clone()).unwrap(),
        &o,
    )
    .unwrap();
    assert!(r.mass_erased && r.sectors_erased.is_empty());
    let dev = dfu.transport();
    assert_eq!(
        dev.memory(0, 0x080e_0000, 16).unwrap(),
        [0xff; 16],
        "mass erase erased the last sector too"
    );
    assert_eq!(dev.memory(0, 0x0800_0000, 4096).unwrap(), &data[..]);
    let busy_polls = dev
        .transcript()
        .iter()
        .filter(|r| r.outcome == Outcome::Ok(Some((dfuflash::protocol::Status::Ok, State::DnBusy))))
        .count();
    // 30 s at the reported 100 ms: about 300 polls, not thousands.
    assert!((250..=320).contains(&busy_polls), "{busy_polls}");
}

#[test]
fn l4_stalled_status_polls_are_retried_and_the_flash_completes() {
    let mut dfu = open("stm32l4");
    let data = pattern(100 * 1024 + 3, 21);
    let r = flash(
        &mut dfu,
        &Image::from_binary(0x0800_0000, data.clone()).unwrap(),
        &opts(),
    )
    .unwrap();
    assert_eq!(r.sectors_erased.len(), 51);
    let t = dfu.transport().transcript();
    let stalls = t
        .iter()
        .filter(|r| r.op == Op::GetStatus && r.outcome == Outcome::Stall)
        .count();
    assert!(
        stalls >= 51,
        "every page erase stalls an early GETSTATUS: {stalls}"
    );
    assert_eq!(
        dfu.transport().memory(0, 0x0800_0000, data.len()).unwrap(),
        &data[..]
    );
}

#[test]
fn strict_c5_flashes_completely_and_never_sees_clrstatus_outside_dferror() {
    let mut dfu = open("stm32c5-strict");
    let data = pattern(256 * 1024, 4);
    let r = flash(
        &mut dfu,
        &Image::from_binary(0x0800_0000, data.clone()).unwrap(),
        &opts(),
    )
    .unwrap();
    assert_eq!(r.sectors_erased.len(), 128);
    assert_eq!(r.bytes_verified, 256 * 1024);
    assert_eq!(
        dfu.transport().memory(0, 0x0800_0000, data.len()).unwrap(),
        &data[..]
    );
    for (before, rec) in with_state_before(dfu.transport().transcript()) {
        if rec.op == Op::ClrStatus {
            assert_eq!(
                before,
                State::Error,
                "CLRSTATUS in {before} at #{}",
                rec.index
            );
            assert_ne!(rec.outcome, Outcome::Stall);
        }
    }
}

#[test]
fn a_spec_strict_dfuse_device_is_polled_no_earlier_than_it_asks() {
    let mut dfu = open("dfuse-strict");
    let data = pattern(0x4_1000, 11);
    let image = Image::from_binary(0x0801_0000, data.clone()).unwrap();
    let r = flash(&mut dfu, &image, &opts()).unwrap();
    assert_eq!(r.bytes_verified, data.len() as u64);
    let dev = dfu.transport();
    assert_eq!(dev.memory(0, 0x0801_0000, data.len()).unwrap(), &data[..]);
    let t = dev.transcript();
    assert!(
        t.iter().all(|r| r.outcome != Outcome::Stall),
        "a request came before the poll timeout: {:?}",
        t.iter().find(|r| r.outcome == Outcome::Stall)
    );
    // The erases ran in the background for as long as the device said (4 x 16 KB, 2 x 128 KB).
    assert!(
        dev.now() >= Duration::from_millis(4 * 250 + 2 * 1000),
        "{:?}",
        dev.now()
    );
}

#[test]
fn the_portenta_bootloader_takes_4_kb_blocks_and_keeps_its_own_sector() {
    let mut dfu = open("portenta-h7");
    // Arduino's M7 sketch address, and the QSPI flash of alt 1.
    let sketch = pattern(0x2_3000, 13);
    let r = flash(
        &mut dfu,
        &Image::from_binary(0x0804_0000, sketch.clone()).unwrap(),
        &opts(),
    )
    .unwrap();
    assert_eq!(r.sectors_erased, [0x0804_0000, 0x0806_0000]);
    assert_eq!(
        dfu.transport()
            .memory(0, 0x0804_0000, sketch.len())
            .unwrap(),
        &sketch[..]
    );
    let blocks: Vec<usize> = dfu
        .transport()
        .transcript()
        .iter()
        .filter_map(|r| match r.op {
            Op::Dnload { block, len } if block >= 2 => Some(len),
            _ => None,
        })
        .collect();
    assert!(
        blocks.iter().all(|&l| l <= 4096) && blocks.contains(&4096),
        "{blocks:?}"
    );
    // It starts in dfuIDLE: no CLRSTATUS at all.
    assert!(dfu
        .transport()
        .transcript()
        .iter()
        .all(|r| r.op != Op::ClrStatus));
    // Sector 0 holds the bootloader: read-only in its layout, so refused before any request.
    let before = dfu.transport().requests();
    let err = flash(
        &mut dfu,
        &Image::from_binary(0x0800_0000, vec![0; 64]).unwrap(),
        &opts(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "not_writable", "{err}");
    assert_eq!(dfu.transport().requests(), before);
    dfu.select_alt(1).unwrap();
    let qspi = pattern(0x3000, 17);
    let r = flash(
        &mut dfu,
        &Image::single(1, vec![Segment::new(0x9000_0000, qspi.clone())]).unwrap(),
        &opts(),
    )
    .unwrap();
    assert_eq!(r.sectors_erased, [0x9000_0000, 0x9000_1000, 0x9000_2000]);
    assert_eq!(
        dfu.transport().memory(1, 0x9000_0000, qspi.len()).unwrap(),
        &qspi[..]
    );
}
