//! Helpers of the many-boards command tests (`flash --all`, `--watch`, Ctrl-C).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

/// How long any one wait may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(60);

pub fn tmp(name: &str) -> PathBuf {
    super::cli::tmp("many", name)
}

pub fn write_fw(dir: &Path, len: usize) -> PathBuf {
    let data: Vec<u8> = (0..len).map(|i| (i * 13 + i / 509) as u8).collect();
    let p = dir.join("fw.bin");
    std::fs::write(&p, data).unwrap();
    p
}

/// A row's cells: columns are two or more spaces apart.
pub fn cells(row: &str) -> Vec<&str> {
    row.split("  ")
        .filter(|c| !c.is_empty())
        .map(str::trim)
        .collect()
}

/// The JSON lines of stdout, by port path (each path once).
pub fn json_lines(stdout: &[u8]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for line in String::from_utf8_lossy(stdout).lines() {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: not JSON: {line:?}"));
        let path = v["path"].as_str().expect("a path").to_string();
        assert!(out.insert(path, v).is_none(), "a board reported twice");
    }
    out
}

pub const H7_SERIAL: &str = "200364500000";
pub const F405_SERIAL: &str = "385C34733435";
pub const LEN: usize = 300 * 1024;
