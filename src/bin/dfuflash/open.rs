//! Opening the device the options select: a simulated one (`--sim`), or a USB device by
//! VID:PID, serial or port path, waiting for it with `--wait`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use dfuflash::device::{self, AnyTransport, Selector};
use dfuflash::protocol::{Dfu, EngineOptions};
use dfuflash::sim::{Faults, SimDevice};
use dfuflash::transport::Transport;
use dfuflash::Error;

use crate::args::{parse_vid_pid_parts, DeviceArgs};

/// An open device, and where `close` saves a simulated device's state and transcript.
pub struct Opened {
    pub dfu: Dfu<AnyTransport>,
    /// `-a` was given: images must be for that alt setting.
    pub alt_selected: bool,
    state: Option<PathBuf>,
    transcript: Option<PathBuf>,
}

impl Opened {
    pub fn close(self) -> Result<(), String> {
        let Some(dev) = self.dfu.transport().sim() else {
            return Ok(());
        };
        if let Some(path) = &self.transcript {
            let text: String = dev.transcript().iter().map(|r| format!("{r}\n")).collect();
            std::fs::write(path, text)
                .map_err(|e| format!("cannot write transcript {}: {e}", path.display()))?;
        }
        if let Some(path) = &self.state {
            dev.save_state(path).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

pub fn open(d: &DeviceArgs, workarounds: bool) -> Result<Opened, Error> {
    let mut opts = EngineOptions::default();
    opts.workarounds = workarounds;
    let mut sel = Selector::default();
    if let Some(alt) = &d.alt {
        sel.alt = alt.parse::<u8>().ok();
        sel.alt_name = sel.alt.is_none().then(|| alt.clone());
    }
    if let Some(model) = &d.sim {
        let mut dev = match &d.sim_state {
            Some(path) => SimDevice::with_state(model, path)?,
            None => SimDevice::new(model)?,
        };
        dev.set_realtime(d.sim_realtime);
        if let Some(spec) = &d.sim_fault {
            dev.set_faults(Faults::parse(spec).map_err(Error::InvalidArgument)?);
        }
        let alt = device::resolve_alt(dev.info(), &sel)?;
        let dfu = Dfu::open(AnyTransport::Sim(dev), alt, opts)?;
        return Ok(Opened {
            dfu,
            alt_selected: d.alt.is_some(),
            state: d.sim_state.clone(),
            transcript: d.sim_transcript.clone(),
        });
    }
    if let Some(text) = &d.device {
        (sel.vendor_id, sel.product_id) =
            parse_vid_pid_parts(text).map_err(|e| Error::InvalidArgument(format!("-d {e}")))?;
    }
    sel.serial = d.serial.clone();
    sel.path = d.path.clone();
    let deadline = Instant::now() + Duration::from_secs(d.wait.unwrap_or(0));
    let entries = loop {
        let entries = device::list(false)?;
        match device::select(&entries, &sel) {
            Err(Error::DeviceNotFound { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(200))
            }
            _ => break entries,
        }
    };
    let entry = device::select(&entries, &sel)?;
    let t = device::open(entry, Duration::from_secs(10))?;
    let alt = device::resolve_alt(t.info(), &sel)?;
    let dfu = Dfu::open(t, alt, opts)?;
    Ok(Opened {
        dfu,
        alt_selected: d.alt.is_some(),
        // A board DFUFLASH_SIM attaches keeps its memory in DFUFLASH_SIM_STATE.
        state: entry.state_file().map(PathBuf::from),
        transcript: None,
    })
}
