//! The production record: what a flash's JSON line carries besides the job's report (the tool,
//! the file, the board, when it started and ended), and `--log FILE`, to which each board's
//! line is appended whole, so the record survives the terminal.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use serde_json::{json, Value};

use crate::report::refusal_json;

/// Adds the tool, the file, the board and the times to a board's JSON line.
pub fn stamp(v: &mut Value, file: &Path, board: (&str, &str), started: SystemTime) {
    v["tool"] = json!(concat!("dfuflash ", env!("CARGO_PKG_VERSION")));
    v["file"] = json!(file.display().to_string());
    v["path"] = json!(board.0);
    v["serial"] = json!(board.1);
    v["started"] = json!(timestamp(started));
    v["finished"] = json!(timestamp(SystemTime::now()));
}

/// Completes a board's JSON line as a production record (tool, file, board, times) and
/// appends it to `log`. A board whose record cannot be kept has failed (the factory has no
/// proof of it): then the line returned says so, and so does the error.
pub fn record(
    log: Option<&ProductionLog>,
    mut line: Value,
    file: &Path,
    board: (&str, &str),
    started: SystemTime,
) -> (Value, Result<(), String>) {
    stamp(&mut line, file, board, started);
    let Some(log) = log else {
        return (line, Ok(()));
    };
    match log.append(&line) {
        Ok(()) => (line, Ok(())),
        Err(m) => {
            let message = format!("{m}: the board's record was not kept");
            let mut failed = refusal_json(&message, "log");
            stamp(&mut failed, file, board, started);
            (failed, Err(message))
        }
    }
}

/// RFC 3339 in UTC, to the millisecond.
fn timestamp(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// A file of JSON lines, one per board, appended to by every board's thread.
pub struct ProductionLog {
    path: PathBuf,
    /// The file, and whether the last append failed (it may have left part of a line).
    file: Mutex<(File, bool)>,
}

impl ProductionLog {
    /// Opens (or creates) the log for appending, before any board is touched: a flash whose
    /// record cannot be kept does not start.
    pub fn open(path: &Path) -> Result<Self, String> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open the log {}: {e}", path.display()))?;
        Ok(Self {
            path: path.into(),
            file: Mutex::new((file, false)),
        })
    }

    /// Appends one line in one write, then asks the system to keep it (a host that loses power
    /// next keeps the record of the board before).
    pub fn append(&self, v: &Value) -> Result<(), String> {
        // A thread that panicked while holding the lock left the file as it was.
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let (f, broken) = &mut *guard;
        // After a failed append (a full disk), the next line starts on a line of its own.
        let line = format!("{}{v}\n", if *broken { "\n" } else { "" });
        let r = f.write_all(line.as_bytes()).and_then(|()| f.sync_data());
        *broken = r.is_err();
        r.map_err(|e| format!("cannot append to the log {}: {e}", self.path.display()))
    }
}
