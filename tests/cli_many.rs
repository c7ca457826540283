//! Many boards at once: `flash --all` over several simulated boards (JSON lines, the table,
//! one board's failure, the selectors), and single-board commands given several boards.
//! `--watch` and Ctrl-C are in cli_watch.rs.

mod common;

use common::cli::{dfuflash, stderr};
use common::many::*;
use std::process::Command;

use serde_json::Value;

#[test]
fn flash_all_gives_one_json_line_per_board_and_verifies_each() {
    let dir = tmp("json");
    let fw = write_fw(&dir, LEN);
    let o = dfuflash(&[
        "flash",
        "--all",
        "--sim",
        "stm32h743-revy",
        "--sim",
        "stm32h743-revv",
        "--sim",
        "stm32f405",
        "--sim",
        "stm32h743-revv",
        "--address",
        "0x08040000",
        "--json",
        fw.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // --json: stdout has the results, stderr nothing.
    assert_eq!(stderr(&o), "");
    let lines = json_lines(&o.stdout);
    assert_eq!(
        lines.keys().collect::<Vec<_>>(),
        [
            "sim:stm32f405",
            "sim:stm32h743-revv",
            "sim:stm32h743-revv#2",
            "sim:stm32h743-revy"
        ]
    );
    for (path, v) in &lines {
        assert_eq!(v["ok"], true, "{path}: {v}");
        assert_eq!(v["bytes_written"], LEN, "{path}");
        assert_eq!(v["bytes_verified"], LEN, "{path}");
        assert!(v["simulated_seconds"].as_f64().unwrap() > 0.0, "{path}");
        assert!(v["sectors_skipped"].is_array(), "{path}");
        let serial = if path.contains("f405") {
            F405_SERIAL
        } else {
            H7_SERIAL
        };
        assert_eq!(v["serial"], serial, "{path}");
    }
    // Three 128 KB sectors on the H7, the F405's 128 KB sectors 6..8 alike.
    assert_eq!(
        lines["sim:stm32h743-revv#2"]["sectors_erased"],
        serde_json::json!([0x0804_0000u32, 0x0806_0000u32, 0x0808_0000u32])
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn one_boards_fault_fails_that_board_only() {
    let dir = tmp("fault");
    let fw = write_fw(&dir, LEN);
    let o = dfuflash(&[
        "flash",
        "--all",
        "--sim",
        "stm32h743-revy",
        "--sim",
        "stm32f405:disconnect@40",
        "--sim",
        "stm32h743-revv",
        "--sim",
        "stm32h743-revy:panic@20",
        "--address",
        "0x08040000",
        "--json",
        fw.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let lines = json_lines(&o.stdout);
    assert_eq!(lines.len(), 4, "{lines:?}");
    for ok in ["sim:stm32h743-revy", "sim:stm32h743-revv"] {
        assert_eq!(lines[ok]["ok"], true, "{ok}: {}", lines[ok]);
        assert_eq!(lines[ok]["bytes_verified"], LEN, "{ok}");
    }
    let f405 = &lines["sim:stm32f405"];
    assert_eq!(f405["ok"], false);
    assert_eq!(f405["error_kind"], "disconnected");
    assert!(f405["error"]
        .as_str()
        .unwrap()
        .contains("device disconnected"));
    assert_eq!(f405["requests"], 40, "{f405}");
    // A panic in one worker (a simulator fault here) is that board's failure, nothing more.
    let panicked = &lines["sim:stm32h743-revy#2"];
    assert_eq!(panicked["ok"], false);
    assert_eq!(panicked["error_kind"], "panic");
    assert!(
        panicked["error"]
            .as_str()
            .unwrap()
            .contains("simulator panic injected at request 20"),
        "{panicked}"
    );
    let err = stderr(&o);
    assert!(
        err.contains(
            "dfuflash: error: 2 of 4 board(s) failed: sim:stm32f405, sim:stm32h743-revy#2"
        ),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn without_a_terminal_each_board_has_plain_lines_then_the_table() {
    let dir = tmp("table");
    let fw = write_fw(&dir, LEN);
    let o = dfuflash(&[
        "flash",
        "--all",
        "--sim",
        "stm32h743-revy",
        "--sim",
        "stm32f405:status=errWRITE@30",
        "--sim",
        "stm32h743-revy",
        "--address",
        "0x08040000",
        fw.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let err = stderr(&o);
    assert!(!err.contains('\r'), "{err:?}");
    for line in [
        "sim:stm32h743-revy: erase: 3 sector(s)",
        // All but the boot block (its first 1 KB), which is written and read back last.
        "sim:stm32h743-revy#2: write: 306176 bytes",
        "sim:stm32h743-revy#2: verify: 306176 bytes",
        "sim:stm32h743-revy#2: boot: 2048 bytes",
        "sim:stm32h743-revy: verified",
        "sim:stm32f405: erase: 3 sector(s)",
    ] {
        assert!(
            err.lines().any(|l| l == line),
            "no line {line:?} in:\n{err}"
        );
    }
    // The table: a header, a row per board in the order given, a count; then the error.
    let table: Vec<&str> = err
        .lines()
        .skip_while(|l| !l.starts_with("path "))
        .collect();
    assert_eq!(table.len(), 6, "{err}");
    assert_eq!(
        table[5],
        "dfuflash: error: 1 of 3 board(s) failed: sim:stm32f405"
    );
    assert_eq!(cells(table[0]), ["path", "serial", "time", "result"]);
    let rows: Vec<Vec<&str>> = table[1..4].iter().map(|r| cells(r)).collect();
    assert_eq!(rows[0][0], "sim:stm32h743-revy");
    assert_eq!(rows[0][1], H7_SERIAL);
    assert!(
        rows[0][2].ends_with(" s wall") && rows[0][2].contains(" s simulated, "),
        "{:?}",
        rows[0]
    );
    assert_eq!(rows[0][3], "verified");
    assert_eq!(rows[1][0], "sim:stm32f405");
    assert_eq!(rows[1][1], F405_SERIAL);
    assert!(
        rows[1][3].starts_with("failed: ") && rows[1][3].contains("errWRITE"),
        "{:?}",
        rows[1]
    );
    assert_eq!(rows[2][..2], ["sim:stm32h743-revy#2", H7_SERIAL]);
    assert_eq!(rows[2][3], "verified");
    assert_eq!(table[4], "3 boards: 2 ok, 1 failed");
    // The failed board's own completion line says why.
    assert!(
        err.lines()
            .any(|l| l.starts_with("sim:stm32f405: failed: ") && l.contains("errWRITE")),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn all_takes_the_usual_selectors_and_the_environments_boards() {
    let dir = tmp("select");
    let fw = write_fw(&dir, 4096);
    let f = fw.to_str().unwrap();
    let sims = [
        "--sim",
        "stm32h743-revy",
        "--sim",
        "stm32f405",
        "--sim",
        "stm32h743-revv",
    ];
    let run = |extra: &[&str]| {
        let mut args = vec!["flash", "--all", "--address", "0x08040000", "--json"];
        args.extend_from_slice(&sims);
        args.extend_from_slice(extra);
        args.push(f);
        dfuflash(&args)
    };
    // Every H7 ROM reports the same serial: -S picks both, -p one.
    let o = run(&["-S", H7_SERIAL]);
    assert!(o.status.success(), "{}", stderr(&o));
    let paths: Vec<String> = json_lines(&o.stdout).into_keys().collect();
    assert_eq!(paths, ["sim:stm32h743-revv", "sim:stm32h743-revy"]);
    let o = run(&["-p", "sim:stm32f405"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let paths: Vec<String> = json_lines(&o.stdout).into_keys().collect();
    assert_eq!(paths, ["sim:stm32f405"]);
    // Nothing matches: a clear error, and no board touched.
    let o = run(&["-S", "nope"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert!(
        stderr(&o).contains("no DFU device matches; available: 0483:df11 serial 200364500000 path sim:stm32h743-revy"),
        "{}",
        stderr(&o)
    );
    // Without --sim: the boards DFUFLASH_SIM attaches, by VID:PID as real ones.
    let o = Command::new(env!("CARGO_BIN_EXE_dfuflash"))
        .args([
            "flash",
            "--all",
            "-d",
            "0483:df11",
            "--address",
            "0x08040000",
            "--json",
            f,
        ])
        .env("DFUFLASH_SIM", "stm32h743-revv,stm32h743-revv,stm32l4")
        .env_remove("DFUFLASH_SIM_PLUG")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let lines = json_lines(&o.stdout);
    assert_eq!(
        lines.keys().collect::<Vec<_>>(),
        ["sim:stm32h743-revv", "sim:stm32h743-revv#2", "sim:stm32l4"]
    );
    assert!(lines.values().all(|v| v["bytes_verified"] == 4096));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn single_board_commands_refuse_several_sims_unless_one_is_picked() {
    let dir = tmp("single");
    let fw = write_fw(&dir, 4096);
    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32f405",
        "--sim",
        "stm32f405",
        "--address",
        "0x08000000",
        fw.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("2 simulated boards given; this command works on one: use flash --all to flash them all, or pick one with -p (sim:stm32f405, sim:stm32f405#2)"),
        "{err}"
    );
    let o = dfuflash(&[
        "info",
        "--sim",
        "stm32h743-revv",
        "--sim",
        "stm32f405",
        "-p",
        "sim:stm32f405",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["path"], "sim:stm32f405");
    assert_eq!(v["transfer_size"], 2048);
    // One board keeps its memory in a state file; several cannot share one.
    let o = dfuflash(&[
        "flash",
        "--all",
        "--sim",
        "stm32f405",
        "--sim",
        "stm32l4",
        "--sim-state",
        dir.join("s").to_str().unwrap(),
        "--address",
        "0x08000000",
        fw.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("give them with one --sim"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(dir).unwrap();
}
