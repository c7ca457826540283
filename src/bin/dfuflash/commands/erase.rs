//! `dfuflash erase`: erase a range's sectors, the whole flash, or remove read protection.

use std::time::Instant;

use dfuflash::job;
use dfuflash::progress::{CancelToken, Event};

use crate::args::EraseArgs;
use crate::hints;
use crate::job_output::JobOutput;
use crate::open::open;
use crate::report::{failure_json, refusal_json, report_json, summary, Failure};

/// `wall` is when the command started: the JSON reports `wall_seconds` from it.
pub fn run(args: EraseArgs, wall: Instant, cancel: &CancelToken) -> Result<(), String> {
    let EraseArgs {
        device,
        address,
        length,
        mass,
        read_unprotect,
        json,
        events,
    } = args;
    let mut output = JobOutput::new(json, events, device.verbose);
    let mut o = open(&device, true).map_err(|e| output.failed(&e))?;
    let mut obs = |ev: &Event<'_>| output.event(ev);
    let result = if read_unprotect {
        job::read_unprotect(&mut o.dfu, &mut obs)
    } else if mass {
        job::mass_erase(&mut o.dfu, &mut obs, cancel)
    } else {
        job::erase_range(
            &mut o.dfu,
            address.unwrap_or(0),
            length.unwrap_or(0),
            &mut obs,
            cancel,
        )
    };
    output.finish();
    let dev = o.dfu.transport().sim();
    let (line, text, out) = match &result {
        Ok(r) => (
            report_json(r, dev, wall.elapsed()),
            Some(summary(r, dev)),
            Ok(()),
        ),
        Err(e) => {
            let f = Failure {
                error: e,
                requests: o.dfu.requests_sent(),
            };
            (
                failure_json(&f, dev, wall.elapsed()),
                None,
                Err(hints::message(e)),
            )
        }
    };
    // A simulated board whose state cannot be saved failed, as in `flash`.
    let (line, text, out) = match o.close() {
        Ok(()) => (line, text, out),
        Err(m) => (refusal_json(&m, "state_file"), None, Err(m)),
    };
    output.outcome(&line, text.as_deref());
    out
}
