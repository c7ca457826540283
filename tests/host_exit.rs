//! A wedge left by a dead process is recovered by the next run. The simulator's `host-exit`
//! fault ends the command at a request as SIGKILL would (exit status 137), the board saved as it
//! is then: a Rev V ROM wedged in dfuDNBUSY after an erase past 1 MB. The next `dfuflash flash`
//! and the next dfu-util drop-in, on the same board, must finish and verify.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::cli::{dfuflash, stderr, tmp};
use common::pattern;

const LEN: usize = 300_000;
const AT: &str = "0x08100000";

/// A board (its state file) whose host died in the Rev V wedge of sector 0x08100000, and the
/// firmware it was being flashed with.
fn killed_in_a_wedge(dir: &Path) -> (PathBuf, PathBuf) {
    let fw = dir.join("fw.bin");
    std::fs::write(&fw, pattern(LEN, 9)).unwrap();
    // Where the wedge is: the GETSTATUS polls after the first erase past 1 MB, in a run that
    // is let finish on a board of its own.
    let probe = dir.join("probe.state");
    let transcript = dir.join("probe.txt");
    let o = dfuflash(&[
        "flash",
        "--sim",
        "stm32h743-revv",
        "--sim-state",
        probe.to_str().unwrap(),
        "--sim-transcript",
        transcript.to_str().unwrap(),
        "--address",
        AT,
        fw.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&transcript).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let erase = lines
        .iter()
        .position(|l| l.contains("Erase(135266304)"))
        .expect("the erase of 0x08100000");
    // Two polls after the erase's first answer: in the wedge's 2 s wait.
    let n: u64 = lines[erase + 3]
        .trim_start_matches('#')
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        lines[erase + 3].contains("dfuDNBUSY"),
        "{}",
        lines[erase + 3]
    );
    let state = dir.join("board.state");
    let o = dfuflash(&[
        "flash",
        "--sim",
        &format!("stm32h743-revv:host-exit@{n}"),
        "--sim-state",
        state.to_str().unwrap(),
        "--address",
        AT,
        fw.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(137), "{}", stderr(&o));
    let saved = std::fs::read(&state).unwrap();
    let saved = String::from_utf8_lossy(&saved);
    assert!(
        saved.contains("\nwedged 0 0x08100000 131072 "),
        "the wedge is saved"
    );
    (state, fw)
}

/// `dfuflash COMMAND` on the simulated Rev V whose memory `state` keeps, with `args` after.
fn on_board(command: &str, state: &Path, args: &[&str]) -> Output {
    let mut all = vec![command, "--sim", "stm32h743-revv", "--sim-state"];
    all.push(state.to_str().unwrap());
    all.extend_from_slice(args);
    dfuflash(&all)
}

fn read_back(state: &Path, dir: &Path) -> Vec<u8> {
    let out = dir.join("back.bin");
    let len = LEN.to_string();
    let args = ["--address", AT, "--length", &len, out.to_str().unwrap()];
    let o = on_board("read", state, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::read(out).unwrap()
}

#[test]
fn the_next_flash_recovers_a_wedge_a_killed_process_left_and_verifies() {
    let dir = tmp("host_exit", "command");
    let (state, fw) = killed_in_a_wedge(&dir);
    // Without workarounds the rule does not apply: the wedge is reported, the board kept in it.
    let fw = fw.to_str().unwrap();
    let args = ["--no-workarounds", "--address", AT, "--json", fw];
    let o = on_board("flash", &state, &args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(report.contains("\"error_kind\":\"stuck_busy\""), "{report}");
    let o = on_board("flash", &state, &["--address", AT, "--events", "json", fw]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The events: the recovery of the wedge it found, then the result.
    let events = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = events.lines().collect();
    let recovered = lines.iter().position(|l| {
        l.contains("an erase that another host sent and never saw end (it died, or was killed) stuck in dfuDNBUSY: applying the STM32H7 Rev V recovery")
    });
    assert!(recovered.is_some_and(|i| i + 1 < lines.len()), "{events}");
    let result = lines.last().unwrap();
    assert!(result.contains("\"ok\":true"), "{result}");
    assert!(
        result.contains(&format!("\"bytes_verified\":{LEN}")),
        "{result}"
    );
    assert_eq!(read_back(&state, &dir), pattern(LEN, 9));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The dfu-util drop-in in `dir` with the board of `state` attached.
fn dfu_util(dir: &Path, state: &Path, args: &[&str]) -> Output {
    let exe = dir.join(format!("dfu-util{}", std::env::consts::EXE_SUFFIX));
    if !exe.exists() {
        std::fs::copy(env!("CARGO_BIN_EXE_dfuflash"), &exe).unwrap();
    }
    Command::new(exe)
        .args(args)
        .env("DFUFLASH_SIM", "stm32h743-revv")
        .env("DFUFLASH_SIM_STATE", state)
        .env_remove("DFUFLASH_SIM_PLUG")
        .output()
        .unwrap()
}

#[test]
fn the_dfu_util_drop_in_recovers_it_too() {
    let dir = tmp("host_exit", "drop-in");
    let (state, fw) = killed_in_a_wedge(&dir);
    // OpenMV IDE's line for the firmware, at the address past 1 MB.
    let o = dfu_util(
        &dir,
        &state,
        &[
            "-w",
            "-d",
            ",0483:df11",
            "-a",
            "0",
            "-s",
            AT,
            "-D",
            fw.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(read_back(&state, &dir), pattern(LEN, 9));
    let _ = std::fs::remove_dir_all(&dir);
}
