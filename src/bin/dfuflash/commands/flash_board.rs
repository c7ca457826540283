//! One board of a multi-board flash, run on its own thread: open it (its own transport),
//! load the image for it, flash, close. Whatever happens is this board's result; nothing it
//! does reaches another board.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant, SystemTime};

use dfuflash::device::Entry;
use dfuflash::progress::{CancelToken, Event};
use dfuflash::Error;

use crate::board_report::BoardResult;
use crate::boards_display::BoardLine;
use crate::flash_job::FlashJob;
use crate::open::{names, Opened, Opener};

/// How often a board that is not ready yet is tried again.
const OPEN_RETRY: Duration = Duration::from_millis(250);

/// Flashes `entry`. A just-plugged board may not be ready to open (still enumerating, or its
/// permissions not yet applied): opening is tried again until `open_for` has passed, then the
/// board fails with the last error. A panic (a bug) fails this board only.
pub fn flash_board(
    entry: &Entry,
    opener: &Opener,
    flash: &FlashJob,
    mut line: BoardLine,
    cancel: &CancelToken,
    open_for: Duration,
) -> BoardResult {
    let (path, serial) = names(entry);
    let started = SystemTime::now();
    let mut r = std::panic::catch_unwind(AssertUnwindSafe(|| {
        flash_one(entry, opener, flash, &mut line, cancel, open_for)
    }))
    .unwrap_or_else(|panic| {
        BoardResult::failed_with(&path, &serial, &panic_message(&panic), "panic")
    });
    let (record, kept) = flash.record(r.json.take(), (&path, &serial), started);
    if let Err(message) = kept {
        r = BoardResult::failed_with(&path, &serial, &message, "log");
    }
    r.json = record;
    line.finish(&r);
    r
}

/// What a panic said.
fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".into());
    format!("internal error (panic): {text}")
}

fn flash_one(
    entry: &Entry,
    opener: &Opener,
    flash: &FlashJob,
    line: &mut BoardLine,
    cancel: &CancelToken,
    open_for: Duration,
) -> BoardResult {
    let wall = Instant::now();
    let (path, serial) = names(entry);
    let mut o = match open_until(entry, opener, wall + open_for, cancel) {
        Ok(o) => o,
        Err(e) => return BoardResult::failed(&path, &serial, &e, 0, None, wall.elapsed()),
    };
    let before = o.dfu.requests_sent();
    let outcome = flash.run(&mut o, &mut |ev: &Event<'_>| line.event(ev), cancel);
    let dev = o.dfu.transport().sim();
    let requests = o.dfu.requests_sent() - before;
    let mut r = match &outcome {
        Ok(report) => BoardResult::done(
            &path,
            &serial,
            report,
            flash.verifies(),
            dev,
            wall.elapsed(),
        ),
        Err(e) => BoardResult::failed(&path, &serial, e, requests, dev, wall.elapsed()),
    };
    // Saving a simulated board's state can fail too: then the board failed.
    if let Err(message) = o.close() {
        r = BoardResult::failed_with(&path, &serial, &message, "state_file");
    }
    r
}

/// Opens the board, trying again while the error is one a board that is still coming up
/// gives, until `deadline`.
fn open_until(
    entry: &Entry,
    opener: &Opener,
    deadline: Instant,
    cancel: &CancelToken,
) -> Result<Opened, Error> {
    loop {
        match opener.open(entry) {
            Err(e) if not_ready(&e) && Instant::now() < deadline && !cancel.is_cancelled() => {
                std::thread::sleep(OPEN_RETRY)
            }
            other => return other,
        }
    }
}

/// Errors of a board that may still be enumerating: access not yet granted, the interface
/// not yet free, the device gone for a moment, a request that failed.
fn not_ready(e: &Error) -> bool {
    matches!(
        e.kind(),
        "usb_access" | "usb_busy" | "usb" | "disconnected" | "stall" | "timeout"
    )
}
