//! The `STM32_Programmer_CLI` personality against simulated boards (DFUFLASH_SIM), on the
//! command lines its callers run (shared/ST-SERIAL-BOOT.md B1): the exit code, the lines they
//! parse (OpenMV IDE's bar pattern, `File download complete`, the start line), the bytes in
//! the board, the requests where they matter, and the refusals.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::pattern;
use dfuflash::sim::SimDevice;

const BASE: u32 = 0x0800_0000;

/// A directory with the dfuflash binary under `name` (a link; on Windows a copy), as an IDE or
/// STM32duino bundles STM32_Programmer_CLI.
struct Bundle {
    dir: PathBuf,
    exe: PathBuf,
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn bundle(test: &str, name: &str) -> Bundle {
    let dir = common::cli::tmp("cubeprog", test);
    let exe = dir.join(name);
    #[cfg(unix)]
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_dfuflash"), &exe).unwrap();
    #[cfg(windows)]
    std::fs::copy(env!("CARGO_BIN_EXE_dfuflash"), &exe).unwrap();
    Bundle { dir, exe }
}

fn cli(test: &str) -> Bundle {
    bundle(
        test,
        &format!("STM32_Programmer_CLI{}", std::env::consts::EXE_SUFFIX),
    )
}

impl Bundle {
    /// Runs the bundled program with `boards` attached, the memory kept in `state` and the
    /// requests in `transcript`.
    fn run(&self, boards: &str, line: &str) -> Output {
        let mut c = Command::new(&self.exe);
        c.args(argv(line))
            .current_dir(&self.dir)
            .env("DFUFLASH_SIM_STATE", self.dir.join("state"))
            .env("DFUFLASH_SIM_TRANSCRIPT", self.dir.join("transcript"))
            .env_remove("DFUFLASH_SIM_PLUG");
        if boards.is_empty() {
            c.env_remove("DFUFLASH_SIM");
        } else {
            c.env("DFUFLASH_SIM", boards);
        }
        c.output().unwrap()
    }

    fn file(&self, name: &str, data: &[u8]) {
        std::fs::write(self.dir.join(name), data).unwrap();
    }

    fn memory(&self, model: &str, address: u32, len: usize) -> Vec<u8> {
        let dev = SimDevice::with_state(model, &self.dir.join("state")).unwrap();
        dev.memory(0, address, len).unwrap().to_vec()
    }

    fn transcript(&self) -> String {
        std::fs::read_to_string(self.dir.join("transcript")).unwrap_or_default()
    }
}

/// A caller's command line as the shell splits it: words, and `"..."` for one argument that
/// may be empty or hold spaces.
fn argv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        let (word, tail) = match rest.strip_prefix('"') {
            Some(q) => q.split_once('"').expect("a closing quote"),
            None => rest.split_once(' ').unwrap_or((rest, "")),
        };
        out.push(word.to_string());
        rest = tail.trim_start();
    }
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn lines(o: &Output) -> Vec<String> {
    stdout(o).lines().map(str::to_string).collect()
}

/// OpenMV IDE's progress: the output split on `\r` and `\n`, lines starting with `[` searched
/// for `[=*\s*]\s+(\d+)%` (a class of `=`, `*` and spaces, spaces, digits, `%`).
fn percentages(out: &str) -> Vec<u32> {
    out.split(['\r', '\n'])
        .filter(|l| l.starts_with('['))
        .filter_map(|l| {
            let b = l.as_bytes();
            (0..b.len()).find_map(|i| {
                if !(b[i] == b'=' || b[i] == b'*' || b[i].is_ascii_whitespace()) {
                    return None;
                }
                let spaces = b[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_whitespace())
                    .count();
                let d = i + 1 + spaces;
                let digits = b[d..].iter().take_while(|c| c.is_ascii_digit()).count();
                (spaces > 0 && digits > 0 && b.get(d + digits) == Some(&b'%'))
                    .then(|| l[d..d + digits].parse().unwrap())
            })
        })
        .collect()
}

/// Checks a successful flash of `data` at BASE: exit 0, the lines, the bytes, the leave.
fn flashed(b: &Bundle, o: &Output, model: &str, data: &[u8], started: bool) {
    let out = stdout(o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("STM32CubeProgrammer v"), "{out}");
    assert!(out.contains("Download in Progress:"), "{out}");
    assert!(
        lines(o).iter().any(|l| l == "File download complete"),
        "{out}"
    );
    assert_eq!(b.memory(model, BASE, data.len()), data);
    let left = b
        .transcript()
        .contains("# board: left DFU mode for 0x08000000");
    assert_eq!(left, started, "{}", b.transcript());
    assert_eq!(
        out.contains("Start operation achieved successfully"),
        started
    );
}

fn mass_erases(b: &Bundle) -> usize {
    b.transcript()
        .lines()
        .filter(|l| l.contains("MassErase"))
        .count()
}

#[test]
fn stm32duino_current_line_flashes_and_starts() {
    for model in ["stm32f405", "stm32h743-revv"] {
        let b = cli(&format!("duino-{model}"));
        let data = pattern(40_000, 7);
        b.file("x.bin", &data);
        let o = b.run(model, r#"--connect port=usb1 VID=0x0483 PID=0xdf11 "" --quietMode --download x.bin 0x8000000 --start 0x8000000"#);
        flashed(&b, &o, model, &data, true);
        // Quiet: no bar.
        assert!(percentages(&stdout(&o)).is_empty());
        assert_eq!(mass_erases(&b), 0);
    }
}

#[test]
fn stm32duino_erase_all_as_one_argument_mass_erases_once() {
    let b = cli("duino-erase");
    let data = pattern(20_000, 3);
    b.file("x.bin", &data);
    let o = b.run("stm32f405", r#"--connect port=usb1 VID=0x0483 PID=0xdf11 "--erase all" --quietMode --download x.bin 0x8000000 --start 0x8000000"#);
    flashed(&b, &o, "stm32f405", &data, true);
    assert_eq!(mass_erases(&b), 1);
    assert!(!b.transcript().contains("Erase("), "{}", b.transcript());
    assert!(stdout(&o).contains("Mass erase successfully achieved"));
}

#[test]
fn stm32duino_older_lines_flash_and_start() {
    // Linux STM32duino calls it STM32_Programmer.sh.
    let b = bundle("duino-old", "STM32_Programmer.sh");
    let data = pattern(30_000, 5);
    b.file("x.bin", &data);
    let o = b.run("stm32f405", "-c port=USB1 -q -d x.bin 0x8000000 -s");
    flashed(&b, &o, "stm32f405", &data, true);
    assert_eq!(mass_erases(&b), 0);
    let data = pattern(30_000, 9);
    b.file("x.bin", &data);
    let o = b.run("stm32f405", "-c port=USB1 -e all -q -d x.bin 0x8000000 -s");
    flashed(&b, &o, "stm32f405", &data, true);
    assert_eq!(mass_erases(&b), 1);
    // stm32CubeProg.sh's shapes: options joined in one argument, an empty one at the end.
    let data = pattern(10_000, 11);
    b.file("x.bin", &data);
    let o = b.run(
        "stm32f405",
        r#""-c port=USB1" "-q -d" x.bin 0x8000000 "-s 0x8000000" """#,
    );
    flashed(&b, &o, "stm32f405", &data, true);
}

#[test]
fn openmv_style_bin_shows_a_bar_its_pattern_reads() {
    for model in ["stm32f405", "stm32h743-revv"] {
        let b = cli(&format!("omv-{model}"));
        // Past 1 MB on the H7: sector 8 is where the Rev V erase wedges.
        let data = pattern(
            if model == "stm32f405" {
                100_000
            } else {
                0x12_0000
            },
            13,
        );
        b.file("fw.bin", &data);
        let o = b.run(model, "-c port=USB1 -d fw.bin 0x08000000");
        flashed(&b, &o, model, &data, false);
        let p = percentages(&stdout(&o));
        assert!(p.len() > 2 && p.windows(2).all(|w| w[0] < w[1]), "{p:?}");
        assert_eq!((p[0], *p.last().unwrap()), (0, 100));
        if model == "stm32h743-revv" {
            assert!(stdout(&o).contains("recovered as ST's programmer does"));
        }
    }
}

/// An Intel HEX file of `data` at `address`.
fn ihex(address: u32, data: &[u8]) -> String {
    let rec = |kind: u8, at: u16, bytes: &[u8]| {
        let mut r = vec![bytes.len() as u8, (at >> 8) as u8, at as u8, kind];
        r.extend_from_slice(bytes);
        let sum = r.iter().fold(0u8, |s, b| s.wrapping_add(*b)).wrapping_neg();
        let hex: String = r.iter().chain([&sum]).map(|b| format!("{b:02X}")).collect();
        format!(":{hex}\n")
    };
    let mut s = rec(4, 0, &((address >> 16) as u16).to_be_bytes());
    for (i, chunk) in data.chunks(16).enumerate() {
        s += &rec(0, (address as u16).wrapping_add(16 * i as u16), chunk);
    }
    s + &rec(1, 0, &[])
}

#[test]
fn openmv_style_hex_and_zephyr_start_without_address() {
    let b = cli("hex");
    let data = pattern(5_000, 17);
    b.file("fw.hex", ihex(BASE, &data).as_bytes());
    let o = b.run("stm32f405", "-c port=USB1 -w fw.hex");
    flashed(&b, &o, "stm32f405", &data, false);
    assert!(stdout(&o).contains("  Address       : 0x08000000"));
    // Zephyr: the connection in one argument, --start with no address runs the file's.
    let data = pattern(6_000, 19);
    b.file("zephyr.hex", ihex(BASE, &data).as_bytes());
    let o = b.run(
        "stm32f405",
        r#"--connect "port=usb1 freq=4000 reset=hw" --erase all --download zephyr.hex --start"#,
    );
    flashed(&b, &o, "stm32f405", &data, true);
    assert_eq!(mass_erases(&b), 1);
}

#[test]
fn mbed_ce_repeated_connect_empty_serial_and_verify() {
    let b = cli("mbed");
    let data = pattern(12_000, 23);
    b.file("x.bin", &data);
    let o = b.run("stm32f405", "-c -c port=USB sn= -w x.bin 0x08000000 -v -s");
    flashed(&b, &o, "stm32f405", &data, true);
    assert!(lines(&o)
        .iter()
        .any(|l| l == "Download verified successfully"));
    // Again: every sector already holds the file, compared and left alone; verified all the same.
    let o = b.run("stm32f405", "-c port=USB -w x.bin 0x08000000 -v");
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("already held the image"), "{out}");
    assert!(out.contains("\nDownload verified successfully\n"), "{out}");
    assert_eq!(percentages(&out).last(), Some(&100));
    assert!(!b.transcript().contains("Erase("), "{}", b.transcript());
    // A serial that no board has finds no board.
    let o = b.run("stm32f405", "-c port=USB1 sn=NOPE -w x.bin 0x08000000");
    assert_eq!(o.status.code(), Some(1));
    assert!(lines(&o).iter().any(|l| l == "Error: No DFU device found"));
}

#[test]
fn list_usb_shows_the_boards_or_none() {
    let b = cli("list");
    let o = b.run("stm32f405", "-l usb");
    assert_eq!(o.status.code(), Some(0));
    let l = lines(&o);
    assert!(
        l.iter()
            .any(|l| l == "Total number of available STM32 device in DFU mode: 1"),
        "{l:?}"
    );
    assert!(
        l.iter().any(|l| l == "  Device Index           : USB1"),
        "{l:?}"
    );
    let o = b.run("", "-l usb");
    assert_eq!(o.status.code(), Some(0));
    assert!(lines(&o)
        .iter()
        .any(|l| l == "No STM32 device in DFU mode connected"));
    // A presence probe finds the board, or fails.
    assert_eq!(b.run("stm32f405", "-c port=USB1").status.code(), Some(0));
    let o = b.run("", "-c port=USB1");
    assert_eq!(o.status.code(), Some(1));
    assert!(lines(&o).iter().any(|l| l == "Error: No DFU device found"));
}

#[test]
fn sectors_erase_by_number_and_upload_reads_back() {
    let b = cli("sectors");
    let data = pattern(0x10000, 29);
    b.file("x.bin", &data);
    let o = b.run("stm32f405", "-c port=USB1 -d x.bin 0x08000000");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = b.run(
        "stm32f405",
        r#"-c port=USB1 -e "[1 2]" -u 0x08000000 0x10000 up.bin"#,
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("Erasing internal memory sectors [1 2]"),
        "{out}"
    );
    let erases: Vec<&str> = b
        .transcript()
        .lines()
        .filter(|l| l.contains("Erase("))
        .map(|_| "e")
        .collect();
    assert_eq!(erases.len(), 2, "{}", b.transcript());
    // Sectors 1 and 2 (16 KB each at 0x08004000) erased, 0 and 3 kept.
    let mut want = data.clone();
    want[0x4000..0xC000].fill(0xff);
    assert_eq!(std::fs::read(b.dir.join("up.bin")).unwrap(), want);
    assert!(out.contains("Data read successfully"));
}

#[test]
fn dfuflash_cubeprog_runs_the_personality_and_log_keeps_the_lines() {
    let dir = common::cli::tmp("cubeprog", "subcommand");
    let data = pattern(4_000, 31);
    std::fs::write(dir.join("x.bin"), &data).unwrap();
    let log = dir.join("run.log");
    let o = Command::new(env!("CARGO_BIN_EXE_dfuflash"))
        .args(argv("cubeprog -c port=USB1 -vb 2 -d x.bin 0x08000000 -log"))
        .arg(&log)
        .current_dir(&dir)
        .env("DFUFLASH_SIM", "stm32f405")
        .env("DFUFLASH_SIM_STATE", dir.join("state"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let kept = std::fs::read_to_string(&log).unwrap();
    assert!(kept.contains("File download complete"), "{kept}");
    // -vb 2: the engine's log lines, on lines of dfuflash's own.
    assert!(kept.contains("\ndfuflash: info: boot block"), "{kept}");
    let dev = SimDevice::with_state("stm32f405", &dir.join("state")).unwrap();
    assert_eq!(dev.memory(0, BASE, data.len()).unwrap(), &data[..]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Refused with its line and exit 1, before the board is touched.
fn refused(args: &str, line: &str) {
    let b = cli(&format!("refused-{}", line.len()));
    b.file("x.bin", &pattern(1000, 1));
    let o = b.run("stm32f405", args);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stdout(&o));
    // A line that ends in ": " is the start of one whose end is the system's own words.
    let matches = |l: &String| l == line || (line.ends_with(": ") && l.starts_with(line));
    assert!(lines(&o).iter().any(matches), "{args:?}: {}", stdout(&o));
    assert_eq!(b.memory("stm32f405", BASE, 4), [0xff; 4]);
}

#[test]
fn what_it_does_not_do_is_refused_with_exit_1() {
    const ONLY: &str =
        "is not supported by this STM32_Programmer_CLI drop-in (dfuflash: USB DFU only)";
    refused(
        "-c port=SWD -d x.bin 0x08000000",
        &format!("Error: port=SWD {ONLY}"),
    );
    refused("-c port=COM3", &format!("Error: port=COM3 {ONLY}"));
    refused(
        "-c port=USB1 -ob RDP=0xBB",
        &format!("Error: -ob (option bytes by name) {ONLY}"),
    );
    refused(
        "-c port=USB1 -rdu",
        &format!("Error: -rdu (read unprotect) {ONLY}"),
    );
    refused(
        "-c port=USB1 -el ext.stldr",
        &format!("Error: -el (external loaders) {ONLY}"),
    );
    refused(
        "-c port=USB1 -d FlashLayout.tsv",
        // The system's words for a missing file differ (Windows: "File not found.").
        "Error: FlashLayout.tsv: cannot read: ",
    );
    refused(
        "-c port=USB1 -d x.bin",
        "Error: x.bin: a binary file needs its address: -d x.bin 0x08000000",
    );
    refused(
        "-c port=USB2 -d x.bin 0x08000000",
        "Error: No DFU device found",
    );
}

#[test]
fn a_failed_download_says_so_and_exits_1() {
    let b = cli("fail");
    b.file("x.bin", &pattern(1000, 2));
    // Past the end of the F405's 1 MB of flash.
    let o = b.run("stm32f405", "-c port=USB1 -d x.bin 0x08100000 -s");
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let l = lines(&o);
    assert!(
        l.iter().any(|l| l == "Error: failed to download the File"),
        "{l:?}"
    );
    assert!(!l.iter().any(|l| l.contains("Start operation")), "{l:?}");
    assert!(!b.transcript().contains("left DFU mode"));
}

#[test]
fn a_file_named_for_a_format_it_does_not_hold_is_never_written_raw() {
    let b = cli("notformat");
    // An Intel HEX file saved with a byte-order mark is not Intel HEX to its reader.
    b.file("bom.hex", b"\xef\xbb\xbf:0400000001020304F2\n:00000001FF\n");
    let o = b.run("stm32f405", "-c port=USB1 -d bom.hex 0x08000000");
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        lines(&o).iter().any(|l| {
            l
            == "Error: bom.hex: not a valid Intel HEX file (its name says so); nothing was written"
        }),
        "{}",
        stdout(&o)
    );
    assert!(!b.transcript().contains("Dnload"), "{}", b.transcript());
    assert_eq!(b.memory("stm32f405", 0x0800_0000, 4), [0xff; 4]);
    // A directory, or a device that never ends, is not a file to flash.
    std::fs::create_dir_all(b.dir.join("adir")).unwrap();
    let mut cases = vec![("adir", "Error: cannot read adir: not a regular file")];
    if cfg!(unix) {
        cases.push((
            "/dev/zero",
            "Error: cannot read /dev/zero: not a regular file",
        ));
    }
    for (file, says) in cases {
        let o = b.run("stm32f405", &format!("-c port=USB1 -d {file} 0x08000000"));
        assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
        assert!(lines(&o).iter().any(|l| l == says), "{}", stdout(&o));
    }
}

/// A bundle holding OpenMV's N6 layout (stand-in binaries; the app is returned).
fn n6_bundle(test: &str) -> (Bundle, Vec<u8>) {
    use dfuflash::flashlayout::header;
    let b = cli(test);
    let obl = header::fsbl_v2_3(&pattern(0x2000, 4), 0x3418_9da1);
    let app = pattern(20_000, 5);
    b.file("obl.stm32", &obl);
    b.file("loader.bin", &pattern(7880, 6));
    b.file("bootloader.bin", &app);
    b.file(
        "FlashLayout.tsv",
        b"#Opt\tId\tName\tType\tIP\tOffset\tBinary\n\
          P\t0x1\tfsbl-openbl\tBinary\tnone\t0x0\tobl.stm32\n\
          P\t0x3\tfsbl-extfl\tBinary\tnone\t0x0\tloader.bin\n\
          P\t0x4\tfsbl-app\tBinary\tnor0\t0x0000000\tbootloader.bin",
    );
    (b, app)
}

#[test]
fn openmv_ide_s_n6_recovery_line_flashes_the_layout_across_the_hand_over() {
    let (b, app) = n6_bundle("n6");
    let o = b.run("stm32n6", "-c port=USB1 -d FlashLayout.tsv");
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let l = lines(&o);
    for want in [
        "Opening and parsing file: FlashLayout.tsv",
        "  Partition ID  : 0x04 (fsbl-app)",
        "File download complete",
    ] {
        assert!(l.iter().any(|x| x == want), "{want}: {out}");
    }
    let crc = format!(
        "fsbl-app (Id 0x04): 20000 bytes, crc32 {:08x}",
        crc32fast::hash(&app)
    );
    assert!(out.contains(&crc), "{out}");
    // A bar per part sent (FSBL, layout, loader, NOR), each read by OpenMV IDE's pattern.
    let downloads = l.iter().filter(|x| *x == "Download in Progress:").count();
    assert_eq!(downloads, 4, "{out}");
    let pct = percentages(&out);
    assert!(pct.iter().any(|&p| p > 0 && p < 100), "{pct:?}");
    // The board handed over to the OpenBootloader and came back on the same port.
    let t = b.transcript();
    assert_eq!(t.matches("Detach").count(), 2, "{t}");
}

#[test]
fn a_refused_fsbl_fails_the_tsv_service_with_the_rom_s_reason() {
    let b = cli("n6-bad");
    b.file("obl.stm32", b"not an FSBL");
    b.file(
        "FlashLayout.tsv",
        b"P\t0x1\tfsbl-openbl\tBinary\tnone\t0x0\tobl.stm32\n",
    );
    let o = b.run("stm32n6", "-c port=USB1 -d FlashLayout.tsv");
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let l = lines(&o);
    assert!(
        l.iter().any(|x| x == "Error: the device reported an error (phase 0xFF): FSBL refused: no STM2 magic at offset 0"),
        "{l:?}"
    );
    assert!(
        l.iter().any(|x| x == "Error: TSV flashing service failed"),
        "{l:?}"
    );
}

#[test]
fn a_partition_the_device_refuses_midway_is_named_with_its_line() {
    use dfuflash::flashlayout::header;
    let b = cli("n6-past");
    b.file(
        "obl.stm32",
        &header::fsbl_v2_3(&pattern(0x2000, 4), 0x3418_9da1),
    );
    b.file("loader.bin", &pattern(7880, 6));
    b.file("bootloader.bin", &pattern(3000, 5));
    // Past the end of the N6 board's 128 MB NOR.
    b.file(
        "FlashLayout.tsv",
        b"P\t0x1\tfsbl-openbl\tBinary\tnone\t0x0\tobl.stm32\n\
          P\t0x3\tfsbl-extfl\tBinary\tnone\t0x0\tloader.bin\n\
          P\t0x4\tfsbl-app\tBinary\tnor0\t0x8000000\tbootloader.bin\n",
    );
    let o = b.run("stm32n6", "-c port=USB1 -d FlashLayout.tsv");
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let l = lines(&o);
    assert!(
        l.iter().any(|x| x
            .starts_with("Error: partition fsbl-app (phase 0x04, line 3, 3000 bytes) failed: ")
            && x.contains("errADDRESS")),
        "{l:?}"
    );
}

#[test]
fn verify_and_start_after_a_layout_have_nothing_to_do_and_a_second_layout_is_refused() {
    let (b, _) = n6_bundle("n6-after");
    let o = b.run("stm32n6", "-c port=USB1 -d FlashLayout.tsv -v -s");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let l = lines(&o);
    for op in ["-v", "-s"] {
        let want = format!(
            "dfuflash: {op} after a FlashLayout.tsv: nothing to do; the device checked each \
             partition as it wrote it and runs what the layout loaded"
        );
        assert!(l.contains(&want), "{l:?}");
    }
    assert!(!l.iter().any(|x| x.contains("Start operation")), "{l:?}");
    let o = b.run(
        "stm32n6",
        "-c port=USB1 -d FlashLayout.tsv -d FlashLayout.tsv",
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        lines(&o).contains(
            &"Error: FlashLayout.tsv: one FlashLayout.tsv per run; the board ended the first"
                .to_string()
        ),
        "{}",
        stdout(&o)
    );
}
