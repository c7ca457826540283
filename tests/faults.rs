//! Injected faults and lying devices: a specific error in bounded time, never a panic, and a
//! second run on the same (persisted) device recovers and verifies.

mod common;

use std::time::Duration;

use common::*;
use dfuflash::image::Image;
use dfuflash::protocol::{Dfu, EngineOptions, ProtocolError, Status};
use dfuflash::sim::{Faults, Op, SimDevice};
use dfuflash::transport::{DeviceInfo, Transport, TransportError};

/// 384 KB at 0x080c0000: sectors 6 and 7 below 1 MB, 8 above (the Rev V recovery runs).
fn image() -> Image {
    Image::from_binary(0x080c_0000, pattern(0x6_0000 - 100, 31)).unwrap()
}

fn clean_requests() -> u64 {
    let mut dfu = open("stm32h743-revv");
    flash(&mut dfu, &image(), &opts()).unwrap();
    dfu.transport().requests()
}

fn assert_recovers(mut dev: SimDevice) {
    dev.set_faults(Faults::default());
    dev.replug();
    let mut dfu = open_dev(dev, true);
    let r = flash(&mut dfu, &image(), &opts()).unwrap();
    assert_eq!(r.bytes_verified, 0x6_0000 - 100);
    let img = image();
    let seg = &img.targets[0].segments[0];
    assert_eq!(
        dfu.transport()
            .memory(0, seg.address, seg.data.len())
            .unwrap(),
        &seg.data[..]
    );
}

fn run_fault(f: Faults) -> (Result<dfuflash::job::Report, dfuflash::Error>, SimDevice) {
    let mut dev = SimDevice::new("stm32h743-revv").unwrap();
    dev.set_faults(f);
    let mut dfu = open_dev(dev, true);
    let r = flash(&mut dfu, &image(), &opts());
    (r, dfu.into_transport())
}

#[test]
fn every_fault_at_every_sampled_request_ends_in_a_specific_error_and_the_device_recovers() {
    let total = clean_requests();
    assert!(total > 500, "{total}");
    let points: Vec<u64> = (1..=total)
        .filter(|n| n % 13 == 1 || *n <= 40 || *n > total - 10)
        .collect();
    let mut seen = std::collections::BTreeMap::new();
    for &n in &points {
        let cases: Vec<(&str, Faults, &[&str])> = vec![
            (
                "disconnect",
                Faults {
                    disconnect_at: Some(n),
                    ..Default::default()
                },
                &["disconnected"],
            ),
            (
                "power-loss",
                Faults {
                    power_loss_at: Some(n),
                    ..Default::default()
                },
                &["disconnected"],
            ),
            (
                "timeout",
                Faults {
                    timeout_at: Some(n),
                    ..Default::default()
                },
                &["timeout"],
            ),
            // A lone stalled GETSTATUS is retried (STM32L4 behaviour), so a stall may be survived.
            (
                "stall",
                Faults {
                    stall_at: Some(n),
                    ..Default::default()
                },
                &["stall", "recovery_failed", "device_status"],
            ),
            (
                "status",
                Faults {
                    status_at: Some((n, Status::ErrWrite)),
                    ..Default::default()
                },
                &[
                    "device_status",
                    "unexpected_state",
                    "stall",
                    "recovery_failed",
                ],
            ),
        ];
        for (name, f, kinds) in cases {
            let (r, dev) = run_fault(f);
            // Bounded: the clean job takes about 10 s simulated; no fault may add more than a deadline.
            assert!(
                dev.now() < Duration::from_secs(40),
                "{name}@{n}: {:?}",
                dev.now()
            );
            match r {
                Ok(rep) => {
                    assert!(name == "stall" || name == "status", "{name}@{n} succeeded");
                    assert_eq!(rep.bytes_verified, 0x6_0000 - 100, "{name}@{n}");
                }
                Err(e) => {
                    assert!(kinds.contains(&e.kind()), "{name}@{n}: {} ({e})", e.kind());
                    assert!(!e.to_string().is_empty());
                    *seen.entry(format!("{name}:{}", e.kind())).or_insert(0) += 1;
                }
            }
            assert_recovers(dev);
        }
    }
    // Every fault kind really produced its error somewhere.
    for k in [
        "disconnect:disconnected",
        "power-loss:disconnected",
        "timeout:timeout",
        "stall:stall",
        "status:device_status",
    ] {
        assert!(seen.contains_key(k), "{k} never happened: {seen:?}");
    }
}

#[test]
fn power_loss_mid_write_keeps_what_was_programmed_and_a_persisted_rerun_verifies() {
    // The GETSTATUS that executes the 100th data block.
    let mut dfu = open("stm32h743-revv");
    flash(&mut dfu, &image(), &opts()).unwrap();
    let t = dfu.transport().transcript();
    let block = t
        .iter()
        .filter(|r| matches!(r.op, Op::Dnload { block, .. } if block >= 2))
        .nth(99)
        .unwrap()
        .index;
    let (r, dev) = run_fault(Faults {
        power_loss_at: Some(block + 1),
        ..Default::default()
    });
    assert_eq!(r.unwrap_err().kind(), "disconnected");
    let dir = std::env::temp_dir().join(format!("dfuflash-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("revv.state");
    dev.save_state(&path).unwrap();

    // The first block (the boot block) goes last: still erased. After it, 99 whole blocks and
    // half of the 100th are in flash, nothing after.
    let reloaded = SimDevice::with_state("stm32h743-revv", &path).unwrap();
    let img = image();
    let data = &img.targets[0].segments[0].data;
    assert!(reloaded
        .memory(0, 0x080c_0000, 1024)
        .unwrap()
        .iter()
        .all(|b| *b == 0xff));
    let done = 1024 + 99 * 1024 + 512;
    assert_eq!(
        reloaded.memory(0, 0x080c_0400, done - 1024).unwrap(),
        &data[1024..done]
    );
    assert!(reloaded
        .memory(0, 0x080c_0000 + done as u32, 512)
        .unwrap()
        .iter()
        .all(|b| *b == 0xff));

    let mut dfu = open_dev(reloaded, true);
    let r = flash(&mut dfu, &img, &opts()).unwrap();
    assert_eq!(r.bytes_verified, data.len() as u64);
    dfu.transport().save_state(&path).unwrap();
    let again = SimDevice::with_state("stm32h743-revv", &path).unwrap();
    assert_eq!(again.memory(0, 0x080c_0000, data.len()).unwrap(), &data[..]);
    assert!(SimDevice::with_state("stm32f405", &path)
        .unwrap_err()
        .to_string()
        .contains("not model stm32f405"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A device that lies in its GETSTATUS replies.
struct Liar {
    inner: SimDevice,
    lie: fn(&mut [u8], usize) -> Result<usize, TransportError>,
    after: u64,
}

impl Transport for Liar {
    fn info(&self) -> &DeviceInfo {
        self.inner.info()
    }
    fn control_out(
        &mut self,
        r: u8,
        v: u16,
        d: &[u8],
        t: Duration,
    ) -> Result<usize, TransportError> {
        self.inner.control_out(r, v, d, t)
    }
    fn control_in(
        &mut self,
        r: u8,
        v: u16,
        b: &mut [u8],
        t: Duration,
    ) -> Result<usize, TransportError> {
        let n = self.inner.control_in(r, v, b, t)?;
        if r == 3 && self.inner.requests() > self.after {
            return (self.lie)(b, n);
        }
        Ok(n)
    }
    fn select_alt(&mut self, alt: u8) -> Result<(), TransportError> {
        self.inner.select_alt(alt)
    }
    fn reset(&mut self) -> Result<(), TransportError> {
        self.inner.reset()
    }
    fn now(&self) -> Duration {
        self.inner.now()
    }
    fn sleep(&mut self, d: Duration) {
        self.inner.sleep(d)
    }
}

fn lie(
    model: &str,
    after: u64,
    lie: fn(&mut [u8], usize) -> Result<usize, TransportError>,
) -> (dfuflash::Error, Duration) {
    let liar = Liar {
        inner: SimDevice::new(model).unwrap(),
        lie,
        after,
    };
    let mut dfu = Dfu::open(liar, 0, EngineOptions::default()).unwrap();
    let e = dfuflash::job::flash(
        &mut dfu,
        &image(),
        &opts(),
        &mut dfuflash::progress::Silent,
        &Default::default(),
    )
    .unwrap_err();
    (e, dfu.transport().now())
}

#[test]
fn lying_devices_get_specific_errors_within_their_deadlines() {
    // Forever OK/dfuDNBUSY with a 0 ms poll timeout, from the first Set Address on (not an erase,
    // so the Rev V recovery must not fire).
    let (e, t) = lie("stm32h743-revy", 30, |b, n| {
        b[..6].copy_from_slice(&[0, 0, 0, 0, 4, 0]);
        Ok(n)
    });
    assert_eq!(e.kind(), "stuck_busy", "{e}");
    assert!(t < Duration::from_secs(30), "{t:?}");
    // Five bytes instead of six.
    let (e, _) = lie("stm32h743-revy", 0, |_, _| Ok(5));
    assert!(
        matches!(
            e,
            dfuflash::Error::Protocol(ProtocolError::Malformed { .. })
        ),
        "{e}"
    );
    assert!(e.to_string().contains("5 bytes instead of 6"));
    // GETSTATUS stalled forever.
    let (e, t) = lie("stm32h743-revy", 3, |_, _| Err(TransportError::Stall));
    assert!(["status_stalled", "stuck_busy"].contains(&e.kind()), "{e}");
    assert!(t < Duration::from_secs(30), "{t:?}");
    // dfuIDLE where dfuDNLOAD-IDLE belongs.
    let (e, _) = lie("stm32h743-revy", 30, |b, n| {
        b[4] = 2;
        Ok(n)
    });
    assert_eq!(e.kind(), "unexpected_state", "{e}");
}

#[test]
fn a_recovery_clrstatus_that_stalls_is_not_the_rev_v_quirk_and_fails_at_once() {
    // Arm a stall on the first CLRSTATUS sent in dfuDNBUSY.
    let mut dfu = open("stm32h743-revv");
    flash(&mut dfu, &image(), &opts()).unwrap();
    let t = dfu.transport().transcript();
    let first_pair = t
        .iter()
        .filter(|r| r.op == Op::ClrStatus)
        .nth(1)
        .unwrap()
        .index;
    let (r, dev) = run_fault(Faults {
        stall_at: Some(first_pair),
        ..Default::default()
    });
    let e = r.unwrap_err();
    assert_eq!(e.kind(), "recovery_failed");
    assert!(
        e.to_string()
            .contains("stalled CLRSTATUS in dfuDNBUSY, so it is not the Rev V wedge"),
        "{e}"
    );
    assert_eq!(
        dev.transcript()
            .iter()
            .filter(|r| r.op == Op::ClrStatus)
            .count(),
        2,
        "no loop"
    );
}
