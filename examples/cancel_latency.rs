//! Benchmark: how long a Cancel takes, in real time, while a flash waits for the device.
//!
//! ```text
//! cargo run --release --example cancel_latency [TRIALS]
//! ```
//!
//! Each trial flashes a simulated board running in real time on a worker thread, presses
//! Cancel (`CancelToken::cancel`, as an IDE's button does) from this thread at a random moment,
//! and measures the time until the job returns. Two boards:
//! - a bootloader that asks the host to wait 4.9 s after every block (the bogus bwPollTimeout
//!   of the adversary in issue 16): the waits are the host's, and a cancel cuts them short;
//! - the STM32H7 ROM, which erases inside the GETSTATUS that follows the command (0.9 s for
//!   a 128 KB sector): that transfer is the device's, and a cancel cuts it (the simulator
//!   holds it in 5 ms slices, as libusb's asynchronous API is cut in src/usb/cancellable.rs).
//!
//! One line per case: `cancel_latency: CASE: min X ms, median Y ms, max Z ms`.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use dfuflash::image::Image;
use dfuflash::job::{self, FlashOptions};
use dfuflash::progress::{CancelToken, Silent};
use dfuflash::protocol::{request, Dfu, EngineOptions, State};
use dfuflash::sim::SimDevice;
use dfuflash::Error;

#[path = "../tests/common/liar.rs"]
#[allow(dead_code)]
mod liar;
#[path = "common/xorshift.rs"]
mod xorshift;

/// One trial: flash on a worker, cancel after `delay`, return the cancel-to-return latency.
fn trial(model: &'static str, bogus_poll: bool, delay: Duration) -> (Duration, String) {
    let token = CancelToken::new();
    let worker_token = token.clone();
    let (done_tx, done_rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let mut dev = SimDevice::new(model).unwrap();
        dev.set_realtime(true);
        let mut liar = liar::Liar::honest(dev);
        if bogus_poll {
            liar.hook = Box::new(|x| {
                if let (request::GETSTATUS, Ok(r)) = (x.request, &mut x.reply) {
                    if r.len() == 6 && r[4] == State::DnBusy.as_u8() {
                        r[1..4].copy_from_slice(&4900u32.to_le_bytes()[..3]);
                    }
                }
            });
        }
        let mut dfu = Dfu::open(liar, 0, EngineOptions::default()).unwrap();
        let start = if model == "stm32h743-revy" {
            0x0804_0000
        } else {
            0x0800_0000
        };
        let image = Image::from_binary(start, xorshift::pattern(512 * 1024, 7)).unwrap();
        let mut o = FlashOptions::default();
        o.full = true;
        let r = job::flash(&mut dfu, &image, &o, &mut Silent, &worker_token);
        done_tx.send(Instant::now()).unwrap();
        r
    });
    std::thread::sleep(delay);
    let pressed = Instant::now();
    token.cancel();
    let returned = done_rx.recv().unwrap();
    let outcome = match worker.join().unwrap() {
        Err(e @ (Error::Cancelled { .. } | Error::CancelledBusy { .. })) => e.kind().to_string(),
        Err(e) => format!("failed: {e}"),
        Ok(_) => "finished before the cancel".into(),
    };
    (returned.saturating_duration_since(pressed), outcome)
}

fn main() {
    let trials: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    println!(
        "cancel latency, real time, {trials} cancels per case (pressed 0.2 to 3.2 s into the job)"
    );
    for (label, model, bogus) in [
        (
            "bootloader asking for 4.9 s after every block",
            "dfuse-strict",
            true,
        ),
        (
            "STM32H7 ROM holding an erase inside GETSTATUS (0.9 s)",
            "stm32h743-revy",
            false,
        ),
    ] {
        let mut seed = 0x2545_f491u32;
        let mut lat = Vec::new();
        let mut outcomes = std::collections::BTreeMap::new();
        for _ in 0..trials {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let delay = Duration::from_millis(200 + (seed % 3000) as u64);
            let (l, outcome) = trial(model, bogus, delay);
            lat.push(l);
            *outcomes.entry(outcome).or_insert(0) += 1;
        }
        lat.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "cancel_latency: {label}: min {:.1} ms, median {:.1} ms, max {:.1} ms ({outcomes:?})",
            ms(lat[0]),
            ms(lat[lat.len() / 2]),
            ms(lat[lat.len() - 1])
        );
    }
}
