//! Opening the device the options select: a simulated one (`--sim`, several when repeated), or
//! a USB device by VID:PID, serial or port path, waiting for it with `--wait`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use dfuflash::device::{self, AnyTransport, Entry, Selector};
use dfuflash::protocol::{Dfu, EngineOptions};
use dfuflash::sim::Faults;
use dfuflash::transport::Transport;
use dfuflash::Error;

use crate::args::{parse_vid_pid_parts, DeviceArgs};

/// How long a device in runtime mode has to come back in DFU mode after DETACH.
const DETACH_DEADLINE: Duration = Duration::from_secs(10);

/// An open device, and where `close` saves a simulated device's state and transcript.
pub struct Opened {
    pub dfu: Dfu<AnyTransport>,
    /// `-a` was given: images must be for that alt setting.
    pub alt_selected: bool,
    /// The board's port path and serial ("-" when it has none), as records name it.
    pub board: (String, String),
    state: Option<PathBuf>,
    transcript: Option<PathBuf>,
}

impl Opened {
    pub fn close(self) -> Result<(), String> {
        let Some(dev) = self.dfu.transport().sim() else {
            return Ok(());
        };
        if let Some(path) = &self.transcript {
            std::fs::write(path, dev.transcript_text())
                .map_err(|e| format!("cannot write transcript {}: {e}", path.display()))?;
        }
        if let Some(path) = &self.state {
            dev.save_state(path).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// How the options open a board: its alt setting and workarounds, and a simulated board's
/// faults, real-time flag and transcript. Cloned into each worker of a multi-board command.
#[derive(Clone)]
pub struct Opener {
    sel: Selector,
    alt_selected: bool,
    workarounds: bool,
    /// `--timeout`: the deadline of each job.
    job_deadline: Option<std::time::Duration>,
    realtime: bool,
    /// Faults to arm, by port path (`--sim-fault`, `--sim MODEL:FAULTS`).
    faults: Vec<(String, Faults)>,
    /// `--sim-transcript`, for the one `--sim` board.
    transcript: Option<PathBuf>,
}

impl Opener {
    /// Opens a board with the options' alt setting, faults and real-time flag.
    pub fn open(&self, entry: &Entry) -> Result<Opened, Error> {
        let mut t = device::open(entry, DETACH_DEADLINE)?;
        if let Some(dev) = t.sim_mut() {
            dev.set_realtime(self.realtime);
            let path = port_path(entry);
            if let Some((_, f)) = self.faults.iter().find(|(p, _)| p == path) {
                dev.set_faults(f.clone());
            }
        }
        let alt = device::resolve_alt(t.info(), &self.sel)?;
        let mut opts = EngineOptions::default();
        opts.workarounds = self.workarounds;
        opts.timeouts.job = self.job_deadline;
        let dfu = Dfu::open(t, alt, opts)?;
        Ok(Opened {
            dfu,
            alt_selected: self.alt_selected,
            board: names(entry),
            // A --sim-state board, or the one DFUFLASH_SIM_STATE keeps.
            state: entry.state_file().map(PathBuf::from),
            transcript: self.transcript.clone(),
        })
    }

    /// The selection `-d`, `-S`, `-p` and `-a` make.
    pub fn selector(&self) -> &Selector {
        &self.sel
    }
}

/// The boards the options pick from, and how to open them: the command line's `--sim`
/// boards, or else (listed now) the devices on the bus and the boards the environment attaches
/// (`DFUFLASH_SIM`, `DFUFLASH_SIM_PLUG`).
pub fn candidates(d: &DeviceArgs, workarounds: bool) -> Result<(Vec<Entry>, Opener), Error> {
    let mut opener = Opener {
        sel: selector(d)?,
        alt_selected: d.alt.is_some(),
        workarounds,
        job_deadline: d.timeout,
        realtime: d.sim_realtime,
        faults: Vec::new(),
        transcript: d.sim_transcript.clone(),
    };
    if d.sim.is_empty() {
        return Ok((device::list(false)?, opener));
    }
    if d.sim.len() > 1 && (d.sim_state.is_some() || d.sim_transcript.is_some()) {
        return Err(Error::InvalidArgument(
            "--sim-state and --sim-transcript keep one board's memory or requests; give them with one --sim".into(),
        ));
    }
    let parsed: Vec<(&str, Option<&str>)> = d
        .sim
        .iter()
        .map(|s| match s.split_once(':') {
            Some((model, faults)) => (model, Some(faults)),
            None => (s.as_str(), None),
        })
        .collect();
    let models: Vec<&str> = parsed.iter().map(|(m, _)| *m).collect();
    let entries = device::simulated_boards(&models, d.sim_state.as_deref())?;
    for (entry, (_, own)) in entries.iter().zip(&parsed) {
        // --sim-fault arms every board; a board's own faults come after it, so they win.
        let spec: Vec<&str> = [d.sim_fault.as_deref(), *own]
            .into_iter()
            .flatten()
            .collect();
        if !spec.is_empty() {
            let f = Faults::parse(&spec.join(",")).map_err(Error::InvalidArgument)?;
            opener.faults.push((port_path(entry).to_string(), f));
        }
    }
    Ok((entries, opener))
}

/// The board's port path and serial, as rows and records name it ("-" for none).
pub fn names(entry: &Entry) -> (String, String) {
    (
        port_path(entry).to_string(),
        entry.info.serial.clone().unwrap_or_else(|| "-".into()),
    )
}

/// A board's port path ("-" when the backend gives none).
pub fn port_path(e: &Entry) -> &str {
    e.info.port_path.as_deref().unwrap_or("-")
}

/// The selection `-d`, `-S`, `-p` and `-a` make.
fn selector(d: &DeviceArgs) -> Result<Selector, Error> {
    let mut sel = Selector::default();
    if let Some(alt) = &d.alt {
        sel.alt = alt.parse::<u8>().ok();
        sel.alt_name = sel.alt.is_none().then(|| alt.clone());
    }
    if let Some(text) = &d.device {
        (sel.vendor_id, sel.product_id) =
            parse_vid_pid_parts(text).map_err(|e| Error::InvalidArgument(format!("-d {e}")))?;
    }
    sel.serial = d.serial.clone();
    sel.path = d.path.clone();
    Ok(sel)
}

/// Whether the options name a device (not only an alt setting).
fn selects_device(sel: &Selector) -> bool {
    sel.vendor_id.is_some()
        || sel.product_id.is_some()
        || sel.serial.is_some()
        || sel.path.is_some()
}

/// Opens the one device the options select, for the single-board commands.
pub fn open(d: &DeviceArgs, workarounds: bool) -> Result<Opened, Error> {
    let deadline = Instant::now() + Duration::from_secs(d.wait.unwrap_or(0));
    let (entries, opener) = loop {
        let (entries, opener) = candidates(d, workarounds)?;
        match device::select(&entries, opener.selector()) {
            Err(Error::DeviceNotFound { .. }) if d.sim.is_empty() && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(200))
            }
            _ => break (entries, opener),
        }
    };
    let entry = match entries.as_slice() {
        // One --sim board is the device, whatever else the options say (as it always was).
        [one] if !d.sim.is_empty() => one,
        several if !d.sim.is_empty() && !selects_device(opener.selector()) => {
            let paths: Vec<&str> = several.iter().map(port_path).collect();
            return Err(Error::InvalidArgument(format!(
                "{} simulated boards given; this command works on one: use flash --all to flash them all, or pick one with -p ({})",
                several.len(),
                paths.join(", ")
            )));
        }
        _ => device::select(&entries, opener.selector())?,
    };
    opener.open(entry)
}
