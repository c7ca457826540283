//! Running the command as a user does, for the command-line tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The command with `args`, without the boards the environment could attach.
pub fn dfuflash(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dfuflash"))
        .args(args)
        .env_remove("DFUFLASH_SIM")
        .env_remove("DFUFLASH_SIM_PLUG")
        .output()
        .unwrap()
}

/// A fresh directory for one test of one test binary.
pub fn tmp(binary: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dfuflash-{binary}-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The command's stdout.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The command's stdout as one JSON document.
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

/// A firmware file `fw.bin` of `len` patterned bytes in `dir`, and its bytes.
pub fn write_fw(dir: &Path, len: usize) -> (PathBuf, Vec<u8>) {
    let data: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
    let p = dir.join("fw.bin");
    std::fs::write(&p, &data).unwrap();
    (p, data)
}

/// Runs the dfuflash binary under another program's name (`name`, such as dfu-util) in `dir`,
/// with `sim` attached through the environment, its memory in `dir/state` and the opened
/// board's requests in `dir/transcript` (a transcript of an earlier run is removed first).
pub fn dropin(dir: &Path, name: &str, sim: &str, args: &[&str]) -> Output {
    let exe = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !exe.exists() {
        #[cfg(unix)]
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_dfuflash"), &exe).unwrap();
        #[cfg(windows)]
        std::fs::copy(env!("CARGO_BIN_EXE_dfuflash"), &exe).unwrap();
    }
    let _ = std::fs::remove_file(dir.join("transcript"));
    Command::new(exe)
        .args(args)
        .current_dir(dir)
        .env("DFUFLASH_SIM", sim)
        .env("DFUFLASH_SIM_STATE", dir.join("state"))
        .env("DFUFLASH_SIM_TRANSCRIPT", dir.join("transcript"))
        .env_remove("DFUFLASH_SIM_PLUG")
        .output()
        .unwrap()
}
