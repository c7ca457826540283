//! The leave job: the device leaves DFU mode and runs its firmware.

use super::ctx::{begin, finish};
use super::Report;
use crate::error::Error;
use crate::protocol::Dfu;
use crate::transport::Transport;

/// Leaves DFU mode: from dfuIDLE, DfuSe devices jump to `jump` (when given), plain DFU devices
/// are reset. The disconnect that follows is success.
pub fn leave<T: Transport>(dfu: &mut Dfu<T>, jump: Option<u32>) -> Result<Report, Error> {
    let start = begin(dfu);
    dfu.ensure_idle()?;
    let left = dfu.leave(jump)?;
    Ok(finish(
        dfu,
        Report {
            left: Some(left),
            ..Report::default()
        },
        start,
    ))
}
