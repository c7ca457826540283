//! `dfuflash suffix add|check|remove`: the DFU suffix of a file, changed in place.

use std::path::PathBuf;

use dfuflash::image::{suffix, Suffix};

use crate::args::SuffixAction;

pub fn run(action: SuffixAction) -> Result<(), String> {
    let read =
        |p: &PathBuf| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let write = |p: &PathBuf, d: &[u8]| {
        std::fs::write(p, d).map_err(|e| format!("cannot write {}: {e}", p.display()))
    };
    let (file, data) = match &action {
        SuffixAction::Add { file, .. }
        | SuffixAction::Check { file }
        | SuffixAction::Remove { file } => (file.clone(), read(file)?),
    };
    let name = file.display().to_string();
    let (payload, found) = suffix::split(&data, &name).map_err(|e| e.to_string())?;
    match (action, found) {
        (SuffixAction::Add { .. }, Some(_)) => {
            Err(format!("{name} already has a DFU suffix; remove it first"))
        }
        (
            SuffixAction::Add {
                device, bcd_device, ..
            },
            None,
        ) => {
            let s = Suffix {
                bcd_device,
                product_id: device.1,
                vendor_id: device.0,
                bcd_dfu: 0x0100,
            };
            write(&file, &suffix::append(&data, &s))?;
            eprintln!(
                "added suffix {:04x}:{:04x} bcdDevice {:04x} to {name}",
                s.vendor_id, s.product_id, s.bcd_device
            );
            Ok(())
        }
        (SuffixAction::Check { .. }, Some(s)) => {
            println!(
                "{name}: suffix ok: {:04x}:{:04x} bcdDevice {:04x} bcdDFU {:04x}",
                s.vendor_id, s.product_id, s.bcd_device, s.bcd_dfu
            );
            Ok(())
        }
        (SuffixAction::Remove { .. }, Some(_)) => write(&file, payload),
        (_, None) => Err(format!("{name} has no DFU suffix")),
    }
}
