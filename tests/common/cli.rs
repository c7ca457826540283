//! Running the command as a user does, for the command-line tests.

use std::path::PathBuf;
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
