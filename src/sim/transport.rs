//! The [`Transport`] seam: every control transfer is numbered, exposed to injected faults and
//! modelled bus time, handed to the state machine and recorded in the transcript.

use std::time::Duration;

use super::models::{self, usb_cost};
use super::state_machine::Pending;
use super::transcript::{Op, Outcome, Record};
use super::SimDevice;
use crate::progress::CancelToken;
use crate::protocol::{request, State, Status, StatusReply};
use crate::transport::{DeviceInfo, Transport, TransportError};

impl SimDevice {
    /// One request through the fault and timing model; `Ok(reply bytes)` or the failure.
    fn transfer(
        &mut self,
        req: u8,
        value: u16,
        data: &[u8],
        in_len: usize,
        timeout: Duration,
    ) -> Result<Vec<u8>, TransportError> {
        self.requests += 1;
        let index = self.requests;
        let at = self.now;
        let op = self.decode(req, value, data, in_len);
        let result = self.transfer_inner(index, &op, req, value, data, in_len, timeout);
        let outcome = match &result {
            Ok(bytes) if req == request::GETSTATUS && bytes.len() == 6 => {
                let r = StatusReply::parse(bytes).expect("6 bytes");
                Outcome::Ok(Some((r.status, r.state)))
            }
            Ok(_) => Outcome::Ok(None),
            Err(TransportError::Stall) => Outcome::Stall,
            Err(TransportError::Timeout(_)) => Outcome::Timeout,
            Err(TransportError::Cancelled) => Outcome::Cancelled,
            Err(_) => Outcome::Disconnected,
        };
        self.transcript.push(Record {
            index,
            at,
            op,
            outcome,
            state_after: self.state,
        });
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn transfer_inner(
        &mut self,
        index: u64,
        op: &Op,
        req: u8,
        value: u16,
        data: &[u8],
        in_len: usize,
        timeout: Duration,
    ) -> Result<Vec<u8>, TransportError> {
        if self.disconnected || self.faults.disconnect_at.is_some_and(|n| index >= n) {
            self.disconnected = true;
            return Err(TransportError::Disconnected);
        }
        if self.faults.host_exit_at == Some(index) {
            // Nothing of the host runs after this: no cleanup, no leave, only what the board holds.
            if let Some(path) = &self.state_path {
                let _ = self.save_state(path);
            }
            std::process::exit(137);
        }
        if self.faults.panic_at == Some(index) {
            panic!("simulator panic injected at request {index}");
        }
        if self.faults.timeout_at == Some(index) {
            self.advance(timeout);
            return Err(TransportError::Timeout(timeout));
        }
        if self.faults.stall_at == Some(index) {
            self.advance_bus(models::USB_TRANSFER_OVERHEAD);
            return Err(TransportError::Stall);
        }
        // The ROM does not serve USB while it erases or programs inside a status stage.
        if self.now < self.cpu_busy_until {
            let wait = self.cpu_busy_until - self.now;
            if !self.hold(wait.min(timeout)) {
                return Err(TransportError::Cancelled);
            }
            if wait > timeout {
                return Err(TransportError::Timeout(timeout));
            }
        }
        let len = if in_len > 0 { in_len } else { data.len() };
        let cost = usb_cost(len);
        if cost > timeout {
            self.advance(timeout);
            return Err(TransportError::Timeout(timeout));
        }
        self.advance_bus(cost);
        self.stats.usb += cost;
        if matches!(op, Op::Dnload { .. } | Op::Upload { .. })
            && (!self.st() || value >= 2)
            && len > 0
        {
            self.stats.usb_data += cost;
        }
        self.settle();
        if self.faults.power_loss_at == Some(index) {
            if let (Op::GetStatus, Pending::Write { address, data }) = (op, self.pending.clone()) {
                let _ = self.program(address, &data, data.len() / 2);
            }
            self.disconnected = true;
            return Err(TransportError::Disconnected);
        }
        let status_fault = self
            .faults
            .status_at
            .filter(|(n, _)| *n == index)
            .map(|(_, s)| s);
        if let (Some(s), Op::GetStatus) = (status_fault, op) {
            self.fail(s);
            return Ok(self.reply(0).to_vec());
        }
        // A device cannot both send the data and fail: it stalls the upload (DFU 1.1, 6.2).
        if let (Some(s), request::UPLOAD) = (status_fault, req) {
            self.fail(s);
            return Err(TransportError::Stall);
        }
        // A spec-strict device punishes a request sent before the poll timeout it asked for.
        if self.model.quirks.stall_early_requests
            && self.state == State::DnBusy
            && self.now < self.poll_until
        {
            self.fail(Status::ErrStalledPkt);
            return Err(TransportError::Stall);
        }
        if let Some(mut n6) = self.n6.take() {
            let mut work = Duration::ZERO;
            let r = n6.request(self.alt, req, value, data, in_len, timeout, &mut work);
            (self.state, self.status) = n6.state();
            self.n6 = Some(n6);
            self.busy(work);
            if !self.hold(work) {
                return Err(TransportError::Cancelled);
            }
            if r == Err(TransportError::Disconnected) {
                self.disconnected = true;
            }
            return r;
        }
        let r = match req {
            request::DNLOAD => self.dnload(value, data).map(|()| Vec::new()),
            request::UPLOAD => self.upload(value, in_len),
            request::GETSTATUS => self.get_status(timeout),
            request::CLRSTATUS => self.clr_status().map(|()| Vec::new()),
            request::GETSTATE => Ok(vec![self.state.as_u8()]),
            request::ABORT => self.abort().map(|()| Vec::new()),
            request::DETACH => self.part_detach(),
            _ => Err(TransportError::Stall),
        };
        if let Some(s) = status_fault {
            self.fail(s);
        }
        if let (request::GETSTATUS, Ok(bytes)) = (req, &r) {
            if let Some(reply) = StatusReply::parse(bytes) {
                self.poll_until = self.now + Duration::from_millis(reply.poll_timeout_ms as u64);
            }
        }
        r
    }
}

impl Transport for SimDevice {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn control_out(
        &mut self,
        request: u8,
        value: u16,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, TransportError> {
        self.transfer(request, value, data, 0, timeout)
            .map(|_| data.len())
    }

    fn control_in(
        &mut self,
        request: u8,
        value: u16,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, TransportError> {
        let bytes = self.transfer(request, value, &[], buf.len(), timeout)?;
        if bytes.len() > buf.len() {
            return Err(TransportError::Overflow);
        }
        buf[..bytes.len()].copy_from_slice(&bytes);
        Ok(bytes.len())
    }

    fn select_alt(&mut self, alt: u8) -> Result<(), TransportError> {
        let result = if self.disconnected {
            Err(TransportError::Disconnected)
        } else if self.info.alt(alt).is_none() {
            Err(TransportError::Stall)
        } else {
            self.alt = alt;
            Ok(())
        };
        // Carries the number of the request before it, so fault numbers stay as they were.
        self.transcript.push(Record {
            index: self.requests,
            at: self.now,
            op: Op::SetInterface(alt),
            outcome: match result {
                Ok(()) => Outcome::Ok(None),
                Err(TransportError::Stall) => Outcome::Stall,
                Err(_) => Outcome::Disconnected,
            },
            state_after: self.state,
        });
        result
    }

    fn reset(&mut self) -> Result<(), TransportError> {
        if self.disconnected {
            return Err(TransportError::Disconnected);
        }
        // A DFU-mode device that is reset runs its (new) firmware: it is gone from the bus.
        self.disconnected = true;
        self.left_to = Some(0);
        Ok(())
    }

    fn now(&self) -> Duration {
        self.now
    }

    fn sleep(&mut self, duration: Duration) {
        self.stats.host_sleep += duration;
        self.advance(duration);
    }

    fn cut_on(&mut self, cancel: Option<CancelToken>) {
        self.cut = cancel;
    }

    /// Re-enumeration in place: the board that left on DETACH is back at once, as the program
    /// it handed over to (the N6's OpenBootloader); any other board that left stays gone.
    fn reenumerate(&mut self, within: Duration) -> Result<(), TransportError> {
        let back = self.n6.as_mut().and_then(|n6| n6.take_reenumeration());
        if let Some((alts, functional)) = back {
            self.info.alt_settings = crate::transport::AltSetting::numbered(alts);
            self.info.functional = functional;
            self.disconnected = false;
            self.alt = 0;
            self.state = State::DfuIdle;
            self.status = Status::Ok;
            return Ok(());
        }
        if !self.disconnected {
            return Ok(());
        }
        self.advance(within);
        Err(TransportError::Timeout(within))
    }
}
