//! Leaving DFU mode: the DfuSe jump or the plain DFU reset, where a disconnect is success.

use super::quirks::Quirk;
use super::{request, Dfu, ProtocolError, State, Status};
use crate::transport::Transport;

/// How leaving DFU mode ended; every variant is success. A device that answers that it is
/// still in DFU mode fails with [`ProtocolError::DidNotLeave`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveOutcome {
    /// The device reported manifestation and then went away, as it should.
    Manifested,
    /// A transfer failed after the leave request: the expected sign that the device left.
    Disconnected,
    /// A plain DFU device was reset by the host.
    Reset,
}

impl<T: Transport> Dfu<T> {
    /// Leaves DFU mode. DfuSe: Set Address to `jump` (if given), a zero-length DNLOAD and
    /// GETSTATUS; the ROM then jumps and disappears. Plain DFU: a USB reset. A failed transfer
    /// after the leave request is the expected sign that the device left, not an error; a
    /// GETSTATUS answered with anything but manifestation means it is still in DFU mode.
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
        // dfu-util's QUIRK_DFUSE_LEAVE (0.11 dfuse_do_leave) skips no request: the device may
        // leave on the DNLOAD or on the GETSTATUS after it, answering either or not, so the
        // GETSTATUS is sent whatever became of the DNLOAD.
        let either_may_go = self.quirks.has(Quirk::LeaveUnanswered);
        match self.out(request::DNLOAD, 0, &[], "leave") {
            Ok(()) => {}
            Err(e) if e.transport_error().is_some() && !either_may_go => {
                return Ok(LeaveOutcome::Disconnected)
            }
            Err(e) if e.transport_error().is_some() => {}
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
            Ok(r) => Err(ProtocolError::DidNotLeave {
                status: r.status,
                state: r.state,
            }),
            Err(e) if e.transport_error().is_some() => Ok(LeaveOutcome::Disconnected),
            Err(e) => Err(e),
        }
    }
}
