//! `dfuflash flash --watch`, station mode (as QMK Toolbox's auto-flash and factory fixtures
//! work): list the boards every few hundred milliseconds, flash each newly attached one once on
//! its own thread, print one result row (or JSON line) per board, until SIGINT or SIGTERM.
//!
//! A board is its port path: every STM32H7 ROM reports the same serial. A board is forgotten
//! when a listing no longer shows it in DFU mode, so one unplugged and plugged back in (or sent
//! back to its bootloader) is flashed again, while one that stays attached is not. Only boards
//! in DFU mode start a flash: a board that left DFU mode after its flash (`--leave`) and comes
//! back in runtime mode is not detached and flashed over and over.

use std::collections::HashMap;
use std::thread::ScopedJoinHandle;
use std::time::{Duration, Instant};

use dfuflash::device::{self, Entry};
use dfuflash::progress::CancelToken;
use dfuflash::transport::Mode;
use dfuflash::Error;

use crate::args::FlashArgs;
use crate::board_report::{
    command_failed, count, failures, print_json, BoardResult, STREAM_WIDTHS,
};
use crate::boards_display::{BoardsDisplay, Style};
use crate::commands::flash_board::flash_board;
use crate::events::Events;
use crate::flash_job::FlashJob;
use crate::hints;
use crate::interrupt::{self, CANCELLING};
use crate::open::{candidates, names, port_path};

/// How often the boards are listed.
const POLL: Duration = Duration::from_millis(300);
/// How long a newly attached board has to become ready to open.
const OPEN_DEADLINE: Duration = Duration::from_secs(5);

/// A board seen at a port path.
enum Slot<'scope> {
    /// Being flashed; `missed` when a listing did not show it meanwhile (it was unplugged, so
    /// once its job ends it is forgotten, and flashed again if it is back).
    Running {
        worker: ScopedJoinHandle<'scope, BoardResult>,
        missed: bool,
    },
    /// Flashed, and still attached: not flashed again.
    Done,
}

pub fn run(args: FlashArgs, cancel: &CancelToken) -> Result<(), String> {
    let d = &args.device;
    let events = Events::requested(args.events, d.verbose);
    let failed = |m: &str, kind: &str| command_failed(events, m, kind);
    if !d.sim.is_empty() {
        return Err(failed("--watch waits for boards to be plugged in, and --sim boards are always there; attach simulated boards with DFUFLASH_SIM_PLUG=FILE (see the README)", "invalid_argument"));
    }
    interrupt::cancel_on_signal(cancel);
    let flash = FlashJob::new(&args).map_err(|m| failed(&m, "log"))?;
    flash
        .check_file()
        .map_err(|e| failed(&hints::message(&e), e.kind()))?;
    let workarounds = !args.no_workarounds;
    let display = BoardsDisplay::new(
        args.json,
        d.verbose,
        Style::Station,
        STREAM_WIDTHS[0],
        events,
    );
    display.println(
        "watching for boards: each one attached in DFU mode is flashed once (Ctrl-C to stop)",
    );
    let mut results: Vec<BoardResult> = Vec::new();
    let mut fatal: Option<String> = None;
    std::thread::scope(|s| {
        let mut slots: HashMap<String, Slot<'_>> = HashMap::new();
        let mut last_warning = String::new();
        while !cancel.is_cancelled() {
            results.extend(reap(&mut slots, false));
            let listed = match candidates(d, workarounds) {
                Ok(listed) => {
                    last_warning.clear();
                    listed
                }
                // A misnamed simulated board will not fix itself.
                Err(e @ Error::InvalidArgument(_)) => {
                    fatal = Some(failed(&hints::message(&e), e.kind()));
                    cancel.cancel();
                    break;
                }
                // The bus may come back (a hub unplugged, libusb restarting): say so once.
                Err(e) => {
                    let text = format!("warning: cannot list boards: {e}");
                    if text != last_warning {
                        display.println(&text);
                        last_warning = text;
                    }
                    pause(cancel);
                    continue;
                }
            };
            let (entries, opener) = listed;
            let present: Vec<&Entry> = device::matching(&entries, opener.selector())
                .into_iter()
                .filter(|e| e.info.mode == Mode::Dfu)
                .collect();
            forget_absent(&mut slots, &present);
            for entry in present {
                if slots.contains_key(port_path(entry)) {
                    continue;
                }
                let (path, serial) = names(entry);
                let line = display.board(&path, &serial);
                let (entry, opener, flash, display) =
                    (entry.clone(), opener.clone(), &flash, &display);
                let json = args.json;
                let worker = s.spawn(move || {
                    let r = flash_board(&entry, &opener, flash, line, cancel, OPEN_DEADLINE);
                    report(&r, json, display);
                    r
                });
                slots.insert(
                    path,
                    Slot::Running {
                        worker,
                        missed: false,
                    },
                );
            }
            pause(cancel);
        }
        // Interrupted: the token has cancelled the running jobs; each still reports.
        let running =
            |s: &Slot<'_>| matches!(s, Slot::Running { worker, .. } if !worker.is_finished());
        if fatal.is_none() && slots.values().any(running) {
            display.println(CANCELLING);
        }
        results.extend(reap(&mut slots, true));
    });
    if let Some(message) = fatal {
        return Err(message);
    }
    if !args.json {
        display.println(&count(&results));
    }
    failures(&results)
}

/// One board's result as it ends: its JSON line, or its row.
fn report(r: &BoardResult, json: bool, display: &BoardsDisplay) {
    if json {
        print_json(r);
    } else {
        display.println(&r.row(STREAM_WIDTHS));
    }
}

/// The results of the jobs that have ended (of all of them, waiting, with `all`). A board
/// missed by a listing while it was flashed is forgotten; any other is kept as done.
fn reap(slots: &mut HashMap<String, Slot<'_>>, all: bool) -> Vec<BoardResult> {
    let ended: Vec<String> = slots
        .iter()
        .filter(|(_, slot)| match slot {
            Slot::Running { worker, .. } => all || worker.is_finished(),
            Slot::Done => false,
        })
        .map(|(path, _)| path.clone())
        .collect();
    let mut out = Vec::new();
    for path in ended {
        let Some(Slot::Running { worker, missed }) = slots.remove(&path) else {
            continue;
        };
        // flash_board contains panics: a worker always returns its board's result.
        out.push(worker.join().expect("flash_board contains panics"));
        if !missed {
            slots.insert(path, Slot::Done);
        }
    }
    out
}

/// Boards the listing no longer shows: forgotten when done, marked when still running.
fn forget_absent(slots: &mut HashMap<String, Slot<'_>>, present: &[&Entry]) {
    let here = |path: &str| present.iter().any(|e| port_path(e) == path);
    slots.retain(|path, slot| match slot {
        _ if here(path) => true,
        Slot::Running { missed, .. } => {
            *missed = true;
            true
        }
        Slot::Done => false,
    });
}

/// Waits for the next listing, or less when interrupted.
fn pause(cancel: &CancelToken) {
    let until = Instant::now() + POLL;
    while !cancel.is_cancelled() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(25));
    }
}
