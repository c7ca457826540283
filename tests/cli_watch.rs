//! `--watch` over boards plugged and unplugged through DFUFLASH_SIM_PLUG, and Ctrl-C on one
//! board and on many. Every wait has a deadline: a test fails, never hangs.

mod common;

use common::cli::{dfuflash, stderr};
use common::many::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running command whose output lines arrive on channels, killed if the test ends early.
struct Running {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    /// Every line seen so far, for failure messages.
    seen: Vec<String>,
}

impl Running {
    fn start(cmd: &mut Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = |r: Box<dyn std::io::Read + Send>| {
            let (tx, rx) = channel();
            std::thread::spawn(move || {
                for line in BufReader::new(r).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            rx
        };
        let stdout = lines(Box::new(child.stdout.take().unwrap()));
        let stderr = lines(Box::new(child.stderr.take().unwrap()));
        Running {
            child,
            stdout,
            stderr,
            seen: Vec::new(),
        }
    }

    /// The next line on stdout (or stderr), or a failure naming what was seen.
    fn next_line(&mut self, from_stderr: bool) -> String {
        let rx = if from_stderr {
            &self.stderr
        } else {
            &self.stdout
        };
        match rx.recv_timeout(DEADLINE) {
            Ok(line) => {
                self.seen.push(line.clone());
                line
            }
            Err(RecvTimeoutError::Timeout) => {
                panic!("no line within {DEADLINE:?}; seen: {:#?}", self.seen)
            }
            Err(RecvTimeoutError::Disconnected) => {
                let rest = drain(&self.stderr);
                panic!(
                    "the command ended; seen: {:#?}\nstderr: {rest:#?}",
                    self.seen
                )
            }
        }
    }

    /// Waits for `n` lines on stderr that contain `text`.
    fn wait_for_lines(&mut self, n: usize, text: &str) {
        let mut seen = 0;
        while seen < n {
            if self.next_line(true).contains(text) {
                seen += 1;
            }
        }
    }

    /// Every line stdout still holds, once the command has ended.
    fn rest_of_stdout(&mut self) -> Vec<String> {
        drain(&self.stdout)
    }

    /// Every line stderr still holds, once the command has ended.
    fn rest_of_stderr(&mut self) -> Vec<String> {
        drain(&self.stderr)
    }

    /// The next JSON result line on stdout.
    fn next_result(&mut self) -> Value {
        let line = self.next_line(false);
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
    }

    #[cfg(unix)]
    fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, signal) }, 0);
    }

    /// The exit code, once the command ends (within the deadline).
    fn wait(&mut self) -> Option<i32> {
        let until = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                Instant::now() < until,
                "the command did not end; seen: {:#?}",
                self.seen
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The lines a pipe still holds, up to its end (the command has ended, so it comes).
fn drain(rx: &Receiver<String>) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        match rx.recv_timeout(DEADLINE) {
            Ok(line) => out.push(line),
            Err(RecvTimeoutError::Disconnected) => return out,
            Err(RecvTimeoutError::Timeout) => panic!("the output did not end; got {out:#?}"),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A failed test must not leave its command running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Plugs exactly these boards in: the whole file replaced at once, so a listing never reads
/// half of it.
fn plug(file: &Path, boards: &[&str]) {
    let tmp = file.with_extension("new");
    std::fs::write(
        &tmp,
        boards.iter().map(|b| format!("{b}\n")).collect::<String>(),
    )
    .unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

#[test]
#[cfg(unix)] // sends SIGINT/SIGTERM; scripts/test-windows.sh sends Ctrl-C under Wine
fn watch_flashes_each_newly_attached_board_once_and_a_replugged_one_again() {
    let dir = tmp("watch");
    let fw = write_fw(&dir, 64 * 1024);
    let plug_file = dir.join("plugged");
    let mut w = Running::start(
        Command::new(env!("CARGO_BIN_EXE_dfuflash"))
            .args(["flash", "--watch", "--json", "--address", "0x08040000"])
            .arg(&fw)
            .env_remove("DFUFLASH_SIM")
            .env("DFUFLASH_SIM_PLUG", &plug_file),
    );
    let a = "stm32h743-revv@1-1.1";
    let b = "stm32h743-revv@1-1.2";
    // Two boards with the same serial, told apart by port path: both flashed.
    plug(&plug_file, &[a, b]);
    let mut first: Vec<(String, Value)> = (0..2)
        .map(|_| {
            let v = w.next_result();
            (v["path"].as_str().unwrap().to_string(), v)
        })
        .collect();
    first.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(first[0].0, "1-1.1");
    assert_eq!(first[1].0, "1-1.2");
    for (path, v) in &first {
        assert_eq!(v["ok"], true, "{path}: {v}");
        assert_eq!(v["serial"], H7_SERIAL);
        assert_eq!(v["bytes_verified"], 64 * 1024);
    }
    // Unplug 1-1.1 and plug a third board in one change: once the third board's result is
    // in, the listing that found it has also found 1-1.1 gone.
    plug(&plug_file, &[b, "stm32f405@1-1.3"]);
    let v = w.next_result();
    assert_eq!(v["path"], "1-1.3");
    assert_eq!(v["serial"], F405_SERIAL);
    assert_eq!(v["ok"], true, "{v}");
    // Plugged back in: flashed again. 1-1.2 stayed attached all along: never flashed again.
    plug(&plug_file, &[b, "stm32f405@1-1.3", a]);
    let v = w.next_result();
    assert_eq!(v["path"], "1-1.1");
    assert_eq!(v["ok"], true, "{v}");
    plug(&plug_file, &[b, "stm32f405@1-1.3", a, "stm32l4@1-1.4"]);
    let v = w.next_result();
    assert_eq!(v["path"], "1-1.4");
    // Ctrl-C ends it; every board succeeded, so it exits 0 with nothing more on stdout.
    w.signal(libc::SIGINT);
    assert_eq!(w.wait(), Some(0), "seen: {:#?}", w.seen);
    let rest = w.rest_of_stdout();
    assert!(rest.is_empty(), "more results: {rest:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
#[cfg(unix)] // sends SIGINT/SIGTERM; scripts/test-windows.sh sends Ctrl-C under Wine
fn watch_prints_a_row_per_board_and_refuses_sim_boards() {
    let dir = tmp("watch-rows");
    let fw = write_fw(&dir, 4096);
    let plug_file = dir.join("plugged");
    plug(&plug_file, &["stm32f405", "stm32f405"]);
    let mut w = Running::start(
        Command::new(env!("CARGO_BIN_EXE_dfuflash"))
            .args(["flash", "--watch", "--address", "0x08040000"])
            .arg(&fw)
            .env_remove("DFUFLASH_SIM")
            .env("DFUFLASH_SIM_PLUG", &plug_file),
    );
    assert_eq!(
        w.next_line(true),
        "watching for boards: each one attached in DFU mode is flashed once (Ctrl-C to stop)"
    );
    let mut rows: Vec<String> = (0..2).map(|_| w.next_line(true)).collect();
    rows.sort();
    for (row, path) in rows.iter().zip(["sim:stm32f405", "sim:stm32f405#2"]) {
        let cells = cells(row);
        assert_eq!(cells[0], path, "{row}");
        assert_eq!(cells[1], F405_SERIAL, "{row}");
        assert!(cells[2].contains(" s simulated, "), "{row}");
        assert_eq!(cells[3], "verified", "{row}");
    }
    w.signal(libc::SIGTERM);
    assert_eq!(w.next_line(true), "2 boards: 2 ok, 0 failed");
    assert_eq!(w.wait(), Some(0));
    // --sim boards are always attached: watching them would flash each once and wait forever.
    let o = dfuflash(&[
        "flash",
        "--watch",
        "--sim",
        "stm32f405",
        "--address",
        "0x08040000",
        fw.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("DFUFLASH_SIM_PLUG"), "{}", stderr(&o));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
#[cfg(unix)] // sends SIGINT/SIGTERM; scripts/test-windows.sh sends Ctrl-C under Wine
fn ctrl_c_cancels_every_board_cleanly() {
    let dir = tmp("ctrl-c");
    // 768 KB in real time: seconds of erasing per board, so the signal lands mid-erase.
    let fw = write_fw(&dir, 768 * 1024);
    let mut w = Running::start(
        Command::new(env!("CARGO_BIN_EXE_dfuflash"))
            .args(["flash", "--all", "--sim-realtime"])
            .args(["--sim", "stm32h743-revy", "--sim", "stm32f405"])
            .args(["--address", "0x08040000"])
            .arg(&fw)
            .env_remove("DFUFLASH_SIM")
            .env_remove("DFUFLASH_SIM_PLUG"),
    );
    w.wait_for_lines(2, ": erase: 6 sector(s)");
    w.signal(libc::SIGINT);
    assert_eq!(w.wait(), Some(1));
    let err = w.rest_of_stderr().join("\n");
    assert!(
        err.contains("cancelling: each board stops now, in DFU mode: in dfuIDLE, or busy with a command whose wait is cut short (Ctrl-C again to exit at once)"),
        "{err}"
    );
    // Mid-erase: between transfers (dfuIDLE) or, as a rule, inside the GETSTATUS that the
    // ROM holds while it erases, which the cancel cuts.
    let stopped = |path: &str, l: &str| {
        [
            "failed: cancelled during erase; the device was left in dfuIDLE",
            "failed: cancelled during erase while the device was busy; it stays in DFU mode",
        ]
        .iter()
        .any(|m| l.starts_with(&format!("{path}: {m}")))
    };
    for path in ["sim:stm32h743-revy", "sim:stm32f405"] {
        assert!(err.lines().any(|l| stopped(path, l)), "{path}: {err}");
    }
    assert!(err.contains("2 boards: 0 ok, 2 failed"), "{err}");
    assert!(
        err.contains("dfuflash: error: 2 of 2 board(s) failed"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
#[cfg(unix)] // sends SIGINT/SIGTERM; scripts/test-windows.sh sends Ctrl-C under Wine
fn a_second_ctrl_c_exits_at_once() {
    let dir = tmp("ctrl-c-twice");
    let fw = write_fw(&dir, 4096);
    // The first poll of the F405's mass erase (request 5) is held by the device for the whole
    // 10 s USB timeout, in real time, through a fault no cancel cuts: the first signal cannot
    // end the command, so the second exits it. A first signal that lands between the erase's
    // first line and that request (a loaded machine) ends the job cleanly instead: the run is
    // tried again, at most three times.
    for attempt in 1..=3 {
        let mut w = Running::start(
            Command::new(env!("CARGO_BIN_EXE_dfuflash"))
                .args(["flash", "--all", "--sim-realtime", "--mass-erase"])
                .args([
                    "--sim",
                    "stm32f405:timeout@5",
                    "--sim",
                    "stm32f405:timeout@5",
                ])
                .args(["--address", "0x08000000"])
                .arg(&fw)
                .env_remove("DFUFLASH_SIM")
                .env_remove("DFUFLASH_SIM_PLUG"),
        );
        w.wait_for_lines(2, ": erase: 1 sector(s)");
        w.signal(libc::SIGINT);
        // Sent once the first has been taken: two signals pending at once are one.
        w.wait_for_lines(1, "cancelling: ");
        std::thread::sleep(Duration::from_millis(300));
        if w.child.try_wait().unwrap().is_some() {
            assert!(
                attempt < 3,
                "the first Ctrl-C ended the command three times"
            );
            continue;
        }
        w.signal(libc::SIGINT);
        assert_eq!(w.wait(), Some(130));
        break;
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
#[cfg(unix)] // sends SIGINT/SIGTERM; scripts/test-windows.sh sends Ctrl-C under Wine
fn ctrl_c_cancels_a_single_board_flash_too() {
    let dir = tmp("ctrl-c-one");
    let fw = write_fw(&dir, 768 * 1024);
    let mut w = Running::start(
        Command::new(env!("CARGO_BIN_EXE_dfuflash"))
            .args(["flash", "--sim-realtime", "--sim", "stm32f405"])
            .args(["--address", "0x08040000"])
            .arg(&fw)
            .env_remove("DFUFLASH_SIM")
            .env_remove("DFUFLASH_SIM_PLUG"),
    );
    w.wait_for_lines(1, "erase: 6 sector(s)");
    w.signal(libc::SIGINT);
    assert_eq!(w.wait(), Some(1));
    let err = w.rest_of_stderr().join("\n");
    assert!(
        err.contains(
            "dfuflash: error: cancelled during erase; the device was left in dfuIDLE (still in DFU mode)"
        ) || err.contains(
            "dfuflash: error: cancelled during erase while the device was busy; it stays in DFU mode"
        ),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
