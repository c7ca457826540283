//! `dfuflash read`: read a range of the device's memory into a file.

use std::time::Instant;

use serde_json::json;

use dfuflash::image::digest;
use dfuflash::job;
use dfuflash::progress::{CancelToken, Event};

use crate::args::ReadArgs;
use crate::hints;
use crate::job_output::JobOutput;
use crate::open::open;
use crate::report::refusal_json;
use crate::report::{crc_hex, failure_json, Failure};

/// `wall` is when the command started: the JSON reports `wall_seconds` from it.
pub fn run(args: ReadArgs, wall: Instant, cancel: &CancelToken) -> Result<(), String> {
    let ReadArgs {
        device,
        address,
        length,
        json,
        events,
        out,
    } = args;
    let mut output = JobOutput::new(json, events, device.verbose);
    let mut o = open(&device, true).map_err(|e| output.failed(&e))?;
    let before = o.dfu.requests_sent();
    let result = job::read(
        &mut o.dfu,
        address,
        length,
        &mut |ev: &Event<'_>| output.event(ev),
        cancel,
    );
    output.finish();
    let requests = o.dfu.requests_sent() - before;
    let dev = o.dfu.transport().sim();
    let (line, text, done) = match &result {
        Err(e) => {
            let f = Failure { error: e, requests };
            (
                failure_json(&f, dev, wall.elapsed()),
                None,
                Err(hints::message(e)),
            )
        }
        Ok(bytes) => match std::fs::write(&out, bytes) {
            Err(e) => {
                let message = format!("cannot write {}: {e}", out.display());
                (refusal_json(&message, "file"), None, Err(message))
            }
            Ok(()) => {
                let text = format!(
                    "read {} bytes at {address:#010x} into {}",
                    bytes.len(),
                    out.display()
                );
                let line = json!({
                    "ok": true,
                    "address": address,
                    "bytes": bytes.len(),
                    "file": out.display().to_string(),
                    "sha256": digest::hex(&digest::sha256(bytes)),
                    "crc32": crc_hex(crc32fast::hash(bytes)),
                    "requests": requests,
                    "wall_seconds": wall.elapsed().as_secs_f64(),
                });
                (line, Some(text), Ok(()))
            }
        },
    };
    // A simulated board whose state cannot be saved failed, as in `flash`.
    let (line, text, done) = match o.close() {
        Ok(()) => (line, text, done),
        Err(m) => (refusal_json(&m, "state_file"), None, Err(m)),
    };
    output.outcome(&line, text.as_deref());
    done
}
