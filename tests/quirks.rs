//! dfu-util's host-side quirks (src/protocol/quirks.rs), each against a device that needs it:
//! the GD32VF103 ROM (a wrong layout fixed from its part number, a leave it may answer or not), a
//! device whose bwPollTimeout is bogus (Openmoko's ids), and one that names the wrong DFU
//! version (LeafLabs Maple's).

mod common;

use common::liar::Liar;
use common::{flash, open_on, ops, pattern};
use dfuflash::image::Image;
use dfuflash::job::FlashOptions;
use dfuflash::layout::Layout;
use dfuflash::protocol::{request, LeaveOutcome};
use dfuflash::sim::{Op, SimDevice};
use dfuflash::transport::Transport;

#[test]
fn a_longan_nano_firmware_erases_1_kb_pages_and_leaves_as_dfu_util_asks_it_to() {
    let dev = SimDevice::new("gd32vf103").unwrap();
    // The device says 512 pages of 2 KB; the host sees the part's 128 pages of 1 KB.
    assert_eq!(
        dev.info().alt_settings[0].name,
        "@Internal Flash  /0x08000000/512*002Kg"
    );
    let mut dfu = open_on(dev, 0);
    let l = Layout::parse(&dfu.info().alt_settings[0].name).unwrap();
    assert_eq!((l.sector_count(), l.total_size()), (128, 128 * 1024));
    assert!(dfu.info().quirks[1].starts_with("gd32vf103-layout: part 3CBJ has 128 pages"));

    // A 20 KB firmware, as PlatformIO's Longan Nano blink is, at the start of flash.
    let fw = pattern(20_140, 11);
    let image = Image::from_binary(0x0800_0000, fw.clone()).unwrap();
    let mut o = FlashOptions::default();
    o.leave = true;
    let r = flash(&mut dfu, &image, &o).unwrap();
    let pages: Vec<u32> = (0..20).map(|i| 0x0800_0000 + i * 1024).collect();
    assert_eq!(r.sectors_erased, pages);
    assert_eq!(r.bytes_verified, fw.len() as u64);
    assert_eq!(r.left, Some(LeaveOutcome::Disconnected));
    let dev = dfu.transport();
    assert_eq!(dev.memory(0, 0x0800_0000, fw.len()).unwrap(), &fw[..]);
    assert_eq!(dev.left_to(), Some(0x0800_0000));
    // Every erase is of a 1 KB page; the leave is dfu-util's: the zero-length DNLOAD, then one
    // GETSTATUS, which finds the board gone.
    let erases: Vec<u32> = dev
        .transcript()
        .iter()
        .filter_map(|r| match r.op {
            Op::Erase(a) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(erases, pages);
    let t = ops(dev.transcript());
    assert_eq!(
        t[t.len() - 5..],
        [
            "SetAddress(0x08000000)",
            "GetStatus=dfuDNBUSY",
            "GetStatus=dfuDNLOAD-IDLE",
            "DnloadEnd",
            "GetStatus:Disconnected"
        ],
        "{:?}",
        &t[t.len() - 6..]
    );
}

#[test]
fn every_way_the_gd32vf103_may_leave_is_success_and_staying_in_dfu_mode_is_not() {
    let fw = pattern(3000, 4);
    let image = Image::from_binary(0x0800_0000, fw.clone()).unwrap();
    let mut o = FlashOptions::default();
    o.leave = true;
    for (model, leave, left) in [
        (
            "gd32vf103-leave-dnload-unanswered",
            ["DnloadEnd:Disconnected", "GetStatus:Disconnected"],
            Some(LeaveOutcome::Disconnected),
        ),
        (
            "gd32vf103-leave-dnload",
            ["DnloadEnd", "GetStatus:Disconnected"],
            Some(LeaveOutcome::Disconnected),
        ),
        (
            "gd32vf103-leave-status-unanswered",
            ["DnloadEnd", "GetStatus:Disconnected"],
            Some(LeaveOutcome::Disconnected),
        ),
        (
            "gd32vf103-leave-manifest",
            ["DnloadEnd", "GetStatus=dfuMANIFEST"],
            Some(LeaveOutcome::Manifested),
        ),
        ("gd32vf103-stays", ["DnloadEnd", "GetStatus=dfuIDLE"], None),
    ] {
        let mut dfu = open_on(SimDevice::new(model).unwrap(), 0);
        let r = flash(&mut dfu, &image, &o);
        let dev = dfu.transport();
        match left {
            Some(outcome) => {
                assert_eq!(r.unwrap().left, Some(outcome), "{model}");
                assert_eq!(dev.left_to(), Some(0x0800_0000), "{model}");
            }
            None => {
                let e = r.unwrap_err();
                assert_eq!(e.kind(), "did_not_leave", "{model}: {e}");
                assert!(
                    e.to_string().contains(
                        "the device did not leave DFU mode: it answered the leave request with OK in dfuIDLE"
                    ),
                    "{e}"
                );
                assert_eq!((dev.left_to(), dev.is_disconnected()), (None, false));
            }
        }
        assert_eq!(dev.memory(0, 0x0800_0000, fw.len()).unwrap(), &fw[..]);
        let t = ops(dev.transcript());
        assert_eq!(t[t.len() - 2..], leave, "{model}: {:?}", &t[t.len() - 6..]);
    }
}

#[test]
fn a_device_without_the_quirk_that_fails_the_leave_dnload_is_not_asked_again() {
    // ST's ROM may fail the zero-length DNLOAD as it goes: that is the sign it left, as before.
    let mut dev = SimDevice::new("stm32f405").unwrap();
    dev.set_faults(dfuflash::sim::Faults {
        disconnect_at: Some(4),
        ..Default::default()
    });
    let mut dfu = open_on(dev, 0);
    dfu.ensure_idle().unwrap();
    assert_eq!(dfu.leave(None).unwrap(), LeaveOutcome::Disconnected);
    assert_eq!(
        ops(dfu.transport().transcript()),
        [
            "SetInterface(0)",
            "GetStatus=dfuERROR/10",
            "ClrStatus",
            "GetStatus=dfuIDLE",
            "DnloadEnd:Disconnected"
        ]
    );
}

#[test]
fn an_image_past_the_parts_real_flash_is_refused_before_any_request() {
    let mut dfu = open_on(SimDevice::new("gd32vf103").unwrap(), 0);
    // 129 KB: inside the 1 MB the device reports, past the 128 KB it has.
    let image = Image::from_binary(0x0800_0000, pattern(129 * 1024, 3)).unwrap();
    let e = flash(&mut dfu, &image, &FlashOptions::default()).unwrap_err();
    assert_eq!(e.kind(), "outside_layout", "{e}");
    assert_eq!(dfu.transport().requests(), 0);
}

/// A plain DFU 1.1 device that enumerates with these ids and DFU version, and answers every
/// GETSTATUS with this poll timeout.
fn dfu11_as(vid: u16, pid: u16, bcd: u16, version: u16, poll_ms: u32) -> Liar {
    let mut liar = Liar::new(
        SimDevice::new("dfu11-generic").unwrap(),
        Box::new(move |x| {
            if let (request::GETSTATUS, Ok(r)) = (x.request, x.reply.as_mut()) {
                r[1..4].copy_from_slice(&poll_ms.to_le_bytes()[..3]);
            }
        }),
    );
    (
        liar.info.vendor_id,
        liar.info.product_id,
        liar.info.bcd_device,
    ) = (vid, pid, bcd);
    liar.info.functional.dfu_version = version;
    liar
}

#[test]
fn a_bogus_poll_timeout_is_ignored_for_the_devices_dfu_util_names() {
    // 0xFFFFFF ms, four and a half hours, after every request.
    let image = Image::from_binary(0, pattern(8 * 1024, 5)).unwrap();
    let mut freerunner = open_on(dfu11_as(0x1d50, 0x5119, 0x0000, 0x0110, 0xff_ffff), 0);
    let r = flash(&mut freerunner, &image, &FlashOptions::default()).unwrap();
    assert_eq!(r.bytes_verified, 8 * 1024);
    assert!(freerunner.info().quirks[0].starts_with("ignore-poll-timeout"));
    // The host waited dfu-util's 5 ms, not the device's number: minutes at most.
    assert!(r.elapsed.as_secs() < 60, "{:?}", r.elapsed);
    // Another vendor's device is taken at its word, and its job's deadline ends the wait.
    let mut other = open_on(dfu11_as(0x1209, 0xdf11, 0x0100, 0x0110, 0xff_ffff), 0);
    let e = flash(&mut other, &image, &FlashOptions::default()).unwrap_err();
    assert_eq!(e.kind(), "job_deadline", "{e}");
}

#[test]
fn a_maple_that_names_dfuse_is_flashed_as_the_dfu_1_1_device_it_is() {
    let image = Image::from_binary(0, pattern(4096, 9)).unwrap();
    let mut maple = open_on(dfu11_as(0x1eaf, 0x0003, 0x0200, 0x011a, 4), 0);
    assert!(!maple.is_dfuse());
    let r = flash(&mut maple, &image, &FlashOptions::default()).unwrap();
    assert_eq!(r.bytes_verified, 4096);
    assert_eq!(
        &maple.transport().dev.firmware()[..4096],
        &image.targets[0].segments[0].data[..]
    );
    // Another bcdDevice is not the rule's: it is taken as DfuSe, and refused (no layout)
    // before any request reaches it.
    let mut other = open_on(dfu11_as(0x1eaf, 0x0003, 0x0201, 0x011a, 4), 0);
    assert!(other.is_dfuse());
    let e = flash(&mut other, &image, &FlashOptions::default()).unwrap_err();
    assert_eq!(e.kind(), "no_layout", "{e}");
    assert_eq!(other.transport().dev.requests(), 0, "{e}");
}
