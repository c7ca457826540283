//! Following a board that left the bus on a DETACH and came back as its next boot stage (ST's
//! serial boot: the N6 ROM handing over to the OpenBootloader): the same ids and serial (or,
//! without a serial, the same port), in DFU mode, opened again.

use std::time::{Duration, Instant};

use super::{wait_for, UsbTransport};
use crate::transport::{Mode, TransportError};

/// How long the old device may take to leave before the bus is searched (snagboot sleeps 0.5
/// to 1.5 s after its reset).
const LEAVING: Duration = Duration::from_millis(500);

impl UsbTransport {
    pub(super) fn follow(&mut self, within: Duration) -> Result<(), TransportError> {
        let start = Instant::now();
        let old = self.info.clone();
        std::thread::sleep(LEAVING.min(within));
        let left = within.saturating_sub(start.elapsed());
        let found = wait_for(left, |f| {
            let i = &f.info;
            let same = match (&i.serial, &old.serial) {
                (Some(a), Some(b)) => a == b,
                _ => i.port_path.is_some() && i.port_path == old.port_path,
            };
            i.mode == Mode::Dfu
                && (i.vendor_id, i.product_id) == (old.vendor_id, old.product_id)
                && same
        })
        .map_err(|e| TransportError::Other(e.to_string()))?
        .ok_or(TransportError::Timeout(within))?;
        let t = found
            .open()
            .map_err(|e| TransportError::Other(e.to_string()))?;
        self.handle = t.handle;
        self.info = t.info;
        Ok(())
    }
}
