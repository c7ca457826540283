//! What every job shares: the observer and cancel token it reports to, how it stops when
//! cancelled, and how it measures itself.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use super::readback::ReadBack;
use super::Report;
use crate::error::Error;
use crate::layout::{Layout, Sector};
use crate::plan::PlanError;
use crate::progress::{CancelToken, Event, Flow, Level, Observer, Phase};
use crate::protocol::{Dfu, ProtocolError};
use crate::transport::Transport;

/// A running job's observer and cancellation.
pub(super) struct Ctx<'a> {
    obs: &'a mut dyn Observer,
    cancel: &'a CancelToken,
    /// The observer asked to cancel.
    cancelled: bool,
    /// The phase running (the last one started).
    phase: Phase,
    /// What a flash read back of its image.
    pub(super) readback: ReadBack,
}

impl<'a> Ctx<'a> {
    fn new(obs: &'a mut dyn Observer, cancel: &'a CancelToken, phase: Phase) -> Self {
        Self {
            obs,
            cancel,
            cancelled: false,
            phase,
            readback: ReadBack::default(),
        }
    }
    pub(super) fn emit(&mut self, ev: &Event<'_>) {
        if let Event::PhaseStart { phase, .. } = ev {
            self.phase = *phase;
        }
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

/// How long the return to dfuIDLE after a missed deadline may take.
const CLEANUP: Duration = Duration::from_secs(1);

/// Runs a job: its observer, its cancel token and its deadline (from the start of the job)
/// armed on the engine for the whole body, `first` as the phase until another starts. The
/// engine sees the token in its waits, so a cancel from another thread ends a wait within
/// [`crate::protocol::CANCEL_SLICE`] and the job fails as [`Error::CancelledBusy`]; a cancel
/// between transfers (by the token or the observer) returns the device to dfuIDLE first. Past
/// the deadline, the device is brought back to dfuIDLE if that needs no waiting.
pub(super) fn run<T: Transport, R>(
    dfu: &mut Dfu<T>,
    obs: &mut dyn Observer,
    cancel: &CancelToken,
    deadline: Duration,
    first: Phase,
    body: impl FnOnce(&mut Dfu<T>, &mut Ctx<'_>) -> Result<R, Error>,
) -> Result<R, Error> {
    dfu.watch(cancel, Some(deadline));
    if dfu.options().timeouts.job.is_none() {
        dfu.let_recoveries_extend_deadline();
    }
    let mut ctx = Ctx::new(obs, cancel, first);
    // A panic (an observer's, a transport's) is re-raised, but never with the watch left armed.
    let result = catch_unwind(AssertUnwindSafe(|| body(dfu, &mut ctx)));
    dfu.unwatch();
    let result = result.unwrap_or_else(|panic| resume_unwind(panic));
    let phase = ctx.phase;
    match result {
        Err(Error::Protocol(ProtocolError::Interrupted { .. })) => {
            Err(Error::CancelledBusy { phase })
        }
        Err(e @ Error::Protocol(ProtocolError::JobDeadline { .. })) => {
            // The cleanup has a second of its own: a device that does not answer cannot hold
            // the host past the deadline by more.
            dfu.watch(cancel, Some(CLEANUP));
            dfu.idle_without_waiting();
            dfu.unwatch();
            Err(e)
        }
        other => other,
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

/// What a job needs of every sector it touches.
#[derive(Clone, Copy)]
pub(super) enum Need {
    Erasable,
    Readable,
}

/// The sectors of the current alt setting that hold [address, address + length), each present
/// and as `need` asks; the first that is not is refused before any request.
pub(super) fn sectors_covering<T: Transport>(
    dfu: &Dfu<T>,
    layout: &Layout,
    address: u32,
    length: u32,
    need: Need,
) -> Result<Vec<Sector>, Error> {
    let alt = dfu.alt();
    let end = address as u64 + length as u64;
    if end > 1 << 32 {
        return Err(Error::InvalidArgument(format!(
            "{length} bytes at {address:#010x} run past the end of the 32-bit address space"
        )));
    }
    let mut sectors = Vec::new();
    let mut a = address as u64;
    while a < end {
        let at = a as u32;
        let layout_text = || layout.source.clone();
        let s = layout.sector_at(at).ok_or_else(|| PlanError::Absent {
            alt,
            address: at,
            layout: layout_text(),
        })?;
        let refusal = match need {
            Need::Erasable if !s.perms.erasable() => Some(PlanError::NotErasable {
                alt,
                address: at,
                layout: layout_text(),
            }),
            Need::Readable if !s.perms.readable() => Some(PlanError::NotReadable {
                alt,
                address: at,
                layout: layout_text(),
            }),
            _ => None,
        };
        if let Some(e) = refusal {
            return Err(e.into());
        }
        sectors.push(s);
        a = s.end();
    }
    Ok(sectors)
}
