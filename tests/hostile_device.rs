//! A broken or hostile device cannot misplace data, crash the host or hold it: every number a
//! device reports (wTransferSize, layouts, byte counts) is checked or bounded before the host
//! uses it as a stride, a count or a size.

mod common;

use common::liar::Liar;
use common::*;

use dfuflash::image::Image;
use dfuflash::job;
use dfuflash::progress::{CancelToken, Event, Flow, Silent};
use dfuflash::protocol::{request, ProtocolError};
use dfuflash::sim::{Op, SimDevice};
use dfuflash::transport::TransportError;
use dfuflash::Error;

const F4: &str = "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg";

/// What the board held before, where nothing is planned: a pattern in every sector.
fn filled(model: &str, transfer_size: u16, layout: &str) -> (SimDevice, Vec<u8>) {
    let mut dev = SimDevice::custom(model, transfer_size, &[layout]).unwrap();
    let old = pattern(1024 * 1024, 41);
    assert!(dev.poke(0, 0x0800_0000, &old));
    (dev, old)
}

#[test]
fn every_transfer_size_places_every_block_where_the_device_puts_it() {
    // Starts 0x100 into sector 1 (16 KB), ends inside sector 5 (128 KB): sectors 1..=5 erased.
    let start = 0x0800_4100u32;
    let data = pattern(0x2_3456, 3);
    let image = Image::from_binary(start, data.clone()).unwrap();
    for size in [64u16, 1024, 2048, 3000, 4096, 8192, 16384, 65535] {
        let (dev, old) = filled("stm32f405", size, F4);
        let mut dfu = open_on(dev, 0);
        let r = flash(&mut dfu, &image, &opts()).unwrap_or_else(|e| panic!("{size}: {e}"));
        assert_eq!(r.bytes_verified, data.len() as u64, "{size}");
        let mem = dfu.transport().memory(0, 0x0800_0000, 1024 * 1024).unwrap();
        // Outside the erased sectors 1..=5 (0x08004000..0x08040000) nothing changed; inside,
        // the image, and 0xFF around it.
        let mut expected = old.clone();
        expected[0x4000..0x4_0000].fill(0xff);
        let at = (start - 0x0800_0000) as usize;
        expected[at..at + data.len()].copy_from_slice(&data);
        let first = mem.iter().zip(&expected).position(|(a, b)| a != b);
        assert_eq!(first, None, "transfer size {size}: first wrong byte");

        // Blocks numbered from a Set Address only when each is wTransferSize long; a larger
        // wTransferSize than one control transfer gets a Set Address before every block.
        let t = dfu.transport().transcript();
        let writes: Vec<u16> = t
            .iter()
            .filter_map(|r| match r.op {
                Op::Dnload { block, .. } => Some(block),
                _ => None,
            })
            .collect();
        let chunk = (size as usize).min(4096);
        assert_eq!(writes.len(), data.len().div_ceil(chunk), "{size}");
        if size as usize > 4096 {
            assert!(writes.iter().all(|b| *b == 2), "{size}: {writes:?}");
        } else {
            assert_eq!(writes[..3], [2, 3, 4], "{size}");
        }

        let back = job::read(
            &mut dfu,
            start,
            data.len() as u32,
            &mut Silent,
            &CancelToken::new(),
        )
        .unwrap();
        assert!(
            back == data,
            "transfer size {size}: read returns other bytes"
        );
    }
}

#[test]
fn a_device_that_places_blocks_at_another_stride_than_it_reports_never_passes_the_verify() {
    // The device places blocks 2048 bytes apart but says its blocks are 1024 bytes: every
    // block after the first lands in the wrong place. The writer cannot know; the verify,
    // which never reads a block with the base and number it was written with, must.
    for (real, told) in [(2048u16, 1024u16), (4096, 2048), (2048, 64)] {
        let dev = SimDevice::custom("stm32f405", real, &[F4]).unwrap();
        let mut liar = Liar::honest(dev);
        liar.info.functional.transfer_size = told;
        let mut dfu = open_on(liar, 0);
        let data = pattern(8 * 1024, 5);
        let image = Image::from_binary(0x0802_0000, data).unwrap();
        let r = job::flash(&mut dfu, &image, &opts(), &mut Silent, &CancelToken::new());
        match r {
            Err(Error::Verify { address, .. }) => assert!(
                (0x0802_0000..0x0802_2000).contains(&address),
                "{real}/{told}: {address:#x}"
            ),
            other => panic!("{real}/{told}: {other:?}"),
        }
    }
}

#[test]
fn a_wtransfersize_of_zero_is_refused_before_any_data_moves() {
    let mut liar = Liar::honest(SimDevice::new("stm32f405").unwrap());
    liar.info.functional.transfer_size = 0;
    let mut dfu = open_on(liar, 0);
    let image = Image::from_binary(0x0802_0000, pattern(100, 1)).unwrap();
    let e = job::flash(&mut dfu, &image, &opts(), &mut Silent, &CancelToken::new()).unwrap_err();
    assert!(e.to_string().contains("wTransferSize of 0 bytes"), "{e}");
    let t = dfu.transport().dev.transcript();
    assert!(!t
        .iter()
        .any(|r| matches!(r.op, Op::Dnload { .. } | Op::Upload { .. })));
}

#[test]
fn overlapping_address_groups_are_refused_before_any_request() {
    let mut liar = Liar::honest(SimDevice::new("stm32f405").unwrap());
    liar.info.alt_settings[0].name = "@Flash/0x08000000/2*1Kg/0x08000400/1*4Kg".into();
    let mut dfu = open_on(liar, 0);
    let image = Image::from_binary(0x0800_0400, pattern(100, 1)).unwrap();
    let e = job::flash(&mut dfu, &image, &opts(), &mut Silent, &CancelToken::new()).unwrap_err();
    assert_eq!(e.kind(), "no_layout");
    assert!(
        e.to_string().contains(
            "groups \"0x08000000/2*1Kg\" (0x08000000..0x08000800) and \"0x08000400/1*4Kg\" (0x08000400..0x08001400) overlap"
        ),
        "{e}"
    );
    assert_eq!(dfu.transport().dev.requests(), 0);
}

#[test]
fn a_sector_of_4_gb_is_refused_not_allocated() {
    // A 16-byte erase on a device whose layout claims one 4095 MB sector, and which stays busy
    // after the erase: the Rev V check used to allocate the whole sector to read it back.
    let mut liar = Liar::honest(SimDevice::new("stm32h743-revv").unwrap());
    liar.info.alt_settings[0].name = "@Internal Flash/0x00000000/1*4095Mg".into();
    let mut dfu = open_on(liar, 0);
    let e = job::erase_range(&mut dfu, 0, 16, &mut Silent, &CancelToken::new()).unwrap_err();
    assert!(
        e.to_string()
            .contains("sectors of 4293918720 bytes at byte 27; the most is 268435456"),
        "{e}"
    );
    assert_eq!(dfu.transport().dev.requests(), 0);
}

#[test]
fn a_recovered_sector_is_read_back_a_block_at_a_time() {
    // A 32 MB sector past 1 MB on a Rev V ROM: the wedge, the recovery, then a read-back of
    // the whole sector in 1 KB blocks (the check used to hold the sector in memory).
    let dev = SimDevice::custom(
        "stm32h743-revv",
        1024,
        &["@Internal Flash   /0x08000000/8*128Kg,1*32Mg"],
    )
    .unwrap();
    let mut dfu = open_on(dev, 0);
    let r = job::erase_range(&mut dfu, 0x0810_0000, 16, &mut Silent, &CancelToken::new()).unwrap();
    assert_eq!(r.workaround_sectors, [0x0810_0000]);
    let uploads = dfu
        .transport()
        .transcript()
        .iter()
        .filter(|r| matches!(r.op, Op::Upload { .. }))
        .count();
    assert_eq!(uploads, 32 * 1024);
}

#[test]
fn memory_that_ends_at_4_gib_is_flashed_verified_and_read() {
    let dev =
        SimDevice::custom("stm32f405", 2048, &["@Internal Flash /0xFFFF0000/4*16Kg"]).unwrap();
    let mut dfu = open_on(dev, 0);
    let data = pattern(64 * 1024, 9);
    let image = Image::from_binary(0xffff_0000, data.clone()).unwrap();
    let mut last = Vec::new();
    let r = job::flash(
        &mut dfu,
        &image,
        &opts(),
        &mut |ev: &Event<'_>| {
            if let Event::Progress { phase, address, .. } = ev {
                last.retain(|(p, _)| p != phase);
                last.push((*phase, *address));
            }
            Flow::Continue
        },
        &CancelToken::new(),
    )
    .unwrap();
    assert_eq!(r.bytes_verified, 64 * 1024);
    use dfuflash::progress::Phase;
    // Each phase's last block: the top one, then the boot block, written last.
    assert!(last.contains(&(Phase::Write, 0xffff_f800)), "{last:x?}");
    assert!(last.contains(&(Phase::Verify, 0xffff_f800)), "{last:x?}");
    assert_eq!(last.last(), Some(&(Phase::Boot, 0xffff_0000)));
    let back = job::read(
        &mut dfu,
        0xffff_0000,
        64 * 1024,
        &mut Silent,
        &CancelToken::new(),
    )
    .unwrap();
    assert!(back == data);
}

#[test]
fn a_transport_that_claims_more_bytes_than_the_buffer_fails_the_request_instead_of_panicking() {
    for request_code in [request::UPLOAD, request::GETSTATUS] {
        let dev = SimDevice::new("stm32f405").unwrap();
        let liar = Liar::new(
            dev,
            Box::new(move |x| {
                if x.request == request_code && x.index > 3 {
                    x.claimed = Some(x.asked + 10);
                }
            }),
        );
        let mut dfu = open_on(liar, 0);
        let e = job::read(
            &mut dfu,
            0x0800_0000,
            4096,
            &mut Silent,
            &CancelToken::new(),
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Protocol(ProtocolError::Transport {
                    source: TransportError::Overflow,
                    ..
                })
            ),
            "{e}"
        );
        assert_eq!(e.kind(), "overflow");
    }
}

#[test]
fn with_verify_off_a_recovered_sector_the_layout_marks_unreadable_is_not_read() {
    // Sectors 8..15 erasable and writable but not readable ('f').
    let dev = SimDevice::custom(
        "stm32h743-revv",
        1024,
        &["@Internal Flash   /0x08000000/8*128Kg,8*128Kf"],
    )
    .unwrap();
    let mut dfu = open_on(dev, 0);
    let data = pattern(4096, 2);
    let mut o = opts();
    o.verify = false;
    let (r, events) = flash_events(
        &mut dfu,
        &Image::from_binary(0x0810_0000, data.clone()).unwrap(),
        &o,
    );
    let r = r.unwrap();
    assert_eq!(r.workaround_sectors, [0x0810_0000]);
    assert_eq!((r.bytes_verified, r.bytes_checked), (0, 0));
    let t = dfu.transport().transcript();
    assert!(!t.iter().any(|r| matches!(r.op, Op::Upload { .. })));
    assert!(
        events.iter().any(|e| e.contains(
            "sector 0x08100000 was erased through the STM32H7 Rev V recovery, but its layout marks it unreadable"
        )),
        "{events:#?}"
    );
    assert_eq!(
        dfu.transport().memory(0, 0x0810_0000, 4096).unwrap(),
        &data[..]
    );
}

#[test]
fn a_range_past_4_gib_is_refused_before_any_request() {
    // A layout that covers all 4 GiB: the range would wrap to address 0.
    let mut liar = Liar::honest(SimDevice::new("stm32f405").unwrap());
    liar.info.alt_settings[0].name = "@Internal Flash /0x00000000/16*256Mg".into();
    let mut dfu = open_on(liar, 0);
    let c = CancelToken::new();
    let e = job::read(&mut dfu, 0xffff_f000, 0x2000, &mut Silent, &c).unwrap_err();
    assert_eq!(e.kind(), "invalid_argument");
    assert!(
        e.to_string()
            .contains("run past the end of the 32-bit address space"),
        "{e}"
    );
    let e = job::erase_range(&mut dfu, 0xffff_f000, 0x2000, &mut Silent, &c).unwrap_err();
    assert_eq!(e.kind(), "invalid_argument");
    assert_eq!(dfu.transport().dev.requests(), 0);
}

#[test]
fn an_erase_that_reaches_past_its_sector_is_caught_even_across_a_gap_in_the_plan() {
    // The device erases 4 KB; it says its sectors are 1 KB. The board holds B in sector 2; the
    // image is A in sector 0 and B in sector 2, nothing in sector 1. Sector 2 is left alone as
    // unchanged, and the erase of sector 0 wipes it.
    let dev =
        SimDevice::custom("stm32f405", 1024, &["@Internal Flash  /0x08000000/04*4Kg"]).unwrap();
    let mut liar = Liar::honest(dev);
    liar.info.alt_settings[0].name = "@Internal Flash  /0x08000000/16*1Kg".into();
    let (a, b) = (pattern(1024, 11), pattern(1024, 13));
    assert!(liar.dev.poke(0, 0x0800_0800, &b));
    let mut dfu = open_on(liar, 0);
    let image = Image::single(
        0,
        vec![
            dfuflash::image::Segment::new(0x0800_0000, a),
            dfuflash::image::Segment::new(0x0800_0800, b),
        ],
    )
    .unwrap();
    let r = job::flash(
        &mut dfu,
        &image,
        &dfuflash::job::FlashOptions::default(),
        &mut Silent,
        &CancelToken::new(),
    );
    match r {
        Err(Error::Verify { address, .. }) => assert_eq!(address, 0x0800_0800),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_short_upload_through_the_c_api_is_an_error_and_leaves_the_buffer_alone() {
    use dfuflash::ffi::*;
    use std::ptr;
    unsafe {
        let mut dev = ptr::null_mut();
        assert_eq!(
            dfuflash_open_simulated(c"dfu11-generic".as_ptr(), ptr::null(), 0, &mut dev),
            DFUFLASH_OK
        );
        let fw = pattern(1000, 3);
        let mut img = ptr::null_mut();
        assert_eq!(
            dfuflash_image_from_memory(fw.as_ptr(), fw.len(), 0, 0, &mut img),
            DFUFLASH_OK
        );
        assert_eq!(dfuflash_download(dev, img, ptr::null()), DFUFLASH_OK);
        let mut buf = vec![0xaau8; 4096];
        let rc = dfuflash_upload(dev, ptr::null(), 0, buf.as_mut_ptr(), buf.len());
        assert_eq!(rc, DFUFLASH_ERR_SHORT_READ);
        let message = std::ffi::CStr::from_ptr(dfuflash_last_error()).to_string_lossy();
        assert!(message.contains("returned 1000 of 4096 bytes"), "{message}");
        assert!(buf.iter().all(|b| *b == 0xaa));
        let mut buf = vec![0u8; 1000];
        assert_eq!(
            dfuflash_upload(dev, ptr::null(), 0, buf.as_mut_ptr(), buf.len()),
            DFUFLASH_OK
        );
        assert_eq!(buf, fw);
        dfuflash_image_free(img);
        dfuflash_device_close(dev);
    }
}

#[test]
fn an_erase_whose_poll_was_lost_is_finished_by_the_next_job_without_clrstatus() {
    // The erase's first GETSTATUS times out: the command is pending on the ROM. The next job's
    // first look runs it (OK/dfuDNBUSY, as every ST ROM answers), the next answers
    // dfuDNLOAD-IDLE. A strict ROM must never see CLRSTATUS outside dfuERROR.
    let c = CancelToken::new();
    let mut dry = open_on(SimDevice::new("stm32c5-strict").unwrap(), 0);
    job::erase_range(&mut dry, 0x0800_4000, 1, &mut Silent, &c).unwrap();
    let k = dry
        .transport()
        .transcript()
        .iter()
        .find(|r| matches!(r.op, Op::Erase(_)))
        .unwrap()
        .index;
    let mut dev = SimDevice::new("stm32c5-strict").unwrap();
    dev.set_faults(dfuflash::sim::Faults::parse(&format!("timeout@{}", k + 1)).unwrap());
    let mut dfu = open_on(dev, 0);
    let e = job::erase_range(&mut dfu, 0x0800_4000, 1, &mut Silent, &c).unwrap_err();
    assert_eq!(e.kind(), "timeout");
    let n = dfu.transport().transcript().len();
    assert_eq!(
        job::read(&mut dfu, 0x0800_0000, 16, &mut Silent, &c)
            .unwrap()
            .len(),
        16
    );
    let after = &dfu.transport().transcript()[n..];
    assert!(
        !after.iter().any(|r| r.op == Op::ClrStatus),
        "{:#?}",
        ops(after)
    );
}

/// A device nobody modelled may stall the requests DFU 1.1 lets it leave out: a stalled ABORT
/// puts it in dfuERROR/errSTALLEDPKT (6.1.2), and CLRSTATUS brings it back, so a DfuSe flash
/// (whose reads end with ABORT) and a DFU 1.1 flash both finish verified.
#[test]
fn a_device_that_stalls_abort_gets_the_specs_fallback() {
    for model in ["stm32f405", "dfu11-generic"] {
        // Until the next CLRSTATUS, the device says what a device that stalled ABORT is in.
        let mut in_error = false;
        let liar = Liar::new(
            SimDevice::new(model).unwrap(),
            Box::new(move |x| match x.request {
                request::ABORT => {
                    x.reply = Err(TransportError::Stall);
                    in_error = true;
                }
                request::CLRSTATUS => in_error = false,
                request::GETSTATUS if in_error => {
                    if let Ok(r) = x.reply.as_mut() {
                        r[0] = 0x0f; // errSTALLEDPKT
                        r[4] = 10; // dfuERROR
                    }
                }
                _ => {}
            }),
        );
        let mut dfu = open_on(liar, 0);
        let address = if model == "dfu11-generic" {
            0
        } else {
            0x0800_4000
        };
        let image = Image::from_binary(address, pattern(6000, 8)).unwrap();
        let r = flash(&mut dfu, &image, &job::FlashOptions::default())
            .unwrap_or_else(|e| panic!("{model}: {e}"));
        assert_eq!(r.bytes_verified, 6000, "{model}");
        // Every stalled ABORT is followed by GETSTATUS (dfuERROR) and CLRSTATUS.
        let ops: Vec<&Op> = dfu
            .transport()
            .dev
            .transcript()
            .iter()
            .map(|r| &r.op)
            .collect();
        let aborts: Vec<usize> = (0..ops.len()).filter(|&i| *ops[i] == Op::Abort).collect();
        assert!(!aborts.is_empty(), "{model}: no ABORT was sent");
        for i in aborts {
            assert_eq!(
                ops.get(i + 1..i + 3),
                Some(&[&Op::GetStatus, &Op::ClrStatus][..]),
                "{model}: after the ABORT at request {i}"
            );
        }
    }
}

/// A plain DFU 1.1 device that cannot upload is still flashed, and the report says the image
/// could not be verified (nothing counts as verified, no segment has a read-back digest).
#[test]
fn a_dfu_1_1_device_without_upload_is_flashed_and_reported_unverified() {
    let mut liar = Liar::honest(SimDevice::new("dfu11-generic").unwrap());
    liar.info.functional.attributes &= !0x02; // bitCanUpload
    let mut dfu = open_on(liar, 0);
    let image = Image::from_binary(0, pattern(5000, 4)).unwrap();
    let r = flash(&mut dfu, &image, &job::FlashOptions::default()).unwrap();
    assert_eq!(
        r.unverified.as_deref(),
        Some("the device cannot upload (bitCanUpload is clear)")
    );
    assert_eq!((r.bytes_written, r.bytes_verified), (5000, 0));
    assert_eq!(r.segments[0].readback_crc32, None);
    assert_eq!(
        &dfu.transport().dev.firmware()[..5000],
        &image.targets[0].segments[0].data[..]
    );
}

/// A DFU 1.1 device that stalls a DNLOAD says why in its status (DFU 1.1, section 6.1.2): the
/// error is that status, not "stalled".
#[test]
fn a_stalled_dnload_is_explained_by_the_devices_status() {
    let mut stalled = false;
    let liar = Liar::new(
        SimDevice::new("dfu11-generic").unwrap(),
        Box::new(move |x| match x.request {
            request::DNLOAD if !stalled => {
                x.reply = Err(TransportError::Stall);
                stalled = true;
            }
            request::GETSTATUS if stalled => {
                if let Ok(r) = x.reply.as_mut() {
                    r[0] = 0x03; // errWRITE
                    r[4] = 10; // dfuERROR
                }
            }
            _ => {}
        }),
    );
    let mut dfu = open_on(liar, 0);
    let image = Image::from_binary(0, pattern(3000, 9)).unwrap();
    let e = flash(&mut dfu, &image, &job::FlashOptions::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "device reported errWRITE (device could not write memory) in dfuERROR during download of block 0 (1024 bytes at offset 0)"
    );
}
