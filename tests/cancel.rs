//! Cancellation and progress events.

mod common;

use std::sync::mpsc;

use common::*;
use dfuflash::image::Image;
use dfuflash::job;
use dfuflash::progress::{CancelToken, Event, Flow, Phase};
use dfuflash::protocol::{State, Status};
use dfuflash::sim::Op;
use dfuflash::Error;

fn image() -> Image {
    Image::from_binary(0x080c_0000, pattern(0x6_0000, 77)).unwrap()
}

#[test]
fn cancelling_from_the_callback_in_each_phase_leaves_the_device_idle() {
    for phase in [Phase::Erase, Phase::Write, Phase::Verify, Phase::Boot] {
        let mut dfu = open("stm32h743-revv");
        let mut seen = 0;
        let r = job::flash(
            &mut dfu,
            &image(),
            &opts(),
            &mut |ev: &Event<'_>| match ev {
                Event::Progress { phase: p, .. } if *p == phase => {
                    seen += 1;
                    if seen == 2 {
                        Flow::Cancel
                    } else {
                        Flow::Continue
                    }
                }
                _ => Flow::Continue,
            },
            &CancelToken::new(),
        );
        match r {
            Err(Error::Cancelled { phase: p }) => assert_eq!(p, phase),
            other => panic!("{phase}: {other:?}"),
        }
        let dev = dfu.transport();
        assert_eq!(dev.state(), (State::DfuIdle, Status::Ok), "{phase}");
        assert!(!dev.is_disconnected());
        let t = dev.transcript();
        let last = &t[t.len() - 1];
        assert_eq!(
            last.op,
            Op::GetStatus,
            "{phase}: ends by confirming dfuIDLE"
        );
        match phase {
            Phase::Erase => {
                assert_eq!(t.iter().filter(|r| matches!(r.op, Op::Erase(_))).count(), 2)
            }
            Phase::Write => assert!(
                t.iter()
                    .filter(|r| matches!(r.op, Op::Dnload { .. }))
                    .count()
                    == 2
                    && t.iter().any(|r| r.op == Op::Abort)
            ),
            _ => {}
        }
    }
}

#[test]
fn cancelling_from_another_thread_stops_between_transfers() {
    let token = CancelToken::new();
    let (to_ui, ui) = mpsc::channel::<()>();
    let (to_job, job_rx) = mpsc::channel::<()>();
    let remote = token.clone();
    let ui_thread = std::thread::spawn(move || {
        ui.recv().unwrap(); // the job reached the write phase
        remote.cancel();
        to_job.send(()).unwrap();
    });
    let mut dfu = open("stm32h743-revy");
    let mut sent = false;
    let mut writes_after = 0;
    let r = job::flash(
        &mut dfu,
        &image(),
        &opts(),
        &mut |ev: &Event<'_>| {
            if let Event::Progress {
                phase: Phase::Write,
                ..
            } = ev
            {
                if !sent {
                    sent = true;
                    to_ui.send(()).unwrap();
                    job_rx.recv().unwrap(); // wait until the other thread has cancelled
                } else {
                    writes_after += 1;
                }
            }
            Flow::Continue
        },
        &token,
    );
    ui_thread.join().unwrap();
    assert!(
        matches!(
            r,
            Err(Error::Cancelled {
                phase: Phase::Write
            })
        ),
        "{r:?}"
    );
    assert_eq!(writes_after, 0, "no block after the cancel");
    assert_eq!(dfu.transport().state(), (State::DfuIdle, Status::Ok));
}

#[test]
fn progress_is_monotonic_with_right_totals_and_phases_in_order() {
    let mut dfu = open("stm32h743-revv");
    let mut events: Vec<(Phase, u64, u64)> = Vec::new();
    let mut starts = Vec::new();
    let mut sectors = Vec::new();
    let r = job::flash(
        &mut dfu,
        &image(),
        &opts(),
        &mut |ev: &Event<'_>| {
            match ev {
                Event::PhaseStart { phase, total } => starts.push((*phase, *total)),
                Event::Progress {
                    phase,
                    done,
                    total,
                    address,
                    sector,
                } => {
                    events.push((*phase, *done, *total));
                    if let Some(s) = sector {
                        sectors.push((s.k, s.n, s.index, *address));
                    }
                }
                _ => {}
            }
            Flow::Continue
        },
        &CancelToken::new(),
    )
    .unwrap();
    // The boot block (the image's first 1 KB block) is written last, after the rest was
    // written and verified, and then read back: its phase counts its bytes twice.
    assert_eq!(
        starts,
        [
            (Phase::Erase, 3),
            (Phase::Write, 0x6_0000 - 1024),
            (Phase::Verify, 0x6_0000 - 1024),
            (Phase::Boot, 2 * 1024)
        ]
    );
    assert_eq!(
        sectors,
        [
            (1, 3, 6, 0x080c_0000),
            (2, 3, 7, 0x080e_0000),
            (3, 3, 8, 0x0810_0000)
        ]
    );
    for phase in [Phase::Erase, Phase::Write, Phase::Verify] {
        let p: Vec<_> = events.iter().filter(|e| e.0 == phase).collect();
        assert!(
            p.windows(2).all(|w| w[0].1 < w[1].1),
            "{phase} not monotonic"
        );
        assert_eq!(
            p.last().unwrap().1,
            p.last().unwrap().2,
            "{phase} ends at its total"
        );
    }
    let order: Vec<Phase> = events.iter().map(|e| e.0).collect();
    let first_write = order.iter().position(|p| *p == Phase::Write).unwrap();
    assert!(order[..first_write].iter().all(|p| *p == Phase::Erase));
    assert_eq!(r.workaround_sectors, [0x0810_0000]);
}

#[test]
fn a_cancel_cuts_the_getstatus_an_st_rom_holds_while_it_erases() {
    // The H7 ROM erases inside the GETSTATUS after the erase command (0.9 s for 128 KB). The
    // cancel comes as the command goes out: that GETSTATUS is cut, not waited for.
    let token = CancelToken::new();
    let remote = token.clone();
    let liar = common::liar::Liar::new(
        dfuflash::sim::SimDevice::new("stm32h743-revy").unwrap(),
        Box::new(move |x| {
            if x.request == dfuflash::protocol::request::DNLOAD && x.sent.first() == Some(&0x41) {
                remote.cancel();
            }
        }),
    );
    let mut dfu = open_on(liar, 0);
    let img = Image::from_binary(0x0804_0000, pattern(4096, 5)).unwrap();
    let start = dfu.now();
    let e = job::flash(
        &mut dfu,
        &img,
        &opts(),
        &mut |_: &Event<'_>| Flow::Continue,
        &token,
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            Error::CancelledBusy {
                phase: Phase::Erase
            }
        ),
        "{e}"
    );
    // Cut as it began: the host did not wait for the erase.
    assert!(
        dfu.now() - start < std::time::Duration::from_millis(100),
        "{:?}",
        dfu.now() - start
    );
    let t = dfu.transport().dev.transcript();
    let last = t.last().unwrap();
    assert_eq!(
        (&last.op, last.outcome),
        (&Op::GetStatus, dfuflash::sim::Outcome::Cancelled),
        "{:?}",
        ops(t)
    );
    // The ROM erased on; the next job finds it busy, waits, and flashes.
    token.reset();
    let r = flash(&mut dfu, &img, &opts()).unwrap();
    assert_eq!(r.sectors_erased, [0x0804_0000]);
    let dev = &dfu.transport().dev;
    assert_eq!(
        dev.memory(0, 0x0804_0000, 4096).unwrap(),
        &pattern(4096, 5)[..]
    );
}
