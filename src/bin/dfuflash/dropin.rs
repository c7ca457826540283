//! What the drop-in personalities (dfu-util, STM32_Programmer_CLI) share: numbers as C tools
//! read them, and the simulated board's files kept after a run.

use std::path::Path;

use dfuflash::device::AnyTransport;
use dfuflash::protocol::Dfu;

/// A number as C's strtoul with base 0 reads one: decimal, 0x hex or 0 octal.
pub fn number(s: &str) -> Option<u32> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u32::from_str_radix(h, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u32::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

/// A simulated board (DFUFLASH_SIM_STATE) keeps its memory, whatever happened; its requests go
/// to DFUFLASH_SIM_TRANSCRIPT (the drop-ins' command lines have no room for `--sim-transcript`).
pub fn save(dfu: &Dfu<AnyTransport>, state: Option<&Path>) {
    let Some(sim) = dfu.transport().sim() else {
        return;
    };
    if let Some(path) = state {
        let _ = sim.save_state(path);
    }
    if let Some(path) = std::env::var_os("DFUFLASH_SIM_TRANSCRIPT") {
        let _ = std::fs::write(path, sim.transcript_text());
    }
}
