//! Finding and opening devices: the entries a host can choose from, selection the way
//! dfu-util users know it (VID:PID, serial, port path, alt setting by number or name), and
//! opening an entry as a [`Transport`].
//!
//! The entries are the USB DFU devices, the boards the environment attaches (`DFUFLASH_SIM`:
//! a simulator model, or several separated by commas, seen as attached devices, so a host's own
//! upload flow runs in CI with no board; `DFUFLASH_SIM_STATE`: the state file that keeps the
//! first such board's memory between runs; `DFUFLASH_SIM_PLUG`: a file listing boards one per
//! line, `MODEL` or `MODEL@PORTPATH`, read again at every listing, so a test plugs and unplugs
//! boards by editing it), and the simulated models when asked for.
//!
//! ```
//! use dfuflash::device::{list, select, Selector};
//!
//! let all = list(true).unwrap();
//! let mut sel = Selector::default();
//! sel.vendor_id = Some(0x0483);
//! let err = select(&all, &sel).unwrap_err().to_string();
//! assert!(err.contains("8 devices match") && err.contains("sim:stm32h743-revv"));
//! sel.path = Some("sim:stm32h743-revv".into());
//! assert_eq!(select(&all, &sel).unwrap().info.serial.as_deref(), Some("200364500000"));
//! ```

mod attached;
mod select;

pub use attached::simulated_boards;
pub use select::{matching, resolve_alt, select, select_all, Selector};

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::protocol::quirks;
use crate::sim::{SimDevice, SimError};
use crate::transport::{DeviceInfo, Transport};

/// A device a host can open.
#[derive(Clone)]
pub struct Entry {
    /// Descriptors, strings, alt settings, functional descriptor.
    pub info: DeviceInfo,
    /// The simulator model behind a simulated entry.
    pub simulated: Option<&'static str>,
    sim_state: Option<PathBuf>,
    // The alt settings as the device names them, before a quirk fixed a layout.
    reported_alts: Vec<crate::transport::AltSetting>,
    #[cfg(feature = "usb")]
    usb: Option<std::sync::Arc<crate::usb::Found>>,
}

impl Entry {
    /// The state file a simulated board keeps its memory in (`DFUFLASH_SIM_STATE`), if any:
    /// save the device there after using it.
    pub fn state_file(&self) -> Option<&Path> {
        self.sim_state.as_deref()
    }

    /// The alt settings as the device names them, before dfu-util's quirks fixed a layout
    /// (`info` has the fixed ones): what `dfu-util -l` prints.
    pub fn reported_alt_settings(&self) -> &[crate::transport::AltSetting] {
        &self.reported_alts
    }

    fn simulated(
        model: &str,
        sim_state: Option<PathBuf>,
        path: Option<String>,
    ) -> Result<Self, SimError> {
        let m = SimDevice::model_named(model)?;
        let mut info = match &sim_state {
            // Read now, so a state file of another model is reported at once.
            Some(p) => SimDevice::with_state(model, p)?.info().clone(),
            // Only the descriptors: no memory is built for a listing.
            None => SimDevice::describe(model)?,
        };
        if let Some(p) = &path {
            info.serial = Some(crate::sim::models::openmv::serial_at(m, p));
            info.port_path = path;
        }
        Ok(Entry {
            reported_alts: info.alt_settings.clone(),
            info,
            simulated: Some(m.name),
            sim_state,
            #[cfg(feature = "usb")]
            usb: None,
        })
    }
}

/// Every DFU device on the bus (when the `usb` feature is built in) and the boards
/// `DFUFLASH_SIM` attaches, then the other simulated models when `include_simulated`.
pub fn list(include_simulated: bool) -> Result<Vec<Entry>, Error> {
    let mut out = Vec::new();
    let attached = attached::attached_simulations()?;
    // A host where libusb cannot start (no USB stack, as in some containers) has no USB
    // devices; the others are still listed ([`usb_problem`] says why, for a listing to show).
    #[cfg(feature = "usb")]
    if let Ok(found) = crate::usb::discover() {
        for f in found {
            out.push(Entry {
                info: f.info.clone(),
                simulated: None,
                sim_state: None,
                reported_alts: f.info.alt_settings.clone(),
                usb: Some(std::sync::Arc::new(f)),
            });
        }
    }
    let attached_models: Vec<_> = attached.iter().map(|e| e.simulated).collect();
    out.extend(attached);
    if include_simulated {
        for m in SimDevice::models() {
            if !attached_models.contains(&Some(m.name)) {
                out.push(Entry::simulated(m.name, None, None)?);
            }
        }
    }
    // As the engine will see them (dfu-util's quirks: a fixed layout, a forced version).
    for e in &mut out {
        e.info = quirks::apply(e.info.clone());
    }
    Ok(out)
}

/// Why USB devices cannot be listed on this host (libusb cannot start, or this build has no
/// USB backend), if they cannot.
pub fn usb_problem() -> Option<String> {
    #[cfg(feature = "usb")]
    return crate::usb::unavailable().map(|e| e.to_string());
    #[cfg(not(feature = "usb"))]
    Some("this build has no USB backend (the usb feature is off)".into())
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("info", &self.info)
            .field("simulated", &self.simulated)
            .finish()
    }
}

/// An opened device of any backend.
// One per open device and never copied in a loop: boxing the simulator would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum AnyTransport {
    /// A simulated device (its memory, faults and transcript stay reachable).
    Sim(SimDevice),
    /// Any other transport.
    Other(Box<dyn Transport + Send>),
}

impl AnyTransport {
    /// The simulator, when this is one.
    pub fn sim(&self) -> Option<&SimDevice> {
        match self {
            AnyTransport::Sim(s) => Some(s),
            AnyTransport::Other(_) => None,
        }
    }

    /// The simulator, mutable.
    pub fn sim_mut(&mut self) -> Option<&mut SimDevice> {
        match self {
            AnyTransport::Sim(s) => Some(s),
            AnyTransport::Other(_) => None,
        }
    }

    fn t(&self) -> &dyn Transport {
        match self {
            AnyTransport::Sim(s) => s,
            AnyTransport::Other(o) => o.as_ref(),
        }
    }

    fn t_mut(&mut self) -> &mut dyn Transport {
        match self {
            AnyTransport::Sim(s) => s,
            AnyTransport::Other(o) => o.as_mut(),
        }
    }
}

impl Transport for AnyTransport {
    fn info(&self) -> &DeviceInfo {
        self.t().info()
    }
    fn control_out(
        &mut self,
        request: u8,
        value: u16,
        data: &[u8],
        timeout: std::time::Duration,
    ) -> Result<usize, crate::transport::TransportError> {
        self.t_mut().control_out(request, value, data, timeout)
    }
    fn control_in(
        &mut self,
        request: u8,
        value: u16,
        buf: &mut [u8],
        timeout: std::time::Duration,
    ) -> Result<usize, crate::transport::TransportError> {
        self.t_mut().control_in(request, value, buf, timeout)
    }
    fn select_alt(&mut self, alt: u8) -> Result<(), crate::transport::TransportError> {
        self.t_mut().select_alt(alt)
    }
    fn reset(&mut self) -> Result<(), crate::transport::TransportError> {
        self.t_mut().reset()
    }
    fn now(&self) -> std::time::Duration {
        self.t().now()
    }
    fn sleep(&mut self, duration: std::time::Duration) {
        self.t_mut().sleep(duration)
    }
    fn cut_on(&mut self, cancel: Option<crate::progress::CancelToken>) {
        self.t_mut().cut_on(cancel)
    }
    fn reenumerate(
        &mut self,
        within: std::time::Duration,
    ) -> Result<(), crate::transport::TransportError> {
        self.t_mut().reenumerate(within)
    }
}

/// Opens an entry as a transport. A device in runtime mode is detached first and opened
/// again once it re-enumerates in DFU mode on the same port (within `detach_deadline`).
pub fn open(entry: &Entry, detach_deadline: std::time::Duration) -> Result<AnyTransport, Error> {
    if let Some(model) = entry.simulated {
        let mut dev = match &entry.sim_state {
            Some(p) => SimDevice::with_state(model, p)?,
            None => SimDevice::new(model)?,
        };
        if let Some(p) = &entry.info.port_path {
            dev.set_port_path(p);
        }
        return Ok(AnyTransport::Sim(dev));
    }
    #[cfg(feature = "usb")]
    if let Some(found) = &entry.usb {
        let t = if found.info.mode == crate::transport::Mode::Runtime {
            crate::usb::detach(found, detach_deadline)?.open()?
        } else {
            found.open()?
        };
        return Ok(AnyTransport::Other(Box::new(t)));
    }
    let _ = detach_deadline;
    Err(Error::Unsupported(
        "this build has no USB backend (the usb feature is off)".into(),
    ))
}
