//! `--events json`: every line of real runs (a full Rev V flash, many boards, read, erase, a
//! failure) is checked against docs/events.schema.json, and the events of a full Rev V flash
//! are complete and monotonic: every phase in order, progress that never goes back and ends at
//! its total, each recovery, and one result last, carrying the report.

// Its dependency is not built for ARM (Cargo.toml says why).
#![cfg(not(any(target_arch = "arm", target_arch = "aarch64")))]

mod common;

use common::cli::{dfuflash, stderr};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

fn tmp(name: &str) -> PathBuf {
    common::cli::tmp("ev", name)
}

fn write_fw(dir: &Path, len: usize) -> PathBuf {
    let data: Vec<u8> = (0..len).map(|i| (i * 17 + i / 4093) as u8).collect();
    let p = dir.join("fw.bin");
    std::fs::write(&p, data).unwrap();
    p
}

fn validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/events.schema.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("a valid schema")
}

/// Every stdout line, each checked against the schema.
fn events(o: &Output) -> Vec<Value> {
    let v = validator();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(!text.is_empty(), "no events; stderr: {}", stderr(o));
    text.lines()
        .map(|line| {
            let e: Value =
                serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: not JSON: {line}"));
            let errors: Vec<String> = v.iter_errors(&e).map(|x| x.to_string()).collect();
            assert!(
                errors.is_empty(),
                "{line}\ndoes not match the schema: {errors:?}"
            );
            e
        })
        .collect()
}

/// The events of one job are complete and monotonic; returns its result's report.
fn check_job(ev: &[&Value], phases: &[&str]) -> Value {
    let mut seen = Vec::new();
    let mut time = 0;
    let mut current: Option<(String, u64, u64)> = None; // phase, total, last done
    for (i, e) in ev.iter().enumerate() {
        let t = e["time_ms"].as_u64().unwrap();
        assert!(t >= time, "time goes back at {e}");
        time = t;
        match e["event"].as_str().unwrap() {
            "phase" => {
                if let Some((p, total, done)) = current.take() {
                    assert_eq!(done, total, "phase {p} ended at {done} of {total}");
                }
                let p = e["phase"].as_str().unwrap().to_string();
                seen.push(p.clone());
                current = Some((p, e["total"].as_u64().unwrap(), 0));
            }
            "progress" => {
                let (p, total, last) = current.as_mut().expect("progress inside a phase");
                assert_eq!(e["phase"], p.as_str(), "{e}");
                assert_eq!(e["total"], *total, "{e}");
                let done = e["done"].as_u64().unwrap();
                assert!(done >= *last && done <= *total, "{e} after {last}");
                *last = done;
            }
            "result" => {
                assert_eq!(i, ev.len() - 1, "the result comes last");
                if let Some((p, total, done)) = current.take() {
                    assert_eq!(done, total, "phase {p} ended at {done} of {total}");
                }
            }
            _ => {}
        }
    }
    assert_eq!(seen, phases);
    let last = ev.last().unwrap();
    assert_eq!(last["event"], "result");
    last["report"].clone()
}

#[test]
fn a_full_rev_v_flash_reports_every_phase_progress_recovery_and_the_result() {
    let dir = tmp("revv");
    let fw = write_fw(&dir, 0x1c_0000 - 4096);
    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32h743-revv",
        "--address",
        "0x08040000",
        "--events",
        "json",
        fw.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ev = events(&o);
    assert!(ev
        .iter()
        .all(|e| e["schema"] == 1 && e.get("board").is_none()));
    let all: Vec<&Value> = ev.iter().collect();
    let report = check_job(&all, &["compare", "erase", "write", "verify", "boot"]);
    assert_eq!(report["ok"], true);
    // Each recovery is an event of its own, in the report's order.
    let recovered: Vec<&Value> = ev
        .iter()
        .filter(|e| e["event"] == "recovery")
        .map(|e| &e["sector"])
        .collect();
    let expected: Vec<Value> = (0..8)
        .map(|i| Value::from(0x0810_0000u32 + i * 0x2_0000))
        .collect();
    assert_eq!(recovered, expected.iter().collect::<Vec<_>>());
    assert_eq!(report["workaround_sectors"], Value::from(expected));
    // The erase of the 14 sectors reports each sector, thinned to one line per 100 ms: the
    // first (k = 1) at once and the last (k = 14) always, so 2 to 14 lines.
    let erase: Vec<&Value> = ev
        .iter()
        .filter(|e| e["event"] == "progress" && e["phase"] == "erase")
        .collect();
    assert!((2..=14).contains(&erase.len()), "{erase:?}");
    assert_eq!(erase[0]["sector"]["k"], 1, "{erase:?}");
    assert_eq!(erase.last().unwrap()["sector"]["k"], 14, "{erase:?}");
    // The result carries the record: the CRC-32 of the bytes read back is the file's, and
    // the log lines their level.
    let crc = format!("{:08x}", crc32fast::hash(&std::fs::read(&fw).unwrap()));
    let segments = report["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 1, "{segments:?}");
    assert_eq!(segments[0]["crc32"], crc);
    assert_eq!(segments[0]["readback_crc32"], crc);
    assert!(ev.iter().any(|e| e["event"] == "log"
        && e["level"] == "info"
        && e["message"].as_str().unwrap().starts_with("boot block")));
    // Nothing but events on stdout, and no progress bars on stderr.
    assert!(!stderr(&o).contains("erase:"));
}

#[test]
fn many_boards_carry_their_board_on_every_line() {
    let dir = tmp("all");
    let fw = write_fw(&dir, 100 * 1024);
    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32h743-revy",
        "--sim",
        "stm32f405",
        "--sim",
        "stm32l4",
        "--all",
        "--address",
        "0x08100000",
        "--events",
        "json",
        fw.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "two boards have no flash at 0x08100000"
    );
    let ev = events(&o);
    let mut boards: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for e in &ev {
        boards
            .entry(e["board"].as_str().expect("a board"))
            .or_default()
            .push(e);
    }
    assert_eq!(
        boards.keys().copied().collect::<Vec<_>>(),
        ["sim:stm32f405", "sim:stm32h743-revy", "sim:stm32l4"]
    );
    let h7 = check_job(
        &boards["sim:stm32h743-revy"],
        &["compare", "erase", "write", "verify", "boot"],
    );
    assert_eq!(
        (h7["ok"].as_bool(), h7["path"].as_str()),
        (Some(true), Some("sim:stm32h743-revy"))
    );
    for refused in ["sim:stm32f405", "sim:stm32l4"] {
        let r = check_job(&boards[refused], &[]);
        assert_eq!(
            (r["ok"].as_bool(), r["error_kind"].as_str()),
            (Some(false), Some("outside_layout"))
        );
    }
}

#[test]
fn read_and_erase_have_events_and_read_has_json() {
    let dir = tmp("read");
    let state = dir.join("board.state");
    let out = dir.join("read.bin");
    let s = state.to_str().unwrap();
    let o = dfuflash(&[
        "erase",
        "--sim",
        "stm32f405",
        "--sim-state",
        s,
        "--address",
        "0x08004000",
        "--length",
        "0x4000",
        "--events",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ev = events(&o);
    let r = check_job(&ev.iter().collect::<Vec<_>>(), &["erase"]);
    assert_eq!(r["sectors_erased"], serde_json::json!([0x0800_4000]));
    let args = |events: bool| {
        let mut a = vec![
            "read",
            "--sim",
            "stm32f405",
            "--sim-state",
            s,
            "--address",
            "0x08004000",
            "--length",
            "1024",
        ];
        a.extend(if events {
            ["--events", "json"].as_slice()
        } else {
            ["--json"].as_slice()
        });
        a.push(out.to_str().unwrap());
        a
    };
    let o = dfuflash(&args(true));
    assert!(o.status.success(), "{}", stderr(&o));
    let ev = events(&o);
    let r = check_job(&ev.iter().collect::<Vec<_>>(), &["read"]);
    let erased = vec![0xffu8; 1024];
    assert_eq!(std::fs::read(&out).unwrap(), erased);
    assert_eq!(r["crc32"], format!("{:08x}", crc32fast::hash(&erased)));
    let o = dfuflash(&args(false));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (j["ok"].as_bool(), j["bytes"].as_u64()),
        (Some(true), Some(1024))
    );
    assert_eq!(j["sha256"], r["sha256"]);
}

#[test]
fn a_failure_is_a_result_with_its_kind() {
    let dir = tmp("fail");
    let fw = write_fw(&dir, 4096);
    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32h743-revv",
        "--address",
        "0x08100000",
        "--no-workarounds",
        "--timeout",
        "5",
        "--events",
        "json",
        fw.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let ev = events(&o);
    let last = ev.last().unwrap();
    assert_eq!(
        (last["event"].as_str(), last["ok"].as_bool()),
        (Some("result"), Some(false))
    );
    // Without the Rev V recovery the wedged erase never ends: the job's deadline does.
    assert_eq!(last["report"]["error_kind"], "job_deadline", "{last}");
    // A failure before the job (no such file, no such board, a raw binary without its
    // address) is a result too, for one board and for many.
    for (args, kind) in [
        (
            &[
                "flash",
                "--sim",
                "stm32f405",
                "--address",
                "0x08004000",
                "nosuch.bin",
            ][..],
            "file_format",
        ),
        (
            &[
                "flash",
                "--sim",
                "nosuch",
                "--address",
                "0x08004000",
                fw.to_str().unwrap(),
            ],
            "simulator",
        ),
        (
            &["flash", "--sim", "stm32f405", fw.to_str().unwrap()],
            "file_format",
        ),
        (
            &[
                "flash",
                "--sim",
                "stm32f405",
                "--all",
                "--address",
                "0x08004000",
                "nosuch.bin",
            ],
            "file_format",
        ),
        (
            &[
                "read",
                "--sim",
                "nosuch",
                "--address",
                "0",
                "--length",
                "4",
                "x.bin",
            ],
            "simulator",
        ),
        (&["erase", "--sim", "nosuch", "--mass"], "simulator"),
    ] {
        let o = dfuflash(&[args, &["--events", "json"]].concat());
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let ev = events(&o);
        assert_eq!(ev.len(), 1, "{args:?}: {ev:?}");
        assert_eq!(
            (ev[0]["event"].as_str(), ev[0]["ok"].as_bool()),
            (Some("result"), Some(false))
        );
        assert_eq!(ev[0]["report"]["error_kind"], kind, "{args:?}: {}", ev[0]);
    }
    // --json and --events both write stdout: refused together.
    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32f405",
        "--json",
        "--events",
        "json",
        "x.bin",
    ]);
    assert_eq!(o.status.code(), Some(2));
}
