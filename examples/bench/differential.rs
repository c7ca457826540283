//! The differential flash against the full one, on a board that already holds a firmware:
//! an unchanged image, one changed 128 KB sector, and an image that changed everywhere.
//!
//! Times are simulated seconds (the device's clock). The goals (issue 12):
//! - unchanged: at most 10 % of the full flash;
//! - one sector: at most 1.3x that sector flashed alone plus the comparison's reading of the
//!   whole image (the `alone+read` column). A change anywhere also rewrites the boot block's
//!   sector (it goes last, so a power cut never leaves a bootable half image), so `alone`
//!   counts the two sectors, each flashed alone;
//! - changed everywhere: at most 3 % slower than `--full`.

use std::time::Duration;

use dfuflash::image::Image;
use dfuflash::job::{flash, read, FlashOptions, Report};
use dfuflash::progress::{CancelToken, Silent};
use dfuflash::protocol::{Dfu, EngineOptions};
use dfuflash::sim::SimDevice;
use dfuflash::transport::Transport;

use super::xorshift;

const SECTOR: usize = 128 << 10;
/// The changed sector of the one-sector case: past 1 MB, a Rev V wedge sector.
const CHANGED: usize = 8;

/// A board that already holds `old`.
fn board(model: &str, address: u32, old: &[u8]) -> Dfu<SimDevice> {
    let mut dfu = Dfu::open(SimDevice::new(model).unwrap(), 0, EngineOptions::default()).unwrap();
    job(&mut dfu, address, old, true);
    dfu
}

/// Flashes `data` and returns the simulated time it took, with the report.
fn job(dfu: &mut Dfu<SimDevice>, address: u32, data: &[u8], full: bool) -> (Duration, Report) {
    let mut opts = FlashOptions::default();
    opts.full = full;
    let image = Image::from_binary(address, data.to_vec()).unwrap();
    let start = dfu.transport().now();
    let r = flash(dfu, &image, &opts, &mut Silent, &CancelToken::new()).expect("flash");
    (dfu.transport().now() - start, r)
}

pub fn table() {
    println!();
    println!("differential flash (simulated s; the board holds an older 1.8 MB firmware)");
    println!(
        "{:<15} {:>8} {:>9} {:>7} {:>9} {:>9} {:>7} {:>9} {:>9} {:>7} {:>8}",
        "model",
        "full s",
        "same s",
        "r_same",
        "one s",
        "alone+rd",
        "r_one",
        "every s",
        "full s",
        "r_every",
        "skipped"
    );
    for model in ["stm32h743-revy", "stm32h743-revv"] {
        let address = 0x0804_0000;
        let len = 0x1c_0000 - 4096;
        let old = xorshift::pattern(len, 0x1234_5678);
        let new = xorshift::pattern(len, 0x9abc_def1);
        let mut one = new.clone();
        one[CHANGED * SECTOR + 0x100] ^= 0xff;

        // Changed everywhere: the full flash and the differential one, from the same start.
        let (every_full, _) = job(&mut board(model, address, &old), address, &new, true);
        let mut dfu = board(model, address, &old);
        let (every, _) = job(&mut dfu, address, &new, false);
        // Unchanged: the same image again.
        let (same, r_same) = job(&mut dfu, address, &new, false);
        // One changed sector.
        let (one_s, _) = job(&mut dfu, address, &one, false);

        // The reference of the one-sector goal: that sector and the boot block's (the image's
        // first), each flashed alone in full, plus the reading of the whole image.
        let at = address + (CHANGED * SECTOR) as u32;
        let mut fresh = board(model, address, &new);
        let (changed, _) = job(&mut fresh, at, &one[CHANGED * SECTOR..][..SECTOR], true);
        let (boot, _) = job(&mut fresh, address, &one[..SECTOR], true);
        let alone = changed + boot;
        let start = fresh.transport().now();
        read(
            &mut fresh,
            address,
            len as u32,
            &mut Silent,
            &CancelToken::new(),
        )
        .expect("read");
        let reading = fresh.transport().now() - start;

        let s = |d: Duration| d.as_secs_f64();
        println!(
            "{:<15} {:>8.3} {:>9.3} {:>7.3} {:>9.3} {:>9.3} {:>7.3} {:>9.3} {:>9.3} {:>7.3} {:>8}",
            model,
            s(every_full),
            s(same),
            s(same) / s(every_full),
            s(one_s),
            s(alone + reading),
            s(one_s) / s(alone + reading),
            s(every),
            s(every_full),
            s(every) / s(every_full),
            r_same.sectors_skipped.len(),
        );
    }
}
