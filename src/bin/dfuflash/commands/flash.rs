//! `dfuflash flash`: load an image, then erase, write and verify it on the device. With `--all`
//! or `--watch` the same job runs on many boards (`flash_all`, `watch`).

use std::time::{Instant, SystemTime};

use dfuflash::job;
use dfuflash::progress::{CancelToken, Event};

use crate::args::FlashArgs;
use crate::commands::{flash_all, watch};
use crate::flash_job::FlashJob;
use crate::hints;
use crate::interrupt;
use crate::job_output::JobOutput;
use crate::open::open;
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
    let flash = FlashJob::new(&args)?;
    let FlashArgs {
        device,
        no_workarounds,
        json,
        events,
        ..
    } = args;
    let mut o = open(&device, !no_workarounds).map_err(|e| hints::message(&e))?;
    let image = flash.load(&o).map_err(|e| hints::message(&e))?;
    let opts = flash.options(&o);
    let mut output = JobOutput::new(json, events, device.verbose);
    let before = o.dfu.requests_sent();
    let result = job::flash(
        &mut o.dfu,
        &image,
        &opts,
        &mut |ev: &Event<'_>| output.event(ev),
        cancel,
    );
    output.finish();
    let dev = o.dfu.transport().sim();
    let (mut line, out) = match &result {
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
    let (path, serial) = &o.board;
    let logged = flash.record(&mut line, (path, serial), started);
    let text = result.as_ref().ok().map(|r| summary(r, dev));
    output.outcome(&line, text.as_deref());
    o.close()?;
    out.and(logged)
}
