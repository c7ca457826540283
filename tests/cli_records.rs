//! Every flash leaves a record a factory can keep: the `--json` line carries the image's
//! SHA-256 per target, each segment's CRC-32 and the CRC-32 of what was read back, the board's
//! port path and serial, the tool and the times; `--log FILE` appends that line per board, and
//! `inspect` prints the same digests for the file.

mod common;

use common::cli::{dfuflash, stderr};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::Value;
use sha2::{Digest, Sha256};

fn tmp(name: &str) -> PathBuf {
    common::cli::tmp("rec", name)
}

fn write_fw(dir: &Path, len: usize) -> (PathBuf, Vec<u8>) {
    let data: Vec<u8> = (0..len).map(|i| (i * 31 + i / 1021) as u8).collect();
    let p = dir.join("fw.bin");
    std::fs::write(&p, &data).unwrap();
    (p, data)
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: not JSON: {l:?}")))
        .collect()
}

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn crc_hex(data: &[u8]) -> String {
    let mut h = crc32fast::Hasher::new();
    h.update(data);
    format!("{:08x}", h.finalize())
}

fn time(v: &Value) -> SystemTime {
    humantime::parse_rfc3339(v.as_str().expect("a timestamp")).expect("RFC 3339")
}

/// The record fields every board's line has, whatever its result.
fn assert_record(v: &Value, fw: &Path, path: &str, serial: &str) {
    assert_eq!(
        v["tool"],
        format!("dfuflash {}", env!("CARGO_PKG_VERSION")),
        "{v}"
    );
    assert_eq!(v["file"], fw.display().to_string());
    assert_eq!(
        (v["path"].as_str(), v["serial"].as_str()),
        (Some(path), Some(serial))
    );
    let (started, finished) = (time(&v["started"]), time(&v["finished"]));
    assert!(started <= finished, "{v}");
    assert!(finished <= SystemTime::now());
}

#[test]
fn a_flash_record_names_the_image_and_what_was_read_back() {
    let dir = tmp("one");
    let (fw, data) = write_fw(&dir, 200 * 1024 + 3);
    let before = SystemTime::now() - std::time::Duration::from_secs(1);
    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32h743-revv",
        "--address",
        "0x080fc000",
        "--json",
        fw.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = &lines(&String::from_utf8_lossy(&o.stdout))[0];
    assert_record(v, &fw, "sim:stm32h743-revv", "200364500000");
    assert!(time(&v["started"]) >= before);
    assert_eq!(
        v["targets"],
        serde_json::json!([{"alt": 0, "bytes": data.len(), "sha256": sha256_hex(&data)}])
    );
    assert_eq!(
        v["segments"],
        serde_json::json!([{
            "alt": 0,
            "address": 0x080f_c000u32,
            "length": data.len(),
            "crc32": crc_hex(&data),
            "readback_crc32": crc_hex(&data),
        }])
    );
    // The text summary says the same.
    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32h743-revv",
        "--address",
        "0x080fc000",
        "--no-verify",
        "--full",
        fw.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(&format!(
            "image sha256 {} (alt 0, {} bytes)",
            sha256_hex(&data),
            data.len()
        )),
        "{e}"
    );
    // Nothing was read back: no claim that it was.
    assert!(!e.contains("read back:"), "{e}");
}

#[test]
fn without_verify_a_rewritten_segment_has_no_read_back_digest() {
    let dir = tmp("noverify");
    let (fw, _) = write_fw(&dir, 4096);
    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32f405",
        "--address",
        "0x08004000",
        "--no-verify",
        "--json",
        fw.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = &lines(&String::from_utf8_lossy(&o.stdout))[0];
    assert_eq!(v["segments"][0]["readback_crc32"], Value::Null);
}

#[test]
fn log_appends_one_line_per_board_and_keeps_what_was_there() {
    let dir = tmp("log");
    let (fw, data) = write_fw(&dir, 64 * 1024);
    let log = dir.join("production.jsonl");
    std::fs::write(&log, "{\"earlier\":true}\n").unwrap();
    // One board verifies, the other refuses the image (outside its flash).
    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32h743-revy",
        "--sim",
        "stm32l4",
        "--all",
        "--address",
        "0x08100000",
        "--log",
        log.to_str().unwrap(),
        fw.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let text = std::fs::read_to_string(&log).unwrap();
    let v = lines(&text);
    assert_eq!(v.len(), 3, "{text}");
    assert_eq!(v[0], serde_json::json!({"earlier": true}));
    let board = |path: &str| {
        v.iter()
            .find(|l| l["path"] == path)
            .unwrap_or_else(|| panic!("no line for {path}: {text}"))
    };
    let h7 = board("sim:stm32h743-revy");
    assert_record(h7, &fw, "sim:stm32h743-revy", "200364500000");
    assert_eq!(
        (h7["ok"].as_bool(), h7["bytes_verified"].as_u64()),
        (Some(true), Some(data.len() as u64))
    );
    assert_eq!(h7["segments"][0]["readback_crc32"], crc_hex(&data));
    assert_eq!(h7["targets"][0]["sha256"], sha256_hex(&data));
    let l4 = board("sim:stm32l4");
    assert_eq!(l4["ok"], false);
    assert_eq!(l4["error_kind"], "outside_layout");
    assert!(l4["tool"].is_string() && l4["started"].is_string(), "{l4}");
}

#[test]
fn a_log_that_cannot_be_written_stops_the_flash_before_any_board() {
    let dir = tmp("badlog");
    let (fw, _) = write_fw(&dir, 4096);
    let state = dir.join("board.state");
    for all in [false, true] {
        let mut args = vec![
            "flash",
            "--sim",
            "stm32f405",
            "--sim-state",
            state.to_str().unwrap(),
            "--address",
            "0x08004000",
            "--log",
            dir.to_str().unwrap(),
        ];
        if all {
            args.push("--all");
        }
        args.push(fw.to_str().unwrap());
        let o = dfuflash(&args);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("cannot open the log {}", dir.display())),
            "{}",
            stderr(&o)
        );
        assert!(!state.exists(), "the board was touched");
    }
}

#[test]
fn inspect_prints_the_digests_a_record_carries() {
    let dir = tmp("inspect");
    let (fw, data) = write_fw(&dir, 10_000);
    let o = dfuflash(&[
        "inspect",
        "--address",
        "0x08000000",
        "--json",
        fw.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = &lines(&String::from_utf8_lossy(&o.stdout))[0];
    assert_eq!(v["targets"][0]["sha256"], sha256_hex(&data));
    assert_eq!(v["targets"][0]["segments"][0]["crc32"], crc_hex(&data));
    let o = dfuflash(&["inspect", "--address", "0x08000000", fw.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains(&format!("sha256 {}", sha256_hex(&data))),
        "{text}"
    );
    assert!(
        text.contains(&format!("crc32 {}", crc_hex(&data))),
        "{text}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_record_that_cannot_be_written_fails_the_board_and_says_so() {
    let dir = tmp("full");
    let (fw, _) = write_fw(&dir, 4096);
    // /dev/full opens, and every write to it fails (ENOSPC).
    for all in [false, true] {
        let mut args = vec![
            "flash",
            "--sim",
            "stm32f405",
            "--address",
            "0x08004000",
            "--log",
            "/dev/full",
            "--json",
        ];
        if all {
            args.push("--all");
        }
        args.push(fw.to_str().unwrap());
        let o = dfuflash(&args);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let v = &lines(&String::from_utf8_lossy(&o.stdout))[0];
        assert_eq!(
            (v["ok"].as_bool(), v["error_kind"].as_str()),
            (Some(false), Some("log")),
            "{v}"
        );
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .contains("the board's record was not kept"),
            "{v}"
        );
        assert_record(v, &fw, "sim:stm32f405", "385C34733435");
    }
}

#[test]
fn a_board_whose_state_cannot_be_saved_fails_read_and_erase_as_it_fails_flash() {
    // The state file's folder does not exist: the board opens blank, and saving it fails.
    let dir = tmp("unsaved");
    let state = dir.join("missing").join("board.state");
    let state = state.to_str().unwrap();
    let out = dir.join("back.bin");
    let (fw, _) = write_fw(&dir, 4096);
    let sim = ["--sim", "stm32l4", "--sim-state", state, "--json"];
    let runs: [Vec<&str>; 3] = [
        [
            &["flash"][..],
            &sim,
            &["--address", "0x08000000", fw.to_str().unwrap()],
        ]
        .concat(),
        [
            &["read"][..],
            &sim,
            &[
                "--address",
                "0x08000000",
                "--length",
                "64",
                out.to_str().unwrap(),
            ],
        ]
        .concat(),
        [
            &["erase"][..],
            &sim,
            &["--address", "0x08000000", "--length", "2048"],
        ]
        .concat(),
    ];
    for args in runs {
        let o = dfuflash(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        let v = lines(&String::from_utf8_lossy(&o.stdout));
        assert_eq!(v.len(), 1, "{args:?}");
        assert_eq!(v[0]["ok"], false, "{args:?}");
        assert_eq!(v[0]["error_kind"], "state_file", "{args:?}");
        let error = v[0]["error"].as_str().unwrap();
        assert!(error.contains("board.state"), "{args:?}: {error}");
        assert!(stderr(&o).contains(error), "{args:?}: {}", stderr(&o));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
