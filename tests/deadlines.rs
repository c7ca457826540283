//! A device decides how long the host waits; a cancel and the job's deadline decide when the
//! host stops. Time here is the simulator's clock, so every figure is exact and no test
//! depends on how fast the machine runs (examples/cancel_latency.rs measures real time).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::liar::{Hook, Liar};
use common::*;

use dfuflash::image::Image;
use dfuflash::job;
use dfuflash::progress::{CancelToken, Silent};
use dfuflash::protocol::{request, Dfu, EngineOptions, ProtocolError, State, CANCEL_SLICE};
use dfuflash::sim::SimDevice;
use dfuflash::Error;

/// Every busy answer asks for 4.9 s: each block of a flash costs a 4.9 s wait.
fn bogus_poll() -> Hook {
    Box::new(|x| {
        if x.request == request::GETSTATUS {
            if let Ok(r) = &mut x.reply {
                if r.len() == 6 && r[4] == State::DnBusy.as_u8() {
                    r[1..4].copy_from_slice(&4900u32.to_le_bytes()[..3]);
                }
            }
        }
    })
}

fn strict_liar(hook: Hook) -> Dfu<Liar> {
    let liar = Liar::new(SimDevice::new("dfuse-strict").unwrap(), hook);
    Dfu::open(liar, 0, EngineOptions::default()).unwrap()
}

#[test]
fn a_cancel_from_another_thread_ends_a_4_9_s_wait_within_one_slice() {
    let mut dfu = strict_liar(bogus_poll());
    let token = CancelToken::new();
    // "Another thread" presses Cancel 10.0 s into the job: in the middle of a 4.9 s wait.
    let remote = token.clone();
    let at = Duration::from_secs(10);
    let start = dfu.now();
    let pressed = Arc::new(Mutex::new(None));
    let p = pressed.clone();
    dfu.transport_mut().on_sleep = Some(Box::new(move |now| {
        if now >= start + at && !remote.is_cancelled() {
            remote.cancel();
            *p.lock().unwrap() = Some(now);
        }
    }));
    let image = Image::from_binary(0x0800_0000, pattern(64 * 1024, 3)).unwrap();
    let e = job::flash(&mut dfu, &image, &opts(), &mut Silent, &token).unwrap_err();
    assert!(matches!(e, Error::CancelledBusy { .. }), "{e}");
    assert!(e.to_string().contains("while the device was busy"), "{e}");
    let pressed = pressed.lock().unwrap().unwrap();
    let latency = dfu.now() - pressed;
    assert!(latency <= CANCEL_SLICE, "{latency:?}");
    // The next job waits out what the device asked for, then works.
    token.reset();
    dfu.transport_mut().on_sleep = None;
    dfu.transport_mut().hook = Box::new(|_| {});
    let back = job::read(&mut dfu, 0x0800_0000, 16, &mut Silent, &token).unwrap();
    assert_eq!(back.len(), 16);
}

#[test]
fn a_device_that_asks_for_4_9_s_after_every_block_runs_into_the_job_deadline() {
    let mut dfu = strict_liar(bogus_poll());
    // 1.1 MB in 1 KB blocks: 2.5 hours of waiting if every wait were granted.
    let image = Image::from_binary(0x0800_0000, pattern(0x11_0000, 4)).unwrap();
    let start = dfu.now();
    let e = job::flash(&mut dfu, &image, &opts(), &mut Silent, &CancelToken::new()).unwrap_err();
    let Error::Protocol(ProtocolError::JobDeadline { deadline, .. }) = &e else {
        panic!("{e}");
    };
    assert_eq!(e.kind(), "job_deadline");
    let took = dfu.now() - start;
    // The default for this work: 30 s, 16 sectors (1.125 MB) erased at 0.1 s + 4 s per 128 KB,
    // + 2 s for the Rev V recovery for each of the 8 of 128 KB, 1088 blocks written, 2304 read:
    // 150.98 s, 150 in whole seconds, not 2.5 hours.
    assert_eq!(deadline.as_secs(), 150, "{deadline:?}");
    // Past the deadline nothing is sent but the few requests that bring the device back.
    assert!(
        took >= *deadline && took < *deadline + Duration::from_secs(1),
        "{took:?}"
    );
    assert!(e.to_string().contains("ran past its deadline"), "{e}");
    // The deadline fell in a wait the device asked for: it is left alone (a strict device
    // stalls an early request), and the next operation waits for it, then works.
    assert_eq!(dfu.transport().dev.state().0, State::DnBusy);
    dfu.transport_mut().hook = Box::new(|_| {});
    // The boot block is written last: still erased; the block after it holds the image.
    let back = job::read(
        &mut dfu,
        0x0800_0000,
        2048,
        &mut Silent,
        &CancelToken::new(),
    )
    .unwrap();
    assert!(back[..1024].iter().all(|b| *b == 0xff));
    assert_eq!(back[1024..], image.targets[0].segments[0].data[1024..2048]);
}

#[test]
fn a_caller_s_deadline_ends_a_job_that_would_succeed() {
    let mut dev_opts = EngineOptions::default();
    dev_opts.timeouts.job = Some(Duration::from_secs(3));
    let mut dfu = Dfu::open(SimDevice::new("stm32h743-revv").unwrap(), 0, dev_opts).unwrap();
    let image = Image::from_binary(0x0804_0000, pattern(0x1c_0000, 4)).unwrap();
    let start = dfu.now();
    let e = job::flash(&mut dfu, &image, &opts(), &mut Silent, &CancelToken::new()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Protocol(ProtocolError::JobDeadline { deadline, .. }) if deadline == Duration::from_secs(3)
        ),
        "{e}"
    );
    // The ROM erases inside a GETSTATUS (0.9 s): a deadline caps that transfer's USB timeout,
    // so the job cannot run on past it by more than the cleanup.
    let took = dfu.now() - start;
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[test]
fn a_panic_inside_a_job_leaves_no_deadline_behind() {
    let mut dfu = Dfu::open(
        SimDevice::new("stm32h743-revy").unwrap(),
        0,
        EngineOptions::default(),
    )
    .unwrap();
    let image = Image::from_binary(0x0802_0000, pattern(1024, 7)).unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        job::flash(
            &mut dfu,
            &image,
            &dfuflash::job::FlashOptions::default(),
            &mut |ev: &dfuflash::progress::Event<'_>| {
                if let dfuflash::progress::Event::PhaseStart {
                    phase: dfuflash::progress::Phase::Write,
                    ..
                } = ev
                {
                    panic!("the observer panics");
                }
                dfuflash::progress::Flow::Continue
            },
            &CancelToken::new(),
        )
    }));
    assert!(r.is_err());
    assert_eq!(dfu.time_left(), None, "the dead job's deadline is gone");
    // Ten minutes later, well past what the job was given, the device is recovered and used.
    dfuflash::transport::Transport::sleep(dfu.transport_mut(), Duration::from_secs(600));
    dfu.ensure_idle().unwrap();
    let back = job::read(&mut dfu, 0x0802_0000, 16, &mut Silent, &CancelToken::new()).unwrap();
    assert_eq!(back.len(), 16);
}

#[test]
fn after_a_contained_panic_a_c_handle_with_a_job_deadline_works_again() {
    use dfuflash::ffi::*;
    use std::ptr;
    let fw = pattern(1024, 9);
    for n in [3u64, 11, 17] {
        unsafe {
            let mut dev = ptr::null_mut();
            let model = c"stm32h743-revy";
            assert_eq!(
                dfuflash_open_simulated(model.as_ptr(), ptr::null(), 0, &mut dev),
                0
            );
            let mut img = ptr::null_mut();
            assert_eq!(
                dfuflash_image_from_memory(fw.as_ptr(), fw.len(), 0x0802_0000, 0, &mut img),
                0
            );
            let mut o = ptr::null_mut();
            assert_eq!(dfuflash_options_new(&mut o), 0);
            assert_eq!(
                dfuflash_options_set_timeout_ms(o, DFUFLASH_TIMEOUT_JOB, 1500),
                0
            );
            let spec = std::ffi::CString::new(format!("panic@{n}")).unwrap();
            assert_eq!(dfuflash_device_set_sim_faults(dev, spec.as_ptr()), 0);
            assert_eq!(
                dfuflash_download(dev, img, o),
                DFUFLASH_ERR_PANIC,
                "panic@{n}"
            );
            for _ in 0..2 {
                assert_eq!(
                    dfuflash_download(dev, img, ptr::null()),
                    DFUFLASH_OK,
                    "panic@{n}"
                );
            }
            dfuflash_options_free(o);
            dfuflash_image_free(img);
            dfuflash_device_close(dev);
        }
    }
}
