//! Helpers shared by the integration tests.
#![allow(dead_code)]

use dfuflash::image::Image;
use dfuflash::job::{self, FlashOptions, Report};
use dfuflash::progress::{CancelToken, Event, Flow, Silent};
use dfuflash::protocol::{Dfu, EngineOptions, State};
use dfuflash::sim::{Op, Outcome, Record, SimDevice};
use dfuflash::transport::Transport;
use dfuflash::Error;

pub mod adversary;
pub mod cli;
pub mod liar;
pub mod many;
pub mod model_list;
pub mod n6;

#[path = "../../examples/common/xorshift.rs"]
mod xorshift;

/// Deterministic pseudo-firmware; any seed (made odd, so never zero).
pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    xorshift::pattern(len, seed | 1)
}

pub fn open(model: &str) -> Dfu<SimDevice> {
    open_alt(model, 0)
}

pub fn open_alt(model: &str, alt: u8) -> Dfu<SimDevice> {
    open_on(SimDevice::new(model).unwrap(), alt)
}

/// Any transport (a liar, a custom device), opened on `alt` with the default options.
pub fn open_on<T: Transport>(t: T, alt: u8) -> Dfu<T> {
    Dfu::open(t, alt, EngineOptions::default()).unwrap()
}

pub fn open_dev(dev: SimDevice, workarounds: bool) -> Dfu<SimDevice> {
    let mut o = EngineOptions::default();
    o.workarounds = workarounds;
    Dfu::open(dev, 0, o).unwrap()
}

pub fn flash<T: Transport>(
    dfu: &mut Dfu<T>,
    image: &Image,
    opts: &FlashOptions,
) -> Result<Report, Error> {
    job::flash(dfu, image, opts, &mut Silent, &CancelToken::new())
}

pub fn flash_events<T: Transport>(
    dfu: &mut Dfu<T>,
    image: &Image,
    opts: &FlashOptions,
) -> (Result<Report, Error>, Vec<String>) {
    let mut events = Vec::new();
    let r = job::flash(
        dfu,
        image,
        opts,
        &mut |ev: &Event<'_>| {
            events.push(format!("{ev:?}"));
            Flow::Continue
        },
        &CancelToken::new(),
    );
    (r, events)
}

/// The state each request found the device in.
pub fn with_state_before(t: &[Record]) -> Vec<(State, &Record)> {
    let mut before = State::Error;
    t.iter()
        .map(|r| {
            let b = before;
            before = r.state_after;
            (b, r)
        })
        .collect()
}

/// Transcript ops in a compact form, for exact sequence assertions.
pub fn ops(t: &[Record]) -> Vec<String> {
    t.iter()
        .map(|r| {
            let op = match &r.op {
                Op::SetAddress(a) => format!("SetAddress({a:#010x})"),
                Op::Erase(a) => format!("Erase({a:#010x})"),
                o => format!("{o:?}"),
            };
            match r.outcome {
                Outcome::Ok(Some((s, st))) if s.as_u8() == 0 => format!("{op}={st}"),
                Outcome::Ok(Some((s, st))) => format!("{op}={st}/{}", s.as_u8()),
                Outcome::Ok(None) => op,
                o => format!("{op}:{o:?}"),
            }
        })
        .collect()
}

/// The full flash: the tests that use it assert the erase, write and verify of every planned
/// sector, request by request (tests/differential.rs covers the default, which compares first).
pub fn opts() -> FlashOptions {
    let mut o = FlashOptions::default();
    o.full = true;
    o
}
