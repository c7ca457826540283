//! The boards `-c port=USBn` and `-l usb` see (DFU mode, 0483:DF11 unless VID=/PID= say
//! otherwise, simulated ones from DFUFLASH_SIM included), and the device block printed on
//! connecting.

use std::time::Duration;

use dfuflash::device::{self, AnyTransport, Entry};
use dfuflash::layout::Layout;
use dfuflash::protocol::{Dfu, EngineOptions};
use dfuflash::transport::{DeviceInfo, Mode};

use super::args::Connect;
use super::output::Out;

/// ST's ROM, which CubeProgrammer looks for unless told other ids.
const ST_VID: u16 = 0x0483;
const ST_PID: u16 = 0xdf11;

pub const NO_DEVICE: &str = "Error: No DFU device found";

pub struct Board {
    pub dfu: Dfu<AnyTransport>,
    pub entry: Entry,
}

impl Board {
    /// The simulated board keeps its memory and transcript, whatever happened.
    pub fn save(&self) {
        crate::dropin::save(&self.dfu, self.entry.state_file());
    }

    /// The internal flash's layout (alt setting 0 on an ST ROM).
    pub fn flash_layout(&self) -> Option<Layout> {
        flash_layout(self.dfu.info())
    }
}

fn flash_layout(info: &DeviceInfo) -> Option<Layout> {
    Layout::parse(&info.alt(0)?.name).ok()
}

/// The boards in DFU mode with the ids and serial asked for, in bus order.
fn candidates(out: &mut Out, c: &Connect) -> Result<Vec<Entry>, String> {
    let all = device::list(false).map_err(|e| format!("Error: {e}"))?;
    let (vid, pid) = (c.vid.unwrap_or(ST_VID), c.pid.unwrap_or(ST_PID));
    let mut found = Vec::new();
    for e in all {
        let i = &e.info;
        if i.mode != Mode::Dfu || i.vendor_id != vid || i.product_id != pid {
            continue;
        }
        if c.serial
            .as_ref()
            .is_some_and(|s| i.serial.as_ref() != Some(s))
        {
            continue;
        }
        if let Some(problem) = &i.driver_problem {
            out.line(format!("dfuflash: a board is left out: it is {problem}"));
            continue;
        }
        found.push(e);
    }
    Ok(found)
}

/// `-l usb`: CubeProgrammer's DFU interface listing.
pub fn list(out: &mut Out) -> Result<(), String> {
    let found = candidates(out, &Connect::default())?;
    out.line("=====  DFU Interface   =====");
    out.line("");
    if found.is_empty() {
        out.line("No STM32 device in DFU mode connected");
        return Ok(());
    }
    out.line(format!(
        "Total number of available STM32 device in DFU mode: {}",
        found.len()
    ));
    out.line("");
    for (n, e) in found.iter().enumerate() {
        let i = &e.info;
        let path = i.port_path.as_deref().unwrap_or("--");
        out.line(format!("  Device Index           : USB{}", n + 1));
        out.line(format!(
            "  USB Bus Number         : {}",
            path.split('-').next().unwrap_or("--")
        ));
        out.line(format!("  USB Port Path          : {path}"));
        out.line(format!(
            "  Product ID             : {}",
            i.product.as_deref().unwrap_or("--")
        ));
        out.line(format!(
            "  Serial number          : {}",
            i.serial.as_deref().unwrap_or("--")
        ));
        out.line(format!(
            "  Firmware version       : {:#06x}",
            i.functional.dfu_version
        ));
        out.line("");
    }
    Ok(())
}

/// `-c`: opens the board, on its internal flash, idle, and prints the device block.
pub fn connect(out: &mut Out, c: &Connect) -> Result<Board, String> {
    let mut found = candidates(out, c)?;
    if c.index >= found.len() {
        return Err(NO_DEVICE.into());
    }
    let entry = found.swap_remove(c.index);
    let t = device::open(&entry, Duration::from_secs(10)).map_err(|e| format!("Error: {e}"))?;
    let mut dfu = Dfu::open(t, 0, EngineOptions::default()).map_err(|e| format!("Error: {e}"))?;
    let ready = dfu.ensure_idle();
    let board = Board { dfu, entry };
    if let Err(e) = ready {
        board.save();
        return Err(format!("Error: the board is not ready: {e}"));
    }
    device_block(out, board.dfu.info());
    Ok(board)
}

fn device_block(out: &mut Out, i: &DeviceInfo) {
    let v = i.functional.dfu_version;
    let flash = flash_layout(i).map_or("--".to_string(), |l| {
        let n = l.total_size();
        if n >= 1 << 20 {
            format!("{} MBytes", n >> 20)
        } else {
            format!("{} KBytes", n >> 10)
        }
    });
    let rows = [
        ("USB speed", "Full Speed (12MBit/s)".to_string()),
        ("Manuf. ID", i.manufacturer.clone().unwrap_or("--".into())),
        ("Product ID", i.product.clone().unwrap_or("--".into())),
        ("SN", i.serial.clone().unwrap_or("--".into())),
        ("DFU protocol", format!("{}.{}", v >> 8, (v >> 4) & 0xf)),
        ("Board", "--".into()),
        ("Flash size", flash),
        ("Device type", "MCU".into()),
    ];
    for (label, value) in rows {
        out.line(format!("{label:<12}: {value}"));
    }
    out.line("");
}
