//! Device work that takes modelled time (erase, program, manifest), run inside a status stage
//! or in the background, and the virtual clock it advances.

use std::time::Duration;

use super::SimDevice;
use crate::protocol::State;
use crate::transport::TransportError;

/// How often a held request looks at the host's cancel, in real time.
const HOLD_SLICE: Duration = Duration::from_millis(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Work {
    Erase { alt: u8, address: u32, size: u32 },
    MassErase,
    Unprotect,
    Program,
    Manifest,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Background {
    pub(super) started: Duration,
    pub(super) done_at: Duration,
    pub(super) work: Option<Work>,
    pub(super) wedged: bool,
    pub(super) poll_ms: u32,
}

impl SimDevice {
    pub(super) fn advance(&mut self, d: Duration) {
        self.now += d;
        if self.realtime {
            self.owed += d.div_f64(self.time_scale);
            if self.owed >= self.min_sleep {
                std::thread::sleep(std::mem::take(&mut self.owed));
            }
        }
    }

    /// Time the device holds the request it is answering (work inside a status stage, or a
    /// request waiting for that work): slept in slices in real time, so that the host's cancel
    /// (see [`crate::transport::Transport::cut_on`]) cuts it short as libusb cancels a
    /// transfer. False when cut: the clock has moved by what was held, and the device works on.
    pub(super) fn hold(&mut self, d: Duration) -> bool {
        let Some(cancel) = self.cut.clone() else {
            self.advance(d);
            return true;
        };
        let mut left = d;
        loop {
            if cancel.is_cancelled() {
                return false;
            }
            if left.is_zero() {
                return true;
            }
            let step = if self.realtime {
                left.min(HOLD_SLICE)
            } else {
                left
            };
            self.advance(step);
            left -= step;
        }
    }

    /// Modelled bus time: slept in real time only when no real bus carries the transfer.
    pub(super) fn advance_bus(&mut self, d: Duration) {
        if self.real_bus {
            self.now += d;
        } else {
            self.advance(d);
        }
    }

    pub(super) fn busy(&mut self, d: Duration) {
        self.stats.device_busy += d;
    }

    /// Applies background work that has finished by now.
    pub(super) fn settle(&mut self) {
        let now = self.now;
        if let Some(bg) = &mut self.bg {
            if now >= bg.done_at {
                if let Some(work) = bg.work.take() {
                    self.apply(work, 1.0);
                }
            }
        }
    }

    /// Runs `work` taking `d`, inside this GETSTATUS (blocking) or in the background.
    pub(super) fn start(
        &mut self,
        work: Work,
        d: Duration,
        poll_ms: u32,
        blocking: bool,
        timeout: Duration,
    ) -> Result<Vec<u8>, TransportError> {
        self.busy(d);
        self.state = State::DnBusy;
        if blocking {
            self.apply(work, 1.0);
            self.cpu_busy_until = self.now + d;
            if !self.hold(d.min(timeout)) {
                return Err(TransportError::Cancelled);
            }
            if d > timeout {
                return Err(TransportError::Timeout(timeout));
            }
        } else {
            self.bg = Some(Background {
                started: self.now,
                done_at: self.now + d,
                work: Some(work),
                wedged: false,
                poll_ms,
            });
        }
        let poll_ms = if self.model.quirks.reports_time_left && !blocking {
            d.as_millis().max(1) as u32
        } else {
            poll_ms
        };
        Ok(self.reply(poll_ms).to_vec())
    }
}
