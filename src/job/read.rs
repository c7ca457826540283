//! The read job: memory of a DfuSe alt setting, or a plain DFU 1.1 device's firmware.

use super::ctx::{cancelled, layout_of, run, sectors_covering, Ctx, Need};
use super::deadline::{self, Work};
use super::flash_dfu11::no_addresses;
use crate::error::Error;
use crate::progress::{CancelToken, Event, Observer, Phase};
use crate::protocol::Dfu;
use crate::transport::Transport;

/// Reads `length` bytes at `address` of the current alt setting (DfuSe), or the first
/// `length` bytes of the firmware (plain DFU 1.1).
pub fn read<T: Transport>(
    dfu: &mut Dfu<T>,
    address: u32,
    length: u32,
    obs: &mut dyn Observer,
    cancel: &CancelToken,
) -> Result<Vec<u8>, Error> {
    let total = length as u64;
    if !dfu.is_dfuse() && address != 0 {
        return Err(no_addresses(address));
    }
    if dfu.is_dfuse() {
        sectors_covering(dfu, &layout_of(dfu)?, address, length, Need::Readable)?;
    }
    let deadline = deadline::or_default(dfu, || Work::read(total));
    run(dfu, obs, cancel, deadline, Phase::Read, |dfu, ctx| {
        read_now(dfu, address, length, ctx)
    })
}

fn read_now<T: Transport>(
    dfu: &mut Dfu<T>,
    address: u32,
    length: u32,
    ctx: &mut Ctx<'_>,
) -> Result<Vec<u8>, Error> {
    let total = length as u64;
    dfu.ensure_idle()?;
    ctx.emit(&Event::PhaseStart {
        phase: Phase::Read,
        total,
    });
    // A DFU 1.1 upload ends at the device's short frame: `length` is only its limit.
    let mut buf = if dfu.is_dfuse() {
        vec![0u8; length as usize]
    } else {
        Vec::new()
    };
    let complete = {
        let ctx2 = &mut *ctx;
        let mut progress = |at: u32, done: usize| {
            ctx2.emit(&Event::Progress {
                phase: Phase::Read,
                done: done as u64,
                total,
                address: at,
                sector: None,
            });
            !ctx2.stop()
        };
        if dfu.is_dfuse() {
            dfu.read_memory(address, &mut buf, &mut progress)?
        } else {
            buf = dfu.upload(length as usize, &mut |done| progress(0, done))?;
            true
        }
    };
    ctx.pump(dfu);
    if !complete || ctx.stop() {
        return Err(cancelled(dfu, ctx, Phase::Read));
    }
    Ok(buf)
}
