//! `-U`: read the board into a new file, with the Upload bar.

use std::path::Path;

use dfuflash::device::AnyTransport;
use dfuflash::job;
use dfuflash::layout::Layout;
use dfuflash::progress::{CancelToken, Event, Flow};
use dfuflash::protocol::Dfu;

use super::args::DfuUtilArgs;
use super::board::{choose, finish, open};
use super::download::submit_leave;
use super::failure::fail;
use super::output::Bar;
use super::select::DfuseOptions;
use super::{exit, Failure};

pub(super) fn upload(a: &DfuUtilArgs, file: &str, o: DfuseOptions) -> Result<(), Failure> {
    if Path::new(file).exists() {
        return Err(Failure::new(
            exit::CANTCREAT,
            format!("Cannot open file {file} for writing: File exists"),
        ));
    }
    let (entry, alt) = choose(a, false)?;
    let mut dfu = open(a, &entry, alt, false)?;
    let (address, length) = if dfu.is_dfuse() {
        let address = o.address.ok_or_else(|| {
            Failure::new(exit::USAGE, "Unbound upload not supported on DfuSe devices")
        })?;
        let length = match o.length {
            Some(n) => n,
            None => {
                let n = segment_end(&dfu, address).saturating_sub(address as u64) as u32;
                println!("Limiting upload to end of memory segment, {n} bytes");
                n
            }
        };
        (address, length)
    } else {
        println!("Copying data from DFU device to PC");
        // Without -Z, dfu-util reads until the device's short frame, whatever the size.
        (0, a.upload_size.unwrap_or(u32::MAX))
    };
    let mut bar = Bar::new("Upload");
    bar.show(0, 1);
    let data = job::read(
        &mut dfu,
        address,
        length,
        &mut |ev: &Event<'_>| {
            if let Event::Progress { done, total, .. } = *ev {
                bar.show(done, total);
            }
            Flow::Continue
        },
        &CancelToken::new(),
    )
    .map_err(fail)?;
    bar.show(data.len() as u64, data.len() as u64);
    std::fs::write(file, &data).map_err(|e| {
        Failure::new(
            exit::CANTCREAT,
            format!("Cannot open file {file} for writing: {e}"),
        )
    })?;
    if !dfu.is_dfuse() {
        println!("Received a total of {} bytes", data.len());
    }
    if o.leave && dfu.is_dfuse() {
        submit_leave(&mut dfu, None, entry.state_file())?;
    }
    finish(a, &mut dfu, o.leave, entry.state_file())
}

/// One past the end of the memory segment (layout group) that holds `address`.
fn segment_end(dfu: &Dfu<AnyTransport>, address: u32) -> u64 {
    let name = dfu
        .info()
        .alt(dfu.alt())
        .map(|x| x.name.clone())
        .unwrap_or_default();
    Layout::parse(&name)
        .ok()
        .and_then(|l| l.group_at(address).map(|g| g.end()))
        .unwrap_or(address as u64)
}
