//! `dfuflash flash`: load an image, then erase, write and verify it on the device.

use std::time::Instant;

use dfuflash::image::{self, LoadOptions};
use dfuflash::job::{self, FlashOptions};
use dfuflash::progress::{CancelToken, Event};

use crate::args::FlashArgs;
use crate::display::Display;
use crate::hints;
use crate::open::open;
use crate::report::{failure_json, report_json, summary, Failure};

/// `wall` is when the command started: the JSON reports `wall_seconds` from it.
pub fn run(args: FlashArgs, wall: Instant, cancel: &CancelToken) -> Result<(), String> {
    let FlashArgs {
        device,
        address,
        no_verify,
        leave,
        leave_address,
        mass_erase,
        full,
        no_workarounds,
        allow_option_bytes,
        allow_otp,
        ignore_suffix,
        json,
        file,
    } = args;
    let mut o = open(&device, !no_workarounds).map_err(|e| hints::message(&e))?;
    let mut lopts = LoadOptions::default();
    lopts.address = address;
    lopts.alt = o.dfu.alt();
    let image = match image::load(&file, &lopts) {
        // A plain DFU 1.1 device has no addresses: its image starts at 0.
        Err(image::FormatError::RawNeedsAddress { .. }) if !o.dfu.is_dfuse() => {
            lopts.address = Some(0);
            image::load(&file, &lopts)
        }
        other => other,
    }
    .map(|(_, i)| i)
    .map_err(|e| hints::message(&e.into()))?;

    let mut opts = FlashOptions::default();
    opts.verify = !no_verify;
    opts.leave = leave;
    opts.leave_address = leave_address;
    opts.mass_erase = mass_erase;
    opts.full = full;
    opts.allow_option_bytes = allow_option_bytes;
    opts.allow_otp = allow_otp;
    opts.check_suffix_ids = !ignore_suffix;
    // A file for another alt setting than -a names is refused before any request.
    opts.selected_alt = o.alt_selected.then(|| o.dfu.alt());
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
