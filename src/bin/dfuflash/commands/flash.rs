//! `dfuflash flash`: load an image, then erase, write and verify it on the device. With `--all`
//! or `--watch` the same job runs on many boards (`flash_all`, `watch`).

use std::time::{Instant, SystemTime};

use dfuflash::progress::{CancelToken, Event};

use crate::args::FlashArgs;
use crate::commands::{flash_all, watch};
use crate::flash_job::FlashJob;
use crate::hints;
use crate::interrupt;
use crate::job_output::JobOutput;
use crate::open::open;
use crate::report::refusal_json;
use crate::report::{failure_json, report_json, summary, Failure};

/// `wall` is when the command started: the JSON reports `wall_seconds` from it.
pub fn run(args: FlashArgs, wall: Instant, cancel: &CancelToken) -> Result<(), String> {
    if args.watch {
        return watch::run(args, cancel);
    }
    if args.all {
        return flash_all::run(args, cancel);
    }
    // Ctrl-C stops between transfers and leaves the board in dfuIDLE, as for many boards.
    interrupt::cancel_on_signal(cancel);
    let started = SystemTime::now();
    let mut output = JobOutput::new(args.json, args.events, args.device.verbose);
    let flash = FlashJob::new(&args).map_err(|m| output.refused(&m, "log"))?;
    let FlashArgs {
        device,
        no_workarounds,
        ..
    } = args;
    let mut o = open(&device, !no_workarounds).map_err(|e| output.failed(&e))?;
    let before = o.dfu.requests_sent();
    let result = flash.run(&mut o, &mut |ev: &Event<'_>| output.event(ev), cancel);
    output.finish();
    let dev = o.dfu.transport().sim();
    let text = result.as_ref().ok().map(|r| summary(r, dev));
    let (line, out) = match &result {
        Ok(r) => (report_json(r, dev, wall.elapsed()), Ok(())),
        Err(e) => {
            let f = Failure {
                error: e,
                requests: o.dfu.requests_sent() - before,
            };
            (
                failure_json(&f, dev, wall.elapsed()),
                Err(hints::message(e)),
            )
        }
    };
    let board = o.board.clone();
    // A simulated board whose state cannot be saved failed, before its record is kept.
    let (line, out) = match o.close() {
        Ok(()) => (line, out),
        Err(m) => (refusal_json(&m, "state_file"), Err(m)),
    };
    let (line, kept) = flash.record(line, (&board.0, &board.1), started);
    output.outcome(&line, text.as_deref().filter(|_| kept.is_ok()));
    out.and(kept)
}
