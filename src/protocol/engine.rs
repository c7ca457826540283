//! The engine itself: an open DFU interface, its accessors, and the basic class requests every
//! operation is made of.

use std::time::Duration;

use super::polling::AbandonedErase;
use super::quirks::{self, Quirk, Quirks};
use super::watch::Watch;
use super::{request, EngineOptions, ProtocolError, State, StatusReply};
use crate::progress::Level;
use crate::transport::{DeviceInfo, Transport, TransportError, MAX_CONTROL_TRANSFER};

/// How DfuSe data blocks are addressed: `chunk` bytes per block, and at most `per_base` blocks
/// (numbered 2, 3, ...) after each Set Address.
pub(super) struct Blocks {
    pub(super) chunk: usize,
    pub(super) per_base: u32,
}

/// An open DFU interface on one alt setting.
pub struct Dfu<T: Transport> {
    pub(super) t: T,
    /// The device's description with the host-side quirks applied ([`super::quirks::apply`]),
    /// when any apply; else the transport's own is the device's.
    fixed_info: Option<DeviceInfo>,
    pub(super) quirks: Quirks,
    alt: u8,
    pub(super) opts: EngineOptions,
    requests: u64,
    log: Vec<(Level, String)>,
    pub(super) watch: Watch,
    pub(super) abandoned_erase: Option<AbandonedErase>,
    /// No request before this time (transport clock): the device asked the host to wait.
    pub(super) quiet_until: Option<Duration>,
}

impl<T: Transport> Dfu<T> {
    /// Opens alt setting `alt`: selects it; sends no DFU request yet.
    pub fn open(transport: T, alt: u8, opts: EngineOptions) -> Result<Self, ProtocolError> {
        let quirks = Quirks::of_device(transport.info());
        let mut dfu = Self {
            fixed_info: (!quirks.is_empty()).then(|| quirks::apply(transport.info().clone())),
            quirks,
            t: transport,
            alt,
            opts,
            requests: 0,
            log: Vec::new(),
            watch: Watch::default(),
            abandoned_erase: None,
            quiet_until: None,
        };
        dfu.abandoned_erase = dfu.inherited_erase();
        dfu.select_alt(alt)?;
        Ok(dfu)
    }

    /// The device as enumerated.
    pub fn info(&self) -> &DeviceInfo {
        self.fixed_info.as_ref().unwrap_or_else(|| self.t.info())
    }

    /// The transport, for inspection (the simulator's flash and transcript).
    pub fn transport(&self) -> &T {
        &self.t
    }

    /// The transport, mutable.
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.t
    }

    /// Gives the transport back.
    pub fn into_transport(self) -> T {
        self.t
    }

    /// The engine settings.
    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// Replaces the engine settings (timeouts, workarounds) for the next operations.
    pub fn set_options(&mut self, opts: EngineOptions) {
        self.opts = opts;
    }

    /// The current alt setting.
    pub fn alt(&self) -> u8 {
        self.alt
    }

    /// Control requests sent since open (each counts once, whatever its outcome).
    pub fn requests_sent(&self) -> u64 {
        self.requests
    }

    /// The transport's clock.
    pub fn now(&self) -> Duration {
        self.t.now()
    }

    /// Takes the log lines written since the last call (retries, recoveries, quirks).
    pub fn take_log(&mut self) -> Vec<(Level, String)> {
        std::mem::take(&mut self.log)
    }

    /// ST DfuSe (bcdDFUVersion 0x011A).
    pub fn is_dfuse(&self) -> bool {
        self.info().functional.is_dfuse()
    }

    /// The bytes of one data block: wTransferSize, at least 1 and capped at 4096 (the largest
    /// control transfer Linux and WinUSB carry).
    pub fn transfer_size(&self) -> usize {
        (self.info().functional.transfer_size as usize).clamp(1, MAX_CONTROL_TRANSFER)
    }

    /// The device's wTransferSize when data can move at all (it is not 0).
    pub(super) fn checked_transfer_size(&self) -> Result<usize, ProtocolError> {
        match self.info().functional.transfer_size {
            0 => Err(ProtocolError::TransferSize { size: 0 }),
            _ => Ok(self.transfer_size()),
        }
    }

    /// How to address the DfuSe blocks of [address, address + len). A block n lands at
    /// `pointer + (n - 2) × wTransferSize` (AN3156), so blocks are numbered from a Set Address
    /// only when each carries exactly wTransferSize bytes; a device whose wTransferSize is more
    /// than one control transfer carries gets a Set Address before every block.
    pub(super) fn dfuse_blocks(&self, address: u32, len: usize) -> Result<Blocks, ProtocolError> {
        if address as u64 + len as u64 > 1 << 32 {
            return Err(ProtocolError::OutOfRange { address, len });
        }
        let chunk = self.checked_transfer_size()?;
        let per_base = if self.info().functional.transfer_size as usize <= MAX_CONTROL_TRANSFER {
            u16::MAX as u32 - 1
        } else {
            1
        };
        Ok(Blocks { chunk, per_base })
    }

    /// Selects another alt setting.
    pub fn select_alt(&mut self, alt: u8) -> Result<(), ProtocolError> {
        if self.info().alt(alt).is_none() {
            let available = self.info().alt_list();
            return Err(ProtocolError::NoSuchAlt { alt, available });
        }
        // SET_INTERFACE cannot be given a timeout of its own: not started past the deadline.
        self.check_deadline("selecting an alt setting")?;
        self.t
            .select_alt(alt)
            .map_err(|source| ProtocolError::Transport {
                request: 0xff,
                during: format!("selecting alt setting {alt}"),
                source,
            })?;
        self.alt = alt;
        Ok(())
    }

    pub(super) fn note(&mut self, level: Level, message: String) {
        self.log.push((level, message));
    }

    pub(super) fn out(
        &mut self,
        req: u8,
        value: u16,
        data: &[u8],
        during: &str,
    ) -> Result<(), ProtocolError> {
        self.keep_quiet(during)?;
        // A command of this host's own: the device is no longer in one another host left.
        if self.abandoned_erase.is_some_and(|a| a.address.is_none()) {
            self.abandoned_erase = None;
        }
        self.requests += 1;
        let timeout = self.opts.timeouts.control;
        let capped = self.capped(timeout);
        match self.t.control_out(req, value, data, capped) {
            Ok(_) => Ok(()),
            Err(source) => Err(self.transfer_error(req, source, capped < timeout, during)),
        }
    }

    pub(super) fn input(
        &mut self,
        req: u8,
        value: u16,
        buf: &mut [u8],
        timeout: Duration,
        during: &str,
    ) -> Result<usize, ProtocolError> {
        self.keep_quiet(during)?;
        self.requests += 1;
        let capped = self.capped(timeout);
        let n = match self.t.control_in(req, value, buf, capped) {
            Ok(n) => n,
            Err(source) => return Err(self.transfer_error(req, source, capped < timeout, during)),
        };
        // A transport (perhaps a third party's) that claims more than the buffer holds.
        if n > buf.len() {
            return Err(self.transfer_error(req, TransportError::Overflow, false, during));
        }
        Ok(n)
    }

    /// A failed transfer as an error; one that timed out only because the job's deadline cut
    /// its timeout short is the deadline's failure.
    fn transfer_error(
        &self,
        req: u8,
        source: TransportError,
        cut_short: bool,
        during: &str,
    ) -> ProtocolError {
        if cut_short && matches!(source, TransportError::Timeout(_)) {
            return self.past_deadline(during);
        }
        if source == TransportError::Cancelled {
            return ProtocolError::Interrupted {
                during: during.to_string(),
            };
        }
        ProtocolError::Transport {
            request: req,
            during: during.to_string(),
            source,
        }
    }

    /// A request the device stalled: DFU 1.1 (section 6.1.2) has it enter dfuERROR with the
    /// reason in bStatus, which says more than "stalled" ("errWRITE" from a slot that cannot be
    /// written). Any other failure, or a status that says nothing, stays as it was.
    pub(super) fn explain_stall(
        &mut self,
        err: ProtocolError,
        during: &str,
        address: Option<u32>,
    ) -> ProtocolError {
        if err.transport_error() != Some(&TransportError::Stall) {
            return err;
        }
        match self.get_status_during(during) {
            Ok(st) if st.status != super::Status::Ok => ProtocolError::DeviceStatus {
                during: during.to_string(),
                address,
                status: st.status,
                state: st.state,
            },
            _ => err,
        }
    }

    pub(super) fn get_status_during(&mut self, during: &str) -> Result<StatusReply, ProtocolError> {
        let mut buf = [0u8; 6];
        let timeout = self.opts.timeouts.status;
        let n = self.input(request::GETSTATUS, 0, &mut buf, timeout, during)?;
        let mut reply = StatusReply::parse(&buf[..n]).ok_or_else(|| ProtocolError::Malformed {
            request: request::GETSTATUS,
            during: during.to_string(),
            detail: format!("{n} bytes instead of 6"),
        })?;
        if self.quirks.has(Quirk::IgnorePollTimeout) {
            reply.poll_timeout_ms = quirks::DEFAULT_POLL_MS;
        }
        self.note_poll_timeout(&reply);
        Ok(reply)
    }

    /// DFU_GETSTATUS.
    pub fn get_status(&mut self) -> Result<StatusReply, ProtocolError> {
        self.get_status_during("status query")
    }

    /// DFU_GETSTATE.
    pub fn get_state(&mut self) -> Result<State, ProtocolError> {
        let mut buf = [0u8; 1];
        let timeout = self.opts.timeouts.control;
        let n = self.input(request::GETSTATE, 0, &mut buf, timeout, "state query")?;
        if n != 1 {
            return Err(ProtocolError::Malformed {
                request: request::GETSTATE,
                during: "state query".into(),
                detail: format!("{n} bytes instead of 1"),
            });
        }
        Ok(State::from_u8(buf[0]))
    }

    /// DFU_CLRSTATUS. Only meaningful in dfuERROR; strict ROMs stall it anywhere else.
    pub fn clear_status(&mut self) -> Result<(), ProtocolError> {
        self.out(request::CLRSTATUS, 0, &[], "clearing the error status")
    }

    /// DFU_ABORT, back to dfuIDLE. A device that stalls it enters dfuERROR (DFU 1.1, 6.1.2):
    /// then CLRSTATUS brings it there.
    pub fn abort(&mut self) -> Result<(), ProtocolError> {
        let e = match self.out(request::ABORT, 0, &[], "abort to dfuIDLE") {
            Err(e) if e.transport_error() == Some(&TransportError::Stall) => e,
            r => return r,
        };
        self.note(
            Level::Debug,
            "ABORT stalled: clearing the error instead".into(),
        );
        match self.get_status_during("abort to dfuIDLE")?.state {
            State::Error => self.clear_status(),
            State::DfuIdle => Ok(()),
            _ => Err(e),
        }
    }

    /// Follows the board across a re-enumeration ([`Transport::reenumerate`]): its new
    /// description, quirks and alt setting 0; within `within`, cut to the job's deadline.
    pub fn reenumerate(&mut self, within: Duration) -> Result<(), ProtocolError> {
        let during = "waiting for the board to re-enumerate";
        self.check_deadline(during)?;
        let capped = self.capped(within);
        self.t
            .reenumerate(capped)
            .map_err(|source| self.transfer_error(0xff, source, capped < within, during))?;
        self.quirks = Quirks::of_device(self.t.info());
        self.fixed_info = (!self.quirks.is_empty()).then(|| quirks::apply(self.t.info().clone()));
        self.alt = 0;
        self.abandoned_erase = None;
        self.quiet_until = None;
        Ok(())
    }

    /// One UPLOAD of at most `len` bytes with wValue `value`, as the device answers it.
    pub fn upload_block(
        &mut self,
        value: u16,
        len: usize,
        during: &str,
    ) -> Result<Vec<u8>, ProtocolError> {
        let mut buf = vec![0u8; len];
        let timeout = self.opts.timeouts.control;
        let n = self.input(request::UPLOAD, value, &mut buf, timeout, during)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// DFU_DETACH to a DFU-mode device that then leaves the bus on its own (ST's serial boot):
    /// a failure of the request itself (no status stage, the device already gone) is expected.
    pub fn detach_leaving(&mut self) -> Result<(), ProtocolError> {
        match self.detach() {
            Err(ProtocolError::Transport { source, .. })
                if !matches!(source, TransportError::Cancelled) =>
            {
                self.note(
                    Level::Debug,
                    format!("DETACH ended with {source}, as expected"),
                );
                Ok(())
            }
            r => r,
        }
    }

    /// DFU_DETACH (runtime mode), with the device's detach timeout.
    pub fn detach(&mut self) -> Result<(), ProtocolError> {
        let ms = self.info().functional.detach_timeout_ms.max(1);
        self.out(request::DETACH, ms, &[], "detach")
    }
}
