//! Issue 29: the GD32VF103's leave, in each way its ROM may leave (src/sim/models/gd32vf103.rs),
//! through `dfuflash flash --leave` and through the dfu-util drop-in on PlatformIO's line. Both
//! send what dfu-util 0.11 sends (the zero-length DNLOAD, then one GETSTATUS, whatever became
//! of the DNLOAD), and exit 0 only when the board left.

mod common;

use std::path::Path;
use std::process::Output;

use common::cli::{dfuflash, stderr, tmp};
use common::pattern;
use dfuflash::sim::SimDevice;

const LEFT: &str = "# board: left DFU mode for 0x08000000";
const DID_NOT_LEAVE: &str = "the device did not leave DFU mode: it answered the leave request \
     with OK in dfuIDLE, so its firmware is not running; reset or power-cycle the board to start it";

/// Each variant: the last requests the board received (the jump address, then the leave), as
/// the transcript has them, and where it ended.
const VARIANTS: &[(&str, [&str; 2], &str)] = &[
    (
        "gd32vf103-leave-dnload-unanswered",
        [
            "DnloadEnd -> Disconnected [dfuDNLOAD-IDLE]",
            "GetStatus -> Disconnected [dfuDNLOAD-IDLE]",
        ],
        LEFT,
    ),
    (
        "gd32vf103-leave-dnload",
        [
            "DnloadEnd -> Ok(None) [dfuDNLOAD-IDLE]",
            "GetStatus -> Disconnected [dfuDNLOAD-IDLE]",
        ],
        LEFT,
    ),
    (
        "gd32vf103-leave-status-unanswered",
        [
            "DnloadEnd -> Ok(None) [dfuDNLOAD-SYNC]",
            "GetStatus -> Disconnected [dfuDNLOAD-SYNC]",
        ],
        LEFT,
    ),
    (
        "gd32vf103-leave-manifest",
        [
            "DnloadEnd -> Ok(None) [dfuDNLOAD-SYNC]",
            "GetStatus -> Ok(Some((Ok, Manifest))) [dfuMANIFEST]",
        ],
        LEFT,
    ),
    (
        "gd32vf103-stays",
        [
            "DnloadEnd -> Ok(None) [dfuDNLOAD-SYNC]",
            "GetStatus -> Ok(Some((Ok, DfuIdle))) [dfuIDLE]",
        ],
        "# board: in DFU mode, dfuIDLE",
    ),
];

/// The transcript's last lines without request numbers and times: the Set Address to the jump
/// address and its two GETSTATUS, the leave's two requests, where the board is.
fn tail(transcript: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(transcript).unwrap();
    let lines: Vec<String> = text
        .lines()
        .map(|l| match l.split_once(" ms  ") {
            Some((_, rest)) => rest.to_string(),
            None => l.to_string(),
        })
        .collect();
    lines[lines.len() - 6..].to_vec()
}

fn expected_tail(leave: &[&str; 2], ended: &str) -> Vec<String> {
    [
        "SetAddress(134217728) -> Ok(None) [dfuDNLOAD-SYNC]",
        "GetStatus -> Ok(Some((Ok, DnBusy))) [dfuDNBUSY]",
        "GetStatus -> Ok(Some((Ok, DnloadIdle))) [dfuDNLOAD-IDLE]",
        leave[0],
        leave[1],
        ended,
    ]
    .map(String::from)
    .to_vec()
}

fn memory(model: &str, state: &Path, len: usize) -> Vec<u8> {
    let dev = SimDevice::with_state(model, state).unwrap();
    dev.memory(0, 0x0800_0000, len).unwrap().to_vec()
}

#[test]
fn dfuflash_flash_leave_exits_0_only_when_the_gd32vf103_left() {
    let dir = tmp("gd32_leave", "flash");
    let fw = pattern(20_140, 29);
    let file = dir.join("firmware.bin");
    std::fs::write(&file, &fw).unwrap();
    for &(model, leave, ended) in VARIANTS {
        let (state, transcript) = (dir.join("state"), dir.join("transcript"));
        let _ = std::fs::remove_file(&state);
        let o = dfuflash(&[
            "flash",
            "--sim",
            model,
            "--sim-state",
            state.to_str().unwrap(),
            "--sim-transcript",
            transcript.to_str().unwrap(),
            "--address",
            "0x08000000",
            "--leave",
            file.to_str().unwrap(),
        ]);
        let err = stderr(&o);
        assert_eq!(memory(model, &state, fw.len()), fw, "{model}");
        assert_eq!(tail(&transcript), expected_tail(&leave, ended), "{model}");
        if ended == LEFT {
            assert_eq!(o.status.code(), Some(0), "{model}: {err}");
            assert_eq!(err.matches("\ndevice left DFU mode\n").count(), 1, "{err}");
        } else {
            assert_eq!(o.status.code(), Some(1), "{model}: {err}");
            assert!(!err.contains("left DFU mode"), "{err}");
            assert_eq!(
                err.lines().last(),
                Some(format!("dfuflash: error: {DID_NOT_LEAVE}").as_str()),
                "{err}"
            );
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// `dfu-util ARGS` (the dfuflash binary under dfu-util's name) in `dir`, with `model` attached.
fn dfu_util(dir: &Path, model: &str, args: &[&str]) -> Output {
    common::cli::dropin(dir, "dfu-util", model, args)
}

#[test]
fn platformio_s_line_through_the_drop_in_exits_0_only_when_the_gd32vf103_left() {
    let dir = tmp("gd32_leave", "drop-in");
    let fw = pattern(20_140, 30);
    std::fs::write(dir.join("firmware.bin"), &fw).unwrap();
    for &(model, leave, ended) in VARIANTS {
        let _ = std::fs::remove_file(dir.join("state"));
        // PlatformIO's platform-gd32v, upload protocol dfu.
        let o = dfu_util(
            &dir,
            model,
            &[
                "-d",
                "28e9:0189",
                "-a",
                "0",
                "--dfuse-address",
                "0x08000000:leave",
                "-D",
                "firmware.bin",
            ],
        );
        let (out, err) = (String::from_utf8_lossy(&o.stdout), stderr(&o));
        assert_eq!(memory(model, &dir.join("state"), fw.len()), fw, "{model}");
        assert_eq!(
            tail(&dir.join("transcript")),
            expected_tail(&leave, ended),
            "{model}"
        );
        let submitted = "\nFile downloaded successfully\nSubmitting leave request...\n";
        let said = if model == "gd32vf103-leave-manifest" {
            "Transitioning to dfuMANIFEST state\n"
        } else {
            "dfuflash: the board left DFU mode (gone from the bus after the leave request)\n"
        };
        if ended == LEFT {
            assert_eq!(o.status.code(), Some(0), "{model}: {out}{err}");
            assert!(
                out.ends_with(&format!("{submitted}{said}")),
                "{model}: {out}"
            );
        } else {
            // dfu-util's EX_IOERR, and its way of saying why.
            assert_eq!(o.status.code(), Some(74), "{model}: {out}{err}");
            assert!(out.ends_with(submitted), "{out}");
            assert_eq!(
                err.lines().last(),
                Some(format!("dfu-util: {DID_NOT_LEAVE}").as_str()),
                "{err}"
            );
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}
