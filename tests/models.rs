//! The models of issue 19, each as people flash it: by the library with the exact request
//! sequence and what the device holds afterwards, by `dfuflash flash`, and through the C API
//! (tests/c_api.rs runs tests/c/test_models.c over the same list).

mod common;

use common::cli::{dfuflash, stderr, tmp};
use common::model_list::{verified, EVERY_NEW_MODEL};
use common::*;
use std::time::Duration;

use dfuflash::image::{Image, Segment};
use dfuflash::protocol::{Dfu, ProtocolError, Status};
use dfuflash::sim::SimDevice;
use dfuflash::Error;

/// What an ST ROM (or a clone of it) is sent for one block of up to wTransferSize bytes at
/// `at`, from power-on (dfuERROR/errFIRMWARE) to the read-back, in a sector erased first.
fn st_rom_one_block(sector: &str, at: &str, len: usize) -> Vec<String> {
    [
        "SetInterface(0)".to_string(),
        "GetStatus=dfuERROR/10".into(),
        "ClrStatus".into(),
        "GetStatus=dfuIDLE".into(),
        format!("Erase({sector})"),
        "GetStatus=dfuDNBUSY".into(),
        "GetStatus=dfuDNLOAD-IDLE".into(),
        format!("SetAddress({at})"),
        "GetStatus=dfuDNBUSY".into(),
        "GetStatus=dfuDNLOAD-IDLE".into(),
        format!("Dnload {{ block: 2, len: {len} }}"),
        "GetStatus=dfuDNBUSY".into(),
        "GetStatus=dfuDNLOAD-IDLE".into(),
        format!("SetAddress({at})"),
        "GetStatus=dfuDNBUSY".into(),
        "GetStatus=dfuDNLOAD-IDLE".into(),
        "Abort".into(),
        format!("Upload {{ block: 2, len: {len} }}"),
        "Abort".into(),
    ]
    .to_vec()
}

/// A DFU 1.1 download of blocks of these sizes, manifestation, then (if it can) the upload.
fn dfu11_download(alt: u8, blocks: &[usize], upload: bool) -> Vec<String> {
    let mut v = vec![format!("SetInterface({alt})"), "GetStatus=dfuIDLE".into()];
    for (n, len) in blocks.iter().enumerate() {
        v.push(format!("Dnload {{ block: {n}, len: {len} }}"));
        v.push("GetStatus=dfuDNBUSY".into());
        v.push("GetStatus=dfuDNLOAD-IDLE".into());
    }
    v.extend(["DnloadEnd", "GetStatus=dfuMANIFEST", "GetStatus=dfuIDLE"].map(String::from));
    if upload {
        for (n, len) in blocks.iter().enumerate() {
            v.push(format!("Upload {{ block: {n}, len: {len} }}"));
        }
        v.push("Abort".into());
    }
    v
}

fn blank(dev: &SimDevice, alt: u8, address: u32, len: usize) -> bool {
    dev.memory(alt, address, len)
        .unwrap()
        .iter()
        .all(|b| *b == 0xff)
}

/// Flashes `data` at `at`, one block in a sector of its own: the exact requests (`sent` bytes
/// in the one DNLOAD, padding included) and the bytes in flash.
fn flash_one_block(model: &str, at: u32, data: &[u8], sent: usize) -> Dfu<SimDevice> {
    let mut dfu = open(model);
    let image = Image::from_binary(at, data.to_vec()).unwrap();
    flash(&mut dfu, &image, &opts()).unwrap();
    let hex = format!("{at:#010x}");
    let dev = dfu.transport();
    assert_eq!(
        ops(dev.transcript()),
        st_rom_one_block(&hex, &hex, sent),
        "{model}"
    );
    assert_eq!(dev.memory(0, at, data.len()).unwrap(), data, "{model}");
    dfu
}

#[test]
fn stm32f7_erases_the_32_and_the_128_kb_sector_an_image_straddles() {
    // Sector 3 (32 KB at 0x08018000) and sector 4 (128 KB at 0x08020000).
    let data = pattern(0x1000, 1);
    let image = Image::from_binary(0x0801_f800, data.clone()).unwrap();
    let mut dfu = open("stm32f7");
    let r = flash(&mut dfu, &image, &opts()).unwrap();
    assert_eq!(r.sectors_erased, [0x0801_8000, 0x0802_0000]);
    let dev = dfu.transport();
    assert_eq!(dev.memory(0, 0x0801_f800, data.len()).unwrap(), &data[..]);
    assert!(blank(dev, 0, 0x0801_8000, 0x7800));
    // 800 ms and 2.4 s of erase, from the model's table.
    assert!(dev.stats().device_busy >= Duration::from_millis(3200));
    assert_eq!(
        ops(&dev.transcript()[..7]),
        [
            "SetInterface(0)",
            "GetStatus=dfuERROR/10",
            "ClrStatus",
            "GetStatus=dfuIDLE",
            "Erase(0x08018000)",
            "GetStatus=dfuDNBUSY",
            "GetStatus=dfuDNLOAD-IDLE",
        ]
    );
}

#[test]
fn stm32f7_one_block_request_sequence() {
    flash_one_block("stm32f7", 0x0800_8000, &pattern(40, 2), 40);
}

#[test]
fn stm32g4_pads_two_pieces_of_one_ecc_double_word_into_one_write() {
    // 3 bytes at 0x08000800 and 2 at 0x08000806 share a 64-bit double word: written apart, the
    // second would program a word that is no longer blank, which the ECC flash refuses.
    let image = Image::single(
        0,
        vec![
            Segment::new(0x0800_0800, vec![1, 2, 3]),
            Segment::new(0x0800_0806, vec![7, 8]),
        ],
    )
    .unwrap();
    let mut dfu = open("stm32g4");
    flash(&mut dfu, &image, &opts()).unwrap();
    let dev = dfu.transport();
    assert_eq!(
        ops(dev.transcript()),
        st_rom_one_block("0x08000800", "0x08000800", 8)
    );
    assert_eq!(
        dev.memory(0, 0x0800_0800, 8).unwrap(),
        [1, 2, 3, 0xff, 0xff, 0xff, 7, 8]
    );
}

#[test]
fn stm32h7a3_lists_256_sectors_and_pads_to_its_128_bit_flash_words() {
    // 40 bytes are three 16-byte flash words, the last one padded with 0xFF.
    let dfu = flash_one_block("stm32h7a3", 0x0800_2000, &pattern(40, 3), 48);
    let layout = dfuflash::layout::Layout::parse(&dfu.info().alt_settings[0].name).unwrap();
    assert_eq!(layout.sectors().count(), 256);
    assert!(blank(dfu.transport(), 0, 0x0800_2028, 8));
}

#[test]
fn at32f4_layout_with_a_space_before_the_count_parses_and_flashes() {
    let dfu = flash_one_block("at32f4", 0x0800_0400, &pattern(40, 4), 40);
    assert_eq!(
        dfu.info().alt_settings[0].name,
        "@Internal Flash  /0x08000000/ 128*1Kg"
    );
    assert!(blank(dfu.transport(), 0, 0x0800_0000, 0x400));
}

#[test]
fn apm32f4_address_without_a_leading_zero_is_0x08000000() {
    let dfu = flash_one_block("apm32f4", 0x0800_4000, &pattern(40, 5), 40);
    assert!(dfu.info().alt_settings[0].name.contains("/0x8000000/"));
}

#[test]
fn esp32s2_takes_the_image_in_64_byte_blocks_and_the_report_says_it_is_unverified() {
    let data = pattern(100, 6);
    let mut dfu = open("esp32s2");
    let image = Image::single(0, vec![Segment::new(0, data.clone())]).unwrap();
    let r = flash(&mut dfu, &image, &opts()).unwrap();
    assert_eq!(r.bytes_verified, 0);
    assert_eq!(
        r.unverified.as_deref(),
        Some("the device cannot upload (bitCanUpload is clear)")
    );
    let dev = dfu.transport();
    assert_eq!(ops(dev.transcript()), dfu11_download(0, &[64, 36], false));
    assert_eq!(dev.firmware(), &data[..]);
}

#[test]
fn zephyr_writes_the_second_slot_and_refuses_the_running_one_with_errwrite() {
    let data = pattern(200, 7);
    let image = Image::single(1, vec![Segment::new(0, data.clone())]).unwrap();
    let mut dfu = open_alt("zephyr-dfu", 1);
    let r = flash(&mut dfu, &image, &opts()).unwrap();
    assert_eq!(r.bytes_verified, 200);
    let dev = dfu.transport();
    // The first block waits for the whole slot's erase (118 pages of 85 ms) at the 8 ms poll
    // timeout the device keeps reporting: more than the 5 s a block is otherwise given.
    let mut got = ops(dev.transcript());
    let busy = got[3..]
        .iter()
        .take_while(|o| *o == "GetStatus=dfuDNBUSY")
        .count();
    assert!((1100..=1254).contains(&busy), "{busy} polls");
    got.drain(4..3 + busy);
    assert_eq!(got, dfu11_download(1, &[128, 72], true));
    assert!(dev.stats().device_busy >= Duration::from_millis(118 * 85));
    assert_eq!(dev.firmware_of(1), &data[..]);
    assert!(dev.firmware_of(0).is_empty());

    let image0 = Image::single(0, vec![Segment::new(0, data)]).unwrap();
    let mut dfu = open_alt("zephyr-dfu", 0);
    let e = flash(&mut dfu, &image0, &opts()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Protocol(ProtocolError::DeviceStatus {
                status: Status::ErrWrite,
                ..
            })
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "device reported errWRITE (device could not write memory) in dfuERROR during download of block 0 (128 bytes at offset 0)"
    );
    // Accepted, then refused in the status, as Zephyr's class does.
    assert_eq!(
        ops(dfu.transport().transcript()),
        [
            "SetInterface(0)",
            "GetStatus=dfuIDLE",
            "Dnload { block: 0, len: 128 }",
            "GetStatus=dfuERROR/3",
        ]
    );
}

#[test]
fn tinyusb_waits_the_poll_timeout_each_alt_reports() {
    // 1 ms per block on FLASH, 100 ms on EEPROM (the example's tud_dfu_get_timeout_cb).
    let data = pattern(640, 8);
    let mut slept = Vec::new();
    for alt in [0u8, 1] {
        let image = Image::single(alt, vec![Segment::new(0, data.clone())]).unwrap();
        let mut dfu = open_alt("tinyusb-dfu", alt);
        flash(&mut dfu, &image, &opts()).unwrap();
        let dev = dfu.transport();
        assert_eq!(ops(dev.transcript()), dfu11_download(alt, &[64; 10], true));
        assert_eq!(dev.firmware_of(alt), &data[..]);
        slept.push(dev.stats().host_sleep);
    }
    assert!(slept[0] >= Duration::from_millis(10) && slept[0] < Duration::from_millis(100));
    assert!(slept[1] >= Duration::from_millis(1000), "{slept:?}");
}

#[test]
fn bogus_poll_timeout_of_hours_is_ignored_for_openmokos_ids() {
    let data = pattern(5000, 9);
    let mut dfu = open("bogus-poll");
    let image = Image::single(0, vec![Segment::new(0, data.clone())]).unwrap();
    flash(&mut dfu, &image, &opts()).unwrap();
    let dev = dfu.transport();
    assert_eq!(ops(dev.transcript()), dfu11_download(0, &[4096, 904], true));
    assert_eq!(dev.firmware(), &data[..]);
    // Two blocks of 1 to 2 ms of work polled every 5 ms, not 4.66 hours.
    assert!(
        dev.stats().host_sleep < Duration::from_secs(1),
        "{:?}",
        dev.stats()
    );
}

#[test]
fn every_model_flashes_with_dfuflash_flash() {
    let dir = tmp("models", "cli");
    for &(model, alt, address, len) in EVERY_NEW_MODEL {
        let data = pattern(len, len as u32 + alt as u32);
        let fw = dir.join(format!("{model}.bin"));
        std::fs::write(&fw, &data).unwrap();
        let state = dir.join(format!("{model}.state"));
        let _ = std::fs::remove_file(&state);
        let alt_s = alt.to_string();
        let addr_s = address.map(|a| format!("{a:#x}")).unwrap_or_default();
        let mut args = vec!["flash", "--sim", model, "--sim-state"];
        let state_s = state.to_string_lossy().into_owned();
        let fw_s = fw.to_string_lossy().into_owned();
        args.extend([state_s.as_str(), "-a", &alt_s, "--json"]);
        if address.is_some() {
            args.extend(["--address", &addr_s]);
        }
        args.push(&fw_s);
        let o = dfuflash(&args);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{model}: {out}{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["ok"], true, "{model}: {v}");
        let dev = SimDevice::with_state(model, &state).unwrap();
        match address {
            Some(a) => assert_eq!(dev.memory(alt, a, len).unwrap(), &data[..], "{model}"),
            None => assert_eq!(dev.firmware_of(alt), &data[..], "{model}"),
        }
        let got = v["bytes_verified"].as_u64().unwrap();
        assert_eq!(got, verified(model, len) as u64, "{model}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_readme_model_table_names_every_model_with_its_sources() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = &readme[readme
        .find("| model | what it is | sources |")
        .expect("the table")..];
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
        .collect();
    let named: Vec<&str> = rows.iter().map(|r| r[0].trim_matches('`')).collect();
    let models: Vec<&str> = SimDevice::models().iter().map(|m| m.name).collect();
    assert_eq!(named, models, "the README's table, in the models' order");
    for r in &rows {
        assert!(
            r.len() == 3 && !r[1].is_empty() && !r[2].is_empty(),
            "{r:?}"
        );
    }
}

#[test]
fn zephyr_erases_the_slot_at_the_first_block_so_a_cut_download_leaves_it_blank() {
    let old = pattern(4096, 10);
    let mut dev = SimDevice::new("zephyr-dfu").unwrap();
    assert!(dev.poke(1, 0, &old));
    // The power goes while the device is busy with the first block (its slot erase).
    dev.set_faults(dfuflash::sim::Faults {
        power_loss_at: Some(6),
        ..Default::default()
    });
    let mut dfu = open_on(dev, 1);
    let image = Image::single(1, vec![Segment::new(0, pattern(200, 11))]).unwrap();
    flash(&mut dfu, &image, &opts()).unwrap_err();
    assert!(blank(dfu.transport(), 1, 0, old.len()));
}
