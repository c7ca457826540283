//! A write that fails inside a sector the STM32H7 Rev V recovery erased names that erase as
//! the likely cause (the image's writes and the boot block's alike).

use crate::error::Error;
use crate::plan::TargetPlan;
use crate::protocol::ProtocolError;

/// A write that fails inside a sector erased through the Rev V recovery says so: that erase is
/// the likely cause.
pub(super) fn explain_write_error(e: ProtocolError, recovered: &[u32], t: &TargetPlan) -> Error {
    let failed_at = match &e {
        ProtocolError::DeviceStatus {
            address: Some(a), ..
        }
        | ProtocolError::StuckBusy {
            address: Some(a), ..
        } => *a,
        _ => return e.into(),
    };
    let hit = t.erase.iter().find(|s| {
        recovered.contains(&s.address) && (s.address as u64..s.end()).contains(&(failed_at as u64))
    });
    match hit {
        Some(s) => Error::WriteAfterRecovery {
            sector: s.address,
            source: e,
        },
        None => e.into(),
    }
}
