//! The leave job: the device leaves DFU mode and runs its firmware.

use super::ctx::{begin, finish, run};
use super::deadline::{self, Work};
use super::Report;
use crate::error::Error;
use crate::progress::{CancelToken, Phase, Silent};
use crate::protocol::Dfu;
use crate::transport::Transport;

/// Leaves DFU mode: from dfuIDLE, DfuSe devices jump to `jump` (when given), plain DFU devices
/// are reset. The disconnect that follows is success.
pub fn leave<T: Transport>(dfu: &mut Dfu<T>, jump: Option<u32>) -> Result<Report, Error> {
    let start = begin(dfu);
    let deadline = deadline::or_default(dfu, Work::default);
    run(
        dfu,
        &mut Silent,
        &CancelToken::new(),
        deadline,
        Phase::Leave,
        |dfu, _| {
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
        },
    )
}
