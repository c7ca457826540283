//! Issue 26: OpenMV's bootloader (src/sim/models/openmv.rs) flashed the way OpenMV IDE drives
//! dfu-util (openmvplugindfubootloader.cpp): the firmware to its alt, the ROMFS with `--reset`
//! last, an "erase" as 4096 zero bytes to the filesystem, a read with `-U`, `-S` with several
//! cameras; and through `dfuflash flash` on every OpenMV model.

mod common;

use std::path::Path;
use std::process::Output;

use common::cli::{dfuflash, stderr, tmp};
use common::pattern;
use dfuflash::sim::SimDevice;

const H7P: &str = "openmv-h7p";
const H7P_SERIAL: &str = "30363341313451180044002C";
const FIRMWARE: usize = 0x1C_0000; // 0x08040000..0x08200000

/// `dfu-util ARGS` (the dfuflash binary under dfu-util's name) in `dir`, with `sim` attached.
fn dfu_util(dir: &Path, sim: &str, args: &[&str]) -> Output {
    common::cli::dropin(dir, "dfu-util", sim, args)
}

/// The transcript's lines as (start in ms, request and outcome).
fn transcript(dir: &Path) -> Vec<(f64, String)> {
    let text = std::fs::read_to_string(dir.join("transcript")).unwrap();
    text.lines()
        .map(|l| match l.split_once(" ms  ") {
            Some((head, rest)) => {
                let at = head.split_whitespace().last().unwrap().parse().unwrap();
                (at, rest.to_string())
            }
            None => (f64::NAN, l.to_string()),
        })
        .collect()
}

fn ops(dir: &Path) -> Vec<String> {
    transcript(dir).into_iter().map(|(_, op)| op).collect()
}

/// What the drop-in sends for a download of `len` bytes to `alt`, manifestation and the
/// read-back: each block answers busy at once, then dfuDNLOAD-IDLE after the write.
fn download_sequence(alt: u8, len: usize) -> Vec<String> {
    let mut v = vec![
        format!("SetInterface({alt}) -> Ok(None) [dfuIDLE]"),
        "GetStatus -> Ok(Some((Ok, DfuIdle))) [dfuIDLE]".to_string(),
        "GetStatus -> Ok(Some((Ok, DfuIdle))) [dfuIDLE]".to_string(),
    ];
    let blocks = len.div_ceil(4096);
    let size = |n: usize| (len - n * 4096).min(4096);
    for n in 0..blocks {
        v.push(format!(
            "Dnload {{ block: {n}, len: {} }} -> Ok(None) [dfuDNLOAD-SYNC]",
            size(n)
        ));
        v.push("GetStatus -> Ok(Some((Ok, DnBusy))) [dfuDNLOAD-IDLE]".into());
        v.push("GetStatus -> Ok(Some((Ok, DnloadIdle))) [dfuDNLOAD-IDLE]".into());
    }
    v.push("DnloadEnd -> Ok(None) [dfuMANIFEST-SYNC]".into());
    v.push("GetStatus -> Ok(Some((Ok, Manifest))) [dfuMANIFEST]".into());
    v.push("GetStatus -> Ok(Some((Ok, DfuIdle))) [dfuIDLE]".into());
    for n in 0..blocks {
        v.push(format!(
            "Upload {{ block: {n}, len: {} }} -> Ok(None) [dfuUPLOAD-IDLE]",
            size(n)
        ));
    }
    v.push("Abort -> Ok(None) [dfuIDLE]".into());
    v
}

/// What OpenMV IDE reads of the output: the lines that start with `Download`, split on `\r`
/// and `\n`, as (percent, bytes).
fn download_bars(stdout: &str) -> Vec<(u32, u64)> {
    stdout
        .split(['\r', '\n'])
        .filter(|l| l.starts_with("Download\t["))
        .map(|l| {
            let rest = &l[l.find(']').unwrap() + 1..];
            let mut w = rest.split_whitespace();
            let pct = w.next().unwrap().trim_end_matches('%').parse().unwrap();
            let bytes = w.next().unwrap().parse().unwrap();
            assert_eq!(w.next(), Some("bytes"), "{l}");
            (pct, bytes)
        })
        .collect()
}

fn board(dir: &Path) -> SimDevice {
    SimDevice::with_state(H7P, &dir.join("state")).unwrap()
}

#[test]
fn openmv_ide_s_sequence_on_the_h7_plus_through_the_drop_in() {
    let dir = tmp("openmv", "ide");
    let fs = pattern(8192, 1);
    std::fs::write(dir.join("fs.bin"), &fs).unwrap();
    std::fs::write(dir.join("erase.bin"), [0u8; 4096]).unwrap();
    let fw = pattern(300_000, 2);
    std::fs::write(dir.join("firmware.bin"), &fw).unwrap();
    let romfs = pattern(70_000, 3);
    std::fs::write(dir.join("romfs.img"), &romfs).unwrap();

    // A filesystem with data, then the IDE's erase: 4096 zero bytes to its alt.
    let o = dfu_util(
        &dir,
        H7P,
        &["-d", ",37c5:924a", "-a", "FILESYSTEM", "-D", "fs.bin"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = dfu_util(
        &dir,
        H7P,
        &[
            "-w",
            "-d",
            ",37c5:924a",
            "-a",
            "FILESYSTEM",
            "-D",
            "erase.bin",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let fs_now = board(&dir).partition(1).unwrap().to_vec();
    assert_eq!(&fs_now[..4096], &[0u8; 4096][..]);
    // The whole 128 KB sector was erased by the write at its start.
    assert!(fs_now[4096..].iter().all(|b| *b == 0xff));

    // The firmware, with the serial the IDE passes.
    let o = dfu_util(
        &dir,
        H7P,
        &[
            "-w",
            "-d",
            ",37c5:924a",
            "-a",
            "FIRMWARE",
            "-D",
            "firmware.bin",
            "-S",
            H7P_SERIAL,
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    let mut expected = download_sequence(2, fw.len());
    expected.push("# board: in DFU mode, dfuIDLE".into());
    assert_eq!(ops(&dir), expected);
    // Each block's second GETSTATUS is held for the write: the first block's for the 128 KB
    // sector erase (1.1 s), the next block's for its words only.
    let t = transcript(&dir);
    assert!(t[6].0 - t[5].0 >= 1100.0, "{:?} {:?}", t[5], t[6]);
    assert!(t[9].0 - t[8].0 < 100.0, "{:?} {:?}", t[8], t[9]);
    let p = board(&dir).partition(2).unwrap().to_vec();
    assert_eq!(&p[..fw.len()], &fw[..]);
    assert!(p[fw.len()..3 * 128 * 1024].iter().all(|b| *b == 0xff));
    // The IDE's parser: percentages that only grow, to 100 % and every byte.
    let bars = download_bars(&out);
    assert!(bars.windows(2).all(|w| w[0].0 <= w[1].0), "{bars:?}");
    assert_eq!(bars.last(), Some(&(100, fw.len() as u64)));
    assert!(
        out.contains("\nDownload done.\n") && out.ends_with("Done!\n"),
        "{out}"
    );

    // The ROMFS, last, with --reset: DETACH (the bootloader starts the firmware), exit 0.
    let o = dfu_util(
        &dir,
        H7P,
        &[
            "-w",
            "-d",
            ",37c5:924a",
            "-a",
            "ROMFS0",
            "-D",
            "romfs.img",
            "--reset",
            "-S",
            H7P_SERIAL,
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    let mut expected = download_sequence(4, romfs.len());
    expected.push("Detach -> Ok(None) [dfuIDLE]".into());
    expected.push("# board: left DFU mode for 0x08040000".into());
    assert_eq!(ops(&dir), expected);
    assert!(out.ends_with(
        "Done!\nResetting USB to switch back to Run-Time mode\n\
         dfuflash: the board left DFU mode (reset as asked)\n"
    ));
    // ROMFS0 is the last 8 MB of SPI_FLASH.
    let b = board(&dir);
    assert_eq!(&b.partition(4).unwrap()[..romfs.len()], &romfs[..]);
    assert_eq!(
        &b.partition(3).unwrap()[0x180_0000..][..romfs.len()],
        &romfs[..]
    );

    // A read: what dfu-util writes, the partition and the 4-byte end frame.
    let o = dfu_util(
        &dir,
        H7P,
        &["-d", ",37c5:924a", "-a", "FIRMWARE", "-U", "read.bin"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let read = std::fs::read(dir.join("read.bin")).unwrap();
    assert_eq!(read.len(), FIRMWARE + 4);
    assert_eq!(&read[..FIRMWARE], board(&dir).partition(2).unwrap());
    assert_eq!(&read[FIRMWARE..], &[0, 0, 0, 0]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(&format!("Received a total of {} bytes", FIRMWARE + 4)));
    let t = ops(&dir);
    assert_eq!(
        t[t.len() - 2],
        "Upload { block: 448, len: 4096 } -> Ok(None) [dfuIDLE]"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn past_the_end_is_err_address_and_the_bootloader_partition_err_write() {
    let dir = tmp("openmv", "refused");
    std::fs::write(dir.join("big.bin"), pattern(128 * 1024 + 1, 4)).unwrap();
    std::fs::write(dir.join("small.bin"), pattern(4096, 5)).unwrap();
    let o = dfu_util(
        &dir,
        H7P,
        &["-d", ",37c5:924a", "-a", "FILESYSTEM", "-D", "big.bin"],
    );
    assert_eq!(o.status.code(), Some(74));
    assert!(stderr(&o).contains(
        "device reported errADDRESS (address out of range) in dfuERROR during download of block 32"
    ));
    let t = ops(&dir);
    assert_eq!(
        t[t.len() - 3..],
        [
            "GetStatus -> Ok(Some((Ok, DnBusy))) [dfuERROR]",
            "GetStatus -> Ok(Some((ErrAddress, Error))) [dfuERROR]",
            "# board: in DFU mode, dfuERROR"
        ]
    );
    let o = dfu_util(
        &dir,
        H7P,
        &["-d", ",37c5:924a", "-a", "BOOTLOADER", "-D", "small.bin"],
    );
    assert_eq!(o.status.code(), Some(74));
    assert!(
        stderr(&o).contains("device reported errWRITE"),
        "{}",
        stderr(&o)
    );
    assert!(board(&dir).partition(0).unwrap().iter().all(|b| *b == 0xff));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn with_two_cameras_s_picks_one_and_without_it_the_drop_in_refuses() {
    let dir = tmp("openmv", "two");
    let fw = pattern(5000, 6);
    std::fs::write(dir.join("firmware.bin"), &fw).unwrap();
    let two = "openmv-h7p,openmv-h7p";
    let o = dfu_util(&dir, two, &["-l"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let serials: std::collections::BTreeSet<&str> = out
        .lines()
        .filter_map(|l| l.split("serial=\"").nth(1))
        .map(|s| s.trim_end_matches('"'))
        .collect();
    assert_eq!(serials.len(), 2, "{out}");
    let second = *serials.iter().find(|s| **s != H7P_SERIAL).unwrap();

    let args = ["-d", ",37c5:924a", "-a", "FIRMWARE", "-D", "firmware.bin"];
    let o = dfu_util(&dir, two, &args);
    assert_eq!(o.status.code(), Some(74));
    assert!(stderr(&o).contains("More than one DFU capable USB device found!"));
    assert!(!dir.join("state").exists());

    // The second camera: the first board's memory (the state file) is not touched.
    let o = dfu_util(&dir, two, &[&args[..], &["-S", second]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(ops(&dir), {
        let mut v = download_sequence(2, fw.len());
        v.push("# board: in DFU mode, dfuIDLE".into());
        v
    });
    assert!(!dir.join("state").exists());
    // The first camera, by its serial: its memory holds the firmware.
    let o = dfu_util(&dir, two, &[&args[..], &["-S", H7P_SERIAL]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(&board(&dir).partition(2).unwrap()[..fw.len()], &fw[..]);
    std::fs::remove_dir_all(dir).unwrap();
}

/// `dfuflash flash -a NAME` on every OpenMV model: the firmware partition by name, the request
/// sequence, the bytes, verified by read-back.
#[test]
fn dfuflash_flash_by_alt_name_on_every_openmv_model() {
    let dir = tmp("openmv", "flash");
    for (model, name, alt) in [
        ("openmv-h7", "FIRMWARE", 2u8),
        ("openmv-h7p", "FIRMWARE", 2),
        ("openmv-n6", "FIRMWARE", 1),
        ("openmv-ae3", "HP", 1),
    ] {
        let fw = pattern(150_000, alt as u32 + 7);
        let file = dir.join(format!("{model}.bin"));
        std::fs::write(&file, &fw).unwrap();
        let (state, tr) = (dir.join(format!("{model}.state")), dir.join("tr"));
        let o = dfuflash(&[
            "flash",
            "--sim",
            model,
            "--sim-state",
            state.to_str().unwrap(),
            "--sim-transcript",
            tr.to_str().unwrap(),
            "-a",
            name,
            "--json",
            file.to_str().unwrap(),
        ]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{model}: {out}{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["bytes_verified"], fw.len() as u64, "{model}: {v}");
        let dev = SimDevice::with_state(model, &state).unwrap();
        assert_eq!(&dev.partition(alt).unwrap()[..fw.len()], &fw[..], "{model}");
        let text = std::fs::read_to_string(&tr).unwrap();
        let got: Vec<&str> = text
            .lines()
            .map(|l| l.split_once(" ms  ").map_or(l, |(_, r)| r))
            .collect();
        let mut want = download_sequence(alt, fw.len());
        // One GETSTATUS before the download: the drop-in's "Determining device status" is
        // dfu-util's.
        want.remove(1);
        want.push("# board: in DFU mode, dfuIDLE".into());
        assert_eq!(got, want, "{model}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
