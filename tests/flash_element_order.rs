//! Element order (dfu-util's drop-in): each element erased just before it is written, and the
//! boot block last.

mod common;

use common::*;

use dfuflash::image::{Image, Segment};

#[test]
fn element_order_erases_each_element_just_before_writing_it_and_keeps_the_boot_block_last() {
    // Two elements in an F405 DfuSe image: 16 KB sectors 0 and 1, then 128 KB sector 5.
    let low = pattern(0x4100, 1);
    let high = pattern(0x800, 2);
    let image = Image::single(
        0,
        vec![
            Segment::new(0x0800_0000, low.clone()),
            Segment::new(0x0802_0000, high.clone()),
        ],
    )
    .unwrap();
    let mut o = opts();
    o.element_order = true;
    let mut dfu = open("stm32f405");
    let (r, events) = flash_events(&mut dfu, &image, &o);
    let r = r.unwrap();
    assert_eq!(r.sectors_erased, [0x0800_0000, 0x0800_4000, 0x0802_0000]);
    assert_eq!(
        r.bytes_written,
        (low.len() + high.len()) as u64,
        "both steps counted"
    );
    let dev = dfu.transport();
    assert_eq!(dev.memory(0, 0x0800_0000, low.len()).unwrap(), &low[..]);
    assert_eq!(dev.memory(0, 0x0802_0000, high.len()).unwrap(), &high[..]);
    // Erase 1, write 1, erase 2, write 2, verify; the boot block last.
    let steps: Vec<String> = ops(dev.transcript())
        .into_iter()
        .filter(|o| o.starts_with("Erase") || o.starts_with("SetAddress"))
        .collect();
    assert_eq!(
        steps,
        [
            "Erase(0x08000000)",
            "Erase(0x08004000)",
            "SetAddress(0x08000800)", // element 1 but its first 2 KB block, the boot block
            "Erase(0x08020000)",
            "SetAddress(0x08020000)", // element 2 (one block)
            "SetAddress(0x08000800)", // the verify: a first block alone, then the rest
            "SetAddress(0x08001000)",
            "SetAddress(0x08020000)",
            "SetAddress(0x08000000)", // the boot block, written
            "SetAddress(0x08000000)", // and read back
        ]
    );
    let phases: Vec<&String> = events
        .iter()
        .filter(|e| e.starts_with("PhaseStart"))
        .collect();
    assert_eq!(
        phases
            .iter()
            .filter(|e| e.contains("Erase") || e.contains("Write"))
            .count(),
        4,
        "an Erase and a Write phase per element: {phases:?}"
    );
}

#[test]
fn element_order_erases_the_boot_blocks_sector_before_any_other_target_is_written() {
    // A Portenta file that lists the QSPI target (alt 1) before the internal flash (alt 0): the
    // old boot block must be gone before the QSPI is written, or a power cut there leaves the
    // old firmware bootable beside a half-new QSPI.
    let qspi = pattern(0x2000, 3);
    let app = pattern(0x2000, 4);
    let image = Image {
        targets: vec![
            dfuflash::image::Target {
                alt: 1,
                name: None,
                segments: vec![Segment::new(0x9000_0000, qspi.clone())],
            },
            dfuflash::image::Target {
                alt: 0,
                name: None,
                segments: vec![Segment::new(0x0804_0000, app.clone())],
            },
        ],
        suffix: None,
    };
    let mut o = opts();
    o.element_order = true;
    let mut dfu = open("portenta-h7");
    let r = flash(&mut dfu, &image, &o).unwrap();
    assert_eq!(r.bytes_written, 0x4000);
    let dev = dfu.transport();
    assert_eq!(dev.memory(1, 0x9000_0000, qspi.len()).unwrap(), &qspi[..]);
    assert_eq!(dev.memory(0, 0x0804_0000, app.len()).unwrap(), &app[..]);
    // Step 1 (the QSPI element) erases the boot block's sector and its own, then writes.
    let t = ops(dev.transcript());
    let at = |what: &str| t.iter().position(|o| o.starts_with(what)).unwrap();
    assert!(
        at("Erase(0x08040000)") < at("Dnload"),
        "the boot block's sector is erased before the first write: {t:?}"
    );
    assert!(at("Erase(0x90000000)") < at("Dnload"), "{t:?}");
    // And first of all: no cut leaves the old firmware bootable beside an erased QSPI.
    assert!(at("Erase(0x08040000)") < at("Erase(0x90000000)"), "{t:?}");
    assert_eq!(r.sectors_erased, [0x0804_0000, 0x9000_0000, 0x9000_1000]);
}
