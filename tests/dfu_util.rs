//! The `dfu-util` personality against simulated boards (DFUFLASH_SIM), on the command lines
//! IDEs run (shared/IDE-INTEGRATION.md): the exit code, the flash contents, the progress lines
//! parsed the way the IDEs parse them, the `-l` lines, and dfu-util's codes for bad command lines.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dfuflash::image::{dfuse, Image, Segment};
use dfuflash::sim::SimDevice;

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A directory with `dfu-util` linked to the dfuflash binary (on Windows, a copy named
/// dfu-util.exe), as an IDE bundles it.
fn bundle(name: &str) -> Dir {
    let d = std::env::temp_dir().join(format!("dfuflash-du-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_dfuflash"), d.join("dfu-util")).unwrap();
    #[cfg(windows)]
    std::fs::copy(env!("CARGO_BIN_EXE_dfuflash"), d.join("dfu-util.exe")).unwrap();
    Dir(d)
}

/// Runs `dfu-util ARGS` in `dir` with `boards` attached (DFUFLASH_SIM), memory kept in `state`.
fn dfu_util(dir: &Path, boards: &str, args: &[&str]) -> Output {
    let mut c = Command::new(dir.join(format!("dfu-util{}", std::env::consts::EXE_SUFFIX)));
    c.args(args)
        .current_dir(dir)
        .env("DFUFLASH_SIM_STATE", dir.join("state"));
    if boards.is_empty() {
        c.env_remove("DFUFLASH_SIM");
    } else {
        c.env("DFUFLASH_SIM", boards);
    }
    c.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2_654_435_761)
                .rotate_left(seed as u32) as u8
        })
        .collect()
}

/// The board's memory after a run.
fn memory(dir: &Path, model: &str, address: u32, len: usize) -> Vec<u8> {
    let dev = SimDevice::with_state(model, &dir.join("state")).unwrap();
    dev.memory(0, address, len).unwrap().to_vec()
}

/// Progress as OpenMV IDE reads it: the output split on `\r` and `\n`, lines that start with
/// the phase name, a `[===]` bar, a percentage and a byte count. Returns (percent, bytes).
fn progress(out: &str, phase: &str) -> Vec<(u32, u64)> {
    out.split(['\r', '\n'])
        .filter(|l| l.starts_with(phase) && l.contains('['))
        .map(|l| {
            let after = &l[l.find(']').expect("a bar") + 1..];
            let mut f = after.split_whitespace();
            let pct = f.next().unwrap().trim_end_matches('%').parse().unwrap();
            let bytes = f.next().unwrap().parse().unwrap();
            assert_eq!(f.next(), Some("bytes"), "{l:?}");
            (pct, bytes)
        })
        .collect()
}

fn assert_progress_reaches_100(out: &str, phase: &str, total: u64) {
    let p = progress(out, phase);
    assert!(p.len() >= 2, "{phase}: {p:?}");
    assert!(
        p.windows(2).all(|w| w[0] <= w[1]),
        "{phase} not monotonic: {p:?}"
    );
    assert_eq!(*p.last().unwrap(), (100, total), "{phase}: {p:?}");
    assert!(
        out.contains(&format!("\n{phase} done.\n")),
        "{phase} done line"
    );
}

#[test]
fn openmv_ide_flashes_a_full_dfuse_image_onto_rev_v_and_exits_0_after_leave() {
    let d = bundle("openmv");
    let fw = pattern(0x1c_0000, 3);
    let img = Image::from_binary(0x0804_0000, fw.clone()).unwrap();
    std::fs::write(
        d.0.join("openmv.dfu"),
        dfuse::write(&img, 0x0483, 0xdf11, 0xffff),
    )
    .unwrap();
    let o = dfu_util(
        &d.0,
        "stm32h743-revv",
        &[
            "-w",
            "-d",
            ",0483:df11",
            "-a",
            "0",
            "-s",
            ":leave",
            "-D",
            "openmv.dfu",
        ],
    );
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert_progress_reaches_100(&out, "Erase   ", fw.len() as u64);
    assert_progress_reaches_100(&out, "Download", fw.len() as u64);
    for line in [
        "Waiting for device, exit with ctrl-C",
        "Device ID 0483:df11",
        "Image for alternate setting 0, (1 elements, total size = 1835016)",
        "Parsing element 1, address = 0x08040000, size = 1835008",
        "dfuflash: sector 0x08100000 stuck in dfuDNBUSY",
        "dfuflash: verified 1835008 bytes by read-back",
        "Done parsing DfuSe file",
        "Submitting leave request...",
    ] {
        assert!(out.contains(line), "no {line:?} in:\n{out}");
    }
    assert_eq!(memory(&d.0, "stm32h743-revv", 0x0804_0000, fw.len()), fw);
}

#[test]
fn a_re_flash_of_the_same_firmware_skips_every_sector_and_still_parses_as_done() {
    let d = bundle("reflash");
    let mut fw = pattern(0x60000, 3);
    std::fs::write(d.0.join("fw.bin"), &fw).unwrap();
    let args = ["-a", "0", "-s", "0x080c0000", "-D", "fw.bin"];
    assert_eq!(
        dfu_util(&d.0, "stm32h743-revv", &args).status.code(),
        Some(0)
    );
    let o = dfu_util(&d.0, "stm32h743-revv", &args);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert_progress_reaches_100(&out, "Erase   ", fw.len() as u64);
    assert_eq!(
        progress(&out, "Download"),
        [(100, fw.len() as u64)],
        "nothing to send: the bar is full at once"
    );
    assert!(out.contains("\nDownload done.\n"), "{out}");
    assert!(
        out.contains("dfuflash: 3 sector(s) already held the image: compared and left alone"),
        "{out}"
    );
    assert!(
        !out.contains("stuck in dfuDNBUSY"),
        "no erase, no Rev V wedge: {out}"
    );

    // One changed byte in the last sector: that sector is written, and the first one, which
    // holds the boot block: it goes last, so a power cut cannot leave a bootable half image.
    // The bar counts the element's bytes, as dfu-util's does.
    fw[0x50000] ^= 0xff;
    std::fs::write(d.0.join("fw.bin"), &fw).unwrap();
    let o = dfu_util(&d.0, "stm32h743-revv", &args);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert_progress_reaches_100(&out, "Download", fw.len() as u64);
    assert!(out.contains("dfuflash: 1 sector(s) already held"), "{out}");
    assert!(
        out.contains(
            "dfuflash: the boot block at 0x080c0000 was written last, after the rest was verified"
        ),
        "{out}"
    );
    assert_eq!(memory(&d.0, "stm32h743-revv", 0x080c_0000, fw.len()), fw);
}

#[test]
fn qmk_toolbox_flashes_a_raw_binary_with_leave() {
    let d = bundle("qmk");
    let fw = pattern(0x9000, 5);
    std::fs::write(d.0.join("fw.bin"), &fw).unwrap();
    let o = dfu_util(
        &d.0,
        "stm32h743-revy",
        &[
            "-a",
            "0",
            "-d",
            "0483:DF11",
            "-s",
            "0x08000000:leave",
            "-D",
            "fw.bin",
        ],
    );
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert!(
        out.contains("Downloading element to address = 0x08000000, size = 36864"),
        "{out}"
    );
    assert!(
        out.contains("File downloaded successfully\nSubmitting leave request..."),
        "{out}"
    );
    assert_progress_reaches_100(&out, "Download", fw.len() as u64);
    // A raw file has no DFU suffix: dfu-util's warning, on stderr as dfu-util prints it.
    assert!(text(&o.stderr).contains("dfu-util: Warning: Invalid DFU suffix signature"));
    assert_eq!(memory(&d.0, "stm32h743-revy", 0x0800_0000, fw.len()), fw);
}

#[test]
fn arduinos_portenta_recipe_flashes_the_portenta_bootloader_and_exits_0() {
    let d = bundle("arduino");
    let fw = pattern(0x6_2000, 7);
    std::fs::write(d.0.join("sketch.bin"), &fw).unwrap();
    // ArduinoCore-mbed platform.txt, with boards.txt's Portenta values.
    let o = dfu_util(
        &d.0,
        "portenta-h7",
        &[
            "--device",
            "0x2341:0x035b",
            "-D",
            "sketch.bin",
            "-a0",
            "--dfuse-address=0x08040000:leave",
        ],
    );
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert!(out.contains("Device returned transfer size 4096"), "{out}");
    assert!(
        out.contains("DfuSe interface name: \"Internal Flash  2MB   \""),
        "{out}"
    );
    assert_progress_reaches_100(&out, "Download", fw.len() as u64);
    assert!(out.contains("Submitting leave request..."), "{out}");
    assert_eq!(memory(&d.0, "portenta-h7", 0x0804_0000, fw.len()), fw);
    // Arduino's -Q, with attached short values, on an ST ROM.
    std::fs::remove_file(d.0.join("state")).unwrap();
    let o = dfu_util(
        &d.0,
        "stm32h743-revy",
        &[
            "--device",
            "0x0483:0xdf11",
            "-D",
            "sketch.bin",
            "-a0",
            "--dfuse-address=0x08040000",
            "-Q",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("Resetting USB to switch back to Run-Time mode"));
}

#[test]
fn an_upload_reads_what_the_board_holds() {
    let d = bundle("upload");
    let fw = pattern(0x8000, 9);
    std::fs::write(d.0.join("fw.bin"), &fw).unwrap();
    let o = dfu_util(
        &d.0,
        "stm32f405",
        &["-a", "0", "-s", "0x08000000", "-D", "fw.bin"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = dfu_util(
        &d.0,
        "stm32f405",
        &["-a", "0", "-s", "0x08000000:32768", "-U", "up.bin"],
    );
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert_progress_reaches_100(&out, "Upload", 32768);
    assert_eq!(std::fs::read(d.0.join("up.bin")).unwrap(), fw);
    // The file exists now: dfu-util refuses to overwrite it.
    let o = dfu_util(
        &d.0,
        "stm32f405",
        &["-a", "0", "-s", "0x08000000:32768", "-U", "up.bin"],
    );
    assert_eq!(o.status.code(), Some(73));
    assert!(text(&o.stderr).contains("dfu-util: Cannot open file up.bin for writing: File exists"));
}

#[test]
fn list_prints_a_found_line_per_alt_setting_with_every_field() {
    let d = bundle("list");
    let o = dfu_util(&d.0, "stm32h743-revv", &["-l"]);
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o.stdout);
    assert!(out.starts_with("dfu-util 0.11\n"), "{out}");
    let found: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("Found DFU: "))
        .collect();
    assert_eq!(found.len(), 4, "{out}");
    // OpenMV IDE's pattern: [VID:PID] ... alt=N ... serial="..."
    assert_eq!(
        found[3],
        "Found DFU: [0483:df11] ver=0200, devnum=0, cfg=1, intf=0, path=\"sim:stm32h743-revv\", alt=0, name=\"@Internal Flash   /0x08000000/16*128Kg\", serial=\"200364500000\""
    );
    assert!(
        found[0].contains("alt=3"),
        "highest alt first, as dfu-util lists"
    );
}

#[test]
fn bad_command_lines_get_dfu_utils_codes_and_send_no_request() {
    let d = bundle("bad");
    std::fs::write(d.0.join("fw.bin"), pattern(64, 1)).unwrap();
    let cases: [(&str, &[&str], i32, &str); 6] = [
        (
            "stm32h743-revy",
            &["-a", "0", "--bogus", "-D", "fw.bin"],
            64,
            "dfu-util: unexpected argument '--bogus'",
        ),
        (
            "stm32h743-revy",
            &["-a", "0", "-s", "0x08000000:lave", "-D", "fw.bin"],
            64,
            "dfu-util: Invalid dfuse modifier: lave",
        ),
        (
            "stm32h743-revy",
            &["-a", "0", "-s", "0x08000000", "-D", "missing.bin"],
            66,
            "dfu-util: Could not open file missing.bin for reading",
        ),
        (
            "stm32h743-revy,stm32h743-revv",
            &[
                "-d",
                "0483:df11",
                "-a",
                "0",
                "-s",
                "0x08000000",
                "-D",
                "fw.bin",
            ],
            74,
            "dfu-util: More than one DFU capable USB device found!",
        ),
        (
            "stm32f405",
            &[
                "-d",
                "2341:035b",
                "-a",
                "0",
                "-s",
                "0x08000000",
                "-D",
                "fw.bin",
            ],
            74,
            "dfu-util: No DFU capable USB device available",
        ),
        (
            "stm32h743-revy",
            &["-s", "0x08000000", "-D", "fw.bin"],
            74,
            "dfu-util: More than one DFU capable USB device found!",
        ),
    ];
    for (boards, args, code, message) in cases {
        let o = dfu_util(&d.0, boards, args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(
            !d.0.join("state").exists(),
            "{args:?}: the board was touched"
        );
    }
    // Option bytes only with dfu-util's own permission, named in its terms.
    let o = dfu_util(
        &d.0,
        "stm32h743-revy",
        &["-a", "1", "-s", "0x5200201c", "-D", "fw.bin"],
    );
    assert_eq!(o.status.code(), Some(64));
    assert!(
        text(&o.stderr).contains("(add :force to the -s string)"),
        "{}",
        text(&o.stderr)
    );
    std::fs::remove_file(d.0.join("state")).ok();
    let o = dfu_util(&d.0, "stm32h743-revy", &["-a", "0"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(text(&o.stderr).starts_with("You need to specify one of -D or -U"));
    let o = dfu_util(&d.0, "", &["-V"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).starts_with("dfu-util 0.11\n"));
}

#[test]
fn dfuflash_dfu_util_takes_the_same_command_line() {
    let d = bundle("subcommand");
    let fw = pattern(0x800, 2);
    std::fs::write(d.0.join("fw.bin"), &fw).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_dfuflash"))
        .args(["dfu-util", "-a", "0", "-s", "0x08020000", "-D", "fw.bin"])
        .current_dir(&d.0)
        .env("DFUFLASH_SIM", "stm32h743-revy")
        .env("DFUFLASH_SIM_STATE", d.0.join("state"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(memory(&d.0, "stm32h743-revy", 0x0802_0000, fw.len()), fw);
}

#[test]
fn a_dfuse_file_of_two_elements_gets_a_pair_of_bars_per_element_as_dfu_util_prints_them() {
    let d = bundle("elements");
    let (a, b) = (pattern(40_000, 1), pattern(20_000, 2));
    let img = Image::single(
        0,
        vec![
            Segment::new(0x0800_0000, a.clone()),
            Segment::new(0x0802_0000, b.clone()),
        ],
    )
    .unwrap();
    std::fs::write(
        d.0.join("two.dfu"),
        dfuse::write(&img, 0x0483, 0xdf11, 0xffff),
    )
    .unwrap();
    let o = dfu_util(&d.0, "stm32f405", &["-a", "0", "-D", "two.dfu"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    // dfu-util's order: element 1's lines, its Erase and Download bars, then element 2's.
    let marks: Vec<&str> = out
        .split(['\r', '\n'])
        .filter_map(|l| {
            if l.starts_with("Parsing element") {
                Some(l)
            } else if l.ends_with(" 0%            0 bytes") {
                Some(if l.starts_with("Erase") {
                    "Erase from 0"
                } else {
                    "Download from 0"
                })
            } else if l.ends_with(" done.") {
                Some(l)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        marks,
        [
            "Parsing element 1, address = 0x08000000, size = 40000",
            "Erase from 0",
            "Erase    done.",
            "Download from 0",
            "Download done.",
            "Parsing element 2, address = 0x08020000, size = 20000",
            "Erase from 0",
            "Erase    done.",
            "Download from 0",
            "Download done.",
        ],
        "{out}"
    );
    // Each bar counts its own element's bytes.
    let downloads = progress(&out, "Download");
    assert!(downloads.contains(&(100, 40_000)) && downloads.contains(&(100, 20_000)));
    assert_eq!(memory(&d.0, "stm32f405", 0x0800_0000, a.len()), a);
    assert_eq!(memory(&d.0, "stm32f405", 0x0802_0000, b.len()), b);
}

#[test]
fn list_names_a_quirked_layout_as_the_device_does_as_dfu_util_prints_it() {
    // dfu-util fixes the GD32VF103's layout only to download; -l shows the device's string.
    let d = bundle("gd32list");
    let o = dfu_util(&d.0, "gd32vf103", &["-l"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains(r#"alt=0, name="@Internal Flash  /0x08000000/512*002Kg", serial="3CBJ""#),
        "{out}"
    );
}
