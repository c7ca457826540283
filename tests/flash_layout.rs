//! FlashLayout.tsv: the parser's errors, and the phase protocol against the simulated STM32N6
//! (its ROM, then ST's OpenBootloader), through the library and the command.

use std::path::Path;
use std::time::Duration;

use dfuflash::flashlayout::{header, Column, FlashLayout, FlashLayoutError, TsvError};
use dfuflash::job::{flash_layout, LayoutOptions, LayoutReport};
use dfuflash::progress::{CancelToken, Event, Flow, Phase, Silent};
use dfuflash::protocol::{Dfu, EngineOptions, ProtocolError, State};
use dfuflash::sim::models::stm32n6::{Stage, NOR_SECTOR};
use dfuflash::sim::{Op, SimDevice};
use dfuflash::transport::Transport;
use dfuflash::Error;

mod common;

use common::liar::Liar;
use common::n6::{load, lying_n6, openmv, tmp, write_tsv};

fn n6() -> Dfu<SimDevice> {
    Dfu::open(
        SimDevice::new("stm32n6").unwrap(),
        0,
        EngineOptions::default(),
    )
    .unwrap()
}

fn run<T: Transport>(dfu: &mut Dfu<T>, layout: &FlashLayout) -> Result<LayoutReport, Error> {
    let c = CancelToken::new();
    flash_layout(dfu, layout, &LayoutOptions::default(), &mut Silent, &c)
}

fn parse_err(text: &str) -> TsvError {
    FlashLayout::parse(text, Path::new("L.tsv")).unwrap_err()
}

fn field(e: &TsvError) -> (usize, Column) {
    match e {
        TsvError::Field { line, column, .. } => (*line, *column),
        e => panic!("not a field error: {e}"),
    }
}

#[test]
fn tsv_rules_comments_cr_repeated_tabs_and_blank_lines() {
    // A byte-order mark before the header comment, as some editors save.
    let text = "\u{feff}#Opt\tId\tName\tType\tIP\tOffset\tBinary\r\n\r\n\
                PD\t\t0x01\tfsbl\tBinary\tnone\t0x0\tsub/a.stm32\r\n\
                -\t017\tssbl\tBinary(2)\tmmc1\tboot1\tb.bin\n\
                PE\t20\trootfs\tFileSystem\tspi-nand0\t0x00400000\tc.ext4";
    let l = FlashLayout::parse(text, Path::new("/d/FlashLayout.tsv")).unwrap();
    let ids: Vec<u8> = l.rows.iter().map(|r| r.id).collect();
    assert_eq!(ids, [0x01, 0o17, 20]);
    assert_eq!(l.rows[0].line, 3);
    assert!(l.rows[0].opt.delete && l.rows[0].downloads());
    assert!(!l.rows[2].downloads(), "E rows are never downloaded");
    assert!(
        !l.rows[1].downloads(),
        "a - row on a memory is not selected"
    );
    assert_eq!(l.rows[0].binary, Path::new("/d/sub/a.stm32"));
    assert_eq!(l.rows[2].offset, Some(0x40_0000));
    // What the device is sent: six columns, no comment, every row ended.
    assert_eq!(
        String::from_utf8(l.device_text()).unwrap(),
        "PD\t0x1\tfsbl\tBinary\tnone\t0x0\n-\t0xf\tssbl\tBinary(2)\tmmc1\tboot1\n\
         PE\t0x14\trootfs\tFileSystem\tspi-nand0\t0x00400000\n"
    );
}

#[test]
fn tsv_errors_name_the_line_and_the_column() {
    let row = |s: &str| format!("#c\n\n{s}\n");
    let cases = [
        (
            "X\t1\tn\tBinary\tnone\t0\tb",
            Column::Opt,
            "'X' is not an option",
        ),
        ("E\t1\tn\tBinary\tnone\t0\tb", Column::Opt, "lacks P"),
        ("PP\t1\tn\tBinary\tnone\t0\tb", Column::Opt, "given twice"),
        ("P\t0xF1\tn\tBinary\tnone\t0\tb", Column::Id, "0x01 to 0xF0"),
        (
            "P\t0\tn\tBinary\tnone\t0\tb",
            Column::Id,
            "0x00 is the layout's own phase",
        ),
        ("P\t0x1g\tn\tBinary\tnone\t0\tb", Column::Id, "not a number"),
        ("P\t09\tn\tBinary\tnone\t0\tb", Column::Id, "not a number"),
        (
            "P\t1\tname-of-17-chars!\tBinary\tnone\t0\tb",
            Column::Name,
            "17 characters",
        ),
        (
            "P\t1\tn\tbinary\tnone\t0\tb",
            Column::Type,
            "not one of Binary",
        ),
        ("P\t1\tn\tBinary\tusb0\t0\tb", Column::Ip, "not one of none"),
        ("P\t1\tn\tBinary\tnor\t0\tb", Column::Ip, "norN"),
        (
            "P\t1\tn\tBinary\tnor0\tboot1\tb",
            Column::Offset,
            "only on an mmc",
        ),
        (
            "P\t1\tn\tBinary\tnor0\t0x\tb",
            Column::Offset,
            "not a number",
        ),
    ];
    for (text, column, detail) in cases {
        let e = parse_err(&row(text));
        assert_eq!(field(&e), (3, column), "{text}: {e}");
        let m = e.to_string();
        assert!(
            m.starts_with(&format!("L.tsv:3: column {}: ", column.name())),
            "{m}"
        );
        assert!(m.contains(detail), "{text}: {m}");
    }
    let dup = parse_err("P\t1\ta\tBinary\tnone\t0\tb\nP\t0x01\tc\tBinary\tnone\t0\td\n");
    assert_eq!(field(&dup), (2, Column::Id));
    assert!(dup.to_string().contains("already used on line 1"), "{dup}");
    let short = parse_err("P\t1\ta\tBinary\tnone\t0\n");
    assert_eq!(
        short.to_string(),
        "L.tsv:1: 6 columns, expected 7 (Opt Id Name Type IP Offset Binary) separated by TABs"
    );
    assert!(matches!(parse_err("# only\n\n"), TsvError::Empty { .. }));
}

#[test]
fn a_missing_binary_is_refused_by_line_and_column_before_any_request() {
    let f = openmv("missing", 100);
    std::fs::remove_file(f.dir.join("loader.bin")).unwrap();
    let mut dfu = n6();
    let e = run(&mut dfu, &load(&f.dir)).unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("FlashLayout.tsv:3: column Binary: cannot read"),
        "{m}"
    );
    assert_eq!(dfu.transport().requests(), 0);
}

/// The transcript with each partition's data blocks folded into one entry.
fn folded(dev: &SimDevice) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for op in common::ops(dev.transcript()) {
        let block = op.starts_with("Dnload {");
        let status = op == "GetStatus=dfuDNLOAD-IDLE";
        if let Some(last) = out.last_mut().filter(|l| l.starts_with("blocks ")) {
            if block || status {
                let n: usize = last[7..].parse().unwrap();
                *last = format!("blocks {}", n + usize::from(block));
                continue;
            }
        }
        if op.starts_with("Dnload { block: 2,") {
            out.push("blocks 1".into());
            continue;
        }
        out.push(op);
    }
    out
}

#[test]
fn openmv_s_n6_layout_runs_the_rom_then_the_openbootloader_and_writes_the_nor() {
    let f = openmv("full", 3 * NOR_SECTOR as usize + 5);
    let layout = load(&f.dir);
    let mut dfu = n6();
    let r = run(&mut dfu, &layout).unwrap();
    assert_eq!(
        r.phases,
        [0x01, 0x00, 0x00, 0x00, 0x03, 0x03, 0x04, 0x04, 0xfe]
    );
    assert_eq!(r.reenumerations, 1);
    // Neither the ROM nor the OpenBootloader reads a partition back.
    assert!(r.partitions.iter().all(|p| p.readback_crc32.is_none()));
    let rec: Vec<_> = r
        .partitions
        .iter()
        .map(|p| (p.id, p.bytes, p.crc32, p.downloads, p.alt))
        .collect();
    assert_eq!(
        rec,
        [
            (
                1,
                f.obl.len() as u64,
                Some(crc32fast::hash(&f.obl)),
                1,
                Some(0)
            ),
            (3, 7880, Some(crc32fast::hash(&f.loader)), 1, Some(1)),
            (
                4,
                f.app.len() as u64,
                Some(crc32fast::hash(&f.app)),
                1,
                Some(2)
            ),
        ]
    );
    let dev = dfu.transport();
    let get_phase = |alt: u8, st: &str| {
        vec![
            format!("SetInterface({alt})"),
            "Upload { block: 0, len: 512 }".to_string(),
            format!("GetStatus={st}"),
            "Abort".to_string(),
        ]
    };
    let send = |alt: u8, blocks: usize| {
        vec![
            format!("SetInterface({alt})"),
            format!("blocks {blocks}"),
            "DnloadEnd".into(),
            "GetStatus=dfuMANIFEST".into(),
            "GetStatus=dfuIDLE".into(),
        ]
    };
    let up = "dfuUPLOAD-IDLE";
    let mut want = vec!["SetInterface(0)".to_string()]; // Dfu::open
                                                        // The ROM: GetPhase 0x01, the FSBL to @FSBL, GetPhase asks for DETACH.
    want.extend(get_phase(1, up));
    want.extend(send(0, f.obl.len().div_ceil(1024)));
    want.extend(get_phase(1, up));
    want.push("Detach:Disconnected".into());
    // The OpenBootloader: each phase read twice (phase op, start op), its part sent between.
    let layout_len = 256 + layout.device_text().len();
    for (phase_alt, data_alt, blocks) in [
        (3, 0, layout_len.div_ceil(1024)),
        (3, 1, 8),
        (3, 2, f.app.len().div_ceil(1024)),
    ] {
        want.extend(get_phase(phase_alt, up));
        want.extend(send(data_alt, blocks));
        want.extend(get_phase(phase_alt, up));
    }
    want.extend(get_phase(3, up));
    want.push("Detach:Disconnected".into());
    assert_eq!(folded(dev), want);
    // Data blocks are numbered from 2 (snagboot) and the last is short.
    let blocks: Vec<(u16, usize)> = dev
        .transcript()
        .iter()
        .filter_map(|r| match r.op {
            Op::Dnload { block, len } => Some((block, len)),
            _ => None,
        })
        .collect();
    assert_eq!(blocks[0], (2, 1024));
    let n6 = dev.n6().unwrap();
    assert_eq!(n6.stage(), Stage::OpenBootloader);
    assert_eq!(n6.nor(0, f.app.len()), f.app);
    assert_eq!(n6.nor(f.app.len() as u32, 2), [0xff, 0xff]);
    assert_eq!(n6.loader(), f.loader);
    assert_eq!(&n6.layout()[..4], b"STM2");
    assert_eq!(&n6.layout()[256..], layout.device_text());
}

#[test]
fn a_bad_fsbl_header_is_refused_by_the_rom_with_its_reason() {
    let f = openmv("badfsbl", 100);
    let mut bad = f.obl.clone();
    *bad.last_mut().unwrap() ^= 0xff;
    std::fs::write(f.dir.join("obl.stm32"), &bad).unwrap();
    let mut dfu = n6();
    let e = run(&mut dfu, &load(&f.dir)).unwrap_err();
    match &e {
        Error::FlashLayout(FlashLayoutError::DeviceError { text }) => {
            assert!(text.starts_with("FSBL refused: checksum"), "{text}")
        }
        e => panic!("{e}"),
    }
    assert_eq!(e.kind(), "device_status");
    let n6 = dfu.transport().n6().unwrap();
    assert_eq!(n6.stage(), Stage::Rom, "no hand-over to a refused FSBL");
    assert!(!dfu
        .transport()
        .transcript()
        .iter()
        .any(|r| r.op == Op::Detach));
}

#[test]
fn an_e_row_is_never_downloaded_even_when_the_device_asks_for_it() {
    let f = openmv("erow", 100);
    std::fs::remove_file(f.dir.join("bootloader.bin")).unwrap();
    let tsv = std::fs::read_to_string(f.dir.join("FlashLayout.tsv")).unwrap();
    write_tsv(&f.dir, &tsv.replace("P\t0x4", "PE\t0x4"));
    let mut dfu = n6();
    let e = run(&mut dfu, &load(&f.dir)).unwrap_err();
    assert!(
        matches!(&e, Error::FlashLayout(FlashLayoutError::PhaseEmpty { phase: 4, name }) if name == "fsbl-app"),
        "{e}"
    );
    let dev = dfu.transport();
    assert_eq!(dev.n6().unwrap().nor(0, 16), [0xff; 16]);
    // Downloads: the FSBL, the layout, the loader; nothing to the NOR's alt.
    let t = dev.transcript();
    let selects: Vec<u8> = t
        .windows(2)
        .filter_map(|w| match (&w[0].op, &w[1].op) {
            (Op::SetInterface(a), Op::Dnload { .. }) => Some(*a),
            _ => None,
        })
        .collect();
    assert_eq!(selects, [0, 0, 1]);
}

#[test]
fn a_device_asking_for_a_phase_the_tsv_lacks_fails_before_any_download() {
    let dir = tmp("lacks");
    std::fs::write(dir.join("app.bin"), [1, 2, 3]).unwrap();
    write_tsv(&dir, "P\t0x4\tfsbl-app\tBinary\tnor0\t0x0\tapp.bin\n");
    let mut dfu = n6();
    let e = run(&mut dfu, &load(&dir)).unwrap_err();
    assert!(
        matches!(
            e,
            Error::FlashLayout(FlashLayoutError::PhaseNotInLayout { phase: 1, .. })
        ),
        "{e}"
    );
    assert!(e.to_string().contains("asks for phase 0x01"), "{e}");
    let ops = common::ops(dfu.transport().transcript());
    assert!(!ops.iter().any(|o| o.starts_with("Dnload")), "{ops:?}");
}

#[test]
fn a_device_that_keeps_asking_for_one_phase_fails_on_the_third_ask() {
    let f = openmv("loop", 100);
    // The ROM, told every time that it asks for the FSBL again.
    let liar = Liar::new(
        SimDevice::new("stm32n6").unwrap(),
        Box::new(|x| {
            // UPLOAD (2): the GetPhase reply.
            if let (2, Ok(bytes)) = (x.request, &mut x.reply) {
                bytes[..10].copy_from_slice(&[1, 0, 4, 0x18, 0x34, 0, 0, 0, 0, 0]);
            }
        }),
    );
    let mut dfu = Dfu::open(liar, 0, EngineOptions::default()).unwrap();
    let e = run(&mut dfu, &load(&f.dir)).unwrap_err();
    assert!(
        matches!(
            &e,
            Error::FlashLayout(FlashLayoutError::PhaseLoop {
                phase: 1,
                count: 3,
                ..
            })
        ),
        "{e}"
    );
    let ends = dfu
        .transport()
        .dev
        .transcript()
        .iter()
        .filter(|r| r.op == Op::DnloadEnd)
        .count();
    assert_eq!(
        ends, 1,
        "sent once; the second ask is taken as the start read"
    );
}

#[test]
fn cancel_during_the_nor_write_leaves_the_openbootloader_idle() {
    let f = openmv("cancel", 64 * 1024);
    let mut dfu = n6();
    let c = CancelToken::new();
    let mut obs = |ev: &Event<'_>| match ev {
        Event::Progress {
            phase: Phase::Write,
            done,
            address,
            ..
        } if *address >= 0x7000_0000 && *done >= 8192 => Flow::Cancel,
        _ => Flow::Continue,
    };
    let e = flash_layout(
        &mut dfu,
        &load(&f.dir),
        &LayoutOptions::default(),
        &mut obs,
        &c,
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Cancelled {
                phase: Phase::Write
            }
        ),
        "{e}"
    );
    let dev = dfu.transport();
    assert_eq!(dev.state().0, State::DfuIdle);
    assert_eq!(dev.n6().unwrap().nor(0, 8192), f.app[..8192]);
    assert_eq!(dev.n6().unwrap().nor(8192, 1), [0xff]);
}

#[test]
fn the_job_deadline_ends_a_layout_whose_nor_write_never_finishes() {
    // No loader row: the OpenBootloader cannot write the NOR and stays busy (D).
    let dir = tmp("deadline");
    std::fs::write(
        dir.join("obl.stm32"),
        header::fsbl_v2_3(&[7; 64], 0x3418_0401),
    )
    .unwrap();
    std::fs::write(dir.join("app.bin"), [1; 100]).unwrap();
    write_tsv(
        &dir,
        "P\t0x1\tfsbl-openbl\tBinary\tnone\t0x0\tobl.stm32\nP\t0x4\tfsbl-app\tBinary\tnor0\t0x0\tapp.bin\n",
    );
    let mut opts = EngineOptions::default();
    opts.timeouts.job = Some(Duration::from_secs(3));
    let mut dfu = Dfu::open(SimDevice::new("stm32n6").unwrap(), 0, opts).unwrap();
    let e = run(&mut dfu, &load(&dir)).unwrap_err();
    assert!(
        matches!(e, Error::Protocol(ProtocolError::JobDeadline { .. })),
        "{e}"
    );
    let now = dfu.transport().now();
    assert!(
        now <= Duration::from_secs(3) + Duration::from_millis(1100),
        "{now:?}"
    );
}

#[test]
fn a_job_cancelled_before_it_starts_sends_no_download() {
    let f = openmv("precancel", 100);
    let mut dfu = n6();
    let c = CancelToken::new();
    c.cancel();
    let e = flash_layout(
        &mut dfu,
        &load(&f.dir),
        &LayoutOptions::default(),
        &mut Silent,
        &c,
    )
    .unwrap_err();
    assert!(matches!(e, Error::Cancelled { .. }), "{e}");
    assert!(!common::ops(dfu.transport().transcript())
        .iter()
        .any(|o| o.starts_with("Dnload")));
}

#[test]
fn a_short_getphase_reply_is_refused_and_an_error_text_is_made_safe_to_show() {
    let f = openmv("hostile", 100);
    let layout = load(&f.dir);
    let mut dfu = lying_n6(|b| b.truncate(8));
    let e = run(&mut dfu, &layout).unwrap_err();
    assert!(
        matches!(
            e,
            Error::FlashLayout(FlashLayoutError::MalformedPhase { len: 8 })
        ),
        "{e}"
    );
    // Phase 0xFF followed by 503 bytes of escape codes and no NUL: printable, at most 200.
    let mut dfu = lying_n6(|b| {
        b[0] = 0xff;
        b[9..].fill(0x1b);
    });
    match run(&mut dfu, &layout).unwrap_err() {
        Error::FlashLayout(FlashLayoutError::DeviceError { text }) => {
            assert_eq!(text, "?".repeat(200))
        }
        e => panic!("{e}"),
    }
    // A phase the protocol keeps for itself (0xF1, the command alt) is not a TSV row.
    let mut dfu = lying_n6(|b| b[0] = 0xf1);
    let e = run(&mut dfu, &layout).unwrap_err();
    assert!(
        matches!(
            e,
            Error::FlashLayout(FlashLayoutError::PhaseNotInLayout { phase: 0xf1, .. })
        ),
        "{e}"
    );
}

#[test]
fn a_stage_that_asks_for_a_phase_it_has_no_alt_for_is_detached_and_followed() {
    let f = openmv("stage", 2000);
    // The ROM, done with the FSBL, names the loader's phase instead of asking for DETACH.
    let mut dfu = lying_n6(|b| {
        if b[..5] == [0, 0xff, 0xff, 0xff, 0xff] && b[9] == 1 {
            (b[0], b[9]) = (0x03, 0);
        }
    });
    let r = run(&mut dfu, &load(&f.dir)).unwrap();
    assert_eq!(
        r.phases,
        [0x01, 0x03, 0x00, 0x00, 0x03, 0x03, 0x04, 0x04, 0xfe]
    );
    assert_eq!(r.reenumerations, 1);
    assert_eq!(dfu.transport().dev.n6().unwrap().nor(0, 2000), f.app);
}

#[test]
fn a_state_file_keeps_what_a_layout_wrote_to_the_nor_and_the_board_powers_on_in_its_rom() {
    let f = openmv("state", NOR_SECTOR as usize + 9);
    let layout = load(&f.dir);
    let p = f.dir.join("n6.state");
    let dev = SimDevice::with_state("stm32n6", &p).unwrap();
    let mut dfu = Dfu::open(dev, 0, EngineOptions::default()).unwrap();
    run(&mut dfu, &layout).unwrap();
    dfu.transport().save_state(&p).unwrap();
    let back = SimDevice::with_state("stm32n6", &p).unwrap();
    let n6 = back.n6().unwrap();
    assert_eq!(n6.stage(), Stage::Rom);
    assert_eq!(n6.nor(0, f.app.len() + 1)[..f.app.len()], f.app);
    assert_eq!(n6.nor(f.app.len() as u32, 1), [0xff]);
}
