//! `dfuflash flash --all`: every board that matches, flashed at once, one thread each; then a
//! table of the results (or one JSON line per board). Fails when any board failed.

use std::time::{Duration, Instant};

use dfuflash::device;
use dfuflash::progress::CancelToken;
use dfuflash::Error;

use crate::args::FlashArgs;
use crate::board_report::{command_failed, failures, print_json, table, BoardResult};
use crate::boards_display::{BoardsDisplay, Style};
use crate::commands::flash_board::flash_board;
use crate::events::Events;
use crate::flash_job::FlashJob;
use crate::hints;
use crate::interrupt::{self, CANCELLING};
use crate::open::{candidates, names, port_path};

pub fn run(args: FlashArgs, cancel: &CancelToken) -> Result<(), String> {
    interrupt::cancel_on_signal(cancel);
    let events = Events::requested(args.events, args.device.verbose);
    let failed = |e: Error| command_failed(events, &hints::message(&e), e.kind());
    let flash = FlashJob::new(&args).map_err(|m| command_failed(events, &m, "log"))?;
    flash.check_file().map_err(failed)?;
    let d = &args.device;
    let workarounds = !args.no_workarounds;
    // --wait: until at least one board matches.
    let deadline = Instant::now() + Duration::from_secs(d.wait.unwrap_or(0));
    let (entries, opener) = loop {
        let (entries, opener) = candidates(d, workarounds).map_err(failed)?;
        let none = device::matching(&entries, opener.selector()).is_empty();
        if !none || Instant::now() >= deadline || cancel.is_cancelled() {
            break (entries, opener);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let boards = device::select_all(&entries, opener.selector()).map_err(failed)?;
    let path_width = boards.iter().map(|e| port_path(e).len()).max().unwrap_or(0);
    let display = BoardsDisplay::new(args.json, d.verbose, Style::Batch, path_width, events);
    let results: Vec<BoardResult> = std::thread::scope(|s| {
        let workers: Vec<_> = boards
            .iter()
            .map(|&entry| {
                let (path, serial) = names(entry);
                let line = display.board(&path, &serial);
                let (opener, flash) = (&opener, &flash);
                s.spawn(move || {
                    let r = flash_board(entry, opener, flash, line, cancel, Duration::ZERO);
                    if args.json {
                        print_json(&r);
                    }
                    r
                })
            })
            .collect();
        // A cancel is announced even when every board stopped within one look (a cut request
        // ends in milliseconds).
        let mut announced = false;
        loop {
            if cancel.is_cancelled() && !announced {
                display.println(CANCELLING);
                announced = true;
            }
            if workers.iter().all(|w| w.is_finished()) {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        // flash_board contains panics: a worker always returns its board's result.
        workers
            .into_iter()
            .map(|w| w.join().expect("flash_board contains panics"))
            .collect()
    });
    if !args.json && events.is_none() {
        eprint!("{}", table(&results));
        eprintln!();
    }
    failures(&results)
}
