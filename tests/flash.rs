//! Flash jobs on every simulated model: bytes in flash, exact request sequences, reports.

mod common;

use common::*;

use dfuflash::image::{Image, Segment};
use dfuflash::protocol::State;
use dfuflash::sim::{Op, Outcome, SimDevice};
use dfuflash::transport::Transport;

const MB: u32 = 0x0810_0000;

#[test]
fn revv_full_openmv_image_flashes_with_the_workaround_exactly_past_1mb() {
    let data = pattern(0x1c_0000 - 1000, 7); // about 1.8 MB at 0x08040000, crossing 0x08100000
    let image = Image::from_binary(0x0804_0000, data.clone()).unwrap();
    let mut dev = SimDevice::new("stm32h743-revv").unwrap();
    // What the board already holds and must keep: bootloader (sector 0) and filesystem (sector 1).
    let boot = pattern(0x4_0000, 99);
    assert!(dev.poke(0, 0x0800_0000, &boot));
    let mut dfu = open_dev(dev, true);
    let (r, events) = flash_events(&mut dfu, &image, &opts());
    let r = r.unwrap();

    let expected_sectors: Vec<u32> = (2..16).map(|i| 0x0800_0000 + i * 0x2_0000).collect();
    assert_eq!(r.sectors_erased, expected_sectors);
    let wedged: Vec<u32> = (8..16).map(|i| 0x0800_0000 + i * 0x2_0000).collect();
    assert_eq!(r.workaround_sectors, wedged);
    assert_eq!(r.bytes_verified, data.len() as u64);
    assert_eq!(r.bytes_written, data.len().div_ceil(32) as u64 * 32);
    for w in &wedged {
        assert!(
            events
                .iter()
                .any(|e| e == &format!("Workaround {{ address: {w} }}")),
            "no event for {w:#x}"
        );
    }

    let dev = dfu.transport();
    assert_eq!(dev.memory(0, 0x0804_0000, data.len()).unwrap(), &data[..]);
    assert_eq!(
        dev.memory(0, 0x0800_0000, boot.len()).unwrap(),
        &boot[..],
        "sectors 0 and 1 must be untouched"
    );
    let tail = 0x0820_0000 - (0x0804_0000 + data.len() as u32);
    assert!(dev
        .memory(0, 0x0804_0000 + data.len() as u32, tail as usize)
        .unwrap()
        .iter()
        .all(|b| *b == 0xff));

    // CLRSTATUS appears only to leave the power-on dfuERROR, and as the pair right after an erase
    // of a wedged sector: first in dfuDNBUSY, then in dfuERROR.
    let t = dev.transcript();
    let mut last_erase = None;
    let mut busy_clears = Vec::new();
    for (before, rec) in with_state_before(t) {
        match rec.op {
            Op::Erase(a) => last_erase = Some(a),
            Op::ClrStatus => {
                if before == State::DnBusy {
                    let a = last_erase.expect("CLRSTATUS in dfuDNBUSY only after an erase");
                    assert!(a >= MB, "recovery below 1 MB at {a:#x}");
                    busy_clears.push(a);
                } else {
                    assert_eq!(
                        before,
                        State::Error,
                        "CLRSTATUS outside dfuERROR at #{}",
                        rec.index
                    );
                }
            }
            Op::Dnload { .. } | Op::SetAddress(_) | Op::MassErase => last_erase = None,
            _ => {}
        }
    }
    assert_eq!(busy_clears, wedged);
    assert_eq!(
        t.iter().filter(|r| r.op == Op::ClrStatus).count(),
        1 + 2 * 8
    );
}

#[test]
fn revv_without_workarounds_fails_stuck_busy_at_the_first_sector_past_1mb_within_the_deadline() {
    let image = Image::from_binary(0x0804_0000, pattern(0x1c_0000, 3)).unwrap();
    let mut dfu = open_dev(SimDevice::new("stm32h743-revv").unwrap(), false);
    let err = flash(&mut dfu, &image, &opts()).unwrap_err();
    assert_eq!(err.kind(), "stuck_busy");
    let msg = err.to_string();
    assert!(msg.contains("erase of sector 0x08100000"), "{msg}");
    assert!(msg.contains("dfu-util ticket #88"), "{msg}");
    let dev = dfu.transport();
    // Bounded: the 20 s erase deadline plus one poll interval, on the simulated clock.
    let last_erase = dev
        .transcript()
        .iter()
        .rev()
        .find(|r| matches!(r.op, Op::Erase(_)))
        .unwrap();
    assert_eq!(last_erase.op, Op::Erase(MB));
    let waited = dev.now() - last_erase.at;
    assert!(
        waited >= std::time::Duration::from_secs(20) && waited < std::time::Duration::from_secs(22),
        "{waited:?}"
    );
    assert!(
        !dev.transcript()
            .iter()
            .any(|r| r.op == Op::ClrStatus && r.index > 2),
        "no CLRSTATUS without workarounds"
    );
    assert!(!dev.is_disconnected(), "the device stays in the bootloader");
}

#[test]
fn revy_flashes_the_same_image_without_any_workaround() {
    let data = pattern(0x1c_0000, 11);
    let mut dfu = open("stm32h743-revy");
    let r = flash(
        &mut dfu,
        &Image::from_binary(0x0804_0000, data.clone()).unwrap(),
        &opts(),
    )
    .unwrap();
    assert!(r.workaround_sectors.is_empty());
    assert_eq!(r.sectors_erased.len(), 14);
    assert_eq!(
        dfu.transport().memory(0, 0x0804_0000, data.len()).unwrap(),
        &data[..]
    );
    assert_eq!(
        dfu.transport()
            .transcript()
            .iter()
            .filter(|r| r.op == Op::ClrStatus)
            .count(),
        1
    );
}

#[test]
fn small_dfuse_flash_sends_exactly_this_request_sequence() {
    let mut dfu = open("stm32h743-revy");
    let image = Image::from_binary(0x0802_0000, pattern(40, 5)).unwrap();
    let r = flash(&mut dfu, &image, &opts()).unwrap();
    assert_eq!(
        r.bytes_written, 64,
        "40 bytes padded to two 32-byte flash words"
    );
    let got = ops(dfu.transport().transcript());
    let expected = [
        "SetInterface(0)",
        "GetStatus=dfuERROR/10",
        "ClrStatus",
        "GetStatus=dfuIDLE",
        "Erase(0x08020000)",
        "GetStatus=dfuDNBUSY",
        "GetStatus=dfuDNLOAD-IDLE",
        "SetAddress(0x08020000)",
        "GetStatus=dfuDNBUSY",
        "GetStatus=dfuDNLOAD-IDLE",
        "Dnload { block: 2, len: 64 }",
        "GetStatus=dfuDNBUSY",
        "GetStatus=dfuDNLOAD-IDLE",
        "SetAddress(0x08020000)",
        "GetStatus=dfuDNBUSY",
        "GetStatus=dfuDNLOAD-IDLE",
        "Abort",
        // The whole run is the boot block: written last, then read back, padding included.
        "Upload { block: 2, len: 64 }",
        "Abort",
    ];
    assert_eq!(got, expected);
    // The report counts the DFU class requests; SET_INTERFACE came with the open.
    assert_eq!(r.requests, expected.len() as u64 - 1);
}

#[test]
fn set_address_is_sent_once_per_run_not_per_block() {
    let mut dfu = open("stm32f405");
    let data = pattern(100 * 1024, 9);
    flash(
        &mut dfu,
        &Image::from_binary(0x0800_0000, data.clone()).unwrap(),
        &opts(),
    )
    .unwrap();
    let t = dfu.transport().transcript();
    let blocks: Vec<u16> = t
        .iter()
        .filter_map(|r| {
            if let Op::Dnload { block, .. } = r.op {
                Some(block)
            } else {
                None
            }
        })
        .collect();
    let mut expected: Vec<u16> = (2..2 + 49).collect();
    expected.push(2);
    assert_eq!(
        blocks, expected,
        "49 blocks of 2048 bytes numbered from 2, then the first (the boot block) on its own"
    );
    assert_eq!(
        t.iter()
            .filter(|r| matches!(r.op, Op::SetAddress(_)))
            .count(),
        5,
        "one for the run, two for verifying it (its first block alone), one for writing the boot block and one for reading it back"
    );
    // Mixed sectors: 4 x 16 KB then the 64 KB sector 4 (100 KB reaches into it).
    let erased: Vec<u32> = t
        .iter()
        .filter_map(|r| {
            if let Op::Erase(a) = r.op {
                Some(a)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        erased,
        [
            0x0800_0000,
            0x0800_4000,
            0x0800_8000,
            0x0800_c000,
            0x0801_0000
        ]
    );
    assert_eq!(
        dfu.transport().memory(0, 0x0800_0000, data.len()).unwrap(),
        &data[..]
    );
}

#[test]
fn plain_dfu11_download_manifests_and_verifies_by_upload() {
    let mut dfu = open("dfu11-generic");
    let data = pattern(10 * 1024 + 17, 8);
    let mut o = opts();
    o.leave = true;
    let r = flash(&mut dfu, &Image::from_binary(0, data.clone()).unwrap(), &o).unwrap();
    assert_eq!(
        (r.bytes_written, r.bytes_verified),
        (data.len() as u64, data.len() as u64)
    );
    let dev = dfu.transport();
    assert_eq!(dev.firmware(), &data[..]);
    let t = dev.transcript();
    let blocks: Vec<(u16, usize)> = t
        .iter()
        .filter_map(|r| {
            if let Op::Dnload { block, len } = r.op {
                Some((block, len))
            } else {
                None
            }
        })
        .collect();
    assert_eq!(blocks.len(), 11);
    assert_eq!(blocks[0], (0, 1024));
    assert_eq!(blocks[10], (10, 17));
    let end = t.iter().position(|r| r.op == Op::DnloadEnd).unwrap();
    assert!(
        t[end + 1..]
            .iter()
            .any(|r| r.outcome
                == Outcome::Ok(Some((dfuflash::protocol::Status::Ok, State::Manifest))))
    );
    assert!(t.iter().all(|r| r.op != Op::ClrStatus));
    assert!(dev.is_disconnected(), "leave resets a plain DFU device");
    // Plain DFU devices are polled no faster than the poll timeout they report.
    assert!(r.left.is_some());
}

#[test]
fn an_image_outside_the_layout_is_refused_before_any_request() {
    for (addr, len, kind) in [
        (0x081f_ff00u32, 0x200usize, "outside_layout"),
        (0x0700_0000, 4, "outside_layout"),
    ] {
        let mut dfu = open("stm32h743-revv");
        let err = flash(
            &mut dfu,
            &Image::from_binary(addr, vec![0; len]).unwrap(),
            &opts(),
        )
        .unwrap_err();
        assert_eq!(err.kind(), kind);
        assert!(
            err.to_string()
                .contains("@Internal Flash   /0x08000000/16*128Kg"),
            "{err}"
        );
        assert_eq!(
            dfu.transport().requests(),
            0,
            "no request may reach the device"
        );
    }
    let mut dfu = open("stm32f405");
    let ob = Image::single(1, vec![Segment::new(0x1fff_c000, vec![0xaa; 16])]).unwrap();
    let err = flash(&mut dfu, &ob, &opts()).unwrap_err();
    assert_eq!(err.kind(), "protected");
    assert_eq!(dfu.transport().requests(), 0);
}

#[test]
fn option_bytes_are_written_only_when_explicitly_allowed() {
    let mut dfu = open("stm32f405");
    let ob = Image::single(1, vec![Segment::new(0x1fff_c000, vec![0xaa; 16])]).unwrap();
    let mut o = opts();
    o.allow_option_bytes = true;
    let r = flash(&mut dfu, &ob, &o).unwrap();
    assert!(r.sectors_erased.is_empty());
    assert_eq!(
        dfu.transport().memory(1, 0x1fff_c000, 16).unwrap(),
        [0xaa; 16]
    );
}

#[test]
fn leave_sets_the_jump_address_and_the_disconnect_counts_as_success() {
    let mut dfu = open("stm32h743-revy");
    let mut o = opts();
    o.leave = true;
    let r = flash(
        &mut dfu,
        &Image::from_binary(0x0804_0000, pattern(1000, 2)).unwrap(),
        &o,
    )
    .unwrap();
    assert!(r.left.is_some());
    let dev = dfu.transport();
    assert_eq!(dev.left_to(), Some(0x0804_0000));
    let tail = ops(&dev.transcript()[dev.transcript().len() - 5..]);
    assert_eq!(
        tail,
        [
            "SetAddress(0x08040000)",
            "GetStatus=dfuDNBUSY",
            "GetStatus=dfuDNLOAD-IDLE",
            "DnloadEnd",
            "GetStatus=dfuMANIFEST"
        ]
    );
}

#[test]
fn writing_unerased_flash_fails_as_the_rom_does() {
    let mut dev = SimDevice::new("stm32f405").unwrap();
    dev.poke(0, 0x0800_0000, &[0x00; 4]);
    let mut dfu = open_dev(dev, true);
    dfu.ensure_idle().unwrap();
    let err = dfu
        .write_memory(0x0800_0000, &[0x12, 0x34, 0x56, 0x78], &mut |_, _| true)
        .unwrap_err();
    assert!(err.to_string().contains("errPROG"), "{err}");
    assert_eq!(dfu.transport().state().0, State::Error);
    // Programming only clears bits: 0xff -> 0x0f -> 0x05 works, 0x05 -> 0x0f does not.
    let mut dfu = open("stm32f405");
    dfu.ensure_idle().unwrap();
    dfu.write_memory(0x0800_0000, &[0x0f], &mut |_, _| true)
        .unwrap();
    dfu.write_memory(0x0800_0000, &[0x05], &mut |_, _| true)
        .unwrap();
    assert_eq!(dfu.transport().memory(0, 0x0800_0000, 1).unwrap(), [0x05]);
    assert!(dfu
        .write_memory(0x0800_0000, &[0x0f], &mut |_, _| true)
        .is_err());
}

#[test]
fn read_protection_answers_errvendor_and_unprotect_mass_erases_and_resets() {
    let mut dev = SimDevice::new("stm32f405").unwrap();
    dev.poke(0, 0x0800_0000, &[1, 2, 3, 4]);
    dev.set_read_protected(true);
    let mut dfu = open_dev(dev, true);
    let err = dfuflash::job::read(
        &mut dfu,
        0x0800_0000,
        4,
        &mut dfuflash::progress::Silent,
        &Default::default(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), "device_status");
    assert!(
        err.to_string().contains("errVENDOR") && err.to_string().contains("read protection"),
        "{err}"
    );
    dfu.ensure_idle().unwrap();
    dfu.read_unprotect().unwrap();
    let mut dev = dfu.into_transport();
    assert!(dev.is_disconnected() && !dev.read_protected());
    dev.replug();
    assert_eq!(dev.memory(0, 0x0800_0000, 4).unwrap(), [0xff; 4]);
}

#[test]
fn segments_go_to_their_alt_settings_and_padding_never_crosses_into_other_data() {
    let mut dfu = open("stm32h743-revy");
    let image = Image::single(
        0,
        vec![
            Segment::new(0x0800_0010, vec![1; 5]),
            Segment::new(0x0800_0020, vec![2; 40]),
            Segment::new(0x0804_0000, vec![3; 3]),
        ],
    )
    .unwrap();
    let r = flash(&mut dfu, &image, &opts()).unwrap();
    assert_eq!(r.sectors_erased, [0x0800_0000, 0x0804_0000]);
    let dev = dfu.transport();
    let mut expect = [0xff; 0x60];
    expect[0x10..0x15].fill(1);
    expect[0x20..0x48].fill(2);
    assert_eq!(dev.memory(0, 0x0800_0000, 0x60).unwrap(), &expect[..]);
    assert_eq!(r.bytes_verified, 48);
}

#[test]
fn without_verify_the_job_still_ends_in_dfu_idle() {
    for model in ["stm32h743-revy", "stm32f405", "dfu11-generic"] {
        let mut dfu = open(model);
        let address = if model == "dfu11-generic" {
            0
        } else {
            0x0802_0000
        };
        let image = Image::from_binary(address, pattern(3000, 9)).unwrap();
        let mut o = opts();
        o.verify = false;
        let r = flash(&mut dfu, &image, &o).unwrap();
        assert_eq!(r.bytes_verified, 0, "{model}");
        assert_eq!(dfu.transport().state().0, State::DfuIdle, "{model}");
    }
}

#[test]
fn a_plain_dfu11_device_has_no_addresses() {
    let mut dfu = open("dfu11-generic");
    let image = Image::from_binary(0x1000, pattern(64, 3)).unwrap();
    let err = flash(&mut dfu, &image, &opts()).unwrap_err();
    assert_eq!(err.kind(), "unsupported");
    assert!(
        err.to_string()
            .contains("a plain DFU 1.1 device has no addresses: its firmware starts at 0, so nothing can go to 0x1000"),
        "{err}"
    );
    let cancel = dfuflash::progress::CancelToken::new();
    let err = dfuflash::job::read(&mut dfu, 0x10, 16, &mut dfuflash::progress::Silent, &cancel)
        .unwrap_err();
    assert_eq!(err.kind(), "unsupported", "{err}");
    // Refused before any DFU request: only the open's SET_INTERFACE is on record.
    assert_eq!(ops(dfu.transport().transcript()), ["SetInterface(0)"]);
    // Offset 0 is the slot's start, and works.
    let data = pattern(64, 3);
    flash(
        &mut dfu,
        &Image::from_binary(0, data.clone()).unwrap(),
        &opts(),
    )
    .unwrap();
    let back = dfuflash::job::read(&mut dfu, 0, 16, &mut dfuflash::progress::Silent, &cancel);
    assert_eq!(back.unwrap(), data[..16]);
}
