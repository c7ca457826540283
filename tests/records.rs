//! Every flash leaves a record: per target the SHA-256 of the image's bytes in address order,
//! per segment its address, length and CRC-32, and the CRC-32 of the bytes read back from the
//! device there, when the job read all of them (the verify, or the comparison of unchanged
//! sectors).

mod common;

use common::{flash, open, pattern};
use dfuflash::image::{digest, Image, Segment};
use dfuflash::job::FlashOptions;
use dfuflash::sim::SimDevice;
use sha2::{Digest, Sha256};

/// Two segments, unaligned to blocks and sectors.
fn image() -> Image {
    Image::single(
        0,
        vec![
            Segment::new(0x0800_4010, pattern(3 * 1024 + 7, 1)),
            Segment::new(0x0802_0000, pattern(40 * 1024, 2)),
        ],
    )
    .unwrap()
}

fn opts(verify: bool, full: bool) -> FlashOptions {
    let mut o = FlashOptions::default();
    o.verify = verify;
    o.full = full;
    o
}

fn crc(data: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(data);
    h.finalize()
}

#[test]
fn the_record_names_each_target_by_sha256_and_each_segment_by_crc32() {
    let img = image();
    let t = digest::targets(&img);
    let mut h = Sha256::new();
    for s in &img.targets[0].segments {
        h.update(&s.data);
    }
    assert_eq!(t.len(), 1);
    assert_eq!((t[0].alt, t[0].bytes), (0, 3 * 1024 + 7 + 40 * 1024));
    assert_eq!(t[0].sha256, <[u8; 32]>::from(h.finalize()));
    let s = digest::segments(&img);
    assert_eq!(
        s.iter()
            .map(|d| (d.alt, d.address, d.length, d.crc32))
            .collect::<Vec<_>>(),
        img.targets[0]
            .segments
            .iter()
            .map(|g| (0, g.address, g.data.len() as u64, crc(&g.data)))
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_verified_flash_records_the_crc_of_what_it_read_back() {
    let img = image();
    let mut dfu = open("stm32f405");
    let r = flash(&mut dfu, &img, &opts(true, false)).unwrap();
    assert_eq!(r.targets, digest::targets(&img));
    assert_eq!(r.segments.len(), 2);
    for (rec, seg) in r.segments.iter().zip(&img.targets[0].segments) {
        assert_eq!(rec.image.address, seg.address);
        // What the board holds there, read from the simulator's memory.
        let held = dfu
            .transport()
            .memory(0, seg.address, seg.data.len())
            .unwrap();
        assert_eq!(rec.readback_crc32, Some(crc(held)));
        assert_eq!(rec.readback_crc32, Some(rec.image.crc32));
    }
}

#[test]
fn without_verify_a_rewritten_segment_has_no_read_back_digest() {
    let img = image();
    let mut dfu = open("stm32f405");
    let r = flash(&mut dfu, &img, &opts(false, true)).unwrap();
    assert!(r.segments.iter().all(|s| s.readback_crc32.is_none()));
    // Nothing was read back, so nothing counts as verified.
    assert_eq!(r.bytes_verified, 0);
    assert_eq!(r.targets, digest::targets(&img));
}

#[test]
fn without_verify_the_comparison_of_unchanged_sectors_is_the_read_back_unless_an_erase_could_reach_them(
) {
    // Three segments in the F405's sectors 1, 2 and 5 (16, 16 and 128 KB).
    let img = Image::single(
        0,
        vec![
            Segment::new(0x0800_4010, pattern(3 * 1024 + 7, 1)),
            Segment::new(0x0800_8000, pattern(5000, 3)),
            Segment::new(0x0802_0000, pattern(40 * 1024, 2)),
        ],
    )
    .unwrap();
    let mut dfu = open("stm32f405");
    flash(&mut dfu, &img, &opts(true, false)).unwrap();
    // Change the last segment only: its sector is rewritten unverified. Sector 2, the next one
    // down the plan, could have been reached by that erase and is not read again: its
    // comparison predates the erase. Sector 1 lies past a sector that holds the image, so its
    // comparison is what the board holds.
    let mut changed = img.clone();
    changed.targets[0].segments[2].data[100] ^= 0xff;
    let mut o = opts(false, false);
    o.boot_last = false;
    let r = flash(&mut dfu, &changed, &o).unwrap();
    assert_eq!(r.sectors_skipped, [0x0800_4000, 0x0800_8000]);
    let seg0 = &changed.targets[0].segments[0];
    let read: Vec<Option<u32>> = r.segments.iter().map(|s| s.readback_crc32).collect();
    assert_eq!(read, [Some(crc(&seg0.data)), None, None]);
}

#[test]
fn an_unchanged_re_flash_records_the_same_digests() {
    let img = image();
    let mut dfu = open("stm32h743-revv");
    let first = flash(&mut dfu, &img_on_h7(&img), &opts(true, false)).unwrap();
    let again = flash(&mut dfu, &img_on_h7(&img), &opts(true, false)).unwrap();
    assert_eq!(again.sectors_erased, Vec::<u32>::new());
    assert_eq!(first.segments, again.segments);
    assert!(again
        .segments
        .iter()
        .all(|s| s.readback_crc32 == Some(s.image.crc32)));
}

/// The same segments moved into the H7's flash.
fn img_on_h7(img: &Image) -> Image {
    Image::single(
        0,
        img.targets[0]
            .segments
            .iter()
            .map(|s| Segment::new(s.address + 0x0004_0000, s.data.clone()))
            .collect(),
    )
    .unwrap()
}

#[test]
fn a_plain_dfu_1_1_flash_records_its_upload() {
    let img = Image::from_binary(0, pattern(10_000, 9)).unwrap();
    let mut dfu = open("dfu11-generic");
    let r = flash(&mut dfu, &img, &opts(true, true)).unwrap();
    assert_eq!(r.segments.len(), 1);
    assert_eq!(
        (r.segments[0].image.length, r.segments[0].readback_crc32),
        (10_000, Some(crc(&img.targets[0].segments[0].data)))
    );
}

#[test]
fn a_block_size_that_cuts_segments_anywhere_still_covers_each_segment() {
    // 1000-byte blocks: no block boundary meets a segment or sector boundary.
    let dev = SimDevice::custom(
        "stm32f405",
        1000,
        &["@Internal Flash  /0x08000000/8*016Kg,1*064Kg,3*128Kg"],
    )
    .unwrap();
    let img = image();
    let mut dfu = common::open_dev(dev, true);
    let r = flash(&mut dfu, &img, &opts(true, false)).unwrap();
    for (rec, seg) in r.segments.iter().zip(&img.targets[0].segments) {
        assert_eq!(
            rec.readback_crc32,
            Some(crc(&seg.data)),
            "{:#x}",
            seg.address
        );
    }
}
