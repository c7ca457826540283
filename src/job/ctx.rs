//! What every job shares: the observer and cancel token it reports to, how it stops when
//! cancelled, and how it measures itself.

use std::time::{Duration, Instant};

use super::Report;
use crate::error::Error;
use crate::layout::Layout;
use crate::progress::{CancelToken, Event, Flow, Level, Observer, Phase};
use crate::protocol::Dfu;
use crate::transport::Transport;

/// A running job's observer and cancellation.
pub(super) struct Ctx<'a> {
    obs: &'a mut dyn Observer,
    cancel: &'a CancelToken,
    /// The observer asked to cancel.
    cancelled: bool,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(obs: &'a mut dyn Observer, cancel: &'a CancelToken) -> Self {
        Self {
            obs,
            cancel,
            cancelled: false,
        }
    }
    pub(super) fn emit(&mut self, ev: &Event<'_>) {
        if self.obs.on_event(ev) == Flow::Cancel {
            self.cancelled = true;
        }
    }
    pub(super) fn log(&mut self, level: Level, message: &str) {
        self.emit(&Event::Log { level, message });
    }
    pub(super) fn stop(&self) -> bool {
        self.cancelled || self.cancel.is_cancelled()
    }
    pub(super) fn pump<T: Transport>(&mut self, dfu: &mut Dfu<T>) {
        for (level, m) in dfu.take_log() {
            self.log(level, &m);
        }
    }
}

pub(super) fn cancelled<T: Transport>(dfu: &mut Dfu<T>, ctx: &mut Ctx<'_>, phase: Phase) -> Error {
    ctx.pump(dfu);
    match dfu.ensure_idle() {
        Ok(()) => Error::Cancelled { phase },
        Err(e) => Error::Protocol(e),
    }
}

pub(super) fn begin<T: Transport>(dfu: &Dfu<T>) -> (u64, Duration, Instant) {
    (dfu.requests_sent(), dfu.now(), Instant::now())
}

pub(super) fn finish<T: Transport>(
    dfu: &Dfu<T>,
    mut r: Report,
    start: (u64, Duration, Instant),
) -> Report {
    r.requests = dfu.requests_sent() - start.0;
    r.elapsed = dfu.now().saturating_sub(start.1);
    r.wall = start.2.elapsed();
    r
}

pub(super) fn layout_of<T: Transport>(dfu: &Dfu<T>) -> Result<Layout, Error> {
    let alt = dfu.alt();
    let name = dfu
        .info()
        .alt(alt)
        .map(|a| a.name.clone())
        .unwrap_or_default();
    Ok(Layout::parse(&name)?)
}
