//! Leaving DFU mode: the DfuSe jump or the plain DFU reset, where a disconnect is success.

use super::quirks::Quirk;
use super::{request, Dfu, ProtocolError, State, Status};
use crate::transport::Transport;

/// How leaving DFU mode ended; every variant is success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveOutcome {
    /// The device reported manifestation and then went away, as it should.
    Manifested,
    /// A transfer failed after the leave request: the expected sign that the device left.
    Disconnected,
    /// A plain DFU device was reset by the host.
    Reset,
    /// The device leaves on the leave request without answering the GETSTATUS after it, and
    /// was not asked (see [`super::quirks::Quirk::LeaveWithoutStatus`]).
    Requested,
}

impl<T: Transport> Dfu<T> {
    /// Leaves DFU mode. DfuSe: Set Address to `jump` (if given), a zero-length DNLOAD and
    /// GETSTATUS; the ROM then jumps and disappears. Plain DFU: a USB reset. A failed transfer
    /// after the leave request is the expected sign that the device left, not an error.
    pub fn leave(&mut self, jump: Option<u32>) -> Result<LeaveOutcome, ProtocolError> {
        self.abandoned_erase = None;
        if !self.is_dfuse() {
            // A reset that fails because the device already went is success too.
            let _ = self.t.reset();
            return Ok(LeaveOutcome::Reset);
        }
        if let Some(address) = jump {
            self.set_address(address)?;
        }
        match self.out(request::DNLOAD, 0, &[], "leave") {
            Ok(()) if self.quirks.has(Quirk::LeaveWithoutStatus) => {
                return Ok(LeaveOutcome::Requested)
            }
            Ok(()) => {}
            Err(e) if e.transport_error().is_some() => return Ok(LeaveOutcome::Disconnected),
            Err(e) => return Err(e),
        }
        match self.get_status_during("leave") {
            Ok(r) if r.status != Status::Ok => Err(ProtocolError::DeviceStatus {
                during: "leave".into(),
                address: jump,
                status: r.status,
                state: r.state,
            }),
            Ok(r)
                if matches!(
                    r.state,
                    State::Manifest | State::ManifestSync | State::ManifestWaitReset
                ) =>
            {
                Ok(LeaveOutcome::Manifested)
            }
            Ok(r) => Err(ProtocolError::UnexpectedState {
                during: "leave".into(),
                expected: "dfuMANIFEST",
                got: r.state,
            }),
            Err(e) if e.transport_error().is_some() => Ok(LeaveOutcome::Disconnected),
            Err(e) => Err(e),
        }
    }
}
