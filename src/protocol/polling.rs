//! Waiting for the device: GETSTATUS polling with deadlines, stalls and the Rev V wedge
//! detection, and the spec-correct return to dfuIDLE.

use std::time::Duration;

use super::{Dfu, ProtocolError, State, Status, StatusReply};
use crate::progress::Level;
use crate::transport::{Transport, TransportError};

/// Devices (idVendor, idProduct) polled again at once after dfuDNBUSY: the STM32 ROM
/// bootloader (the operation is done inside the first GETSTATUS).
const POLLS_AT_ONCE: &[(u16, u16)] = &[(0x0483, 0xdf11)];

/// How long a return to dfuIDLE waits after a stalled GETSTATUS (a device still busy with a
/// command the host stopped waiting for), within its limit.
const STALL_BACKOFF: Duration = Duration::from_millis(50);

/// A page erase sent and not seen to its end: the poll was cut short by a cancel, the job's
/// deadline or a failed transfer.
#[derive(Debug, Clone, Copy)]
pub(super) struct AbandonedErase {
    /// Its sector; None for one another host sent (see [`Dfu::open`]).
    pub(super) address: Option<u32>,
    /// When it was first seen OK/dfuDNBUSY (transport clock), once it was.
    pub(super) busy_since: Option<Duration>,
}

/// How polling ended.
pub(super) enum PollEnd {
    /// One of the awaited states.
    Done(StatusReply),
    /// Page erase stuck in OK/dfuDNBUSY long enough for the Rev V recovery.
    Wedged,
}

impl<T: Transport> Dfu<T> {
    /// Brings the device to dfuIDLE the way DFU 1.1 asks: CLRSTATUS from dfuERROR, ABORT from
    /// dfuDNLOAD-IDLE and dfuUPLOAD-IDLE, polling (with a deadline) through busy states.
    /// CLRSTATUS is sent in dfuERROR only. Also after a call was cut short (a cancel, a
    /// contained panic): a device still finishing a command and stalling GETSTATUS meanwhile is
    /// waited out.
    pub fn ensure_idle(&mut self) -> Result<(), ProtocolError> {
        let start = self.t.now();
        let deadline = self.opts.timeouts.erase;
        let mut last = State::DfuIdle;
        // CLRSTATUS and ABORT are tried a few times; busy states are waited out by the deadline.
        let mut commands = 0;
        while commands < 8 {
            // A device still busy with a command the host stopped waiting for (a cancel, a
            // contained panic) may stall GETSTATUS meanwhile (STM32L4): waited out.
            let st = match self.get_status_during("returning to dfuIDLE") {
                Err(e)
                    if e.transport_error() == Some(&TransportError::Stall)
                        && self.t.now().saturating_sub(start) < deadline =>
                {
                    let left = deadline - self.t.now().saturating_sub(start);
                    self.wait(STALL_BACKOFF.min(left), "returning to dfuIDLE")?;
                    continue;
                }
                r => r?,
            };
            last = st.state;
            if st.state != State::DnBusy {
                self.abandoned_erase = None;
            }
            match st.state {
                State::DfuIdle => return Ok(()),
                State::Error => {
                    if st.status != Status::Ok {
                        self.note(
                            Level::Debug,
                            format!("device was in dfuERROR ({}); clearing", st.status),
                        );
                    }
                    self.clear_status()?;
                    commands += 1;
                }
                State::DnloadIdle | State::UploadIdle => {
                    self.abort()?;
                    commands += 1;
                }
                State::DnloadSync | State::DnBusy | State::ManifestSync | State::Manifest => {
                    let waited = self.t.now().saturating_sub(start);
                    if waited >= deadline {
                        return Err(ProtocolError::StuckBusy {
                            during: "returning to dfuIDLE".into(),
                            address: None,
                            state: st.state,
                            waited,
                            deadline,
                            hint: String::new(),
                        });
                    }
                    if self.recover_abandoned_erase(&st)? {
                        continue;
                    }
                    let wait = Duration::from_millis(st.poll_timeout_ms as u64)
                        .max(Duration::from_millis(1));
                    self.wait(wait.min(deadline - waited), "returning to dfuIDLE")?;
                    // This loop chose how long to wait; past its deadline it polls anyway.
                    self.quiet_until = None;
                }
                State::AppIdle | State::AppDetach => return Err(ProtocolError::UnexpectedState {
                    during: "returning to dfuIDLE".into(),
                    expected:
                        "a DFU-mode state (the device is running its application: detach it first)",
                    got: st.state,
                }),
                State::ManifestWaitReset | State::Unknown(_) => {
                    return Err(ProtocolError::UnexpectedState {
                        during: "returning to dfuIDLE".into(),
                        expected: "dfuIDLE (the device waits for a USB reset)",
                        got: st.state,
                    })
                }
            }
        }
        Err(ProtocolError::UnexpectedState {
            during: "returning to dfuIDLE".into(),
            expected: "dfuIDLE after CLRSTATUS/ABORT",
            got: last,
        })
    }

    /// One look at the device and, where it needs no waiting, the request that returns it to
    /// dfuIDLE (CLRSTATUS from dfuERROR, ABORT from dfuDNLOAD-IDLE or dfuUPLOAD-IDLE); a busy
    /// device is left as it is and failures are ignored. For after a job ran out of time.
    pub fn idle_without_waiting(&mut self) {
        if self.quiet_until.is_some_and(|t| t > self.t.now()) {
            return; // busy, and it asked not to be disturbed yet
        }
        let Ok(st) = self.get_status_during("returning to dfuIDLE") else {
            return;
        };
        let _ = match st.state {
            State::Error => self.clear_status(),
            State::DnloadIdle | State::UploadIdle => self.abort(),
            _ => Ok(()),
        };
    }

    /// Polls GETSTATUS until one of `done` states, with a deadline.
    ///
    /// DfuSe (ST ROM) devices do the work inside the first GETSTATUS and then report a
    /// conservative poll timeout, so after a busy reply the engine polls once more at once
    /// before sleeping the reported time. Plain DFU 1.1 devices get the poll timeout the
    /// specification promises them. A stalled GETSTATUS (STM32L4 during a page erase) is
    /// retried after a short back-off. With `wedge`, an erase that stays in OK/dfuDNBUSY past
    /// max(wedge_wait, 2 x poll timeout) ends as [`PollEnd::Wedged`].
    pub(super) fn poll_until(
        &mut self,
        during: &str,
        address: Option<u32>,
        deadline: Duration,
        done: &[State],
        wedge: bool,
    ) -> Result<PollEnd, ProtocolError> {
        let start = self.t.now();
        let mut stalls = 0u32;
        let mut replies = 0u32;
        let mut repolled = false;
        let mut first_busy: Option<Duration> = None;
        let mut last_poll = Duration::from_millis(5);
        loop {
            let reply = match self.get_status_during(during) {
                Ok(r) => r,
                Err(e) if e.transport_error() == Some(&TransportError::Stall) => {
                    stalls += 1;
                    let waited = self.t.now().saturating_sub(start);
                    if waited >= deadline {
                        return Err(ProtocolError::StatusStalled {
                            during: during.to_string(),
                            count: stalls,
                        });
                    }
                    if stalls == 1 {
                        self.note(
                            Level::Debug,
                            format!(
                                "DFU_GETSTATUS stalled during {during}; backing off and retrying"
                            ),
                        );
                    }
                    // Fine steps: the device stalls while it is busy, so the step bounds the
                    // time lost after it finishes. A device still stalling after many of them
                    // is busy for long (a large sector): it is asked every 100 ms, until the
                    // deadline.
                    let step = if stalls <= self.opts.timeouts.max_status_stalls {
                        (last_poll / 8).clamp(Duration::from_millis(1), Duration::from_millis(100))
                    } else {
                        Duration::from_millis(100)
                    };
                    self.wait(step.min(deadline - waited), during)?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            stalls = 0;
            replies += 1;
            if reply.status != Status::Ok {
                return Err(ProtocolError::DeviceStatus {
                    during: during.to_string(),
                    address,
                    status: reply.status,
                    state: reply.state,
                });
            }
            if done.contains(&reply.state) {
                return Ok(PollEnd::Done(reply));
            }
            if !matches!(
                reply.state,
                State::DnBusy | State::DnloadSync | State::Manifest | State::ManifestSync
            ) {
                return Err(ProtocolError::UnexpectedState {
                    during: during.to_string(),
                    expected: if done.contains(&State::DnloadIdle) {
                        "dfuDNBUSY or dfuDNLOAD-IDLE"
                    } else {
                        "a manifestation state or dfuIDLE"
                    },
                    got: reply.state,
                });
            }
            let poll = Duration::from_millis(reply.poll_timeout_ms as u64);
            last_poll = poll.max(Duration::from_millis(1));
            if replies == 1 && reply.state == State::DnBusy {
                first_busy = Some(poll);
                if let Some(a) = self.abandoned_erase.as_mut().filter(|_| wedge) {
                    a.busy_since.get_or_insert(self.t.now());
                }
            }
            let waited = self.t.now().saturating_sub(start);
            let wedge_after = first_busy
                .filter(|_| wedge && reply.state == State::DnBusy)
                .map(|p| self.opts.timeouts.wedge_wait.max(p * 2));
            if let Some(after) = wedge_after {
                if waited >= after {
                    return Ok(PollEnd::Wedged);
                }
            }
            if waited >= deadline {
                return Err(self.stuck(
                    during,
                    address,
                    reply.state,
                    waited,
                    deadline,
                    wedge_after.is_none() && first_busy.is_some(),
                ));
            }
            if !repolled && self.polls_at_once() {
                repolled = true;
                continue;
            }
            let mut wait = last_poll.min(deadline - waited);
            if let Some(after) = wedge_after {
                wait = wait.min(after - waited);
            }
            self.wait(wait, during)?;
            self.quiet_until = None;
        }
    }

    /// A page erase that this engine sent and never saw to its end gets the Rev V recovery
    /// under the same narrow conditions as during the erase: DfuSe, workarounds on, the command
    /// in flight a page erase, and OK/dfuDNBUSY seen again at least max(wedge wait, 2 × the poll
    /// timeout) after it was first seen (an ST ROM answers the GETSTATUS that runs a command
    /// with dfuDNBUSY, then dfuDNLOAD-IDLE: only the wedge stays). True when it was applied.
    /// The erase is unconfirmed: the next flash compares the sector and erases it again.
    fn recover_abandoned_erase(&mut self, st: &StatusReply) -> Result<bool, ProtocolError> {
        if st.state != State::DnBusy || st.status != Status::Ok {
            return Ok(false);
        }
        let now = self.t.now();
        let Some(e) = self.abandoned_erase.as_mut() else {
            return Ok(false);
        };
        let since = *e.busy_since.get_or_insert(now);
        let address = e.address;
        // The poll timeout the device asks for now (an earlier answer may have been garbled).
        let poll = Duration::from_millis(st.poll_timeout_ms as u64);
        let after = self.opts.timeouts.wedge_wait.max(poll * 2);
        if !(self.opts.workarounds && self.is_dfuse()) || now.saturating_sub(since) < after {
            return Ok(false);
        }
        self.abandoned_erase = None;
        self.extend_deadline_for_recovery(now.saturating_sub(since));
        self.recover_wedged_erase(address)?;
        Ok(true)
    }

    /// What a newly opened ST ROM may be busy with: an ST ROM does its work inside the
    /// GETSTATUS that starts it and answers the next one dfuDNLOAD-IDLE (PROTOCOL.md, section
    /// 6), so one that this process finds answering OK/dfuDNBUSY, before it sent any command, is
    /// in a page erase's Rev V wedge that another host left (killed mid-erase, crashed, its
    /// computer powered off). The first return to dfuIDLE applies the recovery to it under the
    /// narrow rule: workarounds on, OK/dfuDNBUSY seen again after max(wedge wait, 2 × the poll
    /// timeout). Its sector is unknown: a job compares (or, with `full`, erases) every sector it
    /// plans, so the sector is erased again if it is one of them.
    pub(super) fn inherited_erase(&self) -> Option<AbandonedErase> {
        self.polls_at_once().then_some(AbandonedErase {
            address: None,
            busy_since: None,
        })
    }

    /// A busy reply asks the host to send nothing for bwPollTimeout (DFU 1.1, 6.1.2), and a
    /// strict device stalls a request that comes earlier. The engine waits that out before its
    /// next request, also when a cancel or a deadline ended the wait and another call comes
    /// (at most the erase limit: the number is the device's). ST ROMs, polled at once, excepted.
    pub(super) fn note_poll_timeout(&mut self, reply: &StatusReply) {
        let busy = matches!(reply.state, State::DnBusy | State::Manifest);
        self.quiet_until = (busy && !self.polls_at_once()).then(|| {
            let poll = Duration::from_millis(reply.poll_timeout_ms as u64);
            self.t.now() + poll.min(self.opts.timeouts.erase)
        });
    }

    /// Waits until the device's last poll timeout has passed, then checks the job's deadline.
    pub(super) fn keep_quiet(&mut self, during: &str) -> Result<(), ProtocolError> {
        if let Some(until) = self.quiet_until.take() {
            let left = until.saturating_sub(self.t.now());
            if let Err(e) = self.wait(left, during) {
                self.quiet_until = Some(until);
                return Err(e);
            }
        }
        self.check_deadline(during)
    }

    /// Whether to poll once more at once after dfuDNBUSY instead of waiting bwPollTimeout.
    /// DFU 1.1 asks for the wait, and a strict device stalls an early request and enters
    /// dfuERROR; but ST's ROM bootloaders do the work inside the first GETSTATUS and report a
    /// poll timeout far longer than what is left (1000 ms after a 900 ms erase), and ST's
    /// programmer polls at once. So only devices known to answer an early poll correctly get
    /// one: ST's ROM bootloader ids.
    fn polls_at_once(&self) -> bool {
        let i = self.info();
        self.is_dfuse() && POLLS_AT_ONCE.contains(&(i.vendor_id, i.product_id))
    }

    fn stuck(
        &self,
        during: &str,
        address: Option<u32>,
        state: State,
        waited: Duration,
        deadline: Duration,
        maybe_wedge: bool,
    ) -> ProtocolError {
        let hint = if maybe_wedge
            && during.starts_with("erase")
            && self.is_dfuse()
            && !self.opts.workarounds
        {
            "; this is how the STM32H7 Rev V ROM wedges after erasing a sector past 1 MB \
             (dfu-util ticket #88): run again with device workarounds on"
                .to_string()
        } else {
            String::new()
        };
        ProtocolError::StuckBusy {
            during: during.to_string(),
            address,
            state,
            waited,
            deadline,
            hint,
        }
    }
}
