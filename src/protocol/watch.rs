//! What a running job asks of every wait and every request: that a cancel cuts a wait short,
//! and that nothing goes on past the job's deadline.
//!
//! A device decides how long the host waits (bwPollTimeout, up to 4.6 hours), so each wait is
//! bounded twice: by its own limit in [`Timeouts`](super::Timeouts), and by the deadline of the
//! job as a whole. Waits are slept in slices of at most [`CANCEL_SLICE`], so a cancel takes
//! effect within one slice whatever the device asked for. A transfer the device holds (an ST
//! ROM erases inside a GETSTATUS) is cut short by the transport when the token is cancelled
//! (see [`Transport::cut_on`](crate::transport::Transport::cut_on)); a transport that cannot
//! cut it ends it within its USB timeout, which a deadline also caps.

use std::time::Duration;

use super::{Dfu, ProtocolError};
use crate::progress::CancelToken;
use crate::transport::Transport;

/// The longest a wait sleeps before it looks at the cancel token again.
pub const CANCEL_SLICE: Duration = Duration::from_millis(50);

/// The shortest USB timeout a transfer gets when the deadline is near: a transfer that cannot
/// complete in it fails as past the deadline.
const LEAST_TIMEOUT: Duration = Duration::from_millis(1);

/// A job's cancel token and deadline, on the transport's clock.
#[derive(Debug, Clone, Default)]
pub(super) struct Watch {
    cancel: Option<CancelToken>,
    /// When the job must end, and how long it was given.
    until: Option<(Duration, Duration)>,
    /// A default deadline (the caller gave none): the Rev V recovery extends it by what it
    /// waited, since the default prices an erase at its normal duration.
    grows: bool,
}

/// No deadline grows past this, whatever the recoveries waited (the most a default deadline is
/// priced at).
const MOST: Duration = Duration::from_secs(3600);

impl<T: Transport> Dfu<T> {
    /// From now on, waits end early when `cancel` is cancelled (failing with
    /// [`ProtocolError::Interrupted`]), and nothing is sent once `deadline` from now has passed
    /// ([`ProtocolError::JobDeadline`]). Jobs arm this for their run and call
    /// [`Dfu::unwatch`] after.
    pub fn watch(&mut self, cancel: &CancelToken, deadline: Option<Duration>) {
        let now = self.t.now();
        self.t.cut_on(Some(cancel.clone()));
        self.watch = Watch {
            cancel: Some(cancel.clone()),
            until: deadline.map(|d| (now.saturating_add(d), d)),
            grows: false,
        };
    }

    /// The deadline armed by [`Dfu::watch`] is a default: each Rev V recovery adds the time
    /// its erase waited in the wedge, up to an hour in all.
    pub(crate) fn let_recoveries_extend_deadline(&mut self) {
        self.watch.grows = true;
    }

    /// A recovery waited `waited`: a default deadline moves by as much.
    pub(super) fn extend_deadline_for_recovery(&mut self, waited: Duration) {
        if let (true, Some((until, given))) = (self.watch.grows, self.watch.until) {
            let grown = given.saturating_add(waited).min(MOST.max(given));
            self.watch.until = Some((until + (grown - given), grown));
        }
    }

    /// Ends what [`Dfu::watch`] armed.
    pub fn unwatch(&mut self) {
        self.t.cut_on(None);
        self.watch = Watch::default();
    }

    /// Time left before the job's deadline, if it has one.
    pub fn time_left(&self) -> Option<Duration> {
        let (until, _) = self.watch.until?;
        Some(until.saturating_sub(self.t.now()))
    }

    /// Fails once the job's deadline has passed.
    pub(super) fn check_deadline(&self, during: &str) -> Result<(), ProtocolError> {
        match self.watch.until {
            Some((until, _)) if self.t.now() >= until => Err(self.past_deadline(during)),
            _ => Ok(()),
        }
    }

    /// A transfer's USB timeout, shortened so that it ends by the job's deadline.
    pub(super) fn capped(&self, timeout: Duration) -> Duration {
        match self.time_left() {
            Some(left) => timeout.min(left.max(LEAST_TIMEOUT)),
            None => timeout,
        }
    }

    /// The job's deadline as an error.
    pub(super) fn past_deadline(&self, during: &str) -> ProtocolError {
        ProtocolError::JobDeadline {
            during: during.to_string(),
            deadline: self.watch.until.map_or(Duration::ZERO, |(_, d)| d),
        }
    }

    /// Waits `d` on the transport's clock, in slices, ending early on a cancel or at the
    /// job's deadline.
    pub(super) fn wait(&mut self, d: Duration, during: &str) -> Result<(), ProtocolError> {
        let mut left = d;
        loop {
            if self
                .watch
                .cancel
                .as_ref()
                .is_some_and(CancelToken::is_cancelled)
            {
                return Err(ProtocolError::Interrupted {
                    during: during.to_string(),
                });
            }
            self.check_deadline(during)?;
            if left.is_zero() {
                return Ok(());
            }
            let mut step = left.min(CANCEL_SLICE);
            if let Some(t) = self.time_left() {
                step = step.min(t);
            }
            self.t.sleep(step);
            left -= step;
        }
    }
}
