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
//! assert!(err.contains("5 devices match") && err.contains("sim:stm32h743-revv"));
//! sel.path = Some("sim:stm32h743-revv".into());
//! assert_eq!(select(&all, &sel).unwrap().info.serial.as_deref(), Some("200364500000"));
//! ```

use std::path::{Path, PathBuf};

use crate::error::Error;
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
    #[cfg(feature = "usb")]
    usb: Option<std::sync::Arc<crate::usb::Found>>,
}

impl Entry {
    /// The state file a simulated board keeps its memory in (`DFUFLASH_SIM_STATE`), if any:
    /// save the device there after using it.
    pub fn state_file(&self) -> Option<&Path> {
        self.sim_state.as_deref()
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
        if path.is_some() {
            info.port_path = path;
        }
        Ok(Entry {
            info,
            simulated: Some(m.name),
            sim_state,
            #[cfg(feature = "usb")]
            usb: None,
        })
    }
}

const SIM_ENV: &str = "DFUFLASH_SIM";
const SIM_STATE_ENV: &str = "DFUFLASH_SIM_STATE";
const SIM_PLUG_ENV: &str = "DFUFLASH_SIM_PLUG";

/// Simulated boards of these models, numbered as `DFUFLASH_SIM` numbers them: the first of a
/// model has the path `sim:MODEL`, the second `sim:MODEL#2`, and so on. The first board keeps
/// its memory in `state` when given. A host that attaches boards of its own (the command's
/// repeated `--sim`) gets the same paths an environment would give.
pub fn simulated_boards(models: &[&str], state: Option<&Path>) -> Result<Vec<Entry>, Error> {
    let mut out = Vec::new();
    let mut state = state.map(Path::to_path_buf);
    for name in models {
        let path = next_sim_path(&out, name);
        out.push(Entry::simulated(name, state.take(), Some(path))?);
    }
    Ok(out)
}

/// The path the next board of `model` gets among `attached`: `sim:MODEL`, then `sim:MODEL#2`...
fn next_sim_path(attached: &[Entry], model: &str) -> String {
    let same = attached
        .iter()
        .filter(|o| o.simulated.is_some_and(|m| m == model))
        .count();
    match same {
        0 => format!("sim:{model}"),
        n => format!("sim:{model}#{}", n + 1),
    }
}

/// The boards the environment attaches: `DFUFLASH_SIM` (each a model name, the first with
/// `DFUFLASH_SIM_STATE`), then the lines of the `DFUFLASH_SIM_PLUG` file, read again at every
/// listing so that a test plugs and unplugs boards by editing it.
fn attached_simulations() -> Result<Vec<Entry>, Error> {
    let mut out: Vec<Entry> = Vec::new();
    if let Some(models) = std::env::var_os(SIM_ENV) {
        let models = models.to_string_lossy().into_owned();
        let mut state = std::env::var_os(SIM_STATE_ENV).map(PathBuf::from);
        for name in models.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let path = next_sim_path(&out, name);
            let entry = Entry::simulated(name, state.take(), Some(path))
                .map_err(|e| sim_error(e, &format!("{SIM_ENV}={models}")))?;
            out.push(entry);
        }
    }
    if let Some(file) = std::env::var_os(SIM_PLUG_ENV) {
        plugged_simulations(Path::new(&file), &mut out)?;
    }
    Ok(out)
}

/// An unknown model is the caller's mistake: say where it was named.
fn sim_error(e: SimError, place: &str) -> Error {
    match e {
        e @ SimError::UnknownModel { .. } => Error::InvalidArgument(format!("{place}: {e}")),
        e => e.into(),
    }
}

/// The boards a plug file lists, one per line: `MODEL`, or `MODEL@PORTPATH` to give the port
/// path (stable when other lines come and go); blank lines and lines that start with `#` are
/// skipped. A
/// missing file attaches nothing. A plugged board is a fresh one each time it is opened.
fn plugged_simulations(file: &Path, out: &mut Vec<Entry>) -> Result<(), Error> {
    let place = |n: usize| format!("{SIM_PLUG_ENV}={} line {n}", file.display());
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(Error::InvalidArgument(format!(
                "{SIM_PLUG_ENV}={}: {e}",
                file.display()
            )))
        }
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (model, path) = match line.split_once('@') {
            Some((m, p)) => (m.trim(), p.trim().to_string()),
            None => (line, next_sim_path(out, line)),
        };
        // Port paths are what tells boards apart: two boards on one port cannot be.
        if out
            .iter()
            .any(|e| e.info.port_path.as_deref() == Some(path.as_str()))
        {
            return Err(Error::InvalidArgument(format!(
                "{}: port path {path} is already attached",
                place(i + 1)
            )));
        }
        let entry =
            Entry::simulated(model, None, Some(path)).map_err(|e| sim_error(e, &place(i + 1)))?;
        out.push(entry);
    }
    Ok(())
}

/// Whether the environment attaches simulated boards (so a missing USB stack is no error).
#[cfg(feature = "usb")]
fn simulations_configured() -> bool {
    std::env::var_os(SIM_ENV).is_some() || std::env::var_os(SIM_PLUG_ENV).is_some()
}

/// Every DFU device on the bus (when the `usb` feature is built in) and the boards
/// `DFUFLASH_SIM` attaches, then the other simulated models when `include_simulated`.
pub fn list(include_simulated: bool) -> Result<Vec<Entry>, Error> {
    let mut out = Vec::new();
    let attached = attached_simulations()?;
    // Without USB access (libusb cannot start) the simulated devices are still listed.
    #[cfg(feature = "usb")]
    match crate::usb::discover() {
        Ok(found) => {
            for f in found {
                out.push(Entry {
                    info: f.info.clone(),
                    simulated: None,
                    sim_state: None,
                    usb: Some(std::sync::Arc::new(f)),
                });
            }
        }
        Err(e) if !include_simulated && !simulations_configured() => return Err(e.into()),
        Err(_) => {}
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
    Ok(out)
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("info", &self.info)
            .field("simulated", &self.simulated)
            .finish()
    }
}

/// Which device, and which alt setting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Selector {
    /// idVendor.
    pub vendor_id: Option<u16>,
    /// idProduct.
    pub product_id: Option<u16>,
    /// Serial number string (every STM32H7 ROM reports the same one: use the path).
    pub serial: Option<String>,
    /// USB port path (`1-4.2`), or `sim:MODEL`.
    pub path: Option<String>,
    /// Alt setting by number.
    pub alt: Option<u8>,
    /// Alt setting by name (or a prefix of its layout name, such as `@Internal Flash`).
    pub alt_name: Option<String>,
}

fn describe(e: &Entry) -> String {
    format!(
        "{:04x}:{:04x} serial {} path {}",
        e.info.vendor_id,
        e.info.product_id,
        e.info.serial.as_deref().unwrap_or("-"),
        e.info.port_path.as_deref().unwrap_or("-")
    )
}

/// Every entry the selector matches (a selector of nothing matches them all).
pub fn matching<'a>(entries: &'a [Entry], sel: &Selector) -> Vec<&'a Entry> {
    entries
        .iter()
        .filter(|e| sel.vendor_id.is_none_or(|v| v == e.info.vendor_id))
        .filter(|e| sel.product_id.is_none_or(|p| p == e.info.product_id))
        .filter(|e| {
            sel.serial
                .as_ref()
                .is_none_or(|s| e.info.serial.as_ref() == Some(s))
        })
        .filter(|e| {
            sel.path
                .as_ref()
                .is_none_or(|p| e.info.port_path.as_ref() == Some(p))
        })
        .collect()
}

/// Every entry that matches, or an error listing what exists when none does.
pub fn select_all<'a>(entries: &'a [Entry], sel: &Selector) -> Result<Vec<&'a Entry>, Error> {
    let matches = matching(entries, sel);
    if !matches.is_empty() {
        return Ok(matches);
    }
    Err(Error::DeviceNotFound {
        available: if entries.is_empty() {
            "none (connect a board in DFU mode, wait for one to appear, or use a simulated device)"
                .into()
        } else {
            entries.iter().map(describe).collect::<Vec<_>>().join("; ")
        },
    })
}

/// The one entry that matches, or an error listing what matched (or what exists).
pub fn select<'a>(entries: &'a [Entry], sel: &Selector) -> Result<&'a Entry, Error> {
    match select_all(entries, sel)?.as_slice() {
        [one] => Ok(one),
        many => Err(Error::AmbiguousDevice {
            count: many.len(),
            candidates: many
                .iter()
                .map(|e| describe(e))
                .collect::<Vec<_>>()
                .join("; "),
        }),
    }
}

/// The alt setting a selector names on this device (0 when it names none).
pub fn resolve_alt(info: &DeviceInfo, sel: &Selector) -> Result<u8, Error> {
    if let Some(name) = &sel.alt_name {
        let n = name.trim();
        if n.trim_start_matches('@').trim().is_empty() {
            return Err(Error::InvalidArgument(
                "an empty alt setting name matches nothing; give one such as \"@Internal Flash\""
                    .into(),
            ));
        }
        let listed = || {
            info.alt_settings
                .iter()
                .map(|a| format!("{} {:?}", a.alt, a.name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        // The whole name, or else a prefix of it (after the '@') that only one alt setting has.
        if let Some(a) = info.alt_settings.iter().find(|a| a.name == *name) {
            return Ok(a.alt);
        }
        let prefixed: Vec<_> = info
            .alt_settings
            .iter()
            .filter(|a| {
                a.name
                    .trim_start_matches('@')
                    .trim_start()
                    .starts_with(n.trim_start_matches('@'))
            })
            .collect();
        return match prefixed.as_slice() {
            [one] => Ok(one.alt),
            [] => Err(Error::NoSuchAltName {
                name: name.clone(),
                available: listed(),
            }),
            several => Err(Error::InvalidArgument(format!(
                "alt setting name {name:?} matches {} of them; give more of the name: {}",
                several.len(),
                listed()
            ))),
        };
    }
    Ok(sel.alt.unwrap_or(0))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(entries: &[Entry]) -> Vec<&str> {
        entries
            .iter()
            .map(|e| e.info.port_path.as_deref().unwrap())
            .collect()
    }

    #[test]
    fn a_plug_file_attaches_its_lines_numbered_after_the_boards_already_there() {
        let file = std::env::temp_dir().join(format!("dfuflash-plug-{}", std::process::id()));
        std::fs::write(
            &file,
            "# bench\nstm32f405\n\nstm32h743-revv@1-1.2\n  stm32f405  \nstm32h743-revv@sim:x#3\n",
        )
        .unwrap();
        let mut out = simulated_boards(&["stm32f405"], None).unwrap();
        plugged_simulations(&file, &mut out).unwrap();
        assert_eq!(
            paths(&out),
            [
                "sim:stm32f405",
                "sim:stm32f405#2",
                "1-1.2",
                "sim:stm32f405#3",
                "sim:x#3"
            ]
        );
        assert_eq!(out[2].simulated, Some("stm32h743-revv"));
        assert_eq!(out[2].info.serial.as_deref(), Some("200364500000"));

        std::fs::write(&file, "stm32f405@1-1.2\nstm32l4@1-1.2\n").unwrap();
        let err = plugged_simulations(&file, &mut Vec::new()).unwrap_err();
        assert!(
            err.to_string()
                .contains("line 2: port path 1-1.2 is already attached"),
            "{err}"
        );
        std::fs::write(&file, "nosuch\n").unwrap();
        let err = plugged_simulations(&file, &mut Vec::new()).unwrap_err();
        assert!(
            err.to_string()
                .contains("line 1: unknown simulator model \"nosuch\""),
            "{err}"
        );
        // No file: nothing plugged in.
        std::fs::remove_file(&file).unwrap();
        let mut none = Vec::new();
        plugged_simulations(&file, &mut none).unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn matching_filters_and_select_all_names_what_exists() {
        let all =
            simulated_boards(&["stm32f405", "stm32h743-revv", "stm32h743-revv"], None).unwrap();
        let mut sel = Selector {
            serial: Some("200364500000".into()),
            ..Selector::default()
        };
        assert_eq!(
            matching(&all, &sel)
                .iter()
                .map(|e| e.info.port_path.as_deref().unwrap())
                .collect::<Vec<_>>(),
            ["sim:stm32h743-revv", "sim:stm32h743-revv#2"]
        );
        assert_eq!(matching(&all, &Selector::default()).len(), 3);
        sel.path = Some("1-1".into());
        let err = select_all(&all, &sel).unwrap_err().to_string();
        assert!(
            err.contains("no DFU device matches") && err.contains("sim:stm32h743-revv#2"),
            "{err}"
        );
    }
}
