//! Following a board that left the bus on a DETACH and came back as its next boot stage (ST's
//! serial boot: the N6 ROM handing over to the OpenBootloader): in DFU mode with the same ids,
//! on the same port, or else with the same serial, opened again.

use std::time::{Duration, Instant};

use super::{wait_to_pick, Found, UsbTransport};
use crate::flashlayout::phase::{alt_phase, CMD};
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
/// boards attached only the port tells them apart. There it may come back with other ids, as
/// long as it serves the phase protocol (a `/0xF1/` command alt). A board that came back
/// elsewhere (another hub port) is taken by its ids and serial, when exactly one has them.
fn pick<F>(all: Vec<F>, info: impl Fn(&F) -> &DeviceInfo, old: &DeviceInfo) -> Option<F> {
    let same_ids = |i: &DeviceInfo| (i.vendor_id, i.product_id) == (old.vendor_id, old.product_id);
    let mut dfu: Vec<F> = all
        .into_iter()
        .filter(|f| info(f).mode == Mode::Dfu)
        .collect();
    if let Some(at) = dfu.iter().position(|f| {
        let i = info(f);
        let serves = i
            .alt_settings
            .iter()
            .any(|a| alt_phase(&a.name) == Some(CMD));
        i.port_path.is_some() && i.port_path == old.port_path && (same_ids(i) || serves)
    }) {
        return Some(dfu.swap_remove(at));
    }
    dfu.retain(|f| {
        let i = info(f);
        same_ids(i) && i.serial.is_some() && i.serial == old.serial
    });
    (dfu.len() == 1).then(|| dfu.remove(0))
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
        // A board on its port but in runtime mode, or with other ids and no command alt, is
        // not it.
        let mut other = board("1-2", "S", Mode::Dfu);
        other.product_id ^= 1;
        other.alt_settings.retain(|a| !a.name.contains("/0xF1/"));
        assert_eq!(
            picked(&[board("1-2", "S", Mode::Runtime), other], &old),
            None
        );
    }

    #[test]
    fn on_its_port_a_stage_with_other_ids_and_serial_that_serves_the_phase_protocol_is_it() {
        let old = board("1-2", "S", Mode::Dfu);
        let mut obl = board("1-2", "OBL", Mode::Dfu);
        obl.product_id = 0xdf12;
        assert_eq!(
            picked(std::slice::from_ref(&obl), &old).as_deref(),
            Some("1-2")
        );
        // Elsewhere, other ids are another board.
        obl.port_path = Some("1-3".into());
        assert_eq!(picked(&[obl], &old), None);
    }
}
