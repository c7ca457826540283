//! What dfu-util prints and IDEs parse: the banner, `Found DFU:` lines, state lines and the
//! `\r`-separated progress bars with their `done.` lines.

use std::io::Write;
use std::time::Instant;

use dfuflash::device::Entry;
use dfuflash::protocol::{State, Status};
use dfuflash::transport::Mode;

const WIDTH: u64 = 25;

/// The banner dfu-util prints before anything else (stdout). The first line is what tools that
/// check the version read.
pub fn banner() {
    println!("dfu-util 0.11");
    println!();
    println!(
        "dfuflash: {}, a drop-in for dfu-util 0.11 (Rev V recovery, read-back verify, exit 0 after :leave)",
        env!("CARGO_PKG_VERSION")
    );
    println!();
}

/// One `Found DFU:` / `Found Runtime:` line per alt setting, highest alt first as dfu-util
/// lists them, named as the device names them.
pub fn found_lines(e: &Entry) -> Vec<String> {
    let i = &e.info;
    let kind = if i.mode == Mode::Runtime {
        "Runtime"
    } else {
        "DFU"
    };
    // The names as the device gives them: dfu-util fixes a quirked layout only to use it.
    e.reported_alt_settings()
        .iter()
        .rev()
        .map(|a| {
            format!(
                "Found {kind}: [{:04x}:{:04x}] ver={:04x}, devnum={}, cfg=1, intf={}, path=\"{}\", alt={}, name=\"{}\", serial=\"{}\"",
                i.vendor_id,
                i.product_id,
                i.bcd_device,
                0,
                i.interface,
                i.port_path.as_deref().unwrap_or(""),
                a.alt,
                a.name,
                i.serial.as_deref().unwrap_or("UNKNOWN")
            )
        })
        .collect()
}

/// `DFU state(2) = dfuIDLE, status(0) = No error condition is present`, with the status
/// texts of the DFU 1.1 specification (section 6.1.2) that dfu-util prints.
pub fn state_line(state: State, status: Status) -> String {
    let text = match status.as_u8() {
        0 => "No error condition is present",
        1 => "File is not targeted for use by this device",
        2 => "File is for this device but fails some vendor-specific test",
        3 => "Device is unable to write memory",
        4 => "Memory erase function failed",
        5 => "Memory erase check failed",
        6 => "Program memory function failed",
        7 => "Programmed memory failed verification",
        8 => "Cannot program memory due to received address that is out of range",
        9 => "Received DFU_DNLOAD with wLength = 0, but device does not think that it has all data yet",
        10 => "Device's firmware is corrupt. It cannot return to run-time (non-DFU) operations",
        11 => "iString indicates a vendor specific error",
        12 => "Device detected unexpected USB reset signalling",
        13 => "Device detected unexpected power on reset",
        14 => "Something went wrong, but the device does not know what it was",
        15 => "Device stalled an unexpected request",
        _ => "INVALID",
    };
    format!(
        "DFU state({}) = {}, status({}) = {text}",
        state.as_u8(),
        state.name(),
        status.as_u8()
    )
}

/// dfu-util's progress bar: `\r<desc>\t[<25 chars>] <pct>% <bytes> bytes`, printed when the
/// bar grows or a new second starts, ending with `\n<desc> done.\n` at 100 %.
pub struct Bar {
    desc: &'static str,
    last: Option<(u64, u64)>,
    start: Instant,
    finished: bool,
}

impl Bar {
    /// `desc` is dfu-util's: "Erase   ", "Download" or "Upload".
    pub fn new(desc: &'static str) -> Self {
        Bar {
            desc,
            last: None,
            start: Instant::now(),
            finished: false,
        }
    }

    pub fn show(&mut self, curr: u64, max: u64) {
        if self.finished {
            return;
        }
        let max = if max < curr { curr + 1 } else { max.max(1) };
        let filled = (WIDTH * curr / max).min(WIDTH);
        let second = self.start.elapsed().as_secs();
        if self.last == Some((filled, second)) {
            return;
        }
        self.last = Some((filled, second));
        let bar: String = (0..WIDTH)
            .map(|i| if i < filled { '=' } else { ' ' })
            .collect();
        let mut out = std::io::stdout().lock();
        let _ = write!(
            out,
            "\r{}\t[{bar}] {:3}% {:12} bytes",
            self.desc,
            100 * curr / max,
            curr
        );
        if filled == WIDTH {
            let _ = write!(out, "\n{} done.\n", self.desc);
            self.finished = true;
        }
        let _ = out.flush();
    }
}
