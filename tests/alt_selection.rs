//! Every input format goes to the alt setting `-a` selects (by number or by name), and a DfuSe
//! file whose target names another alt setting is refused before any request. Asserts the
//! request transcript (SET_INTERFACE and every data DNLOAD) and the bytes of every simulated
//! memory of an STM32H743 (alt 0 flash, 1 option bytes, 2 OTP, 3 device feature area).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dfuflash::image::{dfuse, suffix, Image, Segment, Suffix};
use dfuflash::sim::SimDevice;

const MODEL: &str = "stm32h743-revy";

/// Where each selection writes, and how it is named on the command line.
struct Selection {
    arg: &'static str,
    alt: u8,
    address: u32,
    len: usize,
}

const SELECTIONS: [Selection; 4] = [
    Selection {
        arg: "0",
        alt: 0,
        address: 0x0802_0000,
        len: 96,
    },
    Selection {
        arg: "1",
        alt: 1,
        address: 0x5200_201c,
        len: 32,
    },
    Selection {
        arg: "2",
        alt: 2,
        address: 0x08ff_f000,
        len: 64,
    },
    Selection {
        arg: "@Option Bytes",
        alt: 1,
        address: 0x5200_201c,
        len: 32,
    },
];

/// (alt, address, length) of every memory the model has.
const MEMORIES: [(u8, u32, usize); 4] = [
    (0, 0x0800_0000, 0x20_0000),
    (1, 0x5200_201c, 128),
    (2, 0x08ff_f000, 1024),
    (3, 0xffff_0000, 4),
];

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(name: &str) -> Dir {
    let d = std::env::temp_dir().join(format!("dfuflash-alt-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    Dir(d)
}

fn objcopy(dir: &Path, format: &str, address: u32, out: &str) {
    let o = Command::new("objcopy")
        .args(["-I", "binary", "-O", format, "--change-addresses"])
        .arg(format!("{address:#x}"))
        .args(["data.bin", out])
        .current_dir(dir)
        .output()
        .expect("objcopy is required (scripts/test.sh installs binutils)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The input file of `format` holding `data` at `address`; `dfuse_alt` is the target's alt
/// setting in a DfuSe file. Returns the file and whether `--address` goes with it.
fn input(dir: &Path, format: &str, address: u32, data: &[u8], dfuse_alt: u8) -> (PathBuf, bool) {
    std::fs::write(dir.join("data.bin"), data).unwrap();
    let raw = |name: &str, bytes: Vec<u8>| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        (p, true)
    };
    match format {
        "raw" => raw("fw.bin", data.to_vec()),
        "raw+suffix" => raw(
            "fw-suffix.bin",
            suffix::append(
                data,
                &Suffix {
                    bcd_device: 0xffff,
                    product_id: 0xdf11,
                    vendor_id: 0x0483,
                    bcd_dfu: 0x0100,
                },
            ),
        ),
        "ihex" => {
            objcopy(dir, "ihex", address, "fw.hex");
            (dir.join("fw.hex"), false)
        }
        "srec" => {
            objcopy(dir, "srec", address, "fw.srec");
            (dir.join("fw.srec"), false)
        }
        "elf" => {
            objcopy(dir, "elf32-i386", address, "fw.o");
            (dir.join("fw.o"), false)
        }
        "dfuse" => {
            let img = Image::single(dfuse_alt, vec![Segment::new(address, data.to_vec())]).unwrap();
            let p = dir.join("fw.dfu");
            std::fs::write(&p, dfuse::write(&img, 0x0483, 0xdf11, 0xffff)).unwrap();
            (p, false)
        }
        _ => unreachable!(),
    }
}

fn flash(dir: &Path, sel: &str, file: &Path, address: Option<u32>) -> (Output, SimDevice, String) {
    let state = dir.join("state");
    let transcript = dir.join("transcript");
    let _ = std::fs::remove_file(&state);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dfuflash"));
    cmd.args(["flash", "--sim", MODEL, "--sim-state"])
        .arg(&state)
        .arg("--sim-transcript")
        .arg(&transcript)
        .args(["-a", sel, "--allow-option-bytes", "--allow-otp"]);
    if let Some(a) = address {
        cmd.arg("--address").arg(format!("{a:#x}"));
    }
    let out = cmd.arg(file).output().unwrap();
    let dev = if state.exists() {
        SimDevice::with_state(MODEL, &state).unwrap()
    } else {
        SimDevice::new(MODEL).unwrap()
    };
    let text = std::fs::read_to_string(&transcript).unwrap_or_default();
    (out, dev, text)
}

/// `SetInterface(N)` and `Dnload { .. }` lines of a transcript, in order.
fn interface_and_data(transcript: &str) -> Vec<String> {
    transcript
        .lines()
        .filter_map(|l| {
            let op = l.split("ms  ").nth(1)?.split(" -> ").next()?;
            (op.starts_with("SetInterface") || op.starts_with("Dnload {")).then(|| op.to_string())
        })
        .collect()
}

fn assert_memories(dev: &SimDevice, written: Option<(u8, u32, &[u8])>, what: &str) {
    let fresh = SimDevice::new(MODEL).unwrap();
    for (alt, base, len) in MEMORIES {
        let mut expected = fresh.memory(alt, base, len).unwrap().to_vec();
        if let Some((a, address, data)) = written {
            if a == alt {
                let off = (address - base) as usize;
                expected[off..off + data.len()].copy_from_slice(data);
            }
        }
        let got = dev.memory(alt, base, len).unwrap();
        if let Some(i) = (0..len).find(|&i| got[i] != expected[i]) {
            panic!(
                "{what}: alt {alt} at {:#010x} holds {:#04x}, expected {:#04x}",
                base + i as u32,
                got[i],
                expected[i]
            );
        }
    }
}

const FORMATS: [&str; 6] = ["raw", "raw+suffix", "ihex", "srec", "elf", "dfuse"];

#[test]
#[cfg_attr(
    windows,
    ignore = "makes its HEX, S-record and ELF inputs with objcopy, a Linux program"
)]
fn every_format_goes_to_the_selected_alt_setting() {
    let d = dir("matrix");
    for format in FORMATS {
        for sel in &SELECTIONS {
            let what = format!("{format} with -a {:?}", sel.arg);
            let data: Vec<u8> = (0..sel.len)
                .map(|i| (i as u8).wrapping_mul(29) ^ sel.alt)
                .collect();
            let (file, needs_address) = input(&d.0, format, sel.address, &data, sel.alt);
            let (out, dev, transcript) =
                flash(&d.0, sel.arg, &file, needs_address.then_some(sel.address));
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{what}: {err}");
            let seen = interface_and_data(&transcript);
            // The open selects the alt setting; every data block goes there.
            assert_eq!(
                seen[0],
                format!("SetInterface({})", sel.alt),
                "{what}: {seen:?}"
            );
            assert!(
                seen.iter()
                    .filter(|s| s.starts_with("SetInterface"))
                    .all(|s| *s == format!("SetInterface({})", sel.alt)),
                "{what}: {seen:?}"
            );
            let blocks: Vec<&String> = seen.iter().filter(|s| s.starts_with("Dnload")).collect();
            assert!(!blocks.is_empty(), "{what}: no data sent: {seen:?}");
            assert_memories(&dev, Some((sel.alt, sel.address, &data)), &what);
        }
    }
}

#[test]
fn a_dfuse_file_for_another_alt_setting_is_refused_before_any_request() {
    let d = dir("mismatch");
    let data = vec![0x5a; 64];
    // The file's target is for the internal flash (alt 0).
    let (file, _) = input(&d.0, "dfuse", 0x0802_0000, &data, 0);
    for sel in ["1", "2", "@Option Bytes"] {
        let (out, dev, transcript) = flash(&d.0, sel, &file, None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "-a {sel}: {err}");
        let alt = if sel == "2" { 2 } else { 1 };
        assert!(
            err.contains(&format!(
                "the image is for alt setting 0, but alt setting {alt} is selected"
            )) && err.contains("(-a ALT)"),
            "-a {sel}: {err}"
        );
        // Only the open's SET_INTERFACE: no DFU request at all.
        assert_eq!(
            interface_and_data(&transcript),
            [format!("SetInterface({alt})")],
            "-a {sel}"
        );
        let lines: Vec<&str> = transcript.lines().collect();
        assert_eq!(lines.len(), 2, "-a {sel}: {transcript}");
        assert_eq!(lines[1], "# board: in DFU mode, dfuERROR", "-a {sel}");
        assert_memories(&dev, None, &format!("refused -a {sel}"));
    }
    // Without -a the file's own alt setting is used.
    let state = d.0.join("state");
    let o = Command::new(env!("CARGO_BIN_EXE_dfuflash"))
        .args(["flash", "--sim", MODEL, "--sim-state"])
        .arg(&state)
        .arg(&file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dev = SimDevice::with_state(MODEL, &state).unwrap();
    assert_memories(&dev, Some((0, 0x0802_0000, &data)), "no -a");
}

#[test]
fn a_raw_binary_for_the_option_bytes_never_reaches_the_internal_flash() {
    // The reported case: -a 1 with an internal-flash address was written to sector 0 of alt 0.
    let d = dir("ob");
    let (file, _) = input(&d.0, "raw", 0x0800_0000, &[0x11; 32], 0);
    let (out, dev, transcript) = flash(&d.0, "1", &file, Some(0x0800_0000));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("image touches 0x08000000, outside the memory of alt setting 1"),
        "{err}"
    );
    assert_eq!(interface_and_data(&transcript), ["SetInterface(1)"]);
    assert_memories(&dev, None, "refused");
    // Without the permission the option bytes are refused in the command's own terms.
    let (file, _) = input(&d.0, "raw", 0x5200_201c, &[0x22; 32], 0);
    let o = Command::new(env!("CARGO_BIN_EXE_dfuflash"))
        .args([
            "flash",
            "--sim",
            MODEL,
            "-a",
            "1",
            "--address",
            "0x5200201c",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("option bytes of alt setting 1")
            && err.contains("set the allow-option-bytes option to write it (--allow-option-bytes)"),
        "{err}"
    );
}
