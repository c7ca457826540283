//! `flash --full` and the differential flash as the command shows it: `sectors_skipped` in
//! `--json`, the summary's count of unchanged sectors. Every planned sector is either erased
//! or skipped, never both; `--full` skips none.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

const LEN: usize = 300 * 1024;
/// The F405's 128 KB sectors 6, 7 and 8 hold 300 KB at 0x08040000.
const PLANNED: [u64; 3] = [0x0804_0000, 0x0806_0000, 0x0808_0000];

struct Board {
    dir: PathBuf,
}

impl Board {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("dfuflash-full-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let data: Vec<u8> = (0..LEN).map(|i| (i * 29 + i / 61) as u8).collect();
        std::fs::write(dir.join("fw.bin"), data).unwrap();
        Board { dir }
    }

    /// `flash` on the same persisted F405 each time.
    fn flash(&self, extra: &[&str]) -> Output {
        let o = Command::new(env!("CARGO_BIN_EXE_dfuflash"))
            .args(["flash", "--sim", "stm32f405", "--sim-state"])
            .arg(self.dir.join("board.state"))
            .args(["--address", "0x08040000"])
            .args(extra)
            .arg(self.dir.join("fw.bin"))
            .env_remove("DFUFLASH_SIM")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o
    }

    fn flash_json(&self, extra: &[&str]) -> Value {
        let mut args = vec!["--json"];
        args.extend_from_slice(extra);
        serde_json::from_slice(&self.flash(&args).stdout).unwrap()
    }
}

impl Drop for Board {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn addresses(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|a| a.as_u64().unwrap())
        .collect()
}

/// Erased and skipped sectors split the planned ones between them.
fn split_planned(v: &Value) -> (Vec<u64>, Vec<u64>) {
    let erased = addresses(&v["sectors_erased"]);
    let skipped = addresses(&v["sectors_skipped"]);
    let both: BTreeSet<u64> = erased.iter().chain(&skipped).copied().collect();
    assert_eq!(
        both.len(),
        erased.len() + skipped.len(),
        "erased and skipped: {v}"
    );
    assert_eq!(both, BTreeSet::from(PLANNED), "{v}");
    assert_eq!(v["bytes_verified"], LEN, "{v}");
    (erased, skipped)
}

#[test]
fn full_erases_every_planned_sector_and_the_default_skips_only_unchanged_ones() {
    let board = Board::new();
    // A fresh board holds nothing of the image: every planned sector is erased.
    let (erased, skipped) = split_planned(&board.flash_json(&[]));
    assert_eq!((erased, skipped), (PLANNED.to_vec(), vec![]));
    // Flashed again, unchanged: every sector is compared, found equal and skipped.
    let (erased, skipped) = split_planned(&board.flash_json(&[]));
    assert_eq!((erased, skipped), (vec![], PLANNED.to_vec()));
    // --full skips nothing.
    let full = board.flash_json(&["--full"]);
    assert_eq!(addresses(&full["sectors_skipped"]), Vec::<u64>::new());
    assert_eq!(addresses(&full["sectors_erased"]), PLANNED);
    // The summary counts what was skipped.
    let o = board.flash(&[]);
    let err = String::from_utf8_lossy(&o.stderr);
    let summary = err.lines().find(|l| l.starts_with("done: ")).unwrap();
    assert!(
        summary.contains(", 3 unchanged sectors skipped,"),
        "{summary}"
    );
}
