//! The dfuflash command, run as a user runs it.

use std::path::PathBuf;
use std::process::Command;

mod common;

use common::cli::{dfuflash, json, stderr, stdout, write_fw};

fn tmp(name: &str) -> PathBuf {
    common::cli::tmp("cli", name)
}

#[test]
fn flash_json_reports_the_workaround_sectors_and_times() {
    let dir = tmp("json");
    let (fw, data) = write_fw(&dir, 0x1c_0000);
    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32h743-revv",
        "--address",
        "0x08040000",
        "--json",
        fw.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["ok"], true);
    assert_eq!(v["bytes_written"], data.len());
    assert_eq!(v["bytes_verified"], data.len());
    let wa: Vec<u64> = v["workaround_sectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    assert_eq!(
        wa,
        (8..16)
            .map(|i| 0x0800_0000 + i * 0x2_0000)
            .collect::<Vec<u64>>()
    );
    assert_eq!(v["sectors_erased"].as_array().unwrap().len(), 14);
    let sim = v["simulated_seconds"].as_f64().unwrap();
    let busy = v["device_busy_seconds"].as_f64().unwrap();
    assert!(sim > busy && busy > 12.0, "{sim} {busy}");
    assert!(v["requests"].as_u64().unwrap() > 5000);
    assert!(v["wall_seconds"].as_f64().is_some());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn without_workarounds_the_command_fails_with_one_clear_line() {
    let dir = tmp("noworkaround");
    let (fw, _) = write_fw(&dir, 0x1c_0000);
    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32h743-revv",
        "--address",
        "0x08040000",
        "--no-workarounds",
        "--json",
        fw.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["ok"], false);
    assert_eq!(v["error_kind"], "stuck_busy");
    assert!(v["error"].as_str().unwrap().contains("0x08100000"));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("dfuflash: error: device stuck busy (dfuDNBUSY)"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_job_past_its_timeout_fails_with_its_own_kind() {
    let dir = tmp("timeout");
    let (fw, _) = write_fw(&dir, 0x1c_0000);
    let run = |timeout: &str| {
        dfuflash(&[
            "flash",
            "--sim",
            "stm32h743-revv",
            "--address",
            "0x08040000",
            "--timeout",
            timeout,
            "--json",
            fw.to_str().unwrap(),
        ])
    };
    // 10 simulated seconds: the Rev V job needs about 30.
    let o = run("10");
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["error_kind"], "job_deadline");
    assert!(
        stderr(&o).starts_with("dfuflash: error: the job ran past its deadline of 10 s during"),
        "{}",
        stderr(&o)
    );
    assert_eq!(json(&run("120"))["ok"], true);
    let o = run("0");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is not a number of seconds above 0"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_persisted_device_survives_power_loss_and_the_next_run_recovers() {
    let dir = tmp("state");
    let (fw, data) = write_fw(&dir, 300 * 1024);
    let state = dir.join("board.state");
    let s = state.to_str().unwrap();
    let f = fw.to_str().unwrap();
    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32f405",
        "--sim-state",
        s,
        "--sim-fault",
        "power-loss@200",
        "--address",
        "0x08000000",
        f,
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("device disconnected"), "{}", stderr(&o));
    let out = dir.join("back.bin");
    let o = dfuflash(&[
        "read",
        "--sim",
        "stm32f405",
        "--sim-state",
        s,
        "--address",
        "0x08000000",
        "--length",
        "300K",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let partial = std::fs::read(&out).unwrap();
    assert_ne!(partial, data, "the interrupted flash is incomplete");
    assert!(
        partial[..2048].iter().all(|b| *b == 0xff),
        "the boot block (the first 2 KB block) is written last: still erased"
    );
    assert_eq!(
        &partial[2048..4096],
        &data[2048..4096],
        "what was programmed before the power loss is kept"
    );
    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32f405",
        "--sim-state",
        s,
        "--address",
        "0x08000000",
        f,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = dfuflash(&[
        "read",
        "--sim",
        "stm32f405",
        "--sim-state",
        s,
        "--address",
        "0x08000000",
        "--length",
        "0x4b000",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert_eq!(std::fs::read(&out).unwrap(), data);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn plain_progress_lines_when_not_a_terminal() {
    let dir = tmp("plain");
    let (fw, _) = write_fw(&dir, 300 * 1024);
    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32h743-revv",
        "--address",
        "0x080c0000",
        fw.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let err = stderr(&o);
    for line in [
        "erase: 3 sector(s)",
        "erase: sector 1/3 at 0x080c0000",
        "erase: sector 3/3 at 0x08100000",
        "workaround: sector 0x08100000 stuck in dfuDNBUSY",
        // All but the boot block (the first 1 KB), which goes last, after the verify.
        "write: 306176/306176 bytes (100%)",
        // The image (300 KB less the boot block) plus the rest of recovered sector 8, read back
        // to check it is erased.
        "verify: 392192/392192 bytes (100%)",
        // The boot block: written, then read back.
        "boot: 2048/2048 bytes (100%)",
        "info: boot block (1024 bytes at 0x080c0000) written last and verified",
        "workaround (STM32H7 Rev V erase recovery) fired for: 0x08100000",
    ] {
        assert!(err.contains(line), "missing {line:?} in:\n{err}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn user_mistakes_get_actionable_errors() {
    let dir = tmp("mistakes");
    let (fw, _) = write_fw(&dir, 1024);
    let f = fw.to_str().unwrap();
    let o = dfuflash(&["flash", "--sim", "stm32h743-revy", f]);
    assert!(
        stderr(&o).contains("give the address it goes to (--address 0x08000000"),
        "{}",
        stderr(&o)
    );
    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32h743-revy",
        "--address",
        "0x08200000",
        f,
    ]);
    assert!(
        stderr(&o).contains("image touches 0x08200000, outside the memory of alt setting 0"),
        "{}",
        stderr(&o)
    );
    let o = dfuflash(&["flash", "--sim", "nosuch", "--address", "0", f]);
    assert!(
        stderr(&o).contains("unknown simulator model \"nosuch\"; the models are: stm32h743-revy"),
        "{}",
        stderr(&o)
    );
    let o = dfuflash(&["flash", "--address", "0", f]);
    assert!(stderr(&o).contains("--sim MODEL"), "{}", stderr(&o));
    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32h743-revy",
        "--address",
        "0x0804000G",
        f,
    ]);
    assert!(stderr(&o).contains("is not a number"), "{}", stderr(&o));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn info_list_and_erase() {
    let o = dfuflash(&["info", "--sim", "stm32f405", "--json"]);
    let v = json(&o);
    assert_eq!(v["transfer_size"], 2048);
    assert_eq!(
        v["alt_settings"][0]["layout"]["groups"][0]["runs"][0]["count"],
        4
    );
    assert_eq!(
        v["alt_settings"][0]["layout"]["groups"][0]["runs"][2]["size"],
        128 * 1024
    );
    assert_eq!(
        v["alt_settings"][1]["name"],
        "@Option Bytes  /0x1FFFC000/01*016 g"
    );
    // The simulator's models are listed only when asked for.
    let o = dfuflash(&["list", "--json"]);
    assert!(json(&o).get("simulated").is_none(), "{}", stdout(&o));
    let o = dfuflash(&["list"]);
    assert!(!stdout(&o).contains("sim:"), "{}", stdout(&o));
    let o = dfuflash(&["list", "--simulated", "--json"]);
    let names: Vec<String> = json(&o)["simulated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["model"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "stm32h743-revy",
            "stm32h743-revv",
            "stm32f405",
            "stm32l4",
            "stm32c5-strict",
            "dfu11-generic",
            "portenta-h7",
            "dfuse-strict",
            "gd32vf103",
            "stm32f7",
            "stm32g4",
            "stm32h7a3",
            "at32f4",
            "apm32f4",
            "esp32s2",
            "zephyr-dfu",
            "tinyusb-dfu",
            "bogus-poll",
            "openmv-h7",
            "openmv-h7p",
            "openmv-n6",
            "openmv-ae3",
        ]
    );
    let o = dfuflash(&[
        "erase",
        "--sim",
        "stm32h743-revv",
        "--address",
        "0x080ff000",
        "--length",
        "0x2000",
        "--json",
    ]);
    let v = json(&o);
    assert_eq!(
        v["sectors_erased"],
        serde_json::json!([0x080e_0000u32, 0x0810_0000u32])
    );
    assert_eq!(v["workaround_sectors"], serde_json::json!([0x0810_0000u32]));
    let o = dfuflash(&["erase", "--sim", "stm32f405", "--mass", "--json"]);
    let v = json(&o);
    assert_eq!(v["mass_erased"], true);
    assert!(v["simulated_seconds"].as_f64().unwrap() >= 30.0);
}

#[test]
fn read_unprotect_is_explicit_and_clears_a_protected_persisted_board() {
    let dir = tmp("rdp");
    let state = dir.join("rdp.state");
    let s = state.to_str().unwrap();
    // A protected board that holds firmware.
    let mut dev = dfuflash::sim::SimDevice::new("stm32f405").unwrap();
    dev.poke(0, 0x0800_0000, &[0x12; 64]);
    dev.set_read_protected(true);
    dev.save_state(&state).unwrap();
    let out = dir.join("out.bin");
    let o = dfuflash(&[
        "read",
        "--sim",
        "stm32f405",
        "--sim-state",
        s,
        "--address",
        "0x08000000",
        "--length",
        "64",
        out.to_str().unwrap(),
    ]);
    assert!(stderr(&o).contains("errVENDOR"), "{}", stderr(&o));
    let o = dfuflash(&[
        "erase",
        "--sim",
        "stm32f405",
        "--sim-state",
        s,
        "--read-unprotect",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = dfuflash(&[
        "read",
        "--sim",
        "stm32f405",
        "--sim-state",
        s,
        "--address",
        "0x08000000",
        "--length",
        "64",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&out).unwrap(),
        [0xff; 64],
        "unprotect mass-erased the flash"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn plain_output_reads_in_order_and_adds_up() {
    let dir = tmp("polish");
    let (fw, _) = write_fw(&dir, 0x2_0100);
    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32h743-revv",
        "--address",
        "0x080e0000",
        "--leave",
        fw.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let line = |prefix: &str| {
        err.lines()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line {prefix:?} in:\n{err}"))
    };
    // A sector's erase line, then its recovery, then (after the verify) its read-back.
    assert!(line("erase: sector 2/2 at 0x08100000") < line("workaround: sector 0x08100000"));
    assert!(
        line("verify: ")
            < line("info: sector 0x08100000: the Rev V recovery's erase is checked by read-back")
    );
    // The verify line's byte count, and the boot block's 1 KB read back after it, are what the
    // summary accounts for.
    assert!(line("verify: ") < line("boot: 2048 bytes"));
    let verify_line = &err.lines().nth(line("verify: ")).unwrap();
    let read: u64 = verify_line["verify: ".len()..]
        .trim_end_matches(" bytes")
        .parse()
        .unwrap();
    let summary = err.lines().nth(line("done: ")).unwrap();
    assert!(
        summary.contains(&format!(
            "{} bytes verified (+ {} bytes of recovered or neighbouring sectors checked)",
            0x2_0100,
            read - (0x2_0100 - 1024)
        )),
        "{summary} vs {verify_line}"
    );
    // Leaving is announced once.
    assert_eq!(err.matches("left DFU mode").count(), 1, "{err}");
    assert!(!err.contains("leave: "), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_board_the_environment_attaches_is_found_like_a_usb_device_and_keeps_its_memory() {
    let dir = tmp("env-sim");
    let (fw, data) = write_fw(&dir, 0x3000);
    let state = dir.join("board.state");
    let env_run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_dfuflash"))
            .args(args)
            .env("DFUFLASH_SIM", "stm32h743-revv")
            .env("DFUFLASH_SIM_STATE", &state)
            .output()
            .unwrap()
    };
    // Listed as an attached device, without --simulated.
    let o = env_run(&["list", "--json"]);
    let devices = json(&o)["devices"].as_array().unwrap().clone();
    assert_eq!(devices.len(), 1, "{}", stdout(&o));
    assert_eq!(devices[0]["path"], "sim:stm32h743-revv");
    assert_eq!(devices[0]["vendor_id"], 0x0483);
    // Selected the way a host selects a real board, by VID:PID.
    let o = env_run(&[
        "flash",
        "-d",
        "0483:df11",
        "--address",
        "0x08100000",
        fw.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("workaround: sector 0x08100000"),
        "{}",
        stderr(&o)
    );
    // A later run sees the same memory.
    let back = dir.join("back.bin");
    let o = env_run(&[
        "read",
        "-d",
        "0483:df11",
        "--address",
        "0x08100000",
        "--length",
        "0x3000",
        back.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&back).unwrap(), data);
    // Two boards of one model are told apart by port path, as real ones are.
    let o = Command::new(env!("CARGO_BIN_EXE_dfuflash"))
        .args(["info", "-p", "sim:stm32f405#2", "--json"])
        .env("DFUFLASH_SIM", "stm32f405,stm32f405")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o)["path"], "sim:stm32f405#2", "{}", stdout(&o));
    // An unknown model is a clear error naming the variable.
    let o = Command::new(env!("CARGO_BIN_EXE_dfuflash"))
        .args(["list"])
        .env("DFUFLASH_SIM", "nosuch")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("DFUFLASH_SIM=nosuch: unknown simulator model"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(dir).unwrap();
}
