//! How one board's outcome is reported when many are flashed: its `--json` line (the
//! single-board object, made a record by [`crate::flash_job::FlashJob::record`]), its row (port path, serial, time, result),
//! and the table of every row.

use std::time::Duration;

use serde_json::Value;

use dfuflash::job::Report;
use dfuflash::sim::SimDevice;
use dfuflash::transport::Transport;
use dfuflash::Error;

use crate::events::Events;
use crate::hints;
use crate::report::{failure_json, report_json, Failure};
use crate::report::{refusal_before_any_request, refusal_json};

/// One board's outcome.
pub struct BoardResult {
    /// Port path: what tells boards apart (every STM32H7 ROM reports the same serial).
    pub path: String,
    pub serial: String,
    pub ok: bool,
    /// "verified" (or "written, not verified"), or "failed: " and the error.
    pub result: String,
    /// Simulated and wall time on the simulator, wall time on a real board.
    pub time: String,
    /// The `--json` line.
    pub json: Value,
}

/// Column widths of the watch mode's rows, printed before the longest is known.
pub const STREAM_WIDTHS: [usize; 3] = [20, 12, 30];

impl BoardResult {
    /// A job that succeeded.
    pub fn done(
        path: &str,
        serial: &str,
        r: &Report,
        verified: bool,
        dev: Option<&SimDevice>,
        wall: Duration,
    ) -> Self {
        let mut result = String::from(if verified && r.unverified.is_none() {
            "verified"
        } else {
            "written, not verified"
        });
        match r.sectors_skipped.len() {
            0 => {}
            1 => result += ", 1 unchanged sector skipped",
            n => result += &format!(", {n} unchanged sectors skipped"),
        }
        if !r.workaround_sectors.is_empty() {
            result += &format!(
                ", Rev V erase recovery on {} sector(s)",
                r.workaround_sectors.len()
            );
        }
        if r.left.is_some() {
            result += ", left DFU mode";
        }
        Self::new(
            path,
            serial,
            true,
            result,
            dev,
            wall,
            report_json(r, dev, wall),
        )
    }

    /// A board that failed at any step: opening, the file, the job, or saving its state.
    pub fn failed(
        path: &str,
        serial: &str,
        error: &Error,
        requests: u64,
        dev: Option<&SimDevice>,
        wall: Duration,
    ) -> Self {
        let f = Failure { error, requests };
        let result = format!("failed: {}", hints::message(error));
        Self::new(
            path,
            serial,
            false,
            result,
            dev,
            wall,
            failure_json(&f, dev, wall),
        )
    }

    /// A failure that is not a library error: a worker that panicked (the other boards are
    /// unaffected), a simulated board's state that cannot be saved.
    pub fn failed_with(path: &str, serial: &str, message: &str, kind: &str) -> Self {
        let json = refusal_json(message, kind);
        Self::new(
            path,
            serial,
            false,
            format!("failed: {message}"),
            None,
            Duration::ZERO,
            json,
        )
    }

    fn new(
        path: &str,
        serial: &str,
        ok: bool,
        result: String,
        dev: Option<&SimDevice>,
        wall: Duration,
        json: Value,
    ) -> Self {
        let time = match dev {
            Some(dev) => format!(
                "{:.2} s simulated, {:.2} s wall",
                dev.now().as_secs_f64(),
                wall.as_secs_f64()
            ),
            None => format!("{:.2} s", wall.as_secs_f64()),
        };
        BoardResult {
            path: path.into(),
            serial: serial.into(),
            ok,
            result,
            time,
            json,
        }
    }

    /// The row: port path, serial, time, result (last, as it may be a long message).
    pub fn row(&self, widths: [usize; 3]) -> String {
        let [p, s, t] = widths;
        format!(
            "{:<p$}  {:<s$}  {:<t$}  {}",
            self.path, self.serial, self.time, self.result
        )
    }
}

/// Every board's row under a header, in the order given, then a count.
pub fn table(results: &[BoardResult]) -> String {
    let width = |f: fn(&BoardResult) -> &str, header: &str| {
        results
            .iter()
            .map(|r| f(r).len())
            .chain([header.len()])
            .max()
            .unwrap_or(0)
    };
    let widths = [
        width(|r| &r.path, "path"),
        width(|r| &r.serial, "serial"),
        width(|r| &r.time, "time"),
    ];
    let [p, s, t] = widths;
    let mut out = format!("{:<p$}  {:<s$}  {:<t$}  result\n", "path", "serial", "time");
    for r in results {
        out += &r.row(widths);
        out.push('\n');
    }
    out + &count(results)
}

/// "3 boards: 2 verified, 1 failed".
pub fn count(results: &[BoardResult]) -> String {
    let failed = results.iter().filter(|r| !r.ok).count();
    let n = results.len();
    format!(
        "{n} board{}: {} ok, {failed} failed",
        if n == 1 { "" } else { "s" },
        n - failed
    )
}

/// A board's `--json` line on stdout, whole (stdout is locked for it); a closed stdout is
/// no reason to stop flashing the other boards.
pub fn print_json(r: &BoardResult) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{}", r.json);
}

/// A multi-board command that failed before any board (the file, the listing): a result
/// event without a board with `--events json` (`--json` lines are boards' only); returns the
/// message.
pub fn command_failed(events: Option<Events>, message: &str, kind: &str) -> String {
    if let Some(ev) = events {
        ev.stream(None)
            .result(&refusal_before_any_request(message, kind));
    }
    message.to_string()
}

/// The command's error when boards failed: how many, and which.
pub fn failures(results: &[BoardResult]) -> Result<(), String> {
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| !r.ok)
        .map(|r| r.path.as_str())
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} of {} board(s) failed: {}",
        failed.len(),
        results.len(),
        failed.join(", ")
    ))
}
