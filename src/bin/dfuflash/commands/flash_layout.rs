//! `dfuflash flash-layout FILE.tsv`: flash an ST FlashLayout.tsv through the serial-boot phase
//! protocol, following the board across its boot stages.

use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};

use dfuflash::flashlayout::FlashLayout;
use dfuflash::job::{self, LayoutOptions, LayoutReport};
use dfuflash::progress::{CancelToken, Event};
use dfuflash::sim::SimDevice;
use dfuflash::transport::Transport;
use dfuflash::Error;

use crate::args::FlashLayoutArgs;
use crate::hints;
use crate::interrupt;
use crate::job_output::JobOutput;
use crate::open::open;
use crate::production_log::{self, ProductionLog};
use crate::report::{crc_hex, failure_json, refusal_json, Failure};

/// `wall` is when the command started: the JSON reports `wall_seconds` from it.
pub fn run(args: FlashLayoutArgs, wall: Instant, cancel: &CancelToken) -> Result<(), String> {
    interrupt::cancel_on_signal(cancel);
    let started = SystemTime::now();
    let FlashLayoutArgs {
        device,
        json,
        log,
        events,
        file,
    } = args;
    let mut output = JobOutput::new(json, events, device.verbose);
    let log = match &log {
        Some(path) => Some(ProductionLog::open(path).map_err(|m| output.refused(&m, "log"))?),
        None => None,
    };
    // Every refusal of the file comes before the board is touched.
    let layout = FlashLayout::load(&file).map_err(|e| output.failed(&Error::from(e)))?;
    let mut o = open(&device, true).map_err(|e| output.failed(&e))?;
    let before = o.dfu.requests_sent();
    let result = job::flash_layout(
        &mut o.dfu,
        &layout,
        &LayoutOptions::default(),
        &mut |ev: &Event<'_>| output.event(ev),
        cancel,
    );
    output.finish();
    let dev = o.dfu.transport().sim();
    let (line, text, out) = match &result {
        Ok(r) => (
            layout_json(r, dev, wall.elapsed()),
            Some(summary(r)),
            Ok(()),
        ),
        Err(e) => {
            let f = Failure {
                error: e,
                requests: o.dfu.requests_sent() - before,
            };
            (
                failure_json(&f, dev, wall.elapsed()),
                None,
                Err(hints::message(e)),
            )
        }
    };
    let board = o.board.clone();
    let (line, out) = match o.close() {
        Ok(()) => (line, out),
        Err(m) => (refusal_json(&m, "state_file"), Err(m)),
    };
    let (line, kept) =
        production_log::record(log.as_ref(), line, &file, (&board.0, &board.1), started);
    output.outcome(&line, text.as_deref().filter(|_| kept.is_ok()));
    out.and(kept)
}

fn layout_json(r: &LayoutReport, dev: Option<&SimDevice>, wall: Duration) -> Value {
    let mut v = json!({
        "ok": true,
        "partitions": r.partitions.iter().map(|p| json!({
            "id": p.id,
            "name": p.name,
            "bytes": p.bytes,
            "crc32": p.crc32.map(crc_hex),
            "readback_crc32": p.readback_crc32.map(crc_hex),
            "downloads": p.downloads,
            "alt": p.alt,
        })).collect::<Vec<_>>(),
        "phases": r.phases,
        "reenumerations": r.reenumerations,
        "requests": r.requests,
        "wall_seconds": wall.as_secs_f64(),
    });
    if let Some(dev) = dev {
        v["simulated_seconds"] = json!(dev.now().as_secs_f64());
    }
    v
}

fn summary(r: &LayoutReport) -> String {
    let parts: Vec<String> = r
        .partitions
        .iter()
        .map(|p| match p.crc32 {
            Some(c) if p.downloads > 0 => {
                format!("{} ({} bytes, crc32 {})", p.name, p.bytes, crc_hex(c))
            }
            Some(_) => format!("{} (not asked for)", p.name),
            None => format!("{} (E: not downloaded)", p.name),
        })
        .collect();
    let phases: Vec<String> = r.phases.iter().map(|p| format!("{p:#04x}")).collect();
    format!(
        "flashed {}; phases {}; {} re-enumeration(s), {} requests, {:.2} s",
        parts.join(", "),
        phases.join(" "),
        r.reenumerations,
        r.requests,
        r.elapsed.as_secs_f64()
    )
}
