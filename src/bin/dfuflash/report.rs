//! How a finished job is reported: the `--json` object for a success or a failure, or the
//! text summary.

use std::time::Duration;

use serde_json::{json, Value};

use dfuflash::image::digest;
use dfuflash::job::Report;
use dfuflash::sim::SimDevice;
use dfuflash::transport::Transport;
use dfuflash::Error;

/// A failure with what is known of the run so far.
pub struct Failure<'a> {
    pub error: &'a Error,
    pub requests: u64,
}

/// The simulated and device-busy seconds of a simulated device.
fn add_sim_times(v: &mut Value, dev: Option<&SimDevice>) {
    if let Some(dev) = dev {
        v["simulated_seconds"] = json!(dev.now().as_secs_f64());
        v["device_busy_seconds"] = json!(dev.stats().device_busy.as_secs_f64());
    }
}

pub fn report_json(r: &Report, dev: Option<&SimDevice>, wall: Duration) -> Value {
    let mut v = json!({
        "ok": true,
        "bytes_written": r.bytes_written,
        "bytes_verified": r.bytes_verified,
        "bytes_checked": r.bytes_checked,
        "sectors_erased": r.sectors_erased,
        "sectors_skipped": r.sectors_skipped,
        "sectors_planned": r.sectors_planned,
        "mass_erased": r.mass_erased,
        "workaround_sectors": r.workaround_sectors,
        "requests": r.requests,
        "left": r.left.is_some(),
        "unverified": r.unverified,
        "wall_seconds": wall.as_secs_f64(),
        "targets": r.targets.iter().map(|t| json!({
            "alt": t.alt,
            "bytes": t.bytes,
            "sha256": digest::hex(&t.sha256),
        })).collect::<Vec<_>>(),
        "segments": r.segments.iter().map(|s| json!({
            "alt": s.image.alt,
            "address": s.image.address,
            "length": s.image.length,
            "crc32": crc_hex(s.image.crc32),
            "readback_crc32": s.readback_crc32.map(crc_hex),
        })).collect::<Vec<_>>(),
    });
    add_sim_times(&mut v, dev);
    v
}

/// A CRC-32 as eight hex digits, as crc32(1) prints it.
pub fn crc_hex(crc: u32) -> String {
    format!("{crc:08x}")
}

/// A failure that is not a library error (a file, a log, a state file), as the JSON objects
/// and result events state it.
pub fn refusal_json(message: &str, kind: &str) -> Value {
    json!({"ok": false, "error": message, "error_kind": kind})
}

/// A failure before any request reached a device.
pub fn refusal_before_any_request(message: &str, kind: &str) -> Value {
    let mut v = refusal_json(message, kind);
    v["requests"] = json!(0);
    v
}

pub fn failure_json(f: &Failure<'_>, dev: Option<&SimDevice>, wall: Duration) -> Value {
    let mut v = json!({
        "ok": false,
        "error": f.error.to_string(),
        "error_kind": f.error.kind(),
        "requests": f.requests,
        "wall_seconds": wall.as_secs_f64(),
    });
    add_sim_times(&mut v, dev);
    v
}

pub fn summary(r: &Report, dev: Option<&SimDevice>) -> String {
    let time = match dev {
        Some(dev) => format!(
            "{:.2} s simulated ({:.2} s device busy)",
            dev.now().as_secs_f64(),
            dev.stats().device_busy.as_secs_f64()
        ),
        None => format!("{:.2} s", r.elapsed.as_secs_f64()),
    };
    // The verify phase reads the image, the rest of every recovered sector and the unchanged
    // sectors an erase could have reached: say both, so its byte count adds up.
    let checked = if r.bytes_checked > 0 {
        format!(
            " (+ {} bytes of recovered or neighbouring sectors checked)",
            r.bytes_checked
        )
    } else {
        String::new()
    };
    // Sectors the differential flash found unchanged were neither erased nor written.
    let skipped = match r.sectors_skipped.len() {
        0 => String::new(),
        1 => ", 1 unchanged sector skipped".into(),
        n => format!(", {n} unchanged sectors skipped"),
    };
    let mut s = format!(
        "done: {} sector(s) erased{}{skipped}, {} bytes written, {} bytes verified{checked}, {} requests, {time}",
        r.sectors_erased.len(),
        if r.mass_erased { " (mass erase)" } else { "" },
        r.bytes_written,
        r.bytes_verified,
        r.requests,
    );
    if !r.sectors_skipped.is_empty() {
        s += &format!(
            "\nresumed: {} of {} sectors already held the image",
            r.sectors_skipped.len(),
            r.sectors_planned
        );
    }
    if !r.workaround_sectors.is_empty() {
        let list: Vec<String> = r
            .workaround_sectors
            .iter()
            .map(|a| format!("{a:#010x}"))
            .collect();
        s += &format!(
            "\nworkaround (STM32H7 Rev V erase recovery) fired for: {}",
            list.join(", ")
        );
    }
    if let Some(why) = &r.unverified {
        s += &format!("\nnot verified: {why}");
    }
    s += &record_lines(r);
    if r.left.is_some() {
        s += "\ndevice left DFU mode";
    }
    s
}

/// The image's SHA-256 per target, and whether every segment read back matches its CRC-32.
fn record_lines(r: &Report) -> String {
    let mut s = String::new();
    for t in &r.targets {
        s += &format!(
            "\nimage sha256 {} (alt {}, {} bytes)",
            digest::hex(&t.sha256),
            t.alt,
            t.bytes
        );
    }
    let read = r.segments.iter().filter(|g| g.readback_crc32.is_some());
    let same = read
        .clone()
        .filter(|g| g.readback_crc32 == Some(g.image.crc32))
        .count();
    if read.count() > 0 {
        s += &format!(
            "\nread back: {same} of {} segment(s) with the image's CRC-32",
            r.segments.len()
        );
    }
    s
}
