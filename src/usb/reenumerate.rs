//! Following a board that left the bus on a DETACH and came back as its next boot stage (ST's
//! serial boot: the N6 ROM handing over to the OpenBootloader): in DFU mode with the same ids,
//! on the same port, or else with the same serial, opened again.

use std::time::{Duration, Instant};

use super::{wait_to_pick, Found, UsbTransport};
use crate::transport::DeviceInfo;
use crate::transport::{Mode, TransportError};

/// How long the old device may take to leave before the bus is searched (snagboot sleeps 0.5
/// to 1.5 s after its reset).
const LEAVING: Duration = Duration::from_millis(500);

impl UsbTransport {
    pub(super) fn follow(&mut self, within: Duration) -> Result<(), TransportError> {
        let start = Instant::now();
        let old = self.info.clone();
        let cut = self.cut.clone();
        let cancelled = || cut.as_ref().is_some_and(|c| c.is_cancelled());
        // The old device's leaving, in slices short enough for a cancel to be seen within 50 ms.
        while start.elapsed() < LEAVING.min(within) && !cancelled() {
            std::thread::sleep(Duration::from_millis(10));
        }
        let left = within.saturating_sub(start.elapsed());
        let found = wait_to_pick(left, cancelled, |all| pick(all, |f: &Found| &f.info, &old))
            .map_err(|e| TransportError::Other(e.to_string()))?;
        if cancelled() {
            return Err(TransportError::Cancelled);
        }
        let found = found.ok_or(TransportError::Timeout(within))?;
        let t = found
            .open()
            .map_err(|e| TransportError::Other(e.to_string()))?;
        self.handle = t.handle;
        self.info = t.info;
        Ok(())
    }
}

/// The board on the old port first: ST ROMs of one family share a serial, so with several
/// boards attached only the port tells them apart. A board that came back elsewhere (another
/// hub port) is taken by its serial, when exactly one has it.
fn pick<F>(all: Vec<F>, info: impl Fn(&F) -> &DeviceInfo, old: &DeviceInfo) -> Option<F> {
    let mut same: Vec<F> = all
        .into_iter()
        .filter(|f| {
            let i = info(f);
            i.mode == Mode::Dfu && (i.vendor_id, i.product_id) == (old.vendor_id, old.product_id)
        })
        .collect();
    if let Some(at) = same.iter().position(|f| {
        let port = &info(f).port_path;
        port.is_some() && *port == old.port_path
    }) {
        return Some(same.swap_remove(at));
    }
    same.retain(|f| info(f).serial.is_some() && info(f).serial == old.serial);
    (same.len() == 1).then(|| same.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimDevice;
    use crate::transport::Transport;

    fn board(port: &str, serial: &str, mode: Mode) -> DeviceInfo {
        let mut i = SimDevice::new("stm32n6").unwrap().info().clone();
        i.port_path = Some(port.into());
        i.serial = Some(serial.into());
        i.mode = mode;
        i
    }

    fn picked(all: &[DeviceInfo], old: &DeviceInfo) -> Option<String> {
        pick(all.to_vec(), |i| i, old).and_then(|i| i.port_path)
    }

    #[test]
    fn the_old_port_wins_over_a_serial_that_several_boards_share() {
        let old = board("1-2", "S", Mode::Dfu);
        let all = [board("1-1", "S", Mode::Dfu), board("1-2", "S", Mode::Dfu)];
        assert_eq!(picked(&all, &old).as_deref(), Some("1-2"));
    }

    #[test]
    fn elsewhere_the_serial_decides_when_one_board_alone_has_it() {
        let old = board("1-2", "S", Mode::Dfu);
        let moved = [board("1-3", "T", Mode::Dfu), board("1-4", "S", Mode::Dfu)];
        assert_eq!(picked(&moved, &old).as_deref(), Some("1-4"));
        // Two boards elsewhere with its serial: no guess.
        let two = [board("1-3", "S", Mode::Dfu), board("1-4", "S", Mode::Dfu)];
        assert_eq!(picked(&two, &old), None);
        // A board on its port but in runtime mode, or with other ids, is not it.
        let mut other = board("1-2", "S", Mode::Dfu);
        other.product_id ^= 1;
        assert_eq!(
            picked(&[board("1-2", "S", Mode::Runtime), other], &old),
            None
        );
    }
}
