//! `dfuflash flash`: load an image, then erase, write and verify it on the device. With `--all`
//! or `--watch` the same job runs on many boards (`flash_all`, `watch`).

use std::time::Instant;

use dfuflash::job;
use dfuflash::progress::{CancelToken, Event};

use crate::args::FlashArgs;
use crate::commands::{flash_all, watch};
use crate::display::Display;
use crate::flash_job::FlashJob;
use crate::hints;
use crate::interrupt;
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
    let flash = FlashJob::new(&args);
    let FlashArgs {
        device,
        no_workarounds,
        json,
        ..
    } = args;
    let mut o = open(&device, !no_workarounds).map_err(|e| hints::message(&e))?;
    let image = flash.load(&o).map_err(|e| hints::message(&e))?;
    let opts = flash.options(&o);
    let mut display = Display::new(json, device.verbose);
    let before = o.dfu.requests_sent();
    let result = job::flash(
        &mut o.dfu,
        &image,
        &opts,
        &mut |ev: &Event<'_>| display.event(ev),
        cancel,
    );
    display.finish();
    let dev = o.dfu.transport().sim();
    let out = match &result {
        Ok(r) => {
            if json {
                println!("{}", report_json(r, dev, wall.elapsed()));
            } else {
                eprintln!("{}", summary(r, dev));
            }
            Ok(())
        }
        Err(e) => {
            let f = Failure {
                error: e,
                requests: o.dfu.requests_sent() - before,
            };
            if json {
                println!("{}", failure_json(&f, dev, wall.elapsed()));
            }
            Err(hints::message(e))
        }
    };
    o.close()?;
    out
}
