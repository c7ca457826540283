//! `dfuflash read`: read a range of the device's memory into a file.

use dfuflash::job;
use dfuflash::progress::{CancelToken, Event};

use crate::args::ReadArgs;
use crate::display::Display;
use crate::hints;
use crate::open::open;

pub fn run(args: ReadArgs, cancel: &CancelToken) -> Result<(), String> {
    let ReadArgs {
        device,
        address,
        length,
        out,
    } = args;
    let mut o = open(&device, true).map_err(|e| hints::message(&e))?;
    let mut display = Display::new(false, device.verbose);
    let result = job::read(
        &mut o.dfu,
        address,
        length,
        &mut |ev: &Event<'_>| display.event(ev),
        cancel,
    );
    display.finish();
    o.close()?;
    let bytes = result.map_err(|e| hints::message(&e))?;
    std::fs::write(&out, &bytes).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    eprintln!(
        "read {} bytes at {address:#010x} into {}",
        bytes.len(),
        out.display()
    );
    Ok(())
}
