//! Benchmark: flash jobs on every simulated model and several image sizes.
//!
//! ```text
//! cargo run --release --example bench
//! ```
//!
//! Per job it prints the simulated time, the time the modelled device itself was busy
//! (erasing, programming), the modelled USB time of the transfers that carry firmware data
//! (DNLOAD and UPLOAD blocks), of every transfer, the time the host slept, and the ratios
//! simulated / (busy + data USB) and simulated / (busy + all USB). On `stm32h743-revv` the
//! Rev V recovery must wait max(2 s, 2 x the reported 1000 ms) per wedged sector before its
//! CLRSTATUS pair (PROTOCOL.md section 4); that mandated wait is shown on its own and the last
//! column is the ratio without it.

use std::time::{Duration, Instant};

use dfuflash::image::Image;
use dfuflash::job::{flash, FlashOptions};
use dfuflash::progress::{CancelToken, Silent};
use dfuflash::protocol::{Dfu, EngineOptions, State};
use dfuflash::sim::{Op, SimDevice};
use dfuflash::transport::Transport;

mod differential;
#[path = "../common/xorshift.rs"]
mod xorshift;

/// Time from each wedged erase to the end of its recovery, less the erase itself.
fn wedge_wait(dev: &SimDevice) -> Duration {
    let t = dev.transcript();
    let erase = dev.model().timing.erase_time(128 * 1024);
    let mut total = Duration::ZERO;
    let mut start = None;
    let mut before = State::Error;
    for r in t {
        match r.op {
            Op::Erase(_) => start = Some(r.at),
            Op::ClrStatus if before == State::Error => {
                if let Some(s) = start.take() {
                    total += (r.at - s).saturating_sub(erase);
                }
            }
            _ => {}
        }
        before = r.state_after;
    }
    total
}

fn main() {
    let jobs: &[(&str, u32, &[usize])] = &[
        (
            "stm32h743-revy",
            0x0804_0000,
            &[64 << 10, 512 << 10, 0x1c_0000],
        ),
        (
            "stm32h743-revv",
            0x0804_0000,
            &[64 << 10, 512 << 10, 0x1c_0000],
        ),
        ("stm32f405", 0x0800_0000, &[64 << 10, 512 << 10, 1 << 20]),
        ("stm32l4", 0x0800_0000, &[64 << 10, 256 << 10, 512 << 10]),
        ("stm32c5-strict", 0x0800_0000, &[64 << 10, 256 << 10]),
        ("dfu11-generic", 0, &[64 << 10, 256 << 10]),
        ("dfuse-strict", 0x0800_0000, &[64 << 10, 1024 << 10]),
    ];
    println!(
        "{:<15} {:>8} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6} {:>6} {:>7} {:>8} {:>6}",
        "model",
        "KiB",
        "sim s",
        "busy s",
        "dataUSB",
        "allUSB",
        "sleep s",
        "wedge s",
        "r_data",
        "r_all",
        "requests",
        "wall ms",
        "r_dw"
    );
    for (model, address, sizes) in jobs {
        for &size in *sizes {
            let image = Image::from_binary(*address, xorshift::pattern(size, 0x1234_5678)).unwrap();
            let dev = SimDevice::new(model).unwrap();
            let mut dfu = Dfu::open(dev, 0, EngineOptions::default()).unwrap();
            let wall = Instant::now();
            let report = flash(
                &mut dfu,
                &image,
                &FlashOptions::default(),
                &mut Silent,
                &CancelToken::new(),
            )
            .expect("flash");
            let wall = wall.elapsed();
            let dev = dfu.transport();
            let s = dev.stats();
            let sim = dev.now().as_secs_f64();
            let busy = s.device_busy.as_secs_f64();
            let data = s.usb_data.as_secs_f64();
            let all = s.usb.as_secs_f64();
            let wedge = wedge_wait(dev).as_secs_f64();
            println!(
                "{:<15} {:>8} {:>9.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>6.3} {:>6.3} {:>7} {:>8.1} {:>6.3}",
                model,
                size / 1024,
                sim,
                busy,
                data,
                all,
                s.host_sleep.as_secs_f64(),
                wedge,
                sim / (busy + data),
                sim / (busy + all),
                report.requests,
                wall.as_secs_f64() * 1e3,
                (sim - wedge) / (busy + data),
            );
        }
    }
    differential::table();
}
